"""The engine against a plain-Python oracle over the demo warehouse: every rep's marginal lines, deal
caps, bonus and new-hire draw, and every manager's override lines, for one quarter, compared line by line.

The oracle reads the raw tables with bare selects and the plan from the demo's YAML, and walks each
person's deals in close-date order with Decimal arithmetic; it shares no code with the engine.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
import sqlalchemy as sa

from spm_core import schema
from spm_core.comp.periods import parse_period
from spm_core.comp.plans import plan_from_yaml
from spm_core.comp.trace import lines, totals
from spm_core.demo import comp as demo_comp
from spm_core.filters import Scope

PERIOD = parse_period("2026-Q3")  # the demo (today 2026-11-23) calculates the last whole quarter


def _cents(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _rows(engine, table: sa.Table) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.select(table)).all()


def _plan(text: str):
    return plan_from_yaml(text.format(start="2024-01-01"))


@pytest.fixture(scope="module")
def expected(demo_engine) -> dict[tuple, Decimal]:
    """(person, rule, opportunity or person below, band lower) -> amount, worked out in Python."""
    people = {p.id: p for p in _rows(demo_engine, schema.person)}
    splits = defaultdict(list)
    for s in _rows(demo_engine, schema.opportunity_split):
        splits[s.opportunity_id].append((s.person_id, Decimal(s.percent)))
    credits = defaultdict(list)  # person -> [(close date, opp id, credited)]
    for o in _rows(demo_engine, schema.opportunity):
        if o.is_won and PERIOD.start <= o.close_date <= PERIOD.end:
            amount = Decimal(str(o.amount)).quantize(Decimal("0.01"))
            for pid, pct in splits.get(o.id, [(o.owner_id, Decimal(100))]):
                credits[pid].append((o.close_date, o.id, _cents(amount * pct / 100)))
    quota = defaultdict(Decimal)
    for q in _rows(demo_engine, schema.quota):
        if PERIOD.start <= q.month <= PERIOD.end:
            quota[q.person_id] += Decimal(str(q.amount)).quantize(Decimal("0.01"))

    ae, manager, leader = _plan(demo_comp.AE_PLAN), _plan(demo_comp.MANAGER_PLAN), _plan(demo_comp.LEADER_PLAN)
    commission, bonus = ae.components
    draw = _plan(demo_comp.NEW_HIRE_PLAN).components[-1]
    new_hires = {pid for pid, p in people.items() if p.role == "rep" and p.hire_date >= date(2026, 11, 23) - timedelta(days=180)}
    out: dict[tuple, Decimal] = {}
    for pid, deals in credits.items():
        p = people[pid]
        if p.role != "rep" or not quota[pid]:
            continue
        cum = Decimal(0)
        for _close, oid, credited in sorted(d for d in deals if d[0] >= max(date(2024, 1, 1), p.hire_date)):
            before, cum = cum, cum + credited
            earned = Decimal(0)
            for band in commission.bands:
                lo = quota[pid] * band.lower / 100
                hi = cum if band.upper is None else quota[pid] * band.upper / 100
                part = min(cum, hi) - max(before, lo)
                if part > 0:
                    out[(pid, "marginal", oid, band.lower)] = _cents(part * band.rate / 100)
                    earned += out[(pid, "marginal", oid, band.lower)]
            if earned > commission.cap_deal:
                out[(pid, "cap_deal", oid, None)] = commission.cap_deal - earned
        if cum >= quota[pid] * bonus.bonus_at / 100:
            out[(pid, "bonus", None, None)] = bonus.bonus_amount
    for pid in new_hires:  # the draw tops each new hire's quarter up to 3 months × the monthly draw
        earned = sum(amount for key, amount in out.items() if key[0] == pid)
        if people[pid].hire_date <= PERIOD.end and earned < 3 * draw.draw_monthly:
            out[(pid, "draw", None, None)] = 3 * draw.draw_monthly - earned
    booked = {pid: sum(c for _, _, c in deals) for pid, deals in credits.items()}
    for mid, m in people.items():
        if m.role != "manager":
            continue
        rate = (manager if m.team_id is not None else leader).components[0].override_rate
        below, frontier = set(), {mid}
        while frontier:
            frontier = {p.id for p in people.values() if p.manager_id in frontier} - below
            below |= frontier
        for pid in below & booked.keys():
            out[(mid, "override", pid, None)] = _cents(booked[pid] * rate / 100)
    return out


def test_the_engine_matches_the_oracle_line_by_line(demo_engine, expected):
    frame = lines(demo_engine, PERIOD, Scope.everyone())
    got = {}
    for row in frame.itertuples(index=False):
        other = row.from_person_id if row.rule == "override" else (None if row.opportunity_id is None else int(row.opportunity_id))
        lower = None if row.band_lower is None else Decimal(row.band_lower).normalize()
        got[(int(row.person_id), row.rule, other, lower)] = Decimal(row.amount)
    rules = {k[1] for k in expected}
    assert len(expected) > 100 and rules == {"marginal", "bonus", "override", "draw"} | ({"cap_deal"} & rules), rules
    assert got == expected


def test_statement_totals_are_the_sums_of_the_oracle_lines(demo_engine, expected):
    by_person = defaultdict(Decimal)
    for (pid, *_), amount in expected.items():
        by_person[pid] += amount
    frame = totals(demo_engine, PERIOD, Scope.everyone())
    assert dict(zip(frame["person_id"], frame["total"], strict=True)) == dict(by_person)
