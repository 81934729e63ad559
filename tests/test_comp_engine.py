"""The commission engine on hand-worked tiny warehouses: every expected amount is worked out in the test."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from comp_engine_support import (
    AUG,
    FLAT,
    JUL,
    Q3,
    SEP,
    D,
    _amounts,
    _commission,
    _deal,
    _month_lines,
    _person,
    _plan,
    _quota,
    _revert,
)

from spm_core import schema
from spm_core.comp.engine import calculate
from spm_core.comp.periods import parse_period
from spm_core.comp.plans import PlanError
from spm_core.comp.trace import lines, totals
from spm_core.db import insert_frame
from spm_core.filters import Scope


def test_a_deal_crossing_a_band_boundary_is_split_exactly(rep_warehouse):
    # Quota 30,000: bands end at 15,000 / 30,000 / 45,000. Deal 1: 12,000 (0 -> 12,000, all in 0-50 %).
    # Deal 2: 8,000 (12,000 -> 20,000): 3,000 in 0-50 % at 2 % = 60.00, 5,000 in 50-100 % at 5 % = 250.00.
    engine = rep_warehouse([_deal(1, 1, 12_000, date(2026, 7, 1)), _deal(2, 1, 8_000, date(2026, 7, 2))], _plan(_commission()))
    calculate(engine, Q3)
    frame = lines(engine, Q3, Scope.everyone())
    assert list(zip(frame["opportunity_id"], frame["base"], frame["amount"], strict=True)) == [
        (1, D("12000"), D("240.00")), (2, D("3000"), D("60.00")), (2, D("5000"), D("250.00"))
    ]
    assert frame["formula"].iloc[2] == "bookings: $5,000.00 of deal 2 in band 50–100 % (50.00 %→66.67 %) × 5 % = $250.00"


def test_ties_on_close_date_go_in_opportunity_id_order(rep_warehouse):
    # Same day: deal 5 (id lower) fills 0-50 % first even though it was inserted second.
    engine = rep_warehouse([_deal(7, 1, 15_000, date(2026, 7, 1)), _deal(5, 1, 15_000, date(2026, 7, 1))], _plan(_commission()))
    calculate(engine, Q3)
    frame = lines(engine, Q3, Scope.everyone())
    assert list(zip(frame["opportunity_id"], frame["amount"], strict=True)) == [(5, D("300.00")), (7, D("750.00"))]


def test_retroactive_pays_every_deal_at_the_band_reached(rep_warehouse):
    # Total 34,000 / 30,000 = 113 %: band 100-150 % at 8 % on every deal: 960 + 640 + 1,120.
    deals = [_deal(1, 1, 12_000, date(2026, 7, 1)), _deal(2, 1, 8_000, date(2026, 8, 1)), _deal(3, 1, 14_000, date(2026, 9, 1))]
    engine = rep_warehouse(deals, _plan(_commission(mode="retroactive")))
    calculate(engine, Q3)
    assert _amounts(engine) == [D("960.00"), D("640.00"), D("1120.00")]
    assert "the rate of band 100–150 % the period reached" in lines(engine, Q3, Scope.everyone())["formula"].iloc[0]


def test_a_gate_below_its_threshold_pays_nothing(rep_warehouse):
    # 12,000 / 30,000 = 40 % < gate 50 %: the 240.00 earned is withheld; total 0.
    engine = rep_warehouse([_deal(1, 1, 12_000, date(2026, 7, 1))], _plan(_commission("    gate: 50\n")))
    summary = calculate(engine, Q3)
    assert _amounts(engine) == [D("240.00"), D("-240.00")]
    assert summary.total == 0
    assert lines(engine, Q3, Scope.everyone())["formula"].iloc[1] == "attainment 40.00 % < gate 50 %: commission $240.00 withheld = −$240.00"


def test_a_gate_met_takes_nothing(rep_warehouse):
    engine = rep_warehouse([_deal(1, 1, 15_000, date(2026, 7, 1))], _plan(_commission("    gate: 50\n")))
    calculate(engine, Q3)
    assert _amounts(engine) == [D("300.00")]


def test_cap_per_deal_cuts_the_deal_across_its_band_lines(rep_warehouse):
    # Deal 1: 40,000 from 0: 15,000 × 2 % = 300 + 15,000 × 5 % = 750 + 10,000 × 8 % = 800 -> 1,850 > cap 1,000: -850.
    engine = rep_warehouse([_deal(1, 1, 40_000, date(2026, 7, 1))], _plan(_commission("    caps: {deal: 1000}\n")))
    calculate(engine, Q3)
    assert _amounts(engine, "cap_deal") == [D("-850.00")]
    assert sum(_amounts(engine)) == D("1000.00")


def test_cap_per_period_applies_after_the_deal_caps(rep_warehouse):
    # Deals 20,000 + 20,000: deal 1 = 15,000 × 2 % + 5,000 × 5 % = 550; deal 2 = 10,000 × 5 % + 10,000 × 8 % = 1,300,
    # deal cap 1,000 -> -300; period net 550 + 1,300 - 300 = 1,550 > period cap 1,200 -> -350.
    deals = [_deal(1, 1, 20_000, date(2026, 7, 1)), _deal(2, 1, 20_000, date(2026, 7, 2))]
    engine = rep_warehouse(deals, _plan(_commission("    caps: {deal: 1000, period: 1200}\n")))
    calculate(engine, Q3)
    assert _amounts(engine, "cap_deal") == [D("-300.00")]
    assert _amounts(engine, "cap_period") == [D("-350.00")]
    assert totals(engine, Q3, Scope.everyone())["total"].tolist() == [D("1200.00")]


def test_cap_per_year_counts_earlier_periods_of_the_plan_year(rep_warehouse):
    # Q2: 15,000 on a 30,000 quota = 300. Q3: 20,000 = 550. Year cap 700: 300 + 550 - 700 = 150 taken from Q3.
    deals = [_deal(1, 1, 15_000, date(2026, 5, 1)), _deal(2, 1, 20_000, date(2026, 7, 1))]
    quota = _quota(1, 10_000) + [{"id": 10 + m, "person_id": 1, "month": date(2026, m, 1), "amount": 10_000, "quota_type": "bookings",
                                  "is_ramped": False} for m in (4, 5, 6)]
    engine = rep_warehouse(deals, _plan(_commission("    caps: {year: 700}\n")), quota=quota)
    calculate(engine, parse_period("2026-Q2"))
    calculate(engine, Q3)
    assert _amounts(engine, "cap_year") == [D("-150.00")]
    assert lines(engine, Q3, Scope.everyone())["formula"].iloc[-1] == (
        "earlier this plan year $300.00 + this period $550.00 > cap per year $700.00 = −$150.00"
    )


def test_bonus_is_paid_at_its_level_and_not_capped(rep_warehouse):
    # 30,000 = 100 %: commission 15,000 × 2 % + 15,000 × 5 % = 1,050, period cap 500 -> -550; bonus 1,000 on top.
    bonus = "  - {name: Club, kind: bonus, at: 100, amount: 1000}\n"
    engine = rep_warehouse([_deal(1, 1, 30_000, date(2026, 7, 1))], _plan(_commission("    caps: {period: 500}\n") + bonus))
    calculate(engine, Q3)
    assert _amounts(engine, "bonus") == [D("1000.00")]
    assert totals(engine, Q3, Scope.everyone())["total"].tolist() == [D("1500.00")]


def test_bonus_below_its_level_pays_nothing(rep_warehouse):
    bonus = "  - {name: Club, kind: bonus, at: 100, amount: 1000}\n"
    engine = rep_warehouse([_deal(1, 1, 29_999.99, date(2026, 7, 1))], _plan(_commission() + bonus))
    calculate(engine, Q3)
    assert _amounts(engine, "bonus") == []


def test_manager_override_pays_a_rate_on_each_person_below(rep_warehouse):
    # Max (9) manages Ann (1) who manages Bob (2): 1.5 % of 10,000 = 150.00 and of 3,333.33 = 50.00 (49.99995 half-up).
    people = [_person(9, "Max", "manager"), _person(1, "Ann", "manager", 9), _person(2, "Bob", "rep", 1)]
    deals = [_deal(1, 1, 10_000, date(2026, 7, 1)), _deal(2, 2, 3_333.33, date(2026, 7, 2))]
    override = _plan("  - {name: Override, kind: override, rate: 1.5}\n", people=(9,), name="Manager")
    engine = rep_warehouse(deals, override, people=people)
    calculate(engine, Q3)
    frame = lines(engine, Q3, Scope.everyone(), 9)
    assert list(zip(frame["from_person_id"], frame["amount"], strict=True)) == [(1, D("150.00")), (2, D("50.00"))]


def test_a_manager_loop_in_bad_data_pays_each_override_once(rep_warehouse):
    # Max (9) manages Ann (1), who manages Max (a loop); Ann manages Bob (2). The subtree recursion (UNION ALL)
    # revisits people until its depth guard: each person below still earns Max one line, Max none on himself.
    people = [_person(9, "Max", "manager", 1), _person(1, "Ann", "manager", 9), _person(2, "Bob", "rep", 1)]
    deals = [_deal(1, 1, 10_000, date(2026, 7, 1)), _deal(2, 2, 2_000, date(2026, 7, 2)), _deal(3, 9, 5_000, date(2026, 7, 3))]
    override = _plan("  - {name: Override, kind: override, rate: 1.5}\n", people=(9,), name="Manager")
    engine = rep_warehouse(deals, override, people=people)
    calculate(engine, Q3)
    frame = lines(engine, Q3, Scope.everyone(), 9)
    assert sorted(zip(frame["from_person_id"], frame["amount"], strict=True)) == [(1, D("150.00")), (2, D("30.00"))]


def test_each_line_rounds_half_up_to_cents_and_the_total_is_their_sum(rep_warehouse):
    # Quota 30,000, 2 % band: 12.25 × 2 % = 0.245 -> 0.25 (half-up; banker's rounding would give 0.24);
    # 0.75 × 2 % = 0.015 -> 0.02; 100.10 × 2 % = 2.002 -> 2.00. Total 2.27 (rounding the sum 2.262 would give 2.26).
    deals = [_deal(1, 1, 12.25, date(2026, 7, 1)), _deal(2, 1, 0.75, date(2026, 7, 2)), _deal(3, 1, 100.10, date(2026, 7, 3))]
    engine = rep_warehouse(deals, _plan(_commission()))
    summary = calculate(engine, Q3)
    assert _amounts(engine) == [D("0.25"), D("0.02"), D("2.00")]
    assert summary.total == D("2.27") == totals(engine, Q3, Scope.everyone())["total"].iloc[0]


def test_a_band_edge_inside_a_cent_is_split_exactly(rep_warehouse):
    # Quota 3 × 3,333.37 = 10,000.11; 50 % = 5,000.055. One 6,000 deal: 5,000.055 × 2 % = 100.0011 -> 100.00,
    # 999.945 × 5 % = 49.99725 -> 50.00. Both parts add up to the deal exactly.
    engine = rep_warehouse([_deal(1, 1, 6_000, date(2026, 7, 1))], _plan(_commission()), quota=_quota(1, 3_333.37))
    calculate(engine, Q3)
    frame = lines(engine, Q3, Scope.everyone())
    assert frame["base"].tolist() == [D("5000.055"), D("999.945")]
    assert frame["amount"].tolist() == [D("100.00"), D("50.00")]
    assert frame["formula"].iloc[0].startswith("bookings: $5,000.055 of deal 1 in band 0–50 %")


def test_lost_deals_and_other_periods_earn_nothing(rep_warehouse):
    deals = [_deal(1, 1, 5_000, date(2026, 7, 1), won=False), _deal(2, 1, 5_000, date(2026, 6, 30))]
    engine = rep_warehouse(deals, _plan(_commission()))
    assert calculate(engine, Q3).lines == 0


def test_no_quota_gives_a_zero_line_that_says_why(rep_warehouse):
    engine = rep_warehouse([_deal(1, 1, 5_000, date(2026, 7, 1))], _plan(_commission()), quota=[])
    calculate(engine, Q3)
    frame = lines(engine, Q3, Scope.everyone())
    assert frame["rule"].tolist() == ["no_quota"] and frame["amount"].tolist() == [D("0.00")]


def test_recalculating_gives_the_same_lines(rep_warehouse):
    deals = [_deal(1, 1, 12_000, date(2026, 7, 1)), _deal(2, 1, 8_000, date(2026, 7, 2))]
    engine = rep_warehouse(deals, _plan(_commission("    caps: {deal: 100}\n")))
    calculate(engine, Q3)
    first = lines(engine, Q3, Scope.everyone()).drop(columns=["id", "run_id"])
    calculate(engine, Q3)
    again = lines(engine, Q3, Scope.everyone()).drop(columns=["id", "run_id"])
    assert first.equals(again) and len(again) == 5


def test_a_rep_reads_only_their_lines_and_a_manager_their_subtree(rep_warehouse):
    people = [_person(9, "Max", "manager"), _person(1, "Ann", "rep", 9), _person(2, "Bob", "rep", 9), _person(3, "Cy", "rep")]
    deals = [_deal(i, i, 1_000, date(2026, 7, 1)) for i in (1, 2, 3)]
    quota = _quota(1, 10_000) + _quota(2, 10_000, 10) + _quota(3, 10_000, 20)
    engine = rep_warehouse(deals, _plan(_commission(), people=(1, 2, 3)), people=people, quota=quota)
    calculate(engine, Q3)
    assert set(lines(engine, Q3, Scope.only(1))["person_id"]) == {1}
    assert set(lines(engine, Q3, Scope.subtree(9))["person_id"]) == {1, 2}
    assert set(totals(engine, Q3, Scope.everyone())["person_id"]) == {1, 2, 3}
    assert lines(engine, Q3, Scope.nobody()).empty


def test_one_person_can_be_recalculated_alone(rep_warehouse):
    people = [_person(1, "Ann"), _person(2, "Bob")]
    deals = [_deal(1, 1, 1_000, date(2026, 7, 1)), _deal(2, 2, 1_000, date(2026, 7, 1))]
    engine = rep_warehouse(deals, _plan(_commission(), people=(1, 2)), people=people, quota=_quota(1, 10_000) + _quota(2, 10_000, 10))
    calculate(engine, Q3)
    calculate(engine, Q3, person_id=2)
    assert totals(engine, Q3, Scope.everyone())["total"].tolist() == [D("20.00"), D("20.00")]
    with pytest.raises(ValueError, match="No person with id 99"):
        calculate(engine, Q3, person_id=99)


def test_splits_share_the_credit_and_the_owner_keeps_100_percent_without_them(rep_warehouse):
    # Deal 1 (10,000.01, owner Ann) split 60/40 with Bob: 6,000.006 -> 6,000.01 and 4,000.004 -> 4,000.00.
    # Deal 2 (5,000, owner Ann) has no split: Ann 100 %.
    people = [_person(1, "Ann"), _person(2, "Bob")]
    deals = [_deal(1, 1, 10_000.01, date(2026, 7, 1)), _deal(2, 1, 5_000, date(2026, 7, 2))]
    engine = rep_warehouse(deals, _plan(_commission(), people=(1, 2)), people=people, quota=_quota(1, 10_000) + _quota(2, 10_000, 10))
    with engine.begin() as conn:
        insert_frame(conn, schema.opportunity_split, pd.DataFrame({"opportunity_id": [1, 1], "person_id": [1, 2], "percent": [60.0, 40.0]}))
    calculate(engine, Q3)
    frame = lines(engine, Q3, Scope.everyone())
    assert list(zip(frame["person_id"], frame["opportunity_id"], frame["credited"], strict=True)) == [
        (1, 1, D("6000.01")), (1, 2, D("5000.00")), (2, 1, D("4000.00"))
    ]


def test_a_deal_is_paid_by_the_plan_in_force_on_its_close_date(rep_warehouse):
    # Ann moves from plan A (2 % flat) to plan B (10 % flat) on 2026-08-01: the July deal pays 2 %, the August deal 10 %.
    flat = "  - name: Commission\n    kind: commission\n    bands:\n      - {{from: 0, rate: {rate}}}\n"
    a = _plan(flat.format(rate=2), name="A").replace("{person: 1, from: 2026-01-01}", "{person: 1, from: 2026-01-01, to: 2026-07-31}")
    b = _plan(flat.format(rate=10), name="B", start="2026-08-01")
    engine = rep_warehouse([_deal(1, 1, 1_000, date(2026, 7, 31)), _deal(2, 1, 1_000, date(2026, 8, 1))], a, b)
    calculate(engine, Q3)
    assert _amounts(engine) == [D("20.00"), D("100.00")]


def test_a_qualifier_below_its_level_withholds_the_commission(rep_warehouse):
    # Win rate 1 won / (1 won + 4 lost) = 20 % < 25 %: the 20.00 earned is withheld. At 20 % it would be paid.
    deals = [_deal(1, 1, 1_000, date(2026, 7, 1))] + [_deal(i, 1, 100, date(2026, 7, 2), won=False) for i in (2, 3, 4, 5)]
    engine = rep_warehouse(deals, _plan(_commission("    qualifier: {kpi: win_rate, at_least: 25}\n")))
    calculate(engine, Q3)
    assert _amounts(engine) == [D("20.00"), D("-20.00")]
    assert lines(engine, Q3, Scope.everyone())["formula"].iloc[1] == "qualifier 20.00 % < 25 %: $20.00 withheld = −$20.00"
    met = rep_warehouse(deals, _plan(_commission("    qualifier: {kpi: win_rate, at_least: 20}\n")))
    calculate(met, Q3)
    assert _amounts(met) == [D("20.00")]




def test_a_recoverable_draw_is_recovered_over_the_following_months(rep_warehouse):
    # Draw 1,000 a month, commission 10 %. July earns 500: top-up 500 (owed 500). August earns 1,300: 300 above the
    # draw is recovered (owed 200), payout stays 1,000. September earns 2,000: the last 200 is recovered, payout 1,800.
    draw = "  - {name: New-hire draw, kind: draw, monthly: 1000, recoverable: true}\n"
    deals = [_deal(1, 1, 5_000, date(2026, 7, 10)), _deal(2, 1, 13_000, date(2026, 8, 10)), _deal(3, 1, 20_000, date(2026, 9, 10))]
    engine = rep_warehouse(deals, _plan(FLAT.format(extra="") + draw))
    for month in (JUL, AUG, SEP):
        calculate(engine, month)
    assert _month_lines(engine, JUL) == [("marginal", D("500.00")), ("draw", D("500.00"))]
    assert _month_lines(engine, AUG) == [("marginal", D("1300.00")), ("draw_recovery", D("-300.00"))]
    assert _month_lines(engine, SEP) == [("marginal", D("2000.00")), ("draw_recovery", D("-200.00"))]
    assert lines(engine, AUG, Scope.everyone())["formula"].iloc[-1] == (
        "balance owed $500.00; earnings $1,300.00 above draw $1,000.00: recovered −$300.00 (balance → $200.00)"
    )
    assert lines(engine, JUL, Scope.everyone())["formula"].iloc[-1] == (
        "earnings $500.00 < draw $1,000.00: top-up $1,000.00 − $500.00 = $500.00; owed back, balance $0.00 → $500.00"
    )


def test_a_draw_balance_left_after_the_draw_ends_is_recovered_without_going_below_zero(rep_warehouse):
    # Plan A (with the draw) ends 31 July: July tops 500 up to 1,000. From August plan B has no draw: August earns 300,
    # all of it recovered (payout 0, owed 200); September earns 2,000: the last 200.
    draw = "  - {name: Draw, kind: draw, monthly: 1000}\n"
    a = _plan(FLAT.format(extra="") + draw, name="A").replace("{person: 1, from: 2026-01-01}", "{person: 1, from: 2026-01-01, to: 2026-07-31}")
    b = _plan(FLAT.format(extra=""), name="B", start="2026-08-01")
    deals = [_deal(1, 1, 5_000, date(2026, 7, 10)), _deal(2, 1, 3_000, date(2026, 8, 10)), _deal(3, 1, 20_000, date(2026, 9, 10))]
    engine = rep_warehouse(deals, a, b)
    for month in (JUL, AUG, SEP):
        calculate(engine, month)
    assert _month_lines(engine, AUG) == [("marginal", D("300.00")), ("draw_recovery", D("-300.00"))]
    assert _month_lines(engine, SEP) == [("marginal", D("2000.00")), ("draw_recovery", D("-200.00"))]


def test_a_guarantee_tops_up_and_is_never_recovered(rep_warehouse):
    draw = "  - {name: Guarantee, kind: draw, monthly: 1000, recoverable: false}\n"
    deals = [_deal(1, 1, 5_000, date(2026, 7, 10)), _deal(2, 1, 13_000, date(2026, 8, 10))]
    engine = rep_warehouse(deals, _plan(FLAT.format(extra="") + draw))
    calculate(engine, JUL)
    calculate(engine, AUG)
    assert _month_lines(engine, JUL) == [("marginal", D("500.00")), ("guarantee", D("500.00"))]
    assert _month_lines(engine, AUG) == [("marginal", D("1300.00"))]



def test_a_paid_deal_reverted_within_the_window_is_clawed_back_once_in_the_next_period(rep_warehouse):
    # July pays 10 % of 5,000 = 500. The deal is lost on 20 August (41 days after closing, window 90): August takes
    # back 500; September finds nothing left to take.
    engine = rep_warehouse([_deal(1, 1, 5_000, date(2026, 7, 10))], _plan(FLAT.format(extra="    clawback_days: 90\n")))
    calculate(engine, JUL)
    _revert(engine, 1, date(2026, 8, 20))
    calculate(engine, AUG)
    calculate(engine, SEP)
    assert _month_lines(engine, JUL) == [("marginal", D("500.00"))]
    assert _month_lines(engine, AUG) == [("clawback", D("-500.00"))]
    assert _month_lines(engine, SEP) == []
    assert lines(engine, AUG, Scope.everyone())["formula"].iloc[0] == (
        "deal 1 (closed 2026-07-10) no longer won, reverted 41 days after closing (window 90): its $500.00 is taken back = −$500.00"
    )


def test_a_reversal_outside_the_window_or_not_yet_happened_is_not_clawed_back(rep_warehouse):
    engine = rep_warehouse([_deal(1, 1, 5_000, date(2026, 7, 10))], _plan(FLAT.format(extra="    clawback_days: 30\n")))
    calculate(engine, JUL)
    _revert(engine, 1, date(2026, 9, 20))
    calculate(engine, AUG)  # the reversal (20 September) has not happened by the end of August
    calculate(engine, SEP)  # 72 days > 30
    assert _month_lines(engine, AUG) == [] and _month_lines(engine, SEP) == []


def test_a_period_that_is_not_whole_months_is_refused(rep_warehouse):
    from spm_core.filters import Period

    engine = rep_warehouse([], _plan(FLAT.format(extra="")))
    with pytest.raises(ValueError, match="Calculate whole months"):
        calculate(engine, Period(date(2026, 7, 1), date(2026, 7, 15)))


SPIFF = """  - name: Platform push
    kind: spiff
    from: 2026-08-01
    to: 2026-08-31
    deals: {{product: Platform, segment: Enterprise, type: New Business, min_amount: 50000}}
    {pay}
"""


def _catalogue() -> dict[str, list[dict]]:
    return {
        "product": [{"id": 1, "name": "Platform"}, {"id": 2, "name": "Add-on"}],
        "segment": [{"id": 1, "name": "SMB"}, {"id": 2, "name": "Enterprise"}],
        "account": [{"id": 1, "name": "Big Co", "segment_id": 2}, {"id": 2, "name": "Small Co", "segment_id": 1}],
    }


def _spiff_deal(oid: int, amount: float, day: date, product: int = 1, account: int = 1, kind: str = "New Business") -> dict:
    return {**_deal(oid, 1, amount, day), "product_id": product, "account_id": account, "type": kind}


def test_a_spiff_pays_each_matching_deal_in_its_window_by_credit_share(rep_warehouse):
    # Deal 1 matches (Platform, Enterprise, New Business, 60,000 >= 50,000, 10 August): 500 × 100 % = 500.
    # Deal 2 (split 60/40 with Bob) matches: Ann 300, Bob 200. Deals 3-7 each miss one criterion; deal 7 is outside the window.
    people = [_person(1, "Ann"), _person(2, "Bob")]
    deals = [
        _spiff_deal(1, 60_000, date(2026, 8, 10)),
        _spiff_deal(2, 80_000, date(2026, 8, 11)),
        _spiff_deal(3, 60_000, date(2026, 8, 12), product=2),
        _spiff_deal(4, 60_000, date(2026, 8, 13), account=2),
        _spiff_deal(5, 60_000, date(2026, 8, 14), kind="Renewal"),
        _spiff_deal(6, 49_999.99, date(2026, 8, 15)),
        _spiff_deal(7, 60_000, date(2026, 9, 1)),
    ]
    flat = FLAT.format(extra="")
    engine = rep_warehouse(deals, _plan(flat + SPIFF.format(pay="amount: 500"), people=(1, 2)), people=people,
                           quota=_quota(1, 10_000) + _quota(2, 10_000, 10), **_catalogue())
    with engine.begin() as conn:
        insert_frame(conn, schema.opportunity_split, pd.DataFrame({"opportunity_id": [2, 2], "person_id": [1, 2], "percent": [60.0, 40.0]}))
    calculate(engine, Q3)
    frame = lines(engine, Q3, Scope.everyone())
    spiffs = frame[frame["rule"] == "spiff"]
    assert list(zip(spiffs["person_id"], spiffs["opportunity_id"], spiffs["amount"], strict=True)) == [
        (1, 1, D("500.00")), (1, 2, D("300.00")), (2, 2, D("200.00"))
    ]
    assert spiffs["formula"].iloc[1] == "bookings: deal 2 closed 2026-08-11 matches the SPIFF: $500.00 per deal × 60 % credit = $300.00"


def test_a_spiff_at_a_rate_pays_a_percent_of_the_credit(rep_warehouse):
    engine = rep_warehouse([_spiff_deal(1, 60_000, date(2026, 8, 10))], _plan(FLAT.format(extra="") + SPIFF.format(pay="rate: 1.5")),
                           **_catalogue())
    calculate(engine, Q3)
    assert _amounts(engine, "spiff") == [D("900.00")]


def test_a_spiff_naming_an_unknown_product_is_refused(rep_warehouse):
    bad = _plan(FLAT.format(extra="") + SPIFF.format(pay="amount: 500").replace("product: Platform", "product: Platfrom"))
    with pytest.raises(PlanError, match="no product named 'Platfrom'; known: Add-on, Platform"):
        rep_warehouse([], bad, **_catalogue())


def test_a_mid_period_plan_change_splits_the_quota_and_restarts_the_bands(rep_warehouse):
    # Plan A to 15 August, plan B from 16 August; quota 10,000 a month. A's quota: July 10,000 + 15/31 of August
    # 4,838.71 = 14,838.71; B's: 16/31 of August 5,161.29 + September 10,000 = 15,161.29 (together the 30,000).
    # A's deal 10,000 (0 -> 67.39 %): 7,419.355 × 2 % = 148.39 + 2,580.645 × 5 % = 129.03. B's deal 10,000 starts at 0 again:
    # 7,580.645 × 2 % = 151.61 + 2,419.355 × 5 % = 120.97.
    a = _plan(_commission(), name="A").replace("{person: 1, from: 2026-01-01}", "{person: 1, from: 2026-01-01, to: 2026-08-15}")
    b = _plan(_commission(), name="B", start="2026-08-16")
    engine = rep_warehouse([_deal(1, 1, 10_000, date(2026, 7, 20)), _deal(2, 1, 10_000, date(2026, 9, 20))], a, b)
    calculate(engine, Q3)
    frame = lines(engine, Q3, Scope.everyone())
    assert frame["quota"].tolist() == [D("14838.71")] * 2 + [D("15161.29")] * 2
    assert frame["amount"].tolist() == [D("148.39"), D("129.03"), D("151.61"), D("120.97")]
