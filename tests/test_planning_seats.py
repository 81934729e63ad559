"""Planned seats (open headcount, "TBH"): their share of the allocation (even, weighted as the average rep of
their segment, ties after people), their ramped quota, scope, capacity, publish as seats (no person, no quota
row) and the carry to the real hire, in a draft and once published. Every number is worked by hand from
planning_support's organisation (teams 2: reps 10, 11, 12; team 3: reps 20, 21 in segment 2)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa
from planning_support import AS_OF, DEALS, LEA, PEOPLE, YEAR_2027, _p, planner

from spm_core import metrics, schema
from spm_core.db import insert_frame, read_frame
from spm_core.filters import Filters, Scope
from spm_core.planning import scenarios as sc
from spm_core.planning.capacity import capacity
from spm_core.planning.compute import SEAT_NOTE, ScenarioSpec
from spm_core.planning.files import plan_frame
from spm_core.planning.model import WEIGHTED, LevelRule, Override, PlanError, PlannedSeat, PlanRules, Ramp, RampOverride
from spm_core.planning.publish import approve, publish, quota_changes
from spm_core.planning.seats import add_seat, candidates, fill_seat, remove_seat, seat_list
from spm_core.schema import person, quota

EVERYONE = Scope.everyone()
JULY = date(2027, 7, 1)
EVEN = (LevelRule(),)


@pytest.fixture
def engine(tiny_engine):
    return tiny_engine(person=PEOPLE, opportunity=DEALS, segment=[{"id": 1, "name": "SMB"}, {"id": 2, "name": "Enterprise"}])


def seat(number=1, manager=3, start=JULY, segment=2, name=None):
    return PlannedSeat(number, name or f"TBH {number}", manager, start, segment)


def create(engine, target=1_200_00, seats=(), levels=EVEN, overrides=(), ramps=()) -> int:
    spec = ScenarioSpec(
        "Plan", YEAR_2027, PlanRules(target, levels, overrides), ramp=Ramp.parse("25,50,75"), seats=seats, ramps=ramps
    )
    return sc.create_scenario(engine, spec, LEA, AS_OF)


def cents(engine, sid, scope=EVERYONE):
    frame = sc.allocation(engine, sid, scope)
    return dict(zip(frame["person_id"].astype(int), frame["cents"].astype(int), strict=True))


def hire(engine, pid, hired, manager=3, segment=2):
    with engine.begin() as conn:
        insert_frame(conn, person, pd.DataFrame([_p(pid, f"Rep New {pid}", "rep", manager, segment, hire=hired)]))


def test_an_even_level_gives_a_seat_a_reps_share_and_its_ramped_quota_counts_from_its_start(engine):
    sid = create(engine, seats=(seat(),))
    got = cents(engine, sid)
    assert (got[2], got[3]) == (600_00, 600_00)
    assert (got[20], got[21], got[-1]) == (200_00, 200_00, 200_00)  # team 3: two reps and the seat, 200 each
    rows = sc.allocation(engine, sid, EVERYONE).set_index("person_id")
    assert rows.loc[-1, "kind"] == sc.SEAT and rows.loc[-1, "name"] == "TBH 1" and rows.loc[-1, "parent_id"] == 3
    # 20,000 cents over 12 months: 1,667 in the first 8, 1,666 after. From July: 1,667 × 25 % = 416.75 -> 417,
    # 1,667 × 50 % = 833.5 -> 834, 1,666 × 75 % = 1,249.5 -> 1,250, then 3 × 1,666: 7,499 cents.
    assert rows.loc[-1, "ramped"] == pytest.approx(74.99)
    assert rows.loc[3, "ramped"] == pytest.approx(200 + 200 + 74.99)
    assert rows.loc[-1, "start"] == pd.Timestamp(JULY) or rows.loc[-1, "start"] == JULY


def test_a_weighted_level_weighs_a_seat_as_the_average_rep_of_its_segment(engine):
    sid = create(engine, target=1_000_00, seats=(seat(),), levels=(LevelRule(WEIGHTED, "prior_year_bookings"),))
    got = cents(engine, sid)
    # Segment 2's reps booked 400 (rep 20) and 0 (rep 21): the seat weighs 200. Team 2 400, team 3 400 + 200.
    assert (got[2], got[3]) == (400_00, 600_00)
    assert (got[20], got[21], got[-1]) == (400_00, 0, 200_00)
    rule = sc.allocation(engine, sid, EVERYONE).set_index("person_id").loc[-1, "rule"]
    assert rule.endswith(SEAT_NOTE) and "× 20000/60000" in rule


def test_a_seat_of_a_segment_without_reps_weighs_as_the_average_rep_of_the_plan(engine):
    sid = create(engine, target=960_00, seats=(seat(segment=7),), levels=(LevelRule(WEIGHTED, "prior_year_bookings"),))
    got = cents(engine, sid)
    # Reps booked 300, 100, 0, 400, 0: the average 160. Team 2 400, team 3 400 + 160: 960 splits 400:560.
    assert (got[2], got[3]) == (400_00, 560_00)
    assert got[-1] == 160_00


def test_a_leftover_cent_tie_goes_to_people_before_seats(engine):
    sid = create(engine, target=2_00, seats=(seat(),))
    got = cents(engine, sid)
    # Team 3 holds 1.00 for rep 20, rep 21 and the seat: 33 each and one cent, tied: rep 20 before the seat (node -1).
    assert (got[20], got[21], got[-1]) == (34, 33, 33)


def test_a_seat_is_seen_by_whoever_sees_its_managers_subtree(engine):
    sid = create(engine, seats=(seat(),))
    assert -1 in cents(engine, sid, Scope.subtree(3)) and -1 in cents(engine, sid, Scope.subtree(1))
    for blind in (Scope.subtree(2), Scope.only(20), Scope.only(3)):
        assert -1 not in cents(engine, sid, blind)
        assert seat_list(engine, sid, blind).empty
        assert -1 not in set(plan_frame(engine, sid, blind)["Person ID"])
    assert seat_list(engine, sid, Scope.subtree(3))["name"].tolist() == ["TBH 1"]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (seat(manager=20), "reports to an active manager"),
        (seat(manager=99), "Not under the top"),
        (seat(start=date(2028, 1, 1)), "starts after"),
    ],
)
def test_a_seat_that_cannot_be_placed_is_refused_and_nothing_is_written(engine, bad, message):
    sid = create(engine)
    before = cents(engine, sid)
    with pytest.raises(PlanError, match=message):
        add_seat(engine, sid, bad.name, bad.manager_id, bad.start, bad.segment_id, LEA, AS_OF)
    assert cents(engine, sid) == before and sc.load_spec(engine, sid).seats == ()


def test_seats_are_numbered_named_removed_copied_and_deleted_with_their_scenario(engine):
    sid = create(engine)
    assert add_seat(engine, sid, " ", 3, JULY, 2, LEA, AS_OF) == 1
    assert add_seat(engine, sid, "AE Berlin", 2, date(2027, 2, 14), 1, LEA, AS_OF) == 2
    seats = sc.load_spec(engine, sid).seats
    assert [(s.name, s.start) for s in seats] == [("TBH 1", JULY), ("AE Berlin", date(2027, 2, 1))]
    copy = sc.copy_scenario(engine, sid, "Copy", LEA)
    assert sc.load_spec(engine, copy).seats == seats and cents(engine, copy) == cents(engine, sid)
    remove_seat(engine, sid, 1, LEA, AS_OF)
    assert -1 not in cents(engine, sid) and cents(engine, sid)[-2] == 150_00  # team 2: three reps and the seat
    sc.delete_scenario(engine, copy, LEA)
    left = read_frame(engine, sa.select(schema.plan_seat.c.scenario_id).distinct())
    assert left["scenario_id"].tolist() == [sid]


def test_capacity_counts_a_seat_from_its_start_month_in_its_segment(engine):
    sid = create(engine, seats=(seat(),))
    got = capacity(engine, sid, AS_OF, EVERYONE).set_index("segment_id")
    # No history in the capacity window's fully ramped months for segment 2? Rep 20 booked 400 in Sept 2026:
    # 400 over 24 rep-months (reps 20 and 21, 12 months each) = 16.67 a month. The seat from July:
    # 0.25 + 0.5 + 0.75 + 3 = 4.5 months; reps 20 and 21 12 months each.
    rate = 400 / 24
    assert got.loc[2, "reps"] == 2 and got.loc[2, "seats"] == 1 and got.loc[2, "target"] == pytest.approx(600.0)
    assert got.loc[2, "capacity"] == pytest.approx(rate * (12 + 12 + 4.5))


def test_publishing_keeps_an_open_seat_a_seat_and_filling_it_writes_the_hires_quota(engine):
    sid = create(engine, seats=(seat(),))
    for manager in (2, 3):
        approve(engine, sid, manager, planner("m", "manager", Scope.subtree(manager)))
    people_before = read_frame(engine, sa.select(person.c.id))
    publish(engine, sid, LEA, AS_OF)
    rows = read_frame(engine, sa.select(quota))
    assert (rows["person_id"] > 0).all() and read_frame(engine, sa.select(person.c.id)).equals(people_before)
    listed = seat_list(engine, sid, EVERYONE).iloc[0]
    assert listed["status"] == "open" and listed["amount"] == 200.0
    hire(engine, 23, date(2027, 8, 20))
    assert candidates(engine, sid, EVERYONE)["id"].tolist() == [23]  # reps of the plan already have its quotas
    message = fill_seat(engine, sid, 1, 23, LEA, AS_OF)
    assert "Rep New 23 fills TBH 1" in message
    mine = read_frame(engine, sa.select(quota.c.month, quota.c.amount).where(quota.c.person_id == 23).order_by(quota.c.month))
    # Ramped from the hire month (August, month 8 of 12: 1,667 cents), not the seat's planned July:
    # 1,667 × 25 % -> 417, 1,666 × 50 % = 833, 1,666 × 75 % -> 1,250, then 1,666 and 1,666.
    assert mine["amount"].tolist() == [4.17, 8.33, 12.50, 16.66, 16.66]
    assert pd.Timestamp(mine["month"].iloc[0]) == pd.Timestamp(2027, 8, 1)
    log = quota_changes(engine, Scope.only(23))
    assert len(log) == 5 and log["previous_amount"].isna().all() and (log["changed_by"] == "lea").all()
    assert seat_list(engine, sid, EVERYONE)["status"].iloc[0] == "filled by Rep New 23"
    assert cents(engine, sid, Scope.only(23)) == {-1: 200_00}  # the hire sees the seat they took, nobody else's
    assert cents(engine, sid, Scope.only(20)) == {20: 200_00}
    assert metrics.query(engine, ["quota"], Filters(YEAR_2027), Scope.only(23))["quota"].iloc[0] == pytest.approx(58.32)
    with pytest.raises(PlanError, match="already filled"):
        fill_seat(engine, sid, 1, 23, LEA, AS_OF)


def test_a_published_seat_is_not_filled_by_someone_the_plan_already_carries_or_who_is_not_a_rep_under_it(engine):
    sid = create(engine, seats=(seat(),))
    for manager in (2, 3):
        approve(engine, sid, manager, planner("m", "manager", Scope.subtree(manager)))
    publish(engine, sid, LEA, AS_OF)
    hire(engine, 24, date(2027, 2, 1), manager=99)  # reports to the admin, outside the plan's tree
    before = read_frame(engine, sa.select(quota))
    for who, message in ((20, "already has a quota"), (24, "not an active rep"), (555, "not an active rep")):
        with pytest.raises(PlanError, match=message):
            fill_seat(engine, sid, 1, who, LEA, AS_OF)
    pd.testing.assert_frame_equal(read_frame(engine, sa.select(quota)), before)


def test_filling_a_draft_seat_carries_its_override_and_ramp_to_the_hire(engine):
    sid = create(
        engine,
        seats=(seat(),),
        overrides=(Override(-1, 300_00, "strategic accounts"),),
        ramps=(RampOverride(-1, Ramp.parse("50"), "hired from a competitor"),),
    )
    assert cents(engine, sid)[-1] == 300_00
    hire(engine, 23, date(2027, 7, 5))
    fill_seat(engine, sid, 1, 23, LEA, AS_OF)
    got = cents(engine, sid)
    # Team 3 600: the hire keeps the seat's 300 (locked), reps 20 and 21 share the rest: 150 each.
    assert -1 not in got and (got[23], got[20], got[21]) == (300_00, 150_00, 150_00)
    rows = sc.allocation(engine, sid, EVERYONE).set_index("person_id")
    assert rows.loc[23, "reason"] == "strategic accounts" and rows.loc[23, "ramp"] == "50"
    # 30,000 cents: 2,500 a month; July at 50 % = 1,250, then 5 × 2,500.
    assert rows.loc[23, "ramped"] == pytest.approx(137.50)
    spec = sc.load_spec(engine, sid)
    assert spec.seats[0].person_id == 23 and seat_list(engine, sid, EVERYONE)["amount"].iloc[0] == 300.0
    table = read_frame(engine, sa.select(schema.plan_seat))
    assert table["filled_by"].tolist() == ["lea"] and table["filled_at"].notna().all()


def test_a_warehouse_with_planning_from_before_seats_reads_its_plans_and_gets_the_tables_on_a_write(engine):
    sid = create(engine)
    with engine.begin() as conn:
        for table in (schema.plan_seat, schema.plan_ramp):
            table.drop(conn)
    assert cents(engine, sid)[20] == 300_00 and seat_list(engine, sid, EVERYONE).empty
    assert sc.load_spec(engine, sid).seats == ()
    add_seat(engine, sid, "", 3, JULY, 2, LEA, AS_OF)
    assert cents(engine, sid)[-1] == 200_00
