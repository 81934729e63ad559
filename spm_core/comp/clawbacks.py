"""Step 10: clawbacks, in the period being calculated, of deals paid in earlier periods.

- Reverted (rule clawback): a paid deal no longer won, reverted within the commission's clawback window
  (days from its close date to the first change in opportunity history that left it not won), gives a
  negative line for what the deal still nets for the person (its band lines, deal cap and any earlier
  clawback).
- Cut (rule clawback_cut): a paid deal still won whose credit is now lower than the credit its lines
  were paid on (the amount was cut, in history or by a new import) takes back the proportional part:
  net paid × (old credit − new credit) / old credit, rounded half-up to cents. Proportional, as ICM tools
  do for a partial reversal: the deal's share of each band stays what it was; re-pricing it through the
  bands would move the other deals of a closed period. The line keeps the new credit, so a second cut
  is measured from it. A count measure (won_count) pays per deal, so a cut takes nothing back.
The reversal or cut is dated by the first history row that shows it (for a cut: still won, amount at or
below the deal's amount then); without one, by the first day of the period that finds it. It is taken
back once that day has come, if within the window. A cut is judged on the deal as it stood at the end of
the period (history's row then, when history records later changes; else the current row, which is
what a new import brings), so recalculating a period after a later cut gives the same lines.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..portable import days_between
from ..schema import opportunity, opportunity_history, opportunity_split
from .crediting import Wide, cents, percent_of
from .lines import RATE_RULES, Run, line
from .schema import Cents, comp_component, comp_line

CLAWBACK_RULES = ("clawback", "clawback_cut")


def _paid(run: Run) -> sa.Subquery:
    """Per person, component and deal paid before this period: what it still nets, its close date, and
    the lowest credit its lines were paid on (a cut's line records the credit after it)."""
    c = comp_line.c
    keys = (c.person_id, c.plan_version_id, c.component_id, c.component, c.opportunity_id)
    paid = (
        sa.select(*keys, sa.func.min(c.close_date).label("close_date"), sa.func.sum(c.amount).label("paid"),
                  sa.func.min(c.credited).label("basis"))
        .where(c.period_end < run.period.start, c.opportunity_id.is_not(None), c.rule.in_([*RATE_RULES, "cap_deal", *CLAWBACK_RULES]))
        .group_by(*keys)
    )
    return (paid if run.person_id is None else paid.where(c.person_id == run.person_id)).subquery("paid")


def _dated(run: Run, found: sa.ColumnElement, paid: sa.Subquery) -> tuple[sa.ColumnElement, sa.ColumnElement]:
    """The day of the change (the first history row meeting `found`, else the period's first day) and
    the days from the close date to it."""
    h = opportunity_history.c
    first = sa.select(sa.func.min(h.changed_at)).where(h.opportunity_id == paid.c.opportunity_id, h.changed_at >= paid.c.close_date, found)
    day = sa.func.coalesce(first.scalar_subquery(), sa.literal(run.period.start))
    return day, days_between(day, paid.c.close_date)


def _as_of_end(run: Run, paid: sa.Subquery) -> sa.Subquery:
    """Per paid deal whose history changed after the period: its amount and won flag in history's last row
    by the period's end (one ranked scan of those deals' history, no per-row subquery)."""
    h = opportunity_history.c
    deals = sa.select(paid.c.opportunity_id)
    moved = sa.select(h.opportunity_id).where(h.changed_at > run.period.end, h.opportunity_id.in_(deals))
    rank = sa.func.row_number().over(partition_by=h.opportunity_id, order_by=(h.changed_at.desc(), h.id.desc()))
    ranked = sa.select(h.opportunity_id, h.amount, h.is_won, rank.label("n")).where(
        h.changed_at <= run.period.end, h.opportunity_id.in_(moved)).subquery("ranked")
    return sa.select(ranked.c.opportunity_id, ranked.c.amount, ranked.c.is_won).where(ranked.c.n == 1).subquery("then")


def clawback_lines(run: Run) -> sa.Select:
    """Reverted deals: what each still nets, taken back."""
    paid, k, o = _paid(run), comp_component.c, opportunity.c
    day, days = _dated(run, ~opportunity_history.c.is_won, paid)
    return (
        sa.select(*line(
            run, "clawback",
            person_id=paid.c.person_id, plan_version_id=paid.c.plan_version_id, component_id=paid.c.component_id,
            component=paid.c.component, opportunity_id=paid.c.opportunity_id, close_date=paid.c.close_date, base=paid.c.paid,
            threshold=k.clawback_days, measured=days, amount=-paid.c.paid,
        ))
        .select_from(paid)
        .join(comp_component, k.id == paid.c.component_id)
        .join(opportunity, o.id == paid.c.opportunity_id)
        .where(k.clawback_days.is_not(None), ~o.is_won, paid.c.paid > 0, day <= run.period.end, days <= k.clawback_days)
    )


def cut_lines(run: Run) -> sa.Select:
    """Won deals whose credit was cut: the proportional part of what each still nets, taken back."""
    paid, k, o, s = _paid(run), comp_component.c, opportunity.c, opportunity_split.c
    then = _as_of_end(run, paid)
    amount = sa.case((then.c.opportunity_id.is_not(None), then.c.amount), else_=o.amount)
    won = sa.case((then.c.opportunity_id.is_not(None), then.c.is_won), else_=o.is_won)
    other = opportunity_split.alias("any_split")
    has_split = sa.exists().where(other.c.opportunity_id == paid.c.opportunity_id)
    now = sa.case(
        (s.percent.is_not(None), cents(percent_of(amount, s.percent))),
        (has_split, sa.null()),  # the person left the split: a change of credit, not a cut
        else_=sa.cast(amount, Cents),
    )
    h = opportunity_history.c
    day, days = _dated(run, sa.and_(h.is_won, h.amount <= amount), paid)
    cut = paid.c.basis - now
    return (
        sa.select(*line(
            run, "clawback_cut",
            person_id=paid.c.person_id, plan_version_id=paid.c.plan_version_id, component_id=paid.c.component_id,
            component=paid.c.component, opportunity_id=paid.c.opportunity_id, close_date=paid.c.close_date, base=paid.c.paid,
            earlier=paid.c.basis, credited=now, threshold=k.clawback_days, measured=days,
            amount=-cents(sa.cast(sa.cast(paid.c.paid, Wide) * cut / paid.c.basis, Wide)),
        ))
        .select_from(paid)
        .join(comp_component, k.id == paid.c.component_id)
        .join(opportunity, o.id == paid.c.opportunity_id)
        .outerjoin(then, then.c.opportunity_id == paid.c.opportunity_id)
        .outerjoin(opportunity_split, sa.and_(s.opportunity_id == paid.c.opportunity_id, s.person_id == paid.c.person_id))
        .where(k.clawback_days.is_not(None), k.measure == "won_amount", won, paid.c.paid > 0, paid.c.basis > 0, now < paid.c.basis,
               day <= run.period.end, days <= k.clawback_days)
    )
