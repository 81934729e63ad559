"""Step 1: rate tables. Each credited deal is placed in its person's running total for the period
(close-date order, ties by opportunity id) and paid by band:

- marginal: the part of the deal inside each band earns that band's rate, so a deal that crosses a
  boundary gives one line per band it touches;
- retroactive: every deal earns the rate of the band the period's total reached.

Band edges are in the measure's unit (target × band percent), so a split is exact to the cent and
beyond. A money measure's band pays its rate in percent; a count measure's (won_count) pays its rate as
money per unit.
"""

from __future__ import annotations

import sqlalchemy as sa

from .crediting import Wide, cents, component_quotas, credits_of, deal_matches, edge, percent_of, with_deal_facts
from .lines import FAR, Run, line, ratio
from .plans import COUNT_MEASURES
from .schema import comp_assignment, comp_component, comp_rate_band


def credited(run: Run) -> sa.Select:
    """Each credit matched to the commission components of the plan in force on its date that pay on its
    measure and whose deal criteria it meets, with the component's target for the assignment in the
    period (attainment runs per assignment and component: a plan change splits it)."""
    c = credits_of(run.period, run.measures).subquery("credit")
    q = component_quotas(run.period).subquery("component_quota")
    a, k = comp_assignment.c, comp_component.c
    stmt = (
        sa.select(
            c.c.opportunity_id, c.c.person_id, c.c.close_date, c.c.credited, a.id.label("assignment_id"), a.plan_version_id,
            k.id.label("component_id"), k.name.label("component"), k.mode, k.measure, q.c.quota,
        )
        .select_from(c)
        .join(comp_assignment, sa.and_(a.person_id == c.c.person_id, a.effective_from <= c.c.close_date,
                                       sa.func.coalesce(a.effective_to, FAR) >= c.c.close_date))
        .join(comp_component, sa.and_(k.plan_version_id == a.plan_version_id, k.kind == "commission", k.measure == c.c.measure))
    )
    stmt = stmt.outerjoin(q, sa.and_(q.c.assignment_id == a.id, q.c.component_id == k.id))
    if run.deal_filters:
        stmt = with_deal_facts(stmt, c).where(deal_matches(c))
    return stmt if run.person_id is None else stmt.where(c.c.person_id == run.person_id)


def totals(run: Run, name: str = "totals") -> sa.Subquery:
    """Per person and commission component: quota and the period's credited total."""
    d = credited(run).subquery("credited")
    keys = (d.c.person_id, d.c.assignment_id, d.c.plan_version_id, d.c.component_id, d.c.component, d.c.quota)
    return sa.select(*keys, sa.func.sum(d.c.credited).label("total")).group_by(*keys).subquery(name)


def _running(run: Run, mode: str) -> sa.Subquery:
    """The components in this mode, each credit with the running total after it and the period total."""
    d = credited(run).where(comp_component.c.mode == mode).subquery("credited")
    partition = (d.c.person_id, d.c.assignment_id, d.c.component_id)
    cum_after = sa.func.sum(sa.cast(d.c.credited, Wide)).over(partition_by=partition, order_by=(d.c.close_date, d.c.opportunity_id), rows=(None, 0))
    return sa.select(
        *d.c, cum_after.label("cum_after"), sa.func.sum(sa.cast(d.c.credited, Wide)).over(partition_by=partition).label("total")
    ).subquery("running")


def marginal_lines(run: Run) -> sa.Select:
    """One line per (deal, band it touches): the part of the deal inside the band × the band's rate."""
    d, b = _running(run, "marginal"), comp_rate_band.c
    lo, hi = edge(d.c.quota, b.lower), edge(d.c.quota, b.upper)
    cum_before = d.c.cum_after - sa.cast(d.c.credited, Wide)
    start = sa.func.greatest(cum_before, lo)
    end = sa.func.least(d.c.cum_after, sa.func.coalesce(hi, d.c.cum_after))
    return (
        sa.select(*_rate_line(run, "marginal", d, start, end, end - start))
        .select_from(d)
        .join(comp_rate_band, b.component_id == d.c.component_id)
        .where(d.c.quota > 0, lo < d.c.cum_after, sa.or_(b.upper.is_(None), hi > cum_before))
    )


def retroactive_lines(run: Run) -> sa.Select:
    """One line per deal: the whole deal × the rate of the band the period's total reached."""
    d, b = _running(run, "retroactive"), comp_rate_band.c
    lo, hi = edge(d.c.quota, b.lower), edge(d.c.quota, b.upper)
    return (
        sa.select(*_rate_line(run, "retroactive", d, d.c.cum_after - d.c.credited, d.c.cum_after, d.c.credited))
        .select_from(d)
        .join(comp_rate_band, b.component_id == d.c.component_id)
        .where(d.c.quota > 0, lo <= d.c.total, sa.or_(b.upper.is_(None), d.c.total < hi))
    )


def _rate_line(run: Run, rule: str, d: sa.Subquery, start, end, base) -> list[sa.ColumnElement]:
    b = comp_rate_band.c
    return line(
        run, rule,
        person_id=d.c.person_id, plan_version_id=d.c.plan_version_id, component_id=d.c.component_id,
        component=d.c.component, opportunity_id=d.c.opportunity_id, close_date=d.c.close_date, credited=d.c.credited,
        quota=d.c.quota, attainment_before=ratio(start, d.c.quota), attainment_after=ratio(end, d.c.quota),
        band_lower=b.lower, band_upper=b.upper, rate=b.rate, base=base, amount=paid(d.c.measure, base, b.rate),
    )


def paid(measure: sa.ColumnElement, base: sa.ColumnElement, rate: sa.ColumnElement) -> sa.ColumnElement:
    """What a band pays on `base`: rate percent of money, or rate money per unit of a count measure."""
    return sa.case((measure.in_(COUNT_MEASURES), cents(sa.cast(base, Wide) * rate)), else_=cents(percent_of(base, rate)))


def no_quota_lines(run: Run) -> sa.Select:
    """A person credited with bookings but without a quota has no attainment: a zero line says so."""
    t = totals(run)
    return sa.select(*line(
        run, "no_quota",
        person_id=t.c.person_id, plan_version_id=t.c.plan_version_id, component_id=t.c.component_id,
        component=t.c.component, credited=t.c.total, base=t.c.total, amount=sa.literal(0),
    )).where(sa.func.coalesce(t.c.quota, 0) <= 0)
