"""Clawbacks of amount cuts, worked by hand: a paid deal still won whose credit went down gives back the
proportional part of what it netted (paid × cut / old credit), found in history or in a new import."""

from __future__ import annotations

from datetime import date

import pandas as pd
from comp_engine_support import AUG, FLAT, JUL, SEP, D, _deal, _month_lines, _person, _plan, _quota
from comp_ledger_support import ADMIN, MAX, PLAN, Q3, Q4, deal
from sqlalchemy.engine import Engine

from spm_core import schema
from spm_core.comp.cycle import decide, lock, mark_paid
from spm_core.comp.engine import calculate
from spm_core.comp.periods import parse_period
from spm_core.comp.trace import lines
from spm_core.db import insert_frame
from spm_core.filters import Scope


def _cut(engine: Engine, opportunity_id: int, amount: float, day: date | None, history_id: int = 1) -> None:
    """The deal's amount goes down while it stays won; `day` None: by an import that keeps no history."""
    o = schema.opportunity
    with engine.begin() as conn:
        conn.execute(o.update().where(o.c.id == opportunity_id).values(amount=amount))
        if day is not None:
            conn.execute(schema.opportunity_history.insert(), [{
                "id": history_id, "opportunity_id": opportunity_id, "changed_at": day, "valid_to": None, "stage": "Closed Won",
                "amount": amount, "close_date": date(2026, 7, 10), "probability": 100, "forecast_category": "Closed",
                "is_closed": True, "is_won": True,
            }])


def test_a_cut_in_history_takes_back_the_proportional_part_and_a_second_cut_counts_from_the_first(rep_warehouse):
    # July pays 10 % of 5,000 = 500. Cut to 4,000 on 20 August (41 days after closing, window 90): August takes back
    # 500 × 1,000 / 5,000 = 100. Cut to 3,000 on 10 September: September takes back 400 × 1,000 / 4,000 = 100.
    engine = rep_warehouse([_deal(1, 1, 5_000, date(2026, 7, 10))], _plan(FLAT.format(extra="    clawback_days: 90\n")))
    calculate(engine, JUL)
    _cut(engine, 1, 4_000, date(2026, 8, 20))
    calculate(engine, AUG)
    assert _month_lines(engine, AUG) == [("clawback_cut", D("-100.00"))]
    assert lines(engine, AUG, Scope.everyone())["formula"].iloc[0] == (
        "deal 1 (closed 2026-07-10) still won but its credit was cut 41 days after closing (window 90): $5,000.00 → $4,000.00; "
        "paid $500.00 × $1,000.00 / $5,000.00 taken back = −$100.00"
    )
    _cut(engine, 1, 3_000, date(2026, 9, 10), history_id=2)
    calculate(engine, SEP)
    calculate(engine, AUG)  # recalculating August changes nothing: its cut is measured from July's lines
    assert _month_lines(engine, AUG) == [("clawback_cut", D("-100.00"))]
    assert _month_lines(engine, SEP) == [("clawback_cut", D("-100.00"))]


def test_a_cut_outside_the_window_or_later_than_the_period_is_not_taken_back(rep_warehouse):
    engine = rep_warehouse([_deal(1, 1, 5_000, date(2026, 7, 10))], _plan(FLAT.format(extra="    clawback_days: 30\n")))
    calculate(engine, JUL)
    _cut(engine, 1, 4_000, date(2026, 9, 20))
    calculate(engine, AUG)  # the cut (20 September) has not happened by the end of August
    calculate(engine, SEP)  # 72 days > 30
    assert _month_lines(engine, AUG) == [] and _month_lines(engine, SEP) == []


def test_a_split_deal_s_cut_is_taken_back_from_each_person_in_proportion(rep_warehouse):
    # Deal 1 (10,000) is split 60/40: Ann credited 6,000 × 10 % = 600, Bob 4,000 × 10 % = 400. An import cuts it to 7,500
    # (no history: dated 1 August, 22 days): Ann 6,000 -> 4,500, 600 × 1,500 / 6,000 = 150; Bob 4,000 -> 3,000, 400 × 1,000 / 4,000 = 100.
    people = [_person(1, "Ann"), _person(2, "Bob")]
    engine = rep_warehouse([_deal(1, 1, 10_000, date(2026, 7, 10))], _plan(FLAT.format(extra="    clawback_days: 90\n"), people=(1, 2)),
                           people=people, quota=_quota(1, 10_000) + _quota(2, 10_000, 10))
    with engine.begin() as conn:
        insert_frame(conn, schema.opportunity_split, pd.DataFrame({"opportunity_id": [1, 1], "person_id": [1, 2], "percent": [60.0, 40.0]}))
    calculate(engine, JUL)
    _cut(engine, 1, 7_500, None)
    calculate(engine, AUG)
    assert _month_lines(engine, AUG, 1) == [("clawback_cut", D("-150.00"))]
    assert _month_lines(engine, AUG, 2) == [("clawback_cut", D("-100.00"))]


def _paid_q3(comp_db, plan: str) -> Engine:
    # Ann: deal 1, 12,000 closed 1 July: 12,000 of a 30,000 quarter (0-50 %) at 2 % = 240.00. Bo: deal 5, 3,000 = 60.00.
    engine = comp_db([deal(1, 1, 12_000, date(2026, 7, 1)), deal(5, 2, 3_000, date(2026, 7, 3))], plan)
    calculate(engine, Q3, run_by="carla")
    with engine.begin() as conn:
        for pid in (1, 2):
            decide(conn, MAX, Q3, pid, approve=True)
            decide(conn, ADMIN, Q3, pid, approve=True)
        lock(conn, ADMIN, Q3)
        mark_paid(conn, ADMIN, Q3)
    return engine


WINDOWED = PLAN.replace("      - {from: 150, rate: 12}\n", "      - {from: 150, rate: 12}\n    clawback_days: 120\n")


def test_a_cut_by_a_new_import_after_the_period_was_paid_is_a_line_in_the_next_open_period(comp_db):
    # Q3 is paid. An import brings deal 1 at 9,000 (no history row): Q4 finds it (dated 1 October, 92 days <= 120) and
    # takes back 240.00 × 3,000 / 12,000 = 60.00. Recalculating the paid Q3 posts nothing more for the deal (the
    # clawback settled it), and Q3 reads as it was paid.
    engine = _paid_q3(comp_db, WINDOWED)
    _cut(engine, 1, 9_000, None)
    calculate(engine, Q4, run_by="carla")
    q4 = lines(engine, Q4, Scope.everyone(), 1)
    assert list(zip(q4["rule"], q4["opportunity_id"], q4["amount"], strict=True)) == [("clawback_cut", 1, D("-60.00"))]
    assert "$12,000.00 → $9,000.00" in q4["formula"].iloc[0]
    calculate(engine, Q3, run_by="carla")
    calculate(engine, Q4, run_by="carla")
    assert list(lines(engine, Q4, Scope.everyone(), 1)["amount"]) == [D("-60.00")]
    assert list(lines(engine, Q3, Scope.everyone(), 1)["amount"]) == [D("240.00")]
    assert lines(engine, Q4, Scope.everyone(), 2).empty


def test_a_cut_found_after_the_next_period_was_also_locked_lands_in_the_first_open_one(comp_db):
    # Q3 paid; Q4 calculated (Bo's deal 6: 1,000 × 2 % = 20.00; Ann nothing), approved and locked. Then deal 1 turns out
    # cut to 6,000 on 15 November (137 days after closing; window 150). Recalculating Q4 cannot rewrite it: its clawback
    # of 240.00 × 6,000 / 12,000 = 120.00 is posted as a prior-period line in 2027-Q1, naming the clawback_cut rule.
    engine = _paid_q3(comp_db, WINDOWED.replace("clawback_days: 120", "clawback_days: 150"))
    with engine.begin() as conn:
        conn.execute(schema.opportunity.insert(), deal(6, 2, 1_000, date(2026, 10, 5)))
    calculate(engine, Q4, run_by="carla")
    with engine.begin() as conn:
        decide(conn, MAX, Q4, 2, approve=True)
        decide(conn, ADMIN, Q4, 2, approve=True)
        lock(conn, ADMIN, Q4)
    _cut(engine, 1, 6_000, date(2026, 11, 15))
    calculate(engine, Q4, run_by="carla")
    q1 = lines(engine, parse_period("2027-Q1"), Scope.everyone(), 1)
    assert list(zip(q1["rule"], q1["origin_rule"], q1["amount"], strict=True)) == [("prior_period", "clawback_cut", D("-120.00"))]
    assert lines(engine, Q4, Scope.everyone(), 1).empty
    assert list(lines(engine, Q4, Scope.everyone(), 2)["amount"]) == [D("20.00")]
