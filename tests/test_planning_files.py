"""A plan exported as CSV and XLSX (scoped, formula-safe) and imported back (overrides with reasons, all or nothing)."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest
from planning_support import AS_OF, DEALS, LEA, PEOPLE, YEAR_2027

from spm_core.exports import to_csv_bytes, to_xlsx_bytes
from spm_core.filters import Scope
from spm_core.planning import scenarios as sc
from spm_core.planning.compute import ScenarioSpec
from spm_core.planning.files import import_plan, plan_frame, read_plan_file
from spm_core.planning.model import PlanError, PlannedSeat, PlanRules
from spm_core.schema import person

EVERYONE = Scope.everyone()


def export_plan(engine, sid, scope, fmt):
    frame = plan_frame(engine, sid, scope)
    return to_csv_bytes(frame) if fmt == "csv" else to_xlsx_bytes(frame)


@pytest.fixture
def plan(tiny_engine):
    engine = tiny_engine(person=PEOPLE, opportunity=DEALS)
    return engine, sc.create_scenario(engine, ScenarioSpec("Plan", YEAR_2027, PlanRules(1_200_00)), LEA, AS_OF)


def amounts(engine, sid):
    frame = sc.allocation(engine, sid, EVERYONE)
    return dict(zip(frame["person_id"], frame["cents"], strict=True))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_holds_only_the_rows_in_scope(plan, fmt):
    engine, sid = plan
    data = export_plan(engine, sid, Scope.subtree(3), fmt)
    frame = pd.read_csv(io.BytesIO(data)) if fmt == "csv" else pd.read_excel(io.BytesIO(data))
    assert sorted(frame["Person ID"]) == [3, 20, 21]
    assert frame.set_index("Person ID").loc[20, "Amount"] == 300.0


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_neutralises_formula_like_names(plan, fmt):
    engine, sid = plan
    with engine.begin() as conn:
        conn.execute(person.update().where(person.c.id == 20).values(name='=HYPERLINK("http://evil.example","x")'))
    data = export_plan(engine, sid, EVERYONE, fmt)
    frame = pd.read_csv(io.BytesIO(data)) if fmt == "csv" else pd.read_excel(io.BytesIO(data))
    assert frame.set_index("Person ID").loc[20, "Name"].startswith("'=")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_round_trip_applies_changed_rows_as_overrides(plan, fmt):
    engine, sid = plan
    frame = read_plan_file(f"plan.{fmt}", export_plan(engine, sid, EVERYONE, fmt))
    frame.loc[frame["Person ID"].astype(int) == 10, ["Amount", "Reason"]] = ["100", "part-time"]
    frame.loc[frame["Person ID"].astype(int) == 1, "Amount"] = "1400"
    assert import_plan(engine, sid, frame, LEA, AS_OF) == 2
    got = amounts(engine, sid)
    assert got[1] == 1_400_00 and got[2] == 700_00 and got[10] == 100_00 and got[11] == 300_00
    assert sc.load_spec(engine, sid).rules.overrides[0].reason == "part-time"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([["10", "100", ""]], "needs a reason"),
        ([["10", "-5", "x"]], "negative"),
        ([["77", "5", "x"]], "unknown person 77"),
        ([["ten", "5", "x"]], "not a person id"),
        ([["20", "900", "x"]], "over the parent"),
    ],
)
def test_bad_rows_import_nothing(plan, rows, message):
    engine, sid = plan
    before = amounts(engine, sid)
    with pytest.raises(PlanError, match=message):
        import_plan(engine, sid, pd.DataFrame(rows, columns=["Person ID", "Amount", "Reason"]), LEA, AS_OF)
    assert amounts(engine, sid) == before


def test_a_file_without_the_columns_is_refused():
    with pytest.raises(PlanError, match="no column Amount"):
        read_plan_file("x.csv", b"Person ID,Value\n1,2\n")


def test_a_planned_seat_goes_out_in_the_file_and_comes_back_as_an_override(tiny_engine):
    engine = tiny_engine(person=PEOPLE, opportunity=DEALS)
    seat = PlannedSeat(1, "TBH 1", 3, date(2027, 7, 1), 2)
    sid = sc.create_scenario(engine, ScenarioSpec("Plan", YEAR_2027, PlanRules(1_200_00), seats=(seat,)), LEA, AS_OF)
    frame = read_plan_file("plan.csv", to_csv_bytes(plan_frame(engine, sid, EVERYONE)))
    row = frame["Person ID"] == "-1"
    assert frame.loc[row, "Amount"].tolist() == ["200.0"]  # team 3's 600 over reps 20, 21 and the seat
    frame.loc[row, ["Amount", "Reason"]] = ["300", "a bigger patch"]
    assert import_plan(engine, sid, frame, LEA, AS_OF) == 1
    got = amounts(engine, sid)
    assert (got[-1], got[20], got[21]) == (300_00, 150_00, 150_00)
