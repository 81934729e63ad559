"""Ramps of their own (SPEC: quota × the ramp factor of the person's month of tenure, month 1 = the hire
month), per person in a scenario: used by the allocation's ramped quota, by publishing and by capacity
(both its productivity history and the plan's ramped headcount). Worked by hand."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa
from planning_support import AS_OF, LEA, PEOPLE, YEAR_2027, _deal, _p, planner

from spm_core.db import read_frame
from spm_core.filters import Scope
from spm_core.planning import scenarios as sc
from spm_core.planning.capacity import capacity, productivity
from spm_core.planning.compute import ScenarioSpec
from spm_core.planning.model import PlanError, PlanRules, Ramp, RampOverride
from spm_core.planning.publish import approve, publish
from spm_core.planning.ramp import monthly_quotas, monthly_quotas_one, months_of
from spm_core.planning.seats import remove_ramp, set_ramp
from spm_core.schema import quota

EVERYONE = Scope.everyone()
DEFAULT = Ramp.parse("25,50,75")
FAST = RampOverride(12, Ramp.parse("50"), "ten years in the industry")
# Segment 2 history: rep 20 booked 1,200 in January 2026; rep 22 (hired 15 June 2026) 100 in July 2026.
PEOPLE_PLUS = [*PEOPLE, _p(22, "Rep Twentytwo", "rep", 3, 2, hire=date(2026, 6, 15))]
DEALS = [_deal(1, 20, 1200.0, date(2026, 1, 10)), _deal(2, 22, 100.0, date(2026, 7, 10))]


@pytest.fixture
def engine(tiny_engine):
    return tiny_engine(person=PEOPLE_PLUS, opportunity=DEALS)


def create(engine, ramps=()) -> int:
    spec = ScenarioSpec("Plan", YEAR_2027, PlanRules(12_000_00), ramp=DEFAULT, ramps=ramps)
    return sc.create_scenario(engine, spec, LEA, AS_OF)


def row(engine, sid, pid):
    return sc.allocation(engine, sid, EVERYONE).set_index("person_id").loc[pid]


def test_a_ramp_of_its_own_needs_a_reason():
    with pytest.raises(PlanError, match="needs a reason"):
        RampOverride(12, Ramp.parse("50"), " ")


def test_the_allocation_shows_each_reps_ramped_quota_by_their_own_schedule(engine):
    sid = create(engine)
    # Team 2: 6,000 over reps 10, 11, 12: 2,000 each, 16,667 cents a month in the first 8 months, 16,666 after.
    # Rep 12 is hired 10 March 2027: by the plan's schedule 25 % of 16,667 -> 4,167, 50 % -> 8,334 (8,333.5 half-up),
    # 75 % of 16,667 -> 12,500 (12,500.25), then June-August 3 × 16,667 and September-December 4 × 16,666.
    default = 4_167 + 8_334 + 12_500 + 3 * 16_667 + 4 * 16_666
    assert row(engine, sid, 12)["ramped"] == pytest.approx(default / 100) and row(engine, sid, 12)["ramp"] == "25,50,75"
    set_ramp(engine, sid, FAST, LEA, AS_OF)
    # Its own "50": March at 50 % -> 8,334, then full from April: April-August 5 × 16,667, September-December 4 × 16,666.
    own = 8_334 + 5 * 16_667 + 4 * 16_666
    assert row(engine, sid, 12)["ramped"] == pytest.approx(own / 100) and row(engine, sid, 12)["ramp"] == "50"
    assert row(engine, sid, 2)["ramped"] == pytest.approx((2 * 200_000 + own) / 100)  # the team sums its reps
    assert row(engine, sid, 12)["cents"] == 2_000_00  # the allocation itself is unramped
    remove_ramp(engine, sid, 12, LEA, AS_OF)
    assert row(engine, sid, 12)["ramp"] == "25,50,75"


def test_a_ramp_of_its_own_is_for_a_rep_or_seat_of_the_plan(engine):
    sid = create(engine)
    for node in (2, 99, -4):
        with pytest.raises(PlanError, match="rep or planned seat of this plan"):
            set_ramp(engine, sid, RampOverride(node, Ramp.parse("50"), "x"), LEA, AS_OF)
    assert sc.load_spec(engine, sid).ramps == ()


def test_publishing_uses_the_persons_own_schedule(engine):
    sid = create(engine, ramps=(FAST,))
    for manager in (2, 3):
        approve(engine, sid, manager, planner("m", "manager", Scope.subtree(manager)))
    publish(engine, sid, LEA, AS_OF)
    q = quota.c
    twelve = read_frame(engine, sa.select(q.month, q.amount, q.is_ramped).where(q.person_id == 12).order_by(q.month))
    assert twelve["amount"].tolist()[:3] == [83.34, 166.67, 166.67]
    assert twelve["is_ramped"].tolist()[:3] == [True, False, False]
    assert len(twelve) == 10  # March to December


def test_productivity_counts_a_rep_fully_ramped_after_their_own_schedule(engine):
    # Window November 2025 - October 2026. Segment 2: reps 20 and 21 ramped all 12 months; rep 22 (hired June
    # 2026) by the plan's 3-month schedule from September only (2 months, without the July deal):
    # 1,200 / 26 rep-months. With no ramp of their own, from June: 5 months and the July deal: 1,300 / 29.
    plain = productivity(engine, AS_OF, DEFAULT).set_index("segment_id")
    own = productivity(engine, AS_OF, DEFAULT, {22: Ramp(())}).set_index("segment_id")
    assert plain.loc[2, "rep_months"] == 26 and plain.loc[2, "monthly"] == pytest.approx(1200 / 26)
    assert own.loc[2, "rep_months"] == 29 and own.loc[2, "monthly"] == pytest.approx(1300 / 29)


def test_capacity_ramps_each_rep_by_their_own_schedule(tiny_engine):
    # Segment 1 history as well: rep 10 booked 2,400 in February 2026, so 2,400 / 24 rep-months (reps 10 and 11).
    engine = tiny_engine(person=PEOPLE_PLUS, opportunity=[*DEALS, _deal(3, 10, 2400.0, date(2026, 2, 10))])
    sid = create(engine)
    before = capacity(engine, sid, AS_OF, EVERYONE).set_index("segment_id")
    # Rep 12 (hired March 2027) by the plan's schedule: 0.25 + 0.5 + 0.75 + 7 full months = 8.5.
    assert before.loc[1, "capacity"] == pytest.approx(100 * (12 + 12 + 8.5))
    assert before.loc[2, "capacity"] == pytest.approx(1200 / 26 * 36)  # reps 20, 21, 22: 12 months each
    set_ramp(engine, sid, FAST, LEA, AS_OF)
    set_ramp(engine, sid, RampOverride(22, Ramp(()), "joined from a partner"), LEA, AS_OF)
    after = capacity(engine, sid, AS_OF, EVERYONE).set_index("segment_id")
    assert after.loc[1, "capacity"] == pytest.approx(100 * (12 + 12 + 9.5))  # March at 50 %, then 9 full months
    assert after.loc[2, "capacity"] == pytest.approx(1300 / 29 * 36)  # rep 22's history counts from June


def test_monthly_quotas_by_schedule_equal_one_schedule_per_person():
    """The grouped pass (one per distinct schedule, in the order of the leaves) against each person alone; a
    schedule of one's own equal to the plan's counts once."""
    leaves = pd.DataFrame(
        {
            "person_id": [5, -2, 7, 9],
            "cents": [1_000_01, 77_77, 12_00, 0],
            "hire_date": [date(2027, 2, 9), date(2027, 5, 1), None, date(2026, 12, 1)],
        }
    )
    months = months_of(date(2027, 1, 1), date(2027, 12, 31))
    own = {-2: Ramp.parse("50"), 7: Ramp.parse("10,20"), 9: DEFAULT}
    got = monthly_quotas(leaves, months, DEFAULT, own)
    want = pd.concat(
        [monthly_quotas_one(leaves.iloc[[i]], months, own.get(int(p), DEFAULT)) for i, p in enumerate(leaves["person_id"])],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(got.drop(columns=["ramp"]), want)
    assert got.groupby("person_id", sort=False)["ramp"].first().tolist() == ["25,50,75", "50", "10,20", "25,50,75"]
