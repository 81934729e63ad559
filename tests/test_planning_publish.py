"""Approval and publishing: quotas written effective-dated with history, read by Quota attainment;
unpublished scenarios change nothing; bad input writes nothing."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa
from planning_support import AS_OF, DEALS, LEA, PEOPLE, YEAR_2027, planner

from spm_core import attainment, metrics
from spm_core.db import read_frame
from spm_core.filters import Filters, Period, Scope
from spm_core.planning import scenarios as sc
from spm_core.planning.compute import ScenarioSpec
from spm_core.planning.model import Override, PlanError, PlanRules, Ramp
from spm_core.planning.publish import approvals, approve, publish, quota_changes
from spm_core.schema import person, plan_allocation, quota

EVERYONE = Scope.everyone()
# Rep 10 had 2027 quotas from an earlier import: 100 a month.
OLD_QUOTAS = [
    {"id": i + 1, "person_id": 10, "month": date(2027, i + 1, 1), "amount": 100.0, "quota_type": "bookings", "is_ramped": False}
    for i in range(12)
]


@pytest.fixture
def engine(tiny_engine):
    return tiny_engine(person=PEOPLE, opportunity=DEALS, quota=OLD_QUOTAS)


def plan(engine, target=12_000_00, period=YEAR_2027) -> int:
    return sc.create_scenario(engine, ScenarioSpec("Plan", period, PlanRules(target), ramp=Ramp.parse("25,50,75")), LEA, AS_OF)


def approve_all(engine, sid):
    for manager in (2, 3):
        approve(engine, sid, manager, planner(f"manager{manager}", "manager", Scope.subtree(manager)))


def quota_of(engine, period=YEAR_2027, scope=EVERYONE) -> float:
    return float(metrics.query(engine, ["quota"], Filters(period), scope)["quota"].iloc[0])


def quota_rows(engine) -> pd.DataFrame:
    return read_frame(engine, sa.select(quota).order_by(quota.c.id))


def test_an_unpublished_scenario_changes_nothing(engine):
    before = quota_rows(engine)
    sc.set_override(engine, plan(engine), Override(10, 5_000_00, "x"), LEA, AS_OF)
    pd.testing.assert_frame_equal(quota_rows(engine), before)
    assert quota_of(engine) == 1200.0


def test_publishing_needs_every_top_manager_approval_and_writes_nothing_before(engine):
    sid = plan(engine)
    approve(engine, sid, 2, planner("ann", "manager", Scope.subtree(2)))
    with pytest.raises(PlanError, match="Bob Manager"):
        publish(engine, sid, LEA, AS_OF)
    assert quota_of(engine) == 1200.0 and sc.scenario_row(engine, sid)["status"] == "draft"


def test_a_change_after_approval_makes_it_stale(engine):
    sid = plan(engine)
    approve_all(engine, sid)
    sc.set_override(engine, sid, Override(20, 2_000_00, "smaller accounts"), LEA, AS_OF)
    status = approvals(engine, sid, EVERYONE).set_index("manager_id")["status"]
    assert status[2] == "approved" and status[3].startswith("stale")
    with pytest.raises(PlanError, match="Bob Manager"):
        publish(engine, sid, LEA, AS_OF)


def test_a_manager_approves_only_their_own_part(engine):
    sid = plan(engine)
    with pytest.raises(PlanError, match="only for your own part"):
        approve(engine, sid, 3, planner("ann", "manager", Scope.subtree(2)))
    with pytest.raises(PlanError, match="nothing to approve"):
        approve(engine, sid, 10, LEA)


def test_publishing_writes_ramped_monthly_quotas_that_attainment_reads(engine):
    sid = plan(engine)
    approve_all(engine, sid)
    publish(engine, sid, LEA, AS_OF)
    # 12,000 even: 6,000 per team; team 2 2,000 per rep (166.67 a month, first 8 months 166.67, rest 166.66),
    # rep 12 hired March 2027 ramps 25/50/75 %; team 3 3,000 per rep (250 a month).
    rows = quota_rows(engine)
    twelve = rows[rows["person_id"] == 12].sort_values("month")
    assert twelve["month"].min() == pd.Timestamp(2027, 3, 1)
    assert twelve["amount"].tolist()[:4] == [41.67, 83.34, 125.0, 166.67]
    assert twelve["is_ramped"].tolist()[:4] == [True, True, True, False]
    assert rows.loc[rows["person_id"] == 10, "amount"].sum() == pytest.approx(2000.0)
    expected = 2000 + 2000 + (2000 - 166.67 * 2 - (166.67 - 41.67) - (166.67 - 83.34) - (166.67 - 125.0)) + 6000
    assert quota_of(engine) == pytest.approx(expected)
    by_rep = attainment.attainment_by(engine, Filters(YEAR_2027), EVERYONE, "rep", AS_OF).set_index("id")
    assert by_rep.loc[20, "quota"] == pytest.approx(3000.0)
    assert sc.scenario_row(engine, sid)["status"] == "published"


def test_previous_quotas_stay_queryable_with_who_and_when(engine):
    sid = plan(engine)
    approve_all(engine, sid)
    publish(engine, sid, LEA, AS_OF)
    changes = quota_changes(engine, Scope.only(10))
    assert set(changes["person_id"]) == {10} and len(changes) == 12
    assert changes["previous_amount"].tolist() == [100.0] * 12
    assert (changes["changed_by"] == "lea").all() and changes["changed_at"].notna().all()
    new = quota_changes(engine, Scope.only(21))
    assert new["previous_amount"].isna().all() and new["amount"].iloc[0] == 250.0


def test_a_published_scenario_is_never_rewritten(engine):
    sid = plan(engine)
    approve_all(engine, sid)
    publish(engine, sid, LEA, AS_OF)
    for attempt in (
        lambda: publish(engine, sid, LEA, AS_OF),
        lambda: sc.set_override(engine, sid, Override(10, 1_00, "x"), LEA, AS_OF),
        lambda: sc.delete_scenario(engine, sid, LEA),
    ):
        with pytest.raises(PlanError, match="published"):
            attempt()


def tamper(engine, sid, person_id, cents):
    with engine.begin() as conn:
        a = plan_allocation.c
        conn.execute(plan_allocation.update().where(a.scenario_id == sid, a.person_id == person_id).values(cents=cents))


def remove_person(engine, person_id):
    with engine.begin() as conn:
        conn.execute(person.delete().where(person.c.id == person_id))


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda e, s: tamper(e, s, 10, 3_000_00), "do not add up"),
        (lambda e, s: (tamper(e, s, 10, -1_00), tamper(e, s, 11, 2_001_00 + 2_000_00)), "negative"),
        (lambda e, s: remove_person(e, 21), "Unknown person"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(engine, spoil, message):
    sid = plan(engine)
    approve_all(engine, sid)
    before = quota_rows(engine)
    spoil(engine, sid)
    with pytest.raises(PlanError, match=message):
        publish(engine, sid, LEA, AS_OF)
    pd.testing.assert_frame_equal(quota_rows(engine), before)


def test_a_closed_period_is_refused(engine):
    sid = plan(engine, period=Period(date(2026, 11, 1), date(2026, 12, 31)))
    approve_all(engine, sid)
    with pytest.raises(PlanError, match="closed"):
        publish(engine, sid, LEA, date(2027, 1, 5))
    assert quota_of(engine, Period(date(2026, 11, 1), date(2026, 12, 31))) == 0.0
