"""Who may change a plan is decided in spm_core, not only by what the pages show: a notebook or a crafted
request with the wrong role gets a PlanError and nothing is written."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa
from planning_support import AS_OF, DEALS, LEA, PEOPLE, YEAR_2027, _p, planner
from territory_support import ACCOUNTS, TERRITORIES

from spm_core.db import insert_frame, read_frame
from spm_core.filters import Scope
from spm_core.planning import scenarios as sc
from spm_core.planning.bottom_up import submit
from spm_core.planning.compute import ScenarioSpec
from spm_core.planning.model import Override, PlanError, PlannedSeat, PlanRules
from spm_core.planning.publish import approve, publish
from spm_core.planning.seats import fill_seat
from spm_core.planning.territories import publish as territory_publish
from spm_core.planning.territories.model import Rule
from spm_core.planning.territories.rules import Assignment, add_rule, assign
from spm_core.schema import person, plan_scenario, plan_submission, quota, territory_assignment, territory_rule

PLANNER = planner("pat", "planner")
REP = planner("rita", "rep", Scope.only(10))
ANN = planner("ann", "manager", Scope.subtree(2))  # Ann manages reps 10, 11, 12


@pytest.fixture
def engine(tiny_engine):
    return tiny_engine(person=PEOPLE, opportunity=DEALS, segment=[{"id": 1, "name": "SMB"}, {"id": 2, "name": "Enterprise"}])


def spec(name: str = "Plan", seats: tuple[PlannedSeat, ...] = ()) -> ScenarioSpec:
    return ScenarioSpec(name, YEAR_2027, PlanRules(12_000_00), seats=seats)


def count(engine, table: sa.Table) -> int:
    return int(read_frame(engine, sa.select(sa.func.count()).select_from(table)).iloc[0, 0])


def test_a_planner_builds_a_scenario_but_only_a_leader_publishes_it(engine):
    sid = sc.create_scenario(engine, spec(), PLANNER, AS_OF)
    sc.set_override(engine, sid, Override(10, 2_000_00, "big patch"), PLANNER, AS_OF)
    with pytest.raises(PlanError, match="Only a leader or an admin may publish"):
        publish(engine, sid, PLANNER, AS_OF)
    assert count(engine, quota) == 0
    assert read_frame(engine, sa.select(plan_scenario.c.status)).iloc[0, 0] == "draft"
    for manager in (2, 3):
        approve(engine, sid, manager, LEA)
    publish(engine, sid, LEA, AS_OF)
    assert count(engine, quota) > 0


@pytest.mark.parametrize("who", [REP, ANN], ids=["rep", "manager"])
def test_reps_and_managers_build_nothing(engine, who):
    with pytest.raises(PlanError, match="Only a planner, a leader or an admin"):
        sc.create_scenario(engine, spec(), who, AS_OF)
    sid = sc.create_scenario(engine, spec(), LEA, AS_OF)
    for change in (
        lambda: sc.set_override(engine, sid, Override(10, 1_00, "mine"), who, AS_OF),
        lambda: sc.copy_scenario(engine, sid, "Copy", who),
        lambda: sc.delete_scenario(engine, sid, who),
    ):
        with pytest.raises(PlanError, match="Only a planner, a leader or an admin"):
            change()
    assert count(engine, plan_scenario) == 1


def test_a_manager_submits_and_approves_for_their_own_subtree_only(engine):
    sid = sc.create_scenario(engine, spec(), LEA, AS_OF)
    submit(engine, sid, 2, {10: 500_00}, ANN)
    with pytest.raises(PlanError, match="only for your own part of the plan"):
        submit(engine, sid, 3, {20: 500_00}, ANN)  # Bob's team
    with pytest.raises(PlanError, match="only for your own part of the plan"):
        approve(engine, sid, 3, ANN)
    with pytest.raises(PlanError, match="only for your own part of the plan"):
        approve(engine, sid, 2, PLANNER)  # a planner builds the numbers; it is not theirs to approve them
    assert count(engine, plan_submission) == 1
    approve(engine, sid, 2, ANN)


def test_a_planner_fills_a_seat_in_a_draft_but_not_in_a_published_plan(engine):
    seat = PlannedSeat(1, "AE Hire", 3, date(2027, 7, 1), 2)
    draft = sc.create_scenario(engine, spec("Draft", (seat,)), LEA, AS_OF)
    live = sc.create_scenario(engine, spec("Live", (seat,)), LEA, AS_OF)
    for manager in (2, 3):
        approve(engine, live, manager, LEA)
    publish(engine, live, LEA, AS_OF)
    with engine.begin() as conn:  # the hire arrives
        insert_frame(conn, person, pd.DataFrame([_p(23, "Rep New", "rep", 3, 2, hire=date(2027, 6, 20))]))
    fill_seat(engine, draft, 1, 23, PLANNER, AS_OF)
    before = count(engine, quota)
    with pytest.raises(PlanError, match="Only a leader or an admin may fill a seat"):
        fill_seat(engine, live, 1, 23, PLANNER, AS_OF)
    assert count(engine, quota) == before
    fill_seat(engine, live, 1, 23, LEA, AS_OF)
    assert count(engine, quota) > before


def test_territory_changes_need_a_plan_builder(tiny_engine):
    engine = tiny_engine(territory=TERRITORIES, account=ACCOUNTS)
    for change in (
        lambda: add_rule(engine, Rule(1, country="United States"), REP),
        lambda: assign(engine, [Assignment(1, 2, "key account")], REP),
        lambda: territory_publish.publish(engine, AS_OF, "move", REP, AS_OF),
    ):
        with pytest.raises(PlanError, match="Only a planner, a leader or an admin"):
            change()
    assert count(engine, territory_rule) == 0
    assert count(engine, territory_assignment) == 0
    add_rule(engine, Rule(1, country="United States"), PLANNER)
