"""Adjustment lines: what changes a statement after the engine wrote it.

prior_period: a calculation of a closed period (approved, locked, paid) writes its lines under a
new run, then posts, for each line whose amount differs from what the period already paid (its
lines plus the prior-period lines posted for it before), the difference in the next open period,
naming the original line; the run's lines are then removed, so the closed period reads as it was.
A deal clawed back (reverted or cut) in a later period is left out (the clawback already settled it).
manual and dispute: an amount with a person's reason. Each is a comp_line, so a statement's total
stays the sum of its lines.
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from ..filters import Period
from ..schema import person
from .audit import Actor, CompError, record
from .clawbacks import CLAWBACK_RULES
from .cycle import CLOSED, clear_approvals, next_open, state
from .lines import STEPS, Run
from .periods import period_label
from .schema import comp_line

# A line's identity across runs: whose, which component and rule, which deal, band and override source.
KEY = ("person_id", "component_id", "opportunity_id", "band_lower", "from_person_id")
CENT = Decimal("0.01")


def _sides(run: Run) -> sa.Subquery:
    """The period's paid lines (old) and this run's lines (new), keyed alike; a prior-period line
    counts as the rule it corrected."""
    c, p = comp_line.c, run.period
    fields = (c.plan_version_id, c.component, c.close_date)
    old = sa.select(*(c[k] for k in KEY), c.rule.label("rule_key"), *fields, c.id.label("origin"), c.amount.label("old"),
                    sa.literal(0, comp_line.c.amount.type).label("new")).where(
        c.period_start == p.start, c.period_end == p.end, c.run_id != run.run_id, c.rule != "manual", c.rule != "dispute",
        c.rule != "prior_period")
    posted = sa.select(*(c[k] for k in KEY), c.origin_rule.label("rule_key"), *fields, c.origin_line_id.label("origin"),
                       c.amount.label("old"), sa.literal(0, comp_line.c.amount.type).label("new")).where(
        c.rule == "prior_period", c.origin_start == p.start, c.origin_end == p.end)
    new = sa.select(*(c[k] for k in KEY), c.rule.label("rule_key"), *fields, sa.null().label("origin"),
                    sa.literal(0, comp_line.c.amount.type).label("old"), c.amount.label("new")).where(c.run_id == run.run_id)
    if run.person_id is not None:
        old, posted = old.where(c.person_id == run.person_id), posted.where(c.person_id == run.person_id)
    # A deal a later period clawed back is settled there: its difference would take it back a second time.
    k = comp_line.alias("clawed")
    clawed = sa.exists().where(k.c.rule.in_(CLAWBACK_RULES), k.c.person_id == c.person_id, k.c.opportunity_id == c.opportunity_id,
                               k.c.period_start > p.end)
    return sa.union_all(*(side.where(~clawed) for side in (old, posted, new))).subquery("sides")


def post_differences(conn: sa.Connection, run: Run, actor: str) -> tuple[Period, int]:
    """Post the run's differences from the closed period into the next open one; (that period, lines)."""
    target = next_open(conn, run.period)
    s = _sides(run)
    keys = [s.c[k] for k in KEY] + [s.c.rule_key]
    old, new = sa.func.sum(s.c.old), sa.func.sum(s.c.new)
    diff = (
        sa.select(
            sa.literal(run.run_id).label("run_id"), sa.literal(target.start).label("period_start"),
            sa.literal(target.end).label("period_end"), sa.literal(STEPS["prior_period"]).label("step"),
            sa.literal("prior_period").label("rule"), *keys[:-1], sa.func.max(s.c.plan_version_id).label("plan_version_id"),
            sa.func.max(s.c.component).label("component"), sa.func.max(s.c.close_date).label("close_date"),
            old.label("earlier"), new.label("base"), (new - old).label("amount"), sa.func.min(s.c.origin).label("origin_line_id"),
            sa.literal(run.period.start).label("origin_start"), sa.literal(run.period.end).label("origin_end"),
            s.c.rule_key.label("origin_rule"),
        )
        .group_by(*keys)
        .having(new != old)
    )
    columns = ["run_id", "period_start", "period_end", "step", "rule", *KEY, "plan_version_id", "component", "close_date",
               "earlier", "base", "amount", "origin_line_id", "origin_start", "origin_end", "origin_rule"]
    posted = conn.execute(comp_line.insert().from_select(columns, diff)).rowcount
    conn.execute(comp_line.delete().where(comp_line.c.run_id == run.run_id, comp_line.c.rule != "prior_period"))
    c = comp_line.c
    for pid, count, total in conn.execute(
        sa.select(c.person_id, sa.func.count(), sa.func.sum(c.amount))
        .where(c.run_id == run.run_id, c.rule == "prior_period").group_by(c.person_id).order_by(c.person_id)
    ).all():
        clear_approvals(conn, target, pid, actor, f"prior-period adjustments for {period_label(run.period)}")
        record(conn, actor, "prior-period adjustment",
               f"{period_label(run.period)} is {state(conn, run.period)}: {count} difference(s), {total} in total, posted in "
               f"{period_label(target)}", target, pid)
    return target, posted


def add_adjustment(conn: sa.Connection, actor: Actor, person_id: int, period: Period, amount: Decimal, reason: str,
                   rule: str = "manual", origin_line_id: int | None = None) -> int:
    """Post an amount with a reason for a person; into the period, or the next open one if it is
    closed (the line then names the period it corrects). The new line's id."""
    if not actor.is_comp_admin:
        raise CompError("Only a comp admin posts adjustments.")
    reason = reason.strip()
    if not reason:
        raise CompError("An adjustment needs a reason.")
    if amount != amount.quantize(CENT) or amount == 0:
        raise CompError(f"An adjustment is a non-zero amount in cents, not {amount}.")
    if conn.execute(sa.select(person.c.id).where(person.c.id == person_id)).first() is None:
        raise CompError(f"No person with id {person_id}.")
    target = next_open(conn, period) if state(conn, period) in CLOSED else period
    origin = period if target != period else None
    line_id = int(conn.execute(comp_line.insert().returning(comp_line.c.id), {
        "run_id": 0, "period_start": target.start, "period_end": target.end, "person_id": person_id, "plan_version_id": 0,
        "component_id": 0, "component": "Adjustment" if rule == "manual" else "Dispute", "step": STEPS[rule], "rule": rule,
        "amount": amount, "reason": reason, "origin_line_id": origin_line_id,
        "origin_start": origin.start if origin else None, "origin_end": origin.end if origin else None,
    }).scalar_one())
    clear_approvals(conn, target, person_id, actor.username, f"{rule} adjustment")
    record(conn, actor.username, f"{rule} adjustment", f"{amount} in {period_label(target)}: {reason}", target, person_id)
    return line_id
