"""KPIs on tiny hand-written warehouses, every expected number worked out by hand in the comments."""

from __future__ import annotations

import math
from datetime import date

import pytest

from spm_core.filters import Filters, Period, Scope
from spm_core.kpis import CATALOGUE
from spm_core.metrics import query
from spm_core.stages import DEFAULT_STAGES

Q1 = Period(date(2026, 1, 1), date(2026, 3, 31))
IN_Q1 = Filters(Q1)
EVERYONE = Scope.everyone()
AFTER_Q1 = date(2026, 6, 1)  # "today" for most tests: Q1 is over, so pacing equals bookings
STAGES = {s.name: s for s in DEFAULT_STAGES}
STAGE_ROWS = [s.__dict__.copy() for s in DEFAULT_STAGES]  # Prospecting 10 %, ... Proposal 60 %, Negotiation 80 %

# The organisation, a manager tree three levels deep under the VP:
#   1 Lea Leader
#   +-- 2 Vic VP
#   |   +-- 3 Dora Director
#   |       +-- 4 Manny Manager (team 1)
#   |           +-- 5 Rita Rep (team 1)
#   |           +-- 6 Rob Rep (team 1)
#   +-- 7 Olga Other (team 2)
#       +-- 8 Sam Sibling (team 2)
LEADER, VP, DIRECTOR, MANAGER, RITA, ROB, OLGA, SAM = range(1, 9)


def _person(pid: int, name: str, role: str, manager: int | None, team: int | None) -> dict:
    return {"id": pid, "name": name, "role": role, "manager_id": manager, "team_id": team, "segment_id": 1,
            "region_id": 1, "active": True, "ramp_months": 0}


PEOPLE = [
    _person(LEADER, "Lea Leader", "leader", None, None),
    _person(VP, "Vic VP", "manager", LEADER, None),
    _person(DIRECTOR, "Dora Director", "manager", VP, None),
    _person(MANAGER, "Manny Manager", "manager", DIRECTOR, 1),
    _person(RITA, "Rita Rep", "rep", MANAGER, 1),
    _person(ROB, "Rob Rep", "rep", MANAGER, 1),
    _person(OLGA, "Olga Other", "manager", LEADER, 2),
    _person(SAM, "Sam Sibling", "rep", OLGA, 2),
]
TEAMS = [{"id": 1, "name": "Team One", "manager_id": MANAGER}, {"id": 2, "name": "Team Two", "manager_id": OLGA}]
PRODUCTS = [{"id": 1, "name": "Widget"}, {"id": 2, "name": "Gadget"}]


def deal(did: int, owner: int, amount: float, stage: str, created: date | None, close: date, *, product: int = 1,
         account: int | None = 100, probability: int | None = None, category: str | None = None) -> dict:
    """An opportunity row; closed/won flags, probability and forecast category follow the stage by default."""
    s = STAGES.get(stage)
    return {
        "id": did, "owner_id": owner, "account_id": account, "product_id": product, "amount": float(amount),
        "stage": stage, "probability": s.probability if probability is None else probability,
        "forecast_category": category or s.forecast_category, "created_date": created, "close_date": close,
        "is_closed": s.is_closed, "is_won": s.is_won,
    }


def quotas(person: int, amounts: dict[date, float], first_id: int = 1) -> list[dict]:
    return [{"id": first_id + i, "person_id": person, "month": month, "amount": float(amount), "quota_type": "bookings",
             "is_ramped": False} for i, (month, amount) in enumerate(amounts.items())]


def activity(aid: int, person: int, kind: str, day: date) -> dict:
    return {"id": aid, "person_id": person, "activity_type": kind, "activity_date": day}


def warehouse(tiny_engine, opportunity=(), quota=(), activity=(), stage=STAGE_ROWS, **more):
    return tiny_engine(person=PEOPLE, team=TEAMS, product=PRODUCTS, stage=stage, opportunity=list(opportunity),
                       quota=list(quota), activity=list(activity), **more)


def one(engine, names, filters=IN_Q1, scope=EVERYONE, as_of=AFTER_Q1):
    """The single row of an ungrouped query, as a dict."""
    frame = query(engine, list(names), filters, scope, as_of=as_of)
    assert len(frame) == 1
    return frame.iloc[0].to_dict()


def is_empty(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def W(did, owner, amount, close, created=date(2026, 1, 2), **kw):  # noqa: N802 - a won deal
    return deal(did, owner, amount, "Closed Won", created, close, **kw)


def L(did, owner, amount, close, created=date(2026, 1, 2), **kw):  # noqa: N802 - a lost deal
    return deal(did, owner, amount, "Closed Lost", created, close, **kw)


# --------------------------------------------------------------------------------------------- periods of deals


def test_bookings_include_deals_closed_on_the_first_and_last_day_of_the_period(tiny_engine):
    # Won 1000 on Jan 1 and 2000 on Mar 31 count; won 4000 on Apr 1 and 8000 on Dec 31 2025 do not: 3000.
    engine = warehouse(tiny_engine, opportunity=[
        W(1, RITA, 1000, date(2026, 1, 1), created=date(2025, 12, 1)), W(2, RITA, 2000, date(2026, 3, 31)),
        W(3, RITA, 4000, date(2026, 4, 1)), W(4, RITA, 8000, date(2025, 12, 31), created=date(2025, 12, 1)),
    ])
    got = one(engine, ["bookings", "deals_won"])
    assert (got["bookings"], got["deals_won"]) == (3000, 2)


def test_open_deal_counts_in_the_period_of_its_expected_close_even_when_overdue(tiny_engine):
    # Open 800 expected Feb 20 (overdue on Jun 1) is Q1 pipeline; open 50 expected in Q2 is not.
    engine = warehouse(tiny_engine, opportunity=[
        deal(1, RITA, 800, "Proposal", date(2026, 1, 5), date(2026, 2, 20)),
        deal(2, RITA, 50, "Proposal", date(2026, 1, 5), date(2026, 4, 20)),
    ])
    got = one(engine, ["open_pipeline", "open_deals", "bookings"])
    assert (got["open_pipeline"], got["open_deals"], got["bookings"]) == (800, 1, 0)


def test_pipeline_created_counts_deals_by_created_date_whatever_their_stage(tiny_engine):
    # Created in Q1: won 100 (closed in Q2), lost 200, open 400 -> 700 over 3 deals; created Dec 31: not counted.
    engine = warehouse(tiny_engine, opportunity=[
        W(1, RITA, 100, date(2026, 5, 1), created=date(2026, 1, 1)), L(2, RITA, 200, date(2026, 2, 1)),
        deal(3, RITA, 400, "Discovery", date(2026, 3, 31), date(2026, 7, 1)),
        W(4, RITA, 999, date(2026, 1, 15), created=date(2025, 12, 31)),
    ])
    got = one(engine, ["pipeline_created", "deals_created"])
    assert (got["pipeline_created"], got["deals_created"]) == (700, 3)


def test_a_deal_with_no_account_still_counts(tiny_engine):
    # Won 700 with no account plus won 300 with one: bookings 1000 from 2 deals.
    engine = warehouse(tiny_engine, opportunity=[W(1, RITA, 700, date(2026, 2, 1), account=None),
                                                 W(2, RITA, 300, date(2026, 2, 2))])
    got = one(engine, ["bookings", "deals_won", "avg_deal_size"])
    assert (got["bookings"], got["deals_won"], got["avg_deal_size"]) == (1000, 2, 500)


# --------------------------------------------------------------------------------------------- sales cycle


def test_a_deal_created_and_closed_the_same_day_has_a_zero_day_cycle(tiny_engine):
    # Cycles: 0 days (Feb 1 -> Feb 1) and 30 days (Jan 1 -> Jan 31): mean 15, median 15.
    engine = warehouse(tiny_engine, opportunity=[W(1, RITA, 100, date(2026, 2, 1), created=date(2026, 2, 1)),
                                                 W(2, RITA, 300, date(2026, 1, 31), created=date(2026, 1, 1))])
    got = one(engine, ["sales_cycle_days", "sales_cycle_median_days"])
    assert (got["sales_cycle_days"], got["sales_cycle_median_days"]) == (15, 15)


def test_median_cycle_of_an_even_count_is_the_mean_of_the_two_middle_ones(tiny_engine):
    # Won cycles 10, 20, 30, 50 days: median (20 + 30) / 2 = 25, mean 110 / 4 = 27.5.
    # A lost deal of 100 days and an open one are not won deals and stay out.
    created = date(2026, 1, 1)
    engine = warehouse(tiny_engine, opportunity=[
        W(1, RITA, 1, date(2026, 1, 11), created=created), W(2, RITA, 1, date(2026, 1, 21), created=created),
        W(3, ROB, 1, date(2026, 1, 31), created=created), W(4, SAM, 1, date(2026, 2, 20), created=created),
        L(5, RITA, 1, date(2026, 3, 3), created=date(2025, 11, 23)),
        deal(6, RITA, 1, "Proposal", date(2025, 1, 1), date(2026, 3, 30)),
    ])
    got = one(engine, ["sales_cycle_median_days", "sales_cycle_days"])
    assert got["sales_cycle_median_days"] == 25
    assert got["sales_cycle_days"] == 27.5


def test_velocity_is_empty_not_infinite_when_the_mean_cycle_is_zero_days(tiny_engine):
    # One won deal 1000 created and closed Feb 1 (cycle 0), one open deal: 1 x 100 % x 1000 / 0 days -> no value.
    engine = warehouse(tiny_engine, opportunity=[W(1, RITA, 1000, date(2026, 2, 1), created=date(2026, 2, 1)),
                                                 deal(2, RITA, 500, "Proposal", date(2026, 1, 5), date(2026, 3, 1))])
    got = one(engine, ["sales_velocity", "sales_cycle_days"])
    assert got["sales_cycle_days"] == 0
    assert is_empty(got["sales_velocity"])


def test_velocity_is_open_deals_times_win_rate_times_deal_size_over_cycle(tiny_engine):
    # Won 1000 (cycle 10) and 3000 (cycle 30), lost 500; 2 open deals closing in Q1.
    # win rate 2/3, avg deal 2000, mean cycle 20: 2 x 2/3 x 2000 / 20 = 133.33.. per day.
    engine = warehouse(tiny_engine, opportunity=[
        W(1, RITA, 1000, date(2026, 1, 12), created=date(2026, 1, 2)),
        W(2, RITA, 3000, date(2026, 2, 1), created=date(2026, 1, 2)), L(3, RITA, 500, date(2026, 2, 2)),
        deal(4, RITA, 10, "Prospecting", date(2026, 1, 5), date(2026, 3, 1)),
        deal(5, ROB, 20, "Negotiation", date(2026, 1, 5), date(2026, 3, 2)),
    ])
    assert one(engine, ["sales_velocity"])["sales_velocity"] == pytest.approx(2 * (2 / 3) * 2000 / 20, rel=1e-12)


# --------------------------------------------------------------------------------------------- win rates


def test_win_rate_value_uses_the_amount_at_loss(tiny_engine):
    # Won 300; lost deal was 5000 at Proposal, then cut to 700 and lost: the opportunity holds the amount at loss.
    # win_rate_value = 300 / (300 + 700) = 0.3; win_rate (count) = 1 / 2.
    history = [
        {"id": 1, "opportunity_id": 2, "changed_at": date(2026, 1, 2), "valid_to": date(2026, 2, 1), "stage": "Proposal",
         "amount": 5000.0, "close_date": date(2026, 3, 1), "probability": 60, "forecast_category": "Best Case",
         "is_closed": False, "is_won": False},
        {"id": 2, "opportunity_id": 2, "changed_at": date(2026, 2, 1), "valid_to": None, "stage": "Closed Lost",
         "amount": 700.0, "close_date": date(2026, 2, 1), "probability": 0, "forecast_category": "Omitted",
         "is_closed": True, "is_won": False},
    ]
    engine = warehouse(tiny_engine, opportunity=[W(1, RITA, 300, date(2026, 2, 1)), L(2, RITA, 700, date(2026, 2, 1))],
                       opportunity_history=history)
    got = one(engine, ["win_rate_value", "win_rate"])
    assert got["win_rate_value"] == pytest.approx(0.3, rel=1e-12)
    assert got["win_rate"] == 0.5


def test_win_rates_are_empty_with_nothing_closed(tiny_engine):
    # Only an open deal closes in Q1: won + lost = 0, so no win rate (not 0).
    engine = warehouse(tiny_engine, opportunity=[deal(1, RITA, 10, "Proposal", date(2026, 1, 5), date(2026, 3, 1))])
    got = one(engine, ["win_rate", "win_rate_value", "avg_deal_size"])
    assert all(is_empty(v) for v in got.values())


# --------------------------------------------------------------------------------------------- quota


def test_attainment_with_zero_quota_is_empty_never_infinite(tiny_engine):
    # Quota rows of 0 for Jan-Mar and bookings 1000: attainment 1000 / 0 has no value ("no quota").
    engine = warehouse(tiny_engine, opportunity=[W(1, RITA, 1000, date(2026, 2, 1))],
                       quota=quotas(RITA, {date(2026, 1, 1): 0, date(2026, 2, 1): 0, date(2026, 3, 1): 0}))
    got = one(engine, ["quota", "attainment", "pacing_attainment", "projected_attainment"])
    assert got["quota"] == 0
    assert all(is_empty(got[n]) for n in ("attainment", "pacing_attainment", "projected_attainment"))


def test_attainment_with_no_quota_rows_is_empty(tiny_engine):
    engine = warehouse(tiny_engine, opportunity=[W(1, RITA, 1000, date(2026, 2, 1))])
    got = one(engine, ["quota", "attainment"])
    assert got["quota"] == 0 and is_empty(got["attainment"])


def test_quota_of_a_custom_period_counts_the_months_starting_in_it(tiny_engine):
    # Jan 15 .. Mar 10 contains Feb 1 and Mar 1 but not Jan 1 or Apr 1: quota 200 + 400 = 600.
    engine = warehouse(tiny_engine, quota=quotas(RITA, {date(2026, 1, 1): 100, date(2026, 2, 1): 200,
                                                        date(2026, 3, 1): 400, date(2026, 4, 1): 800}))
    got = one(engine, ["quota"], Filters(Period(date(2026, 1, 15), date(2026, 3, 10))))
    assert got["quota"] == 600


def test_deals_of_a_custom_period_count_by_day(tiny_engine):
    # Jan 15 .. Mar 10: won on Jan 15 (100) and Mar 10 (200) count, Jan 14 (400) and Mar 11 (800) do not: 300.
    engine = warehouse(tiny_engine, opportunity=[
        W(1, RITA, 100, date(2026, 1, 15)), W(2, RITA, 200, date(2026, 3, 10)),
        W(3, RITA, 400, date(2026, 1, 14)), W(4, RITA, 800, date(2026, 3, 11)),
    ])
    assert one(engine, ["bookings"], Filters(Period(date(2026, 1, 15), date(2026, 3, 10))))["bookings"] == 300


def test_coverage_is_empty_covered_when_bookings_exceed_quota(tiny_engine):
    # Quota 1000, bookings 1500, open 700: remainder max(1000 - 1500, 0) = 0 -> "covered", no ratio.
    engine = warehouse(tiny_engine, quota=quotas(RITA, {date(2026, 1, 1): 1000}), opportunity=[
        W(1, RITA, 1500, date(2026, 2, 1)), deal(2, RITA, 700, "Proposal", date(2026, 1, 5), date(2026, 3, 1))])
    got = one(engine, ["quota_remaining", "coverage", "open_pipeline"])
    assert got["quota_remaining"] == 0 and got["open_pipeline"] == 700
    assert is_empty(got["coverage"])


def test_coverage_is_open_pipeline_over_the_quota_remaining(tiny_engine):
    # Quota 1000, bookings 400, open 1200: remainder 600, coverage 1200 / 600 = 2.
    engine = warehouse(tiny_engine, quota=quotas(RITA, {date(2026, 1, 1): 1000}), opportunity=[
        W(1, RITA, 400, date(2026, 2, 1)), deal(2, RITA, 1200, "Proposal", date(2026, 1, 5), date(2026, 3, 1))])
    got = one(engine, ["quota_remaining", "coverage"])
    assert (got["quota_remaining"], got["coverage"]) == (600, 2)


def test_a_rep_exactly_at_quota_counts_as_at_quota(tiny_engine):
    # Rita: quota 3000, bookings 1000.10 + 1999.90 = 3000.00 exactly (a tie: attainment 100 %) -> at quota.
    # Rob: quota 3000, bookings 2999.99 -> not. Share 1 / 2.
    engine = warehouse(
        tiny_engine,
        quota=quotas(RITA, {date(2026, 1, 1): 3000}) + quotas(ROB, {date(2026, 1, 1): 3000}, first_id=10),
        opportunity=[W(1, RITA, 1000.10, date(2026, 1, 20)), W(2, RITA, 1999.90, date(2026, 2, 20)),
                     W(3, ROB, 2999.99, date(2026, 3, 20))],
    )
    assert one(engine, ["pct_reps_at_quota"])["pct_reps_at_quota"] == 0.5
    by_rep = query(engine, ["attainment"], Filters(Q1), Scope.everyone(), by=["rep"], as_of=AFTER_Q1).set_index("rep")["attainment"]
    assert by_rep["Rita Rep"] == 1.0


def test_reps_without_a_quota_are_left_out_of_the_share_at_quota(tiny_engine):
    # Rita quota 300 booked 300 (at quota); Rob quota 300 booked nothing (below, still counted);
    # Sam quota 0 booked 999 (no quota: left out). Share 1 / 2.
    engine = warehouse(
        tiny_engine,
        quota=quotas(RITA, {date(2026, 1, 1): 300}) + quotas(ROB, {date(2026, 1, 1): 300}, first_id=10)
        + quotas(SAM, {date(2026, 1, 1): 0}, first_id=20),
        opportunity=[W(1, RITA, 300, date(2026, 1, 20)), W(2, SAM, 999, date(2026, 1, 20))],
    )
    assert one(engine, ["pct_reps_at_quota"])["pct_reps_at_quota"] == 0.5


def test_reps_with_equal_bookings_keep_a_row_each_ordered_by_name(tiny_engine):
    # Rob and Rita both book 500: two rows, Rita Rep before Rob Rep.
    engine = warehouse(tiny_engine, opportunity=[W(1, ROB, 500, date(2026, 1, 20)), W(2, RITA, 500, date(2026, 1, 21))])
    frame = query(engine, ["bookings"], Filters(Q1), Scope.everyone(), by=["rep"], as_of=AFTER_Q1)
    assert frame[["rep_id", "rep", "bookings"]].values.tolist() == [[RITA, "Rita Rep", 500], [ROB, "Rob Rep", 500]]


def test_product_filter_applies_to_deals_but_not_to_quota_or_activities(tiny_engine):
    # Product 1 won 300, product 2 won 200, quota 1000, 3 activities. Filtered to product 1:
    # bookings 300, quota 1000 (no product on quotas), attainment 0.3, activities 3.
    engine = warehouse(
        tiny_engine, quota=quotas(RITA, {date(2026, 1, 1): 1000}),
        opportunity=[W(1, RITA, 300, date(2026, 1, 20), product=1), W(2, RITA, 200, date(2026, 1, 20), product=2)],
        activity=[activity(i, RITA, "call", date(2026, 2, i)) for i in (1, 2, 3)],
    )
    got = one(engine, ["bookings", "quota", "attainment", "activities"], Filters(Q1, products=frozenset({1})))
    assert got == {"bookings": 300, "quota": 1000, "attainment": pytest.approx(0.3, rel=1e-12), "activities": 3}


# --------------------------------------------------------------------------------------------- pipeline


def test_weighted_pipeline_uses_the_stage_table_probability_not_the_deals(tiny_engine):
    # Proposal is 60 % in the stage table; the deal's own field says 25 %: weighted 1000 x 60 % = 600.
    # Negotiation set to 90 % in this warehouse's stage table (deal says 80 %): 500 x 90 % = 450. Total 1050.
    stages = [dict(s, probability=90) if s["name"] == "Negotiation" else s for s in STAGE_ROWS]
    engine = warehouse(tiny_engine, stage=stages, opportunity=[
        deal(1, RITA, 1000, "Proposal", date(2026, 1, 5), date(2026, 3, 1), probability=25),
        deal(2, RITA, 500, "Negotiation", date(2026, 1, 5), date(2026, 3, 1)),
    ])
    assert one(engine, ["weighted_pipeline"])["weighted_pipeline"] == pytest.approx(1050, rel=1e-12)


def test_projected_attainment_adds_weighted_pipeline_to_bookings(tiny_engine):
    # Bookings 400 + weighted (1000 x 60 %) = 1000, over quota 2000: 0.5.
    engine = warehouse(tiny_engine, quota=quotas(RITA, {date(2026, 1, 1): 2000}), opportunity=[
        W(1, RITA, 400, date(2026, 2, 1)), deal(2, RITA, 1000, "Proposal", date(2026, 1, 5), date(2026, 3, 1))])
    assert one(engine, ["projected_attainment"])["projected_attainment"] == pytest.approx(0.5, rel=1e-12)


def test_forecast_call_is_closed_plus_commit_and_upside_adds_best_case(tiny_engine):
    # Won 1000; open Commit 500, Best Case 300, Pipeline 200: call 1500, upside 1800.
    engine = warehouse(tiny_engine, opportunity=[
        W(1, RITA, 1000, date(2026, 2, 1)), deal(2, RITA, 500, "Negotiation", date(2026, 1, 5), date(2026, 3, 1)),
        deal(3, RITA, 300, "Proposal", date(2026, 1, 5), date(2026, 3, 1)),
        deal(4, RITA, 200, "Prospecting", date(2026, 1, 5), date(2026, 3, 1)),
    ])
    got = one(engine, ["forecast_call", "forecast_upside", "commit_pipeline", "best_case_pipeline"])
    assert got == {"forecast_call": 1500, "forecast_upside": 1800, "commit_pipeline": 500, "best_case_pipeline": 300}


def test_bookings_do_not_depend_on_asking_for_weighted_pipeline_in_the_same_query(tiny_engine):
    # Won 1000 in "Closed Won" plus won 500 in a stage the stage table does not list ("Won - Signed"), and an
    # open 300 in an unlisted "Verbal" stage: bookings 1500 and open pipeline 300 whatever else is asked.
    engine = warehouse(tiny_engine, opportunity=[
        W(1, RITA, 1000, date(2026, 2, 1)),
        dict(W(2, RITA, 500, date(2026, 2, 1)), stage="Won - Signed"),
        dict(deal(3, RITA, 300, "Negotiation", date(2026, 1, 5), date(2026, 2, 10)), stage="Verbal"),
    ])
    alone = one(engine, ["bookings", "open_pipeline"])
    with_weighted = one(engine, ["bookings", "open_pipeline", "weighted_pipeline"])
    assert (alone["bookings"], alone["open_pipeline"]) == (1500, 300)
    assert (with_weighted["bookings"], with_weighted["open_pipeline"]) == (1500, 300)


# --------------------------------------------------------------------------------------------- pacing


def test_pacing_divides_bookings_by_the_days_elapsed_including_today(tiny_engine):
    # January (31 days) on Jan 10: 10 days elapsed; bookings 1000 -> pacing 1000 / (10 / 31) = 3100.
    engine = warehouse(tiny_engine, opportunity=[W(1, RITA, 1000, date(2026, 1, 5))])
    got = one(engine, ["pacing"], Filters(Period.month(date(2026, 1, 1))), as_of=date(2026, 1, 10))
    assert got["pacing"] == pytest.approx(3100, rel=1e-12)


def test_pacing_of_a_period_not_started_is_empty(tiny_engine):
    engine = warehouse(tiny_engine, opportunity=[W(1, RITA, 1000, date(2026, 1, 5))])
    got = one(engine, ["pacing", "bookings"], Filters(Period.month(date(2026, 1, 1))), as_of=date(2025, 12, 31))
    assert got["bookings"] == 1000 and is_empty(got["pacing"])


# --------------------------------------------------------------------------------------------- empty period


RATIO_KPIS = {"attainment", "pct_reps_at_quota", "pacing_attainment", "projected_attainment", "coverage", "win_rate",
              "win_rate_value", "avg_deal_size", "sales_cycle_days", "sales_cycle_median_days", "sales_velocity"}


def test_an_empty_period_gives_zero_sums_and_no_ratios(tiny_engine):
    # Data only in 2026; Q1 2025 (over on Jun 1 2026) holds nothing: every sum and count 0, every ratio empty.
    engine = warehouse(
        tiny_engine, quota=quotas(RITA, {date(2026, 1, 1): 1000}),
        opportunity=[W(1, RITA, 300, date(2026, 1, 20)), L(2, RITA, 300, date(2026, 1, 20)),
                     deal(3, RITA, 10, "Proposal", date(2026, 1, 5), date(2026, 3, 1))],
        activity=[activity(1, RITA, "call", date(2026, 2, 1))],
    )
    got = one(engine, sorted(CATALOGUE), Filters(Period.quarter(date(2025, 1, 1))))
    assert {n for n, v in got.items() if is_empty(v)} == RATIO_KPIS & set(CATALOGUE)
    assert {n: v for n, v in got.items() if n not in RATIO_KPIS} == {n: 0 for n in CATALOGUE if n not in RATIO_KPIS}


def test_an_empty_period_grouped_gives_no_rows(tiny_engine):
    engine = warehouse(tiny_engine, opportunity=[W(1, RITA, 300, date(2026, 1, 20))])
    assert query(engine, ["bookings"], Filters(Period.quarter(date(2025, 1, 1))), Scope.everyone(), by=["team"], as_of=AFTER_Q1).empty


# --------------------------------------------------------------------------------------------- manager tree and scope


TREE_DEALS = [  # one won deal each, amounts that show who is in a sum: 1, 10, 100, 1000, 10000
    W(1, MANAGER, 1, date(2026, 1, 20)), W(2, RITA, 10, date(2026, 1, 20)), W(3, ROB, 100, date(2026, 1, 20)),
    W(4, SAM, 1000, date(2026, 1, 20)), W(5, OLGA, 10000, date(2026, 1, 20)),
]


def test_subtree_scope_reaches_three_levels_down_and_no_sideways(tiny_engine):
    # VP -> Director -> Manager -> Rita, Rob: the VP's subtree holds Manny, Rita, Rob (1 + 10 + 100 = 111),
    # not Olga's branch (Olga, Sam).
    engine = warehouse(tiny_engine, opportunity=TREE_DEALS)
    frame = query(engine, ["bookings"], Filters(Q1), Scope.subtree(VP), by=["rep"], as_of=AFTER_Q1)
    assert dict(zip(frame["rep_id"], frame["bookings"], strict=True)) == {MANAGER: 1, RITA: 10, ROB: 100}
    assert one(engine, ["bookings"], scope=Scope.subtree(VP))["bookings"] == 111


def test_subtree_scope_of_a_rep_is_the_rep_alone(tiny_engine):
    engine = warehouse(tiny_engine, opportunity=TREE_DEALS)
    assert one(engine, ["bookings"], scope=Scope.subtree(RITA))["bookings"] == 10


def test_only_scope_of_a_manager_excludes_the_managers_team(tiny_engine):
    # Scope.only(Manny) is Manny's own deals (1), not Rita's or Rob's.
    engine = warehouse(tiny_engine, opportunity=TREE_DEALS)
    assert one(engine, ["bookings"], scope=Scope.only(MANAGER))["bookings"] == 1


def test_leader_subtree_sees_everyone(tiny_engine):
    engine = warehouse(tiny_engine, opportunity=TREE_DEALS)
    assert one(engine, ["bookings"], scope=Scope.subtree(LEADER))["bookings"] == 11111


def test_manager_filter_is_the_managers_whole_subtree(tiny_engine):
    # Filters(managers={Director}) = Director, Manny, Rita, Rob: 111; with Olga too: + 10000 + 1000.
    engine = warehouse(tiny_engine, opportunity=TREE_DEALS)
    assert one(engine, ["bookings"], Filters(Q1, managers=frozenset({DIRECTOR})))["bookings"] == 111
    assert one(engine, ["bookings"], Filters(Q1, managers=frozenset({DIRECTOR, OLGA})))["bookings"] == 11111


def test_filters_narrow_a_scope_and_never_widen_it(tiny_engine):
    # Scope: the VP's subtree (111); filter team 2 (Olga, Sam) is outside it: nothing left. Team 1 within it:
    # Manny, Rita, Rob (111).
    engine = warehouse(tiny_engine, opportunity=TREE_DEALS)
    assert one(engine, ["bookings"], Filters(Q1, teams=frozenset({2})), Scope.subtree(VP))["bookings"] == 0
    assert one(engine, ["bookings"], Filters(Q1, teams=frozenset({1})), Scope.subtree(VP))["bookings"] == 111


def test_nobody_scope_sees_nothing(tiny_engine):
    engine = warehouse(tiny_engine, opportunity=TREE_DEALS, quota=quotas(RITA, {date(2026, 1, 1): 50}))
    got = one(engine, ["bookings", "quota", "attainment"], scope=Scope.nobody())
    assert (got["bookings"], got["quota"]) == (0, 0) and is_empty(got["attainment"])


def test_grouping_by_team_and_manager_uses_the_deal_owners_place_in_the_tree(tiny_engine):
    # Team One: Manny 1 + Rita 10 + Rob 100 = 111; Team Two: Olga 10000 + Sam 1000 = 11000.
    # By manager: Dora (Manny's manager) 1, Manny (Rita, Rob) 110, Lea (Olga) 10000, Olga (Sam) 1000.
    engine = warehouse(tiny_engine, opportunity=TREE_DEALS)
    teams = query(engine, ["bookings"], Filters(Q1), Scope.everyone(), by=["team"], as_of=AFTER_Q1)
    assert teams[["team", "bookings"]].values.tolist() == [["Team One", 111], ["Team Two", 11000]]
    managers = query(engine, ["bookings"], Filters(Q1), Scope.everyone(), by=["manager"], as_of=AFTER_Q1)
    assert dict(zip(managers["manager"], managers["bookings"], strict=True)) == {
        "Dora Director": 1, "Manny Manager": 110, "Lea Leader": 10000, "Olga Other": 1000}


# --------------------------------------------------------------------------------------------- unknown names


def test_an_unknown_kpi_raises_a_value_error_listing_the_known_ones(tiny_engine):
    engine = warehouse(tiny_engine)
    with pytest.raises(ValueError, match=r"Unknown KPI 'bookingz'.*bookings"):
        query(engine, ["bookingz"], Filters(Q1), Scope.everyone(), as_of=AFTER_Q1)


def test_an_unknown_dimension_raises_a_value_error_listing_the_known_ones(tiny_engine):
    engine = warehouse(tiny_engine)
    with pytest.raises(ValueError, match=r"Unknown dimension 'planet'.*team"):
        query(engine, ["bookings"], Filters(Q1), Scope.everyone(), by=["planet"], as_of=AFTER_Q1)


def test_an_unknown_dimension_is_refused_for_reps_share_kpis_too(tiny_engine):
    engine = warehouse(tiny_engine)
    with pytest.raises(ValueError, match=r"Unknown dimension 'planet'"):
        query(engine, ["pct_reps_at_quota"], Filters(Q1), Scope.everyone(), by=["planet"], as_of=AFTER_Q1)


# --------------------------------------------------------------------------------------------- Period helpers


def test_previous_of_a_quarter_is_the_quarter_before():
    assert Period.quarter(date(2026, 2, 14)).previous() == Period(date(2025, 10, 1), date(2025, 12, 31))


def test_previous_of_a_month_follows_month_lengths_and_leap_years():
    assert Period.month(date(2024, 3, 9)).previous() == Period(date(2024, 2, 1), date(2024, 2, 29))


def test_previous_of_several_whole_months_is_as_many_months_before():
    # Jan-Feb 2026 -> Nov-Dec 2025.
    assert Period(date(2026, 1, 1), date(2026, 2, 28)).previous() == Period(date(2025, 11, 1), date(2025, 12, 31))


def test_previous_of_a_custom_period_is_as_many_days_before():
    # Jan 15 .. Mar 10 2026 is 17 + 28 + 10 = 55 days; the 55 days before: Nov 21 2025 .. Jan 14 2026.
    period = Period(date(2026, 1, 15), date(2026, 3, 10))
    assert period.days == 55
    assert period.previous() == Period(date(2025, 11, 21), date(2026, 1, 14))


@pytest.mark.parametrize(("as_of", "expected"), [
    (date(2026, 9, 30), 0.0),  # before the quarter
    (date(2026, 10, 1), 1 / 92),  # the first day counts as elapsed
    (date(2026, 11, 23), 54 / 92),  # Oct 31 days + Nov 23 days
    (date(2026, 12, 31), 1.0),
    (date(2027, 3, 1), 1.0),  # over
])
def test_elapsed_fraction_counts_today_as_elapsed(as_of, expected):
    assert Period.quarter(date(2026, 11, 1)).elapsed_fraction(as_of) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(("name", "expected"), [
    ("this_month", Period(date(2026, 1, 1), date(2026, 1, 31))),
    ("last_month", Period(date(2025, 12, 1), date(2025, 12, 31))),
    ("this_quarter", Period(date(2026, 1, 1), date(2026, 3, 31))),
    ("last_quarter", Period(date(2025, 10, 1), date(2025, 12, 31))),
    ("this_year", Period(date(2026, 1, 1), date(2026, 12, 31))),
    ("last_year", Period(date(2025, 1, 1), date(2025, 12, 31))),
])
def test_named_periods_are_relative_to_as_of(name, expected):
    assert Period.named(name, date(2026, 1, 15)) == expected


def test_an_unknown_period_name_raises_a_value_error_listing_the_known_ones():
    with pytest.raises(ValueError, match=r"Unknown period 'next_week'.*this_month"):
        Period.named("next_week", date(2026, 1, 15))


def test_a_period_cannot_end_before_it_starts():
    with pytest.raises(ValueError, match="before it starts"):
        Period(date(2026, 2, 1), date(2026, 1, 31))
