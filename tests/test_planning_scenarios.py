"""Scenarios in the warehouse: created by create_schema, stored with their trace, overridden, copied,
deleted, compared, read within the viewer's scope; bad input writes nothing."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa
from planning_support import AS_OF, DEALS, LEA, PEOPLE, YEAR_2027

from spm_core import schema
from spm_core.filters import Period, Scope
from spm_core.planning import scenarios as sc
from spm_core.planning.compute import ScenarioSpec
from spm_core.planning.model import WEIGHTED, LevelRule, Override, PlanError, PlanRules


@pytest.fixture
def engine(tiny_engine):
    return tiny_engine(person=PEOPLE, opportunity=DEALS)


EVERYONE = Scope.everyone()


def amounts(engine, sid, scope=EVERYONE):
    frame = sc.allocation(engine, sid, scope)
    return dict(zip(frame["person_id"], frame["cents"], strict=True))


def even(target=1_200_00, name="Even"):
    return ScenarioSpec(name, YEAR_2027, PlanRules(target))


def test_create_schema_creates_the_planning_tables(engine):
    assert sc.has_tables(engine)


def test_a_warehouse_from_before_planning_gets_the_tables_on_the_first_write(tmp_path):
    from spm_core.db import insert_frame, make_engine

    engine = make_engine(f"duckdb:///{tmp_path / 'old.duckdb'}")
    schema.metadata.create_all(engine, tables=[t for t in schema.metadata.sorted_tables if t not in sc.TABLES])
    with engine.begin() as conn:
        insert_frame(conn, schema.person, pd.DataFrame(PEOPLE))
    assert not sc.has_tables(engine)
    sid = sc.create_scenario(engine, even(), LEA, AS_OF)
    assert amounts(engine, sid)[1] == 1_200_00


def test_weighted_by_prior_year_bookings_from_the_warehouse(engine):
    spec = ScenarioSpec("Weighted", YEAR_2027, PlanRules(1_600_00, (LevelRule(WEIGHTED, "prior_year_bookings"),)))
    got = amounts(engine, sc.create_scenario(engine, spec, LEA, AS_OF))
    # 2026 bookings: team 2 has 400, team 3 has 400 -> 800 each; team 2: 300:100:0, team 3: 400:0
    assert (got[2], got[3]) == (800_00, 800_00)
    assert (got[10], got[11], got[12]) == (600_00, 200_00, 0)
    assert (got[20], got[21]) == (800_00, 0)
    assert 99 not in got  # the admin carries no quota


def test_stored_rows_carry_the_trace(engine):
    frame = sc.allocation(engine, sc.create_scenario(engine, even(1_000_00), LEA, AS_OF), Scope.everyone())
    rep = frame.set_index("person_id").loc[10]
    assert rep["rule"] == "even: 500.00 × 1/3 → 166.66 + 0.01 (largest remainder)"


def test_a_closed_period_is_refused_and_nothing_is_written(engine):
    with pytest.raises(PlanError, match="closed"):
        sc.create_scenario(
            engine, ScenarioSpec("Old", Period(date(2025, 1, 1), date(2025, 12, 31)), PlanRules(1_00)), LEA, AS_OF
        )
    assert sc.scenario_list(engine).empty


def test_override_keeps_the_value_and_redistributes_the_level(engine):
    sid = sc.create_scenario(engine, even(), LEA, AS_OF)
    sc.set_override(engine, sid, Override(10, 100_00, "half year in a new territory"), LEA, AS_OF)
    got = amounts(engine, sid)
    assert got[10] == 100_00 and got[11] == got[12] == 250_00
    assert sc.load_spec(engine, sid).rules.overrides[0].reason == "half year in a new territory"


@pytest.mark.parametrize(
    ("override", "message"),
    [(Override(10, 700_00, "too much"), "over the parent"), (Override(77, 1_00, "who"), "Unknown person")],
)
def test_a_bad_override_writes_nothing(engine, override, message):
    sid = sc.create_scenario(engine, even(), LEA, AS_OF)
    before = amounts(engine, sid)
    with pytest.raises(PlanError, match=message):
        sc.set_override(engine, sid, override, LEA, AS_OF)
    assert amounts(engine, sid) == before and sc.load_spec(engine, sid).rules.overrides == ()


def test_copy_then_compare_per_team_and_rep_with_the_difference(engine):
    first = sc.create_scenario(engine, even(), LEA, AS_OF)
    second = sc.copy_scenario(engine, first, "Stretch", LEA)
    assert amounts(engine, second) == amounts(engine, first)
    sc.set_override(engine, second, Override(3, 800_00, "bigger region"), LEA, AS_OF)
    diff = sc.compare(engine, first, second, Scope.everyone()).set_index("person_id")
    assert diff.loc[3, "difference"] == 200.0 and diff.loc[2, "difference"] == -200.0
    assert diff.loc[20, "first"] == 300.0 and diff.loc[20, "second"] == 400.0 and diff.loc[20, "kind"] == "rep"
    assert diff.loc[2, "kind"] == "team"


def test_delete_removes_the_scenario_and_its_rows(engine):
    keep = sc.create_scenario(engine, even(), LEA, AS_OF)
    gone = sc.create_scenario(engine, even(name="Gone"), LEA, AS_OF)
    sc.delete_scenario(engine, gone, LEA)
    assert sc.scenario_list(engine)["id"].tolist() == [keep]
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).where(schema.plan_allocation.c.scenario_id == gone)).scalar_one() == 0


def test_reads_are_limited_to_the_viewers_scope(engine):
    sid = sc.create_scenario(engine, even(), LEA, AS_OF)
    assert set(amounts(engine, sid, Scope.only(11))) == {11}
    assert set(amounts(engine, sid, Scope.subtree(3))) == {3, 20, 21}
    assert set(sc.compare(engine, sid, sid, Scope.subtree(2))["person_id"]) == {2, 10, 11, 12}


def test_a_limited_scope_does_not_see_its_parents_amount_in_the_trace(engine):
    sid = sc.create_scenario(engine, even(), LEA, AS_OF)
    rep = sc.allocation(engine, sid, Scope.only(11))
    assert rep["rule"].tolist() == [sc.ABOVE]
    team = sc.allocation(engine, sid, Scope.subtree(2)).set_index("person_id")["rule"]
    assert team[2] == sc.ABOVE and team[11].startswith("even: 600.00")


def test_weighted_by_territory_potential_the_accounts_each_rep_owns(tiny_engine):
    accounts = [
        {"id": 1, "name": "A", "owner_id": 10, "potential": 1000.0},
        {"id": 2, "name": "B", "owner_id": 11, "potential": 3000.0},
        {"id": 3, "name": "C", "owner_id": 20, "potential": 4000.0},
        {"id": 4, "name": "D", "owner_id": None, "potential": 9000.0},  # nobody's: weighs nothing
    ]
    engine = tiny_engine(person=PEOPLE, opportunity=DEALS, account=accounts)
    spec = ScenarioSpec("Potential", YEAR_2027, PlanRules(800_00, (LevelRule(WEIGHTED, "territory_potential"),)))
    got = amounts(engine, sc.create_scenario(engine, spec, LEA, AS_OF))
    # Team 2 owns 1,000 + 3,000, team 3 4,000: 400 each; then 1:3:0 and 4:0.
    assert (got[2], got[3]) == (400_00, 400_00)
    assert (got[10], got[11], got[12], got[20], got[21]) == (100_00, 300_00, 0, 400_00, 0)
