"""Step 7 (with bonuses): SPIFFs. A credited deal dated inside a SPIFF's window (its close date, or its
created date for a created_amount SPIFF) and matching its criteria (product, the account's segment,
opportunity type, a minimum deal amount) pays the SPIFF from the plan in force on that date: a fixed
amount per deal times the person's credit share, or a rate on the credited amount. Not subject to the
commission caps (SPEC) unless the component says `capped: true` (rules.py counts it then).
"""

from __future__ import annotations

import sqlalchemy as sa

from .crediting import cents, credits_of, deal_matches, percent_of, with_deal_facts
from .lines import FAR, Run, line
from .schema import comp_assignment, comp_component


def spiff_lines(run: Run) -> sa.Select:
    c = credits_of(run.period, run.measures).subquery("credit")
    a, k = comp_assignment.c, comp_component.c
    paid = sa.case((k.rate.is_not(None), cents(percent_of(c.c.credited, k.rate))), else_=cents(percent_of(k.amount, c.c.percent)))
    stmt = (
        sa.select(*line(
            run, "spiff",
            person_id=c.c.person_id, plan_version_id=a.plan_version_id, component_id=k.id, component=k.name,
            opportunity_id=c.c.opportunity_id, close_date=c.c.close_date, credited=c.c.credited, base=c.c.credited,
            rate=k.rate, limit_amount=k.amount, measured=c.c.percent, amount=paid,
        ))
        .select_from(c)
        .join(comp_assignment, sa.and_(a.person_id == c.c.person_id, a.effective_from <= c.c.close_date,
                                       sa.func.coalesce(a.effective_to, FAR) >= c.c.close_date))
        .join(comp_component, sa.and_(k.plan_version_id == a.plan_version_id, k.kind == "spiff", k.measure == c.c.measure))
    )
    stmt = with_deal_facts(stmt, c).where(c.c.close_date.between(k.window_from, k.window_to), deal_matches(c))
    return stmt if run.person_id is None else stmt.where(c.c.person_id == run.person_id)
