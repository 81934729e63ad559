"""Caps and draws across periods, worked by hand: prior-period corrections, capped bonuses and SPIFFs,
and a plan year that does not start in January."""

from __future__ import annotations

from datetime import date

from comp_engine_support import AUG, FLAT, JUL, Q3, D, _amounts, _commission, _deal, _month_lines, _plan, _quota
from comp_ledger_support import ADMIN, MAX, PLAN, Q4, deal
from sqlalchemy.engine import Engine

from spm_core import schema
from spm_core.comp.audit import Actor
from spm_core.comp.cycle import decide, lock
from spm_core.comp.engine import calculate
from spm_core.comp.periods import parse_period
from spm_core.comp.statements import statement
from spm_core.comp.trace import lines, totals
from spm_core.filters import Period, Scope

ANN_MANAGER = Actor("max", "manager", Scope.subtree(9), 9)


def _close(engine: Engine, period: Period, people: tuple[int, ...], manager: Actor = MAX) -> None:
    """Both approvals for each person, then lock."""
    with engine.begin() as conn:
        for pid in people:
            decide(conn, manager, period, pid, approve=True)
            decide(conn, ADMIN, period, pid, approve=True)
        lock(conn, ADMIN, period)


def _rules(engine: Engine, period: Period, person: int = 1) -> list[tuple[str, str | None, D]]:
    frame = lines(engine, period, Scope.everyone(), person)
    return list(zip(frame["rule"], frame["origin_rule"], frame["amount"], strict=True))


def test_the_year_cap_counts_prior_period_corrections_of_earlier_periods(comp_db):
    # Year cap 500. Q3: Ann's deal 1, 12,000 = 240.00; Q3 is locked. Deal 2 (8,000, 2 July) arrives late: Q3 recomputed
    # is 240 + 3,000 × 2 % + 5,000 × 5 % = 550 > 500: cap -50; posted in Q4: +60, +250, -50 (= +260). Q4: deal 3,
    # 10,000 = 200 (2 % of a fresh 30,000 quarter). Earlier this plan year: 240 + 260 = 500, so Q4's 200 is all over the
    # cap (-200). Without counting the correction Q4 would keep its 200 and the year would pay 700.
    engine = comp_db([deal(1, 1, 12_000, date(2026, 7, 1)), deal(5, 2, 3_000, date(2026, 7, 3))],
                     PLAN.replace("      - {from: 150, rate: 12}\n", "      - {from: 150, rate: 12}\n    caps: {year: 500}\n"))
    calculate(engine, Q3, run_by="carla")
    _close(engine, Q3, (1, 2))
    with engine.begin() as conn:
        conn.execute(schema.opportunity.insert(), [deal(2, 1, 8_000, date(2026, 7, 2)), deal(3, 1, 10_000, date(2026, 10, 1))])
    calculate(engine, Q3, run_by="carla")
    calculate(engine, Q4, run_by="carla")
    assert sorted(_rules(engine, Q4)) == sorted([
        ("marginal", None, D("200.00")), ("cap_year", None, D("-200.00")),
        ("prior_period", "marginal", D("60.00")), ("prior_period", "marginal", D("250.00")), ("prior_period", "cap_year", D("-50.00")),
    ])
    assert lines(engine, Q4, Scope.everyone(), 1).set_index("rule").loc["cap_year", "formula"] == (
        "earlier this plan year $500.00 + this period $200.00 > cap per year $500.00 = −$200.00"
    )


def test_the_period_cap_is_applied_once_in_the_period_a_correction_belongs_to(comp_db):
    # Period cap 300. Q3 pays Ann 240 and is locked; late deal 2 makes Q3 550 -> cap -250: +60 +250 -250 = +60 posted in
    # Q4, so Q3 in all pays 300, its cap. Q4's own 200 stays under Q4's cap: the correction is not capped a second time.
    engine = comp_db([deal(1, 1, 12_000, date(2026, 7, 1)), deal(5, 2, 3_000, date(2026, 7, 3))],
                     PLAN.replace("      - {from: 150, rate: 12}\n", "      - {from: 150, rate: 12}\n    caps: {period: 300}\n"))
    calculate(engine, Q3, run_by="carla")
    _close(engine, Q3, (1, 2))
    with engine.begin() as conn:
        conn.execute(schema.opportunity.insert(), [deal(2, 1, 8_000, date(2026, 7, 2)), deal(3, 1, 10_000, date(2026, 10, 1))])
    calculate(engine, Q3, run_by="carla")
    calculate(engine, Q4, run_by="carla")
    q4 = lines(engine, Q4, Scope.everyone(), 1)
    assert sum(q4[q4["rule"] == "prior_period"]["amount"]) == D("60.00")
    assert list(q4[q4["rule"] != "prior_period"]["amount"]) == [D("200.00")]


def test_a_draw_balance_counts_the_correction_of_a_locked_period_s_draw(rep_warehouse):
    # Draw 1,000 a month, 10 %. July earns 500: top-up 500 (owed 500); July is locked. A late July deal (3,000) makes July
    # earn 800 and top up 200: posted in August, marginal +300 and draw -300. Owed is now 200. August earns 1,300: 300
    # above the draw, 200 recovered. August pays 1,300 - 200 + 300 - 300 = 1,100; over both months 2,100 = all earnings.
    draw = "  - {name: Draw, kind: draw, monthly: 1000}\n"
    engine = rep_warehouse([_deal(1, 1, 5_000, date(2026, 7, 10))], _plan(FLAT.format(extra="") + draw))
    calculate(engine, JUL)
    _close(engine, JUL, (1,), ANN_MANAGER)
    with engine.begin() as conn:
        conn.execute(schema.opportunity.insert(), [_deal(2, 1, 3_000, date(2026, 7, 20)), _deal(3, 1, 13_000, date(2026, 8, 10))])
    calculate(engine, JUL)
    calculate(engine, AUG)
    assert sorted(_rules(engine, AUG)) == sorted([
        ("marginal", None, D("1300.00")), ("draw_recovery", None, D("-200.00")),
        ("prior_period", "marginal", D("300.00")), ("prior_period", "draw", D("-300.00")),
    ])
    assert sum(a for _, a in _month_lines(engine, JUL)) + sum(a for _, _, a in _rules(engine, AUG)) == D("2100.00")


CLUB = "  - {name: Club, kind: bonus, at: 100, amount: 1000, capped: true}\n"


def test_a_capped_bonus_counts_inside_the_period_cap(rep_warehouse):
    # 30,000 = 100 %: commission 15,000 × 2 % + 15,000 × 5 % = 1,050, plus the capped bonus 1,000 = 2,050 > 1,200: -850.
    engine = rep_warehouse([_deal(1, 1, 30_000, date(2026, 7, 1))], _plan(_commission("    caps: {period: 1200}\n") + CLUB))
    calculate(engine, Q3)
    assert _amounts(engine, "bonus") == [D("1000.00")]
    assert _amounts(engine, "cap_period") == [D("-850.00")]
    assert totals(engine, Q3, Scope.everyone())["total"].tolist() == [D("1200.00")]
    frame = lines(engine, Q3, Scope.everyone())
    assert frame[frame["rule"] == "cap_period"]["formula"].iloc[0] == (
        "period commission (with capped bonuses/SPIFFs $1,000.00) $2,050.00 > cap per period $1,200.00 = −$850.00"
    )


def test_a_capped_spiff_paid_earlier_counts_toward_the_year_cap(rep_warehouse):
    # Year cap 700. Q2: deal 1, 15,000 = 300 commission, and the capped SPIFF pays 200 (Q2 500, under 700). Q3: deal 2,
    # 20,000 = 15,000 × 2 % + 5,000 × 5 % = 550; earlier this plan year 300 + 200 = 500, so 350 is over the cap.
    spiff = "  - {name: Push, kind: spiff, from: 2026-04-01, to: 2026-06-30, amount: 200, capped: true}\n"
    quota = _quota(1, 10_000) + [{"id": 10 + m, "person_id": 1, "month": date(2026, m, 1), "amount": 10_000, "quota_type": "bookings",
                                  "is_ramped": False} for m in (4, 5, 6)]
    engine = rep_warehouse([_deal(1, 1, 15_000, date(2026, 5, 1)), _deal(2, 1, 20_000, date(2026, 7, 1))],
                           _plan(_commission("    caps: {year: 700}\n") + spiff), quota=quota)
    calculate(engine, parse_period("2026-Q2"))
    calculate(engine, Q3)
    assert _amounts(engine, "cap_year") == [D("-350.00")]


def _year_plan(start_month: int) -> str:
    text = _plan("  - name: Commission\n    kind: commission\n    bands:\n      - {from: 0, rate: 10}\n    caps: {year: 1000}\n")
    return text.replace("effective_from: 2026-01-01\n", f"effective_from: 2026-01-01\nyear_start_month: {start_month}\n").replace(
        "2026-01-01", "2025-01-01")


def test_a_february_plan_year_restarts_the_year_cap_in_february(rep_warehouse):
    # 10 %, year cap 1,000, plan year from February. January 2026 (plan year Feb 2025 - Jan 2026) pays 800. February
    # starts a new plan year: its 500 is not capped (a calendar year would have cut 300). March: 600 more, earlier 500:
    # 100 over the cap.
    quota = [{"id": m, "person_id": 1, "month": date(2026, m, 1), "amount": 10_000, "quota_type": "bookings", "is_ramped": False}
             for m in (1, 2, 3)]
    deals = [_deal(1, 1, 8_000, date(2026, 1, 15)), _deal(2, 1, 5_000, date(2026, 2, 15)), _deal(3, 1, 6_000, date(2026, 3, 15))]
    engine = rep_warehouse(deals, _year_plan(2), quota=quota)
    months = [parse_period(f"2026-0{m}") for m in (1, 2, 3)]
    for month in months:
        calculate(engine, month)
    assert [_month_lines(engine, m) for m in months] == [
        [("marginal", D("800.00"))], [("marginal", D("500.00"))], [("marginal", D("600.00")), ("cap_year", D("-100.00"))]
    ]
    calendar = rep_warehouse(deals, _year_plan(1), quota=quota)
    for month in months[:2]:
        calculate(calendar, month)
    assert _month_lines(calendar, months[1]) == [("marginal", D("500.00")), ("cap_year", D("-300.00"))]



def test_an_annual_bonus_counts_the_plan_year_so_far_and_is_paid_once(rep_warehouse):
    # Plan year from February; quota 10,000 a month, so the plan year Feb 2026 - Jan 2027 has 120,000 and the bonus
    # (at 50 %) needs 60,000. January 2026 closes plan year 2025 (its quota: January's 10,000): 100,000 pays it there.
    # February 40,000 (plan year so far 40,000: no); March 25,000 (65,000 >= 60,000: 5,000); April 10,000: paid already.
    # March's statement counts the plan year to date: February and March (5,000), not January.
    bonus = "  - {name: Annual club, kind: bonus, at: 50, amount: 5000, per: year}\n"
    text = _plan(bonus).replace("effective_from: 2026-01-01\n", "effective_from: 2026-01-01\nyear_start_month: 2\n")
    quota = [{"id": i, "person_id": 1, "month": date(2026 + (m > 12), (m - 1) % 12 + 1, 1), "amount": 10_000, "quota_type": "bookings",
              "is_ramped": False} for i, m in enumerate(range(1, 14), 1)]
    deals = [_deal(1, 1, 100_000, date(2026, 1, 10)), _deal(2, 1, 40_000, date(2026, 2, 10)), _deal(3, 1, 25_000, date(2026, 3, 10)),
             _deal(4, 1, 10_000, date(2026, 4, 10))]
    engine = rep_warehouse(deals, text, quota=quota)
    months = [parse_period(f"2026-0{m}") for m in (1, 2, 3, 4)]
    for month in months:
        calculate(engine, month)
    assert [_month_lines(engine, m) for m in months] == [[("bonus", D("5000.00"))], [], [("bonus", D("5000.00"))], []]
    march = lines(engine, months[2], Scope.everyone())
    assert march["formula"].iloc[0] == "plan year so far over the year's quota: attainment 54.17 % ≥ 50 %: bonus $5,000.00"
    assert statement(engine, Scope.everyone(), 1, months[2]).ytd == D("5000.00")


def test_the_year_cap_counts_a_correction_of_a_capped_spiff(comp_db):
    # Year cap 600; a capped SPIFF pays 100 per deal closed in Q3. Q3: Ann's deal 1 (12,000) = 240 + 100; Q3 is locked.
    # Late deal 2 (1,000, 2 July): 20 + 100, posted in Q4. Q4: deal 3 (10,000) = 200. Earlier this plan year
    # 240 + 100 + 20 + 100 = 460, so 460 + 200 - 600 = 60 comes off Q4.
    spiff = "  - {name: Summer, kind: spiff, from: 2026-07-01, to: 2026-09-30, amount: 100, capped: true}\n"
    plan = PLAN.replace("      - {from: 150, rate: 12}\n", "      - {from: 150, rate: 12}\n    caps: {year: 600}\n" + spiff)
    engine = comp_db([deal(1, 1, 12_000, date(2026, 7, 1)), deal(5, 2, 3_000, date(2026, 7, 3))], plan)
    calculate(engine, Q3, run_by="carla")
    _close(engine, Q3, (1, 2))
    with engine.begin() as conn:
        conn.execute(schema.opportunity.insert(), [deal(2, 1, 1_000, date(2026, 7, 2)), deal(3, 1, 10_000, date(2026, 10, 1))])
    calculate(engine, Q3, run_by="carla")
    calculate(engine, Q4, run_by="carla")
    assert sorted(_rules(engine, Q4)) == sorted([
        ("marginal", None, D("200.00")), ("cap_year", None, D("-60.00")),
        ("prior_period", "marginal", D("20.00")), ("prior_period", "spiff", D("100.00")),
    ])
