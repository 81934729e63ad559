"""Step 7 (with bonuses): SPIFFs. A credited deal that closed inside a SPIFF's window and matches its
criteria (product, the account's segment, opportunity type, a minimum deal amount) pays the SPIFF from
the plan in force on its close date: a fixed amount per deal times the person's credit share, or a rate
on the credited amount. Not subject to the commission caps (SPEC).
"""

from __future__ import annotations

import sqlalchemy as sa

from ..schema import account, opportunity, product, segment
from .crediting import cents, credits, percent_of
from .lines import FAR, Run, line
from .schema import comp_assignment, comp_component


def spiff_lines(run: Run) -> sa.Select:
    c = credits(run.period).subquery("credit")
    a, k, o = comp_assignment.c, comp_component.c, opportunity.c
    matches = sa.and_(
        c.c.close_date.between(k.window_from, k.window_to),
        sa.or_(k.deal_product.is_(None), k.deal_product == product.c.name),
        sa.or_(k.deal_segment.is_(None), k.deal_segment == segment.c.name),
        sa.or_(k.deal_type.is_(None), k.deal_type == o.type),
        sa.or_(k.deal_min_amount.is_(None), c.c.deal_amount >= k.deal_min_amount),
    )
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
        .join(comp_component, sa.and_(k.plan_version_id == a.plan_version_id, k.kind == "spiff"))
        .join(opportunity, o.id == c.c.opportunity_id)
        .outerjoin(product, product.c.id == o.product_id)
        .outerjoin(account, account.c.id == o.account_id)
        .outerjoin(segment, segment.c.id == account.c.segment_id)
        .where(matches)
    )
    return stmt if run.person_id is None else stmt.where(c.c.person_id == run.person_id)
