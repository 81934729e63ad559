"""The statement's attainment gauge follows the commission that pays: its measure over its target (or the
quota), one line per commission component, with units in words; year to date follows the plan year.
Worked by hand on the tiny comp warehouse (DuckDB and PostgreSQL)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from comp_ledger_support import PLAN, Q3, Q4, deal

from spm_core.comp.engine import calculate
from spm_core.comp.statements import amount_text, statement
from spm_core.filters import Scope

D = Decimal

UNITS = """name: Logos
version: 1
effective_from: 2026-01-01
components:
  - name: Logos
    kind: commission
    measure: won_count
    target: 2
    mode: marginal
    bands:
      - {from: 0, to: 100, amount: 100}
      - {from: 100, amount: 300}
assignments:
  - {person: 1, from: 2026-01-01}
  - {person: 2, from: 2026-01-01}
"""

TWO = """name: SDR
version: 1
effective_from: 2026-01-01
components:
  - name: Pipeline
    kind: commission
    measure: created_amount
    mode: marginal
    bands:
      - {from: 0, to: 100, rate: 1}
      - {from: 100, rate: 2}
  - name: Bookings
    kind: commission
    mode: marginal
    bands:
      - {from: 0, to: 50, rate: 2}
      - {from: 50, rate: 5}
assignments:
  - {person: 1, from: 2026-01-01}
  - {person: 2, from: 2026-01-01}
"""


def created(oid: int, amount: float, made: date, closed: date, won: bool = True, is_closed: bool = True) -> dict:
    return {**deal(oid, 1, amount, closed, won=won, closed=is_closed), "created_date": made}


def test_a_won_count_plan_with_a_target_shows_deals_over_its_target(comp_db):
    # Target 2 deals a month = 6 for Q3; Ann wins deals 1, 3 and 4 = 3 units: 50.00 %, 3 more to 100 % ($300 a deal
    # from there). The engine pays 3 × $100. Bo's lost deal counts for nothing. Ann's bookings (13,234.57 + 500) stay
    # the "Credited" figure.
    engine = comp_db([deal(1, 1, 12_000, date(2026, 7, 1)), deal(3, 1, 1_234.57, date(2026, 7, 5)),
                      deal(4, 1, 500, date(2026, 9, 30)), deal(5, 2, 3_000, date(2026, 7, 3), won=False)], UNITS)
    calculate(engine, Q3, run_by="carla")
    s = statement(engine, Scope.only(1), 1, Q3)
    assert sorted(s.lines["amount"]) == [D("100.00")] * 3 and s.credited == D("13734.57")
    [(a, text)] = s.attainments
    assert (a.measure, a.credited, a.target, a.percent) == ("won_count", D("3"), D("6"), D("50.00"))
    assert text == "Attainment 50.00 % of 6 won deals. 3 more won deals to reach 100 % and $300.00 per deal"
    bo = statement(engine, Scope.everyone(), 2, Q3)
    assert bo.attainments[0][1] == "Attainment 0.00 % of 6 won deals. 6 more won deals to reach 100 % and $300.00 per deal"


def test_a_plan_with_pipeline_created_and_bookings_shows_one_line_per_commission(comp_db):
    # Quota 30,000 for both. Pipeline created in Q3: deal 1 (open) 12,000, deal 6 (lost) 6,000, deal 7 8,000 = 26,000,
    # 86.67 %; deal 3 was created in June. 100 % is 30,000: 4,000 more at 2 %. Bookings closed in Q3: deal 3 1,234.57 +
    # deal 7 8,000 = 9,234.57, 30.78 %; 50 % is 15,000: 5,765.43 more at 5 %.
    # Engine: 120 + 60 + 80 (pipeline at 1 %) and 24.69 + 160 (bookings at 2 %).
    engine = comp_db([
        created(1, 12_000, date(2026, 7, 2), date(2026, 11, 1), is_closed=False),
        created(3, 1_234.57, date(2026, 6, 20), date(2026, 7, 5)),
        created(6, 6_000, date(2026, 8, 10), date(2026, 9, 1), won=False),
        created(7, 8_000, date(2026, 8, 1), date(2026, 8, 20)),
    ], TWO)
    calculate(engine, Q3, run_by="carla")
    s = statement(engine, Scope.only(1), 1, Q3)
    assert sorted(s.lines["amount"]) == [D(x) for x in ("24.69", "60.00", "80.00", "120.00", "160.00")]
    assert s.total == D("444.69")
    assert [text for _, text in s.attainments] == [
        "Pipeline: Attainment 86.67 % of $30,000.00 pipeline created. $4,000.00 more pipeline created to reach 100 % and the 2 % rate",
        "Bookings: Attainment 30.78 % of $30,000.00. $5,765.43 more to reach 50 % and the 5 % rate",
    ]


def test_the_default_bookings_plan_keeps_its_words_and_reaches_the_top_band(comp_db):
    # 46,000 of 30,000 = 153.33 %: above the 150 % band's edge (45,000), so no next band.
    engine = comp_db([deal(1, 1, 46_000, date(2026, 7, 1))])
    [(a, text)] = statement(engine, Scope.only(1), 1, Q3).attainments
    assert (a.measure, a.next_band, text) == ("won_amount", None, "Attainment 153.33 % of $30,000.00. The top band is reached.")


@pytest.mark.parametrize(("start_month", "q3_ytd", "q4_ytd"), [(1, "240.00", "260.00"), (10, "240.00", "20.00")])
def test_year_to_date_follows_the_plan_year(comp_db, start_month, q3_ytd, q4_ytd):
    # Q3: 12,000 at 2 % = 240. Q4: 1,000 at 2 % = 20. A plan year starting in October begins Q4 afresh.
    plan = PLAN.replace("effective_from: 2026-01-01\n", f"effective_from: 2026-01-01\nyear_start_month: {start_month}\n")
    engine = comp_db([deal(1, 1, 12_000, date(2026, 7, 1)), deal(2, 1, 1_000, date(2026, 10, 5))], plan)
    calculate(engine, Q3, run_by="carla")
    calculate(engine, Q4, run_by="carla")
    assert statement(engine, Scope.only(1), 1, Q3).ytd == D(q3_ytd)
    assert statement(engine, Scope.only(1), 1, Q4).ytd == D(q4_ytd)


def test_quantities_are_written_in_the_measure_s_words():
    assert amount_text("won_count", D("1.00")) == "1 won deal"
    assert amount_text("won_count", D("0.6")) == "0.6 won deals"
    assert amount_text("created_amount", D("1234.5")) == "$1,234.50 pipeline created"
    assert amount_text("won_amount", D("1234.5")) == "$1,234.50"
