"""Step 10: clawbacks. A deal paid in an earlier period that is no longer won, reverted within the
commission's clawback window (days from its close date to the first change in opportunity history that
left it not won), is taken back in the period being calculated once the reversal has happened: a
negative line for what the deal still nets for the person (its band lines, deal cap and any earlier
clawback). Without history the reversal is dated the first day of the period that finds it.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..schema import opportunity, opportunity_history
from .lines import RATE_RULES, Run, line
from .schema import comp_component, comp_line


def clawback_lines(run: Run) -> sa.Select:
    c, k, o, h = comp_line.c, comp_component.c, opportunity.c, opportunity_history.c
    keys = (c.person_id, c.plan_version_id, c.component_id, c.component, c.opportunity_id)
    paid = (
        sa.select(*keys, sa.func.min(c.close_date).label("close_date"), sa.func.sum(c.amount).label("paid"))
        .where(c.period_end < run.period.start, c.opportunity_id.is_not(None), c.rule.in_([*RATE_RULES, "cap_deal", "clawback"]))
        .group_by(*keys)
    )
    paid = (paid if run.person_id is None else paid.where(c.person_id == run.person_id)).subquery("paid")
    reverted_on = (
        sa.select(sa.func.min(h.changed_at))
        .where(h.opportunity_id == paid.c.opportunity_id, h.changed_at >= paid.c.close_date, ~h.is_won)
        .scalar_subquery()
    )
    reversal = sa.func.coalesce(reverted_on, sa.literal(run.period.start))
    days = reversal - paid.c.close_date
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
        .where(k.clawback_days.is_not(None), ~o.is_won, paid.c.paid > 0, reversal <= run.period.end, days <= k.clawback_days)
    )
