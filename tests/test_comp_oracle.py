"""The engine against a plain-Python oracle over the demo warehouse: every rep's marginal lines, deal
caps, bonus and new-hire draw, and every manager's override lines, for one quarter, compared line by line.

The oracle reads the raw tables with bare selects and the plan from the demo's YAML, and walks each
person's deals in close-date order with Decimal arithmetic; it shares no code with the engine.
"""

from __future__ import annotations

from calendar import monthrange
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
import sqlalchemy as sa

from spm_core import schema
from spm_core.comp.lines import ADJUSTMENT_RULES
from spm_core.comp.periods import parse_period
from spm_core.comp.plans import plan_from_yaml
from spm_core.comp.trace import lines, totals
from spm_core.demo import comp as demo_comp
from spm_core.filters import Period, Scope

QUARTERS = ("2026-Q3", "2026-Q4")  # the demo (today 2026-11-23) calculates the last whole quarter and this one


def _cents(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _rows(engine, table: sa.Table) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.select(table)).all()


def _plan(text: str):
    return plan_from_yaml(text.format(start="2024-01-01", spiff_from="2026-10-01", spiff_to="2026-12-31"))


def _oracle(demo_engine, period: Period, owed: dict[int, Decimal]) -> dict[tuple, Decimal]:
    """(person, rule, opportunity or person below, band lower) -> amount for the period, worked out in
    Python; `owed` (the draw balances before the period) is updated to after it."""
    people = {p.id: p for p in _rows(demo_engine, schema.person)}
    splits = defaultdict(list)
    for s in _rows(demo_engine, schema.opportunity_split):
        splits[s.opportunity_id].append((s.person_id, Decimal(s.percent)))
    credits = defaultdict(list)  # person -> [(close date, opp id, credited)]
    deal_info = {}  # opp id -> (type, amount)
    shares = {}  # (person, opp id) -> credit percent
    for o in _rows(demo_engine, schema.opportunity):
        if o.is_won and period.start <= o.close_date <= period.end:
            amount = Decimal(str(o.amount)).quantize(Decimal("0.01"))
            deal_info[o.id] = (o.type, amount)
            for pid, pct in splits.get(o.id, [(o.owner_id, Decimal(100))]):
                credits[pid].append((o.close_date, o.id, _cents(amount * pct / 100)))
                shares[(pid, o.id)] = pct
    quota = defaultdict(Decimal)  # a rep's plan starts on the hire date: a hire month counts by its days from then
    for q in _rows(demo_engine, schema.quota):
        if period.start <= q.month <= period.end:
            amount, days = Decimal(str(q.amount)).quantize(Decimal("0.01")), monthrange(q.month.year, q.month.month)[1]
            covered = days - max(0, (people[q.person_id].hire_date - q.month).days)
            quota[q.person_id] += amount if covered >= days else _cents(amount * max(covered, 0) / days)

    ae, manager, leader = _plan(demo_comp.AE_PLAN), _plan(demo_comp.MANAGER_PLAN), _plan(demo_comp.LEADER_PLAN)
    commission, bonus, spiff = ae.components
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
            out[(pid, "bonus", None, None)] = bonus.amount
    for pid, deals in credits.items():  # the SPIFF pays per matching deal in its window, on any quota
        for close, oid, _ in deals:
            kind, amount = deal_info[oid]
            matches = spiff.window_from <= close <= spiff.window_to and kind == spiff.deals.type and amount >= spiff.deals.min_amount
            if people[pid].role == "rep" and close >= people[pid].hire_date and matches:
                out[(pid, "spiff", oid, None)] = _cents(spiff.amount * shares[(pid, oid)] / 100)
    for pid in new_hires:  # the draw tops each new hire's quarter up to 3 months × the monthly draw, then is recovered
        earned = sum(amount for key, amount in out.items() if key[0] == pid)
        if people[pid].hire_date <= period.end and earned < 3 * draw.draw_monthly:
            out[(pid, "draw", None, None)] = 3 * draw.draw_monthly - earned
            owed[pid] = owed.get(pid, Decimal(0)) + out[(pid, "draw", None, None)]
        elif owed.get(pid, 0) > 0 and earned > 3 * draw.draw_monthly:
            out[(pid, "draw_recovery", None, None)] = -min(owed[pid], earned - 3 * draw.draw_monthly)
            owed[pid] += out[(pid, "draw_recovery", None, None)]
    booked = {pid: sum(c for _, _, c in deals) for pid, deals in credits.items()}
    for mid, m in people.items():
        if m.role != "manager":
            continue
        rate = (manager if m.team_id is not None else leader).components[0].rate
        below, frontier = set(), {mid}
        while frontier:
            frontier = {p.id for p in people.values() if p.manager_id in frontier} - below
            below |= frontier
        for pid in below & booked.keys():
            out[(mid, "override", pid, None)] = _cents(booked[pid] * rate / 100)
    return out


@pytest.fixture(scope="module")
def expected(demo_engine) -> dict[str, dict[tuple, Decimal]]:
    """The oracle for both quarters the demo calculates, the draw balances carried from one to the next."""
    owed: dict[int, Decimal] = {}
    return {label: _oracle(demo_engine, parse_period(label), owed) for label in QUARTERS}


@pytest.mark.parametrize("label", QUARTERS)
def test_the_engine_matches_the_oracle_line_by_line(demo_engine, expected, label):
    frame, expected = lines(demo_engine, parse_period(label), Scope.everyone()), expected[label]
    got = {}
    for row in frame[~frame["rule"].isin(ADJUSTMENT_RULES)].itertuples(index=False):  # the ledger's, not the plans'
        other = row.from_person_id if row.rule == "override" else (None if row.opportunity_id is None else int(row.opportunity_id))
        lower = None if row.band_lower is None else Decimal(row.band_lower).normalize()
        got[(int(row.person_id), row.rule, other, lower)] = Decimal(row.amount)
    rules = {k[1] for k in expected}
    assert len(expected) > 50 and {"marginal", "override"} <= rules, rules
    assert got == expected


@pytest.mark.parametrize("label", QUARTERS)
def test_statement_totals_are_the_sums_of_the_oracle_lines(demo_engine, expected, label):
    by_person = defaultdict(Decimal)
    for (pid, *_), amount in expected[label].items():
        by_person[pid] += amount
    period = lines(demo_engine, parse_period(label), Scope.everyone())
    for row in period[period["rule"].isin(ADJUSTMENT_RULES)].itertuples(index=False):  # e.g. a resolved dispute
        by_person[int(row.person_id)] += Decimal(row.amount)
    frame = totals(demo_engine, parse_period(label), Scope.everyone())
    assert dict(zip(frame["person_id"], frame["total"], strict=True)) == dict(by_person)


def test_the_demo_quarters_exercise_the_rules(expected):
    """The oracle is only as good as what the demo holds: the two quarters show every rule the demo plans use."""
    rules = {key[1] for quarter in expected.values() for key in quarter}
    assert {"marginal", "bonus", "override", "draw", "spiff"} <= rules, rules
