"""Step 9: draws. A draw tops a person's earnings for the period (every line before this step) up to
its monthly amount × the period's months. A recoverable draw's top-up is owed: the balance (the sum of
earlier periods' draw and recovery lines) is recovered from later earnings above the draw in force
(all earnings once no draw is), so a recovery never takes a payout below the draw, nor below 0. A
guarantee (recoverable: false) tops up the same way and is never recovered.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..filters import Period
from .extras import in_force
from .lines import STEPS, Run, line
from .schema import comp_line


def months(period: Period) -> int:
    """Whole months in the period (calculate() only takes whole months)."""
    return (period.end.year - period.start.year) * 12 + period.end.month - period.start.month + 1


def _earnings(run: Run) -> sa.Subquery:
    c = comp_line.c
    return (
        sa.select(c.person_id, sa.func.sum(c.amount).label("earned"))
        .where(c.run_id == run.run_id, c.step < STEPS["draw"])
        .group_by(c.person_id)
        .subquery("earned")
    )


def _balance(run: Run) -> sa.Subquery:
    """Per person: the recoverable balance owed from periods before this one, and the draw it came from.
    The prior-period lines that corrected those periods' draws and recoveries count too, wherever they
    were posted: a late deal in a locked period lowers its top-up, and so what is owed. (Their other
    corrections are not this period's earnings: the locked period's recalculation already ran its own
    draw on them.)"""
    c = comp_line.c
    drawn = ("draw", "draw_recovery")
    stmt = (
        sa.select(c.person_id, sa.func.max(c.plan_version_id).label("plan_version_id"), sa.func.max(c.component_id).label("component_id"),
                  sa.func.max(c.component).label("component"), sa.func.sum(c.amount).label("owed"))
        .where(sa.or_(sa.and_(c.rule.in_(drawn), c.period_end < run.period.start),
                      sa.and_(c.rule == "prior_period", c.origin_rule.in_(drawn), c.origin_end < run.period.start)))
        .group_by(c.person_id)
    )
    return (stmt if run.person_id is None else stmt.where(c.person_id == run.person_id)).subquery("balance")


def _draw_amount(d: sa.Subquery, run: Run) -> sa.ColumnElement:
    return d.c.draw_monthly * months(run.period)


def top_up_lines(run: Run, recoverable: bool) -> sa.Select:
    """Earnings below the draw: the difference is paid (rule draw, owed back; or guarantee, not)."""
    d, e, b = in_force(run, "draw"), _earnings(run), _balance(run)
    earned, draw = sa.func.coalesce(e.c.earned, 0), _draw_amount(d, run)
    return (
        sa.select(*line(
            run, "draw" if recoverable else "guarantee",
            person_id=d.c.person_id, plan_version_id=d.c.plan_version_id, component_id=d.c.component_id, component=d.c.component,
            base=earned, limit_amount=draw, earlier=sa.func.coalesce(b.c.owed, 0), amount=draw - earned,
        ))
        .select_from(d)
        .outerjoin(e, e.c.person_id == d.c.person_id)
        .outerjoin(b, b.c.person_id == d.c.person_id)
        .where(d.c.recoverable.is_(recoverable), earned < draw)
    )


def recovery_lines(run: Run) -> sa.Select:
    """A balance owed is taken from the earnings above the draw in force (all earnings without one)."""
    b, e, d = _balance(run), _earnings(run), in_force(run, "draw")
    draw = sa.func.coalesce(_draw_amount(d, run), 0)
    above = e.c.earned - draw
    return (
        sa.select(*line(
            run, "draw_recovery",
            person_id=b.c.person_id, plan_version_id=b.c.plan_version_id, component_id=b.c.component_id, component=b.c.component,
            base=e.c.earned, limit_amount=draw, earlier=b.c.owed, amount=-sa.func.least(b.c.owed, above),
        ))
        .select_from(b)
        .join(e, e.c.person_id == b.c.person_id)
        .outerjoin(d, d.c.person_id == b.c.person_id)
        .where(b.c.owed > 0, above > 0)
    )
