"""The engine against a plain-Python oracle over the demo warehouse: every rep's marginal lines, deal
caps, bonus and new-hire draw, every manager's override lines, and this quarter's clawbacks of the deals
the demo reverted or cut after paying them, for two quarters, compared line by line.

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


def _money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _history(demo_engine) -> tuple[dict, dict]:
    """Each deal's current history row, and its rows by the day they ended."""
    rows = _rows(demo_engine, schema.opportunity_history)
    return {h.opportunity_id: h for h in rows if h.valid_to is None}, {(h.opportunity_id, h.valid_to): h for h in rows if h.valid_to}


def _as_paid(o, period: Period, current: dict, ended: dict) -> tuple[bool, float]:
    """Won and amount as the period was calculated: the demo reverts a few deals after paying their quarter,
    so a deal won in the period and changed after it counts as it stood before the change."""
    now = current.get(o.id)
    before = now is not None and now.changed_at > period.end and ended.get((o.id, now.changed_at))
    if before and before.is_won and period.start <= before.close_date <= period.end:
        return True, before.amount
    return o.is_won, o.amount


def _clawbacks(demo_engine, period: Period, paid: dict, window: int, splits: dict) -> dict[tuple, Decimal]:
    """The previous period's deals (its lines and credits in `paid`) lost or cut by this period's end,
    within the window: all of what a lost deal nets, the cut's share of what a cut deal nets."""
    current, _ = _history(demo_engine)
    deals = {o.id: o for o in _rows(demo_engine, schema.opportunity)}
    net = defaultdict(Decimal)
    for (pid, rule, oid, _), amount in paid.get("lines", {}).items():
        if rule in ("marginal", "cap_deal"):
            net[(pid, oid)] += amount
    out = {}
    for (pid, oid), amount in net.items():
        o, row = deals[oid], current[oid]
        day = row.changed_at if row.changed_at >= o.close_date else period.start
        if amount <= 0 or day > period.end or (day - o.close_date).days > window:
            continue
        share = dict(splits.get(oid, [(o.owner_id, Decimal(100))])).get(pid)
        old, new = paid["credits"][(pid, oid)], _cents(_money(o.amount) * share / 100)
        if not o.is_won:
            out[(pid, "clawback", oid, None)] = -amount
        elif new < old:
            out[(pid, "clawback_cut", oid, None)] = -_cents(amount * (old - new) / old)
    return out


def _oracle(demo_engine, period: Period, owed: dict[int, Decimal], paid: dict) -> dict[tuple, Decimal]:
    """(person, rule, opportunity or person below, band lower) -> amount for the period, worked out in
    Python; `owed` (the draw balances before the period) is updated to after it, and `paid` (the previous
    period's lines and credits) to this period's."""
    people = {p.id: p for p in _rows(demo_engine, schema.person)}
    splits = defaultdict(list)
    for s in _rows(demo_engine, schema.opportunity_split):
        splits[s.opportunity_id].append((s.person_id, Decimal(s.percent)))
    current, ended = _history(demo_engine)
    credits = defaultdict(list)  # person -> [(close date, opp id, credited)]
    deal_info = {}  # opp id -> (type, amount)
    shares = {}  # (person, opp id) -> credit percent
    for o in _rows(demo_engine, schema.opportunity):
        is_won, value = _as_paid(o, period, current, ended)
        if is_won and period.start <= o.close_date <= period.end:
            amount = _money(value)
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
    out |= _clawbacks(demo_engine, period, paid, commission.clawback_days, splits)  # after the draws, as the engine
    paid["lines"] = dict(out)
    paid["credits"] = {(pid, oid): credited for pid, deals in credits.items() for _, oid, credited in deals}
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
    paid: dict[str, dict] = {}
    return {label: _oracle(demo_engine, parse_period(label), owed, paid) for label in QUARTERS}


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
    assert {"marginal", "bonus", "override", "draw", "spiff", "clawback", "clawback_cut"} <= rules, rules
