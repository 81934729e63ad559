"""Bottom-up submissions and the gap against top-down at every level."""

from __future__ import annotations

import pytest
from planning_support import AS_OF, DEALS, LEA, PEOPLE, YEAR_2027, planner

from spm_core.filters import Scope
from spm_core.planning import scenarios as sc
from spm_core.planning.bottom_up import gaps, submit
from spm_core.planning.compute import ScenarioSpec
from spm_core.planning.model import PlanError, PlanRules


@pytest.fixture
def plan(tiny_engine):
    engine = tiny_engine(person=PEOPLE, opportunity=DEALS)
    return engine, sc.create_scenario(engine, ScenarioSpec("Even", YEAR_2027, PlanRules(1_200_00)), LEA, AS_OF)


def test_gap_at_every_level_from_submissions(plan):
    engine, sid = plan
    submit(engine, sid, 2, {10: 250_00, 11: 200_00, 12: 100_00}, planner("ann", "manager", Scope.subtree(2)))  # team 2: 550 vs 600 top-down
    submit(engine, sid, 3, {3: 500_00}, planner("bob", "manager", Scope.subtree(3)))  # Bob submits his team's total only
    g = gaps(engine, sid, Scope.everyone()).set_index("person_id")
    assert g.loc[10, "gap"] == -50.0 and g.loc[12, "gap"] == 100.0
    assert g.loc[2, "bottom_up"] == 550.0 and g.loc[2, "gap"] == 50.0 and g.loc[2, "source"] == "sum of the level below"
    assert g.loc[3, "bottom_up"] == 500.0 and g.loc[3, "source"] == "submitted"
    assert g.loc[1, "bottom_up"] == 1050.0 and g.loc[1, "gap"] == 150.0
    assert g.loc[20, "source"] == "none yet"


def test_a_partial_level_gives_no_sum(plan):
    engine, sid = plan
    submit(engine, sid, 2, {10: 250_00}, planner("ann", "manager", Scope.subtree(2)))
    g = gaps(engine, sid, Scope.everyone()).set_index("person_id")
    assert g.loc[10, "bottom_up"] == 250.0
    assert g[["bottom_up"]].loc[[2, 1]].isna().all().all()


def test_a_manager_submits_only_for_their_subtree_and_never_negative(plan):
    engine, sid = plan
    with pytest.raises(PlanError, match="Not in your part"):
        submit(engine, sid, 2, {20: 1_00}, planner("ann", "manager", Scope.subtree(2)))
    with pytest.raises(PlanError, match="negative"):
        submit(engine, sid, 2, {10: -1}, planner("ann", "manager", Scope.subtree(2)))
    assert gaps(engine, sid, Scope.everyone())["bottom_up"].isna().all()


def test_gaps_respect_the_scope(plan):
    engine, sid = plan
    assert set(gaps(engine, sid, Scope.subtree(3))["person_id"]) == {3, 20, 21}
