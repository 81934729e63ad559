"""Steps 2-6: gates and qualifiers, then caps per deal, per period and per plan year.

Each rule writes its effect as its own line (a negative amount) instead of editing the commission
lines, like a ledger's adjusting entry: the trace shows what the rate table paid and what each rule
took back, and the total is still the sum of the lines.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ..filters import Filters, Scope
from ..metrics import compile_query
from .crediting import edge
from .lines import RATE_RULES, STEPS, Run, line, net_before, ratio
from .rates import totals
from .schema import comp_component, comp_line


def gate_lines(run: Run) -> sa.Select:
    """Attainment below the component's gate: the commission so far is withheld."""
    t, k = totals(run), comp_component.c
    net = net_before(run, "gate")
    earned = sa.func.coalesce(net.c.net, 0)
    return (
        sa.select(*line(
            run, "gate",
            person_id=t.c.person_id, plan_version_id=t.c.plan_version_id, component_id=t.c.component_id,
            component=t.c.component, credited=t.c.total, quota=t.c.quota, attainment_after=ratio(t.c.total, t.c.quota),
            threshold=k.gate, base=earned, amount=-earned,
        ))
        .select_from(t)
        .join(comp_component, k.id == t.c.component_id)
        .outerjoin(net, sa.and_(net.c.person_id == t.c.person_id, net.c.component_id == t.c.component_id))
        .where(k.gate.is_not(None), t.c.quota > 0, t.c.total < edge(t.c.quota, k.gate))
    )


def qualifier_lines(run: Run, kpi_name: str) -> sa.Select:
    """The KPI (SPEC's definition, over the person's own deals) below the qualifier: the net so far is withheld."""
    measured = compile_query([kpi_name], Filters(run.period), Scope.everyone(), by=["rep"]).subquery("measured")
    value = measured.c[kpi_name] * 100
    t, k = totals(run), comp_component.c
    net = net_before(run, "qualifier")
    earned = sa.func.coalesce(net.c.net, 0)
    return (
        sa.select(*line(
            run, "qualifier",
            person_id=t.c.person_id, plan_version_id=t.c.plan_version_id, component_id=t.c.component_id,
            component=t.c.component, credited=t.c.total, threshold=k.qualifier_min, measured=value, base=earned, amount=-earned,
        ))
        .select_from(t)
        .join(comp_component, k.id == t.c.component_id)
        .outerjoin(measured, measured.c.rep_id == t.c.person_id)
        .outerjoin(net, sa.and_(net.c.person_id == t.c.person_id, net.c.component_id == t.c.component_id))
        .where(k.qualifier_kpi == kpi_name, sa.or_(value.is_(None), value < k.qualifier_min))
    )


def _withheld(run: Run) -> sa.Exists:
    """A gate or qualifier already took this component's commission back (the caps then have nothing to cut)."""
    w = comp_line.alias("withheld")
    return sa.exists().where(
        w.c.run_id == run.run_id, w.c.person_id == comp_line.c.person_id, w.c.component_id == comp_line.c.component_id,
        w.c.step.in_([STEPS["gate"], STEPS["qualifier"]]), w.c.amount != 0,
    )


def cap_deal_lines(run: Run) -> sa.Select:
    """A deal's commission (all its band lines) above the cap per deal: the excess comes off."""
    c, k = comp_line.c, comp_component.c
    keys = (c.person_id, c.plan_version_id, c.component_id, c.component, c.opportunity_id, c.close_date)
    per_deal = (
        sa.select(*keys, sa.func.max(c.credited).label("credited"), sa.func.sum(c.amount).label("earned"))
        .where(c.run_id == run.run_id, c.rule.in_(RATE_RULES), ~_withheld(run))
        .group_by(*keys)
        .subquery("per_deal")
    )
    d = per_deal.c
    return (
        sa.select(*line(
            run, "cap_deal",
            person_id=d.person_id, plan_version_id=d.plan_version_id, component_id=d.component_id, component=d.component,
            opportunity_id=d.opportunity_id, close_date=d.close_date, credited=d.credited, base=d.earned,
            limit_amount=k.cap_deal, amount=k.cap_deal - d.earned,
        ))
        .select_from(per_deal)
        .join(comp_component, k.id == d.component_id)
        .where(k.cap_deal.is_not(None), d.earned > k.cap_deal)
    )


def _net_lines(run: Run, rule: str) -> sa.Subquery:
    c = comp_line.c
    keys = (c.person_id, c.plan_version_id, c.component_id, c.component)
    return (
        sa.select(*keys, sa.func.sum(c.amount).label("net"))
        .where(c.run_id == run.run_id, c.step < STEPS[rule], c.step <= STEPS["cap_year"])
        .group_by(*keys)
        .subquery("so_far")
    )


def cap_period_lines(run: Run) -> sa.Select:
    """The component's net for the period above the cap per period: the excess comes off."""
    n, k = _net_lines(run, "cap_period"), comp_component.c
    return (
        sa.select(*line(
            run, "cap_period",
            person_id=n.c.person_id, plan_version_id=n.c.plan_version_id, component_id=n.c.component_id,
            component=n.c.component, base=n.c.net, limit_amount=k.cap_period, amount=k.cap_period - n.c.net,
        ))
        .select_from(n)
        .join(comp_component, k.id == n.c.component_id)
        .where(k.cap_period.is_not(None), n.c.net > k.cap_period)
    )


def cap_year_lines(run: Run) -> sa.Select:
    """Paid earlier in the plan year (calendar year; same person and component name, periods ending
    before this one starts) plus this period's net above the cap per year: this period gives back the
    excess, never more than it earned (earlier periods are not reopened)."""
    n, k = _net_lines(run, "cap_year"), comp_component.c
    c = comp_line.c
    earlier = (
        sa.select(c.person_id, c.component, sa.func.sum(c.amount).label("paid"))
        .where(
            c.run_id != run.run_id,
            c.period_start >= date(run.period.start.year, 1, 1),
            c.period_end < run.period.start,
            c.step <= STEPS["cap_year"],
        )
        .group_by(c.person_id, c.component)
        .subquery("earlier")
    )
    paid = sa.func.coalesce(earlier.c.paid, 0)
    excess = paid + n.c.net - k.cap_year
    return (
        sa.select(*line(
            run, "cap_year",
            person_id=n.c.person_id, plan_version_id=n.c.plan_version_id, component_id=n.c.component_id,
            component=n.c.component, base=n.c.net, earlier=paid, limit_amount=k.cap_year,
            amount=-sa.func.least(n.c.net, excess),
        ))
        .select_from(n)
        .join(comp_component, k.id == n.c.component_id)
        .outerjoin(earlier, sa.and_(earlier.c.person_id == n.c.person_id, earlier.c.component == n.c.component))
        .where(k.cap_year.is_not(None), excess > 0, n.c.net > 0)
    )
