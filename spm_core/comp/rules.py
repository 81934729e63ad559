"""Steps 2-6: gates and qualifiers, then caps per deal, per period and per plan year.

Each rule writes its effect as its own line (a negative amount) instead of editing the commission
lines, like a ledger's adjusting entry: the trace shows what the rate table paid and what each rule
took back, and the total is still the sum of the lines.

A bonus or SPIFF with `capped: true` counts inside its plan's one capped commission: the engine writes
those lines before the caps, and the period and year caps act on the commission plus them (the cap
line's `credited` holds the capped bonuses and SPIFFs it counted, for the trace).

The plan year starts on the 1st of the plan's year_start_month (January by default); a period belongs
to the plan year its first day is in. The year cap counts what was paid earlier in the plan year,
including the prior-period lines that corrected those periods (counted in the year of the period they
correct, wherever they were posted). The period cap needs no such help: a prior-period line is the
difference of its own period's recalculation, whose caps it already passed through; counting it again
in the period it is posted into would cap it twice.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from ..filters import Filters, Scope
from ..metrics import compile_query
from ..portable import date_from_parts
from .crediting import edge
from .lines import RATE_RULES, STEPS, Run, line, net_before, ratio
from .rates import totals
from .schema import comp_component, comp_line, comp_plan_version

CAPPED_RULES = tuple(rule for rule, step in STEPS.items() if step <= STEPS["cap_year"])
EXTRA_RULES = ("bonus", "spiff")


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


def capped_extras(where: sa.ColumnElement, corrections: bool = False) -> sa.Select:
    """Lines (matching `where`) of bonuses and SPIFFs marked capped, under their plan's capped commission:
    person_id, plan_version_id, component_id, component (the commission's), period_start, amount. With
    `corrections`, the prior-period lines correcting them, by the period they correct."""
    c, extra = comp_line.c, comp_component.alias("extra")
    k = comp_component.c
    rule, start = (c.origin_rule, c.origin_start) if corrections else (c.rule, c.period_start)
    return (
        sa.select(c.person_id, c.plan_version_id, k.id.label("component_id"), k.name.label("component"), start.label("period_start"),
                  c.amount)
        .join_from(comp_line, extra, sa.and_(extra.c.id == c.component_id, extra.c.capped.is_(True)))
        .join(comp_component, sa.and_(k.plan_version_id == c.plan_version_id, k.kind == "commission",
                                      sa.or_(k.cap_period.is_not(None), k.cap_year.is_not(None))))
        .where(rule.in_(EXTRA_RULES), where, (c.rule == "prior_period") if corrections else sa.true())
    )


def _net_lines(run: Run, rule: str) -> sa.Subquery:
    """Per person and commission: the net of this run's steps before `rule` (up to the year cap), plus
    the capped bonuses and SPIFFs counted inside it (`extras`)."""
    c = comp_line.c
    keys = ("person_id", "plan_version_id", "component_id", "component")
    own = sa.select(*(c[k] for k in keys), c.amount, sa.literal(0, c.amount.type).label("extra")).where(
        c.run_id == run.run_id, c.step < STEPS[rule], c.step <= STEPS["cap_year"])
    extras = capped_extras(c.run_id == run.run_id).subquery("extras")
    both = sa.union_all(own, sa.select(*(extras.c[k] for k in keys), extras.c.amount, extras.c.amount)).subquery("both")
    return (
        sa.select(*(both.c[k] for k in keys), sa.func.sum(both.c.amount).label("net"), sa.func.sum(both.c.extra).label("extras"))
        .group_by(*(both.c[k] for k in keys))
        .subquery("so_far")
    )


def cap_period_lines(run: Run) -> sa.Select:
    """The component's net for the period above the cap per period: the excess comes off."""
    n, k = _net_lines(run, "cap_period"), comp_component.c
    return (
        sa.select(*line(
            run, "cap_period",
            person_id=n.c.person_id, plan_version_id=n.c.plan_version_id, component_id=n.c.component_id,
            component=n.c.component, base=n.c.net, credited=n.c.extras, limit_amount=k.cap_period, amount=k.cap_period - n.c.net,
        ))
        .select_from(n)
        .join(comp_component, k.id == n.c.component_id)
        .where(k.cap_period.is_not(None), n.c.net > k.cap_period)
    )


def year_start(period_start: date, start_month: sa.ColumnElement) -> sa.ColumnElement:
    """The first day of the plan year (starting in `start_month`, 1-12) that contains `period_start`."""
    year = sa.case((start_month > period_start.month, period_start.year - 1), else_=period_start.year)
    return date_from_parts(sa.cast(year, sa.Integer), sa.cast(start_month, sa.Integer), sa.cast(sa.literal(1), sa.Integer))


def _paid_earlier(run: Run) -> sa.Subquery:
    """Per person, commission name and the period a line counts in: what periods before this one paid
    toward the caps (their lines up to the year cap, capped bonuses and SPIFFs, and the prior-period
    lines correcting them, counted in the period they correct)."""
    c = comp_line.c
    before = c.period_end < run.period.start
    own = sa.select(c.person_id, c.component, c.period_start.label("counts_in"), c.amount).where(
        c.run_id != run.run_id, before, c.step <= STEPS["cap_year"])
    corrections = sa.select(c.person_id, c.component, c.origin_start, c.amount).where(
        c.rule == "prior_period", c.origin_rule.in_(CAPPED_RULES), c.origin_end < run.period.start)
    extras = sa.union_all(capped_extras(sa.and_(c.run_id != run.run_id, before)),
                          capped_extras(c.origin_end < run.period.start, corrections=True)).subquery("earlier_extras")
    return sa.union_all(own, corrections, sa.select(extras.c.person_id, extras.c.component, extras.c.period_start,
                                                    extras.c.amount)).subquery("paid_before")


def cap_year_lines(run: Run) -> sa.Select:
    """Paid earlier in the plan year (same person and component name) plus this period's net above the
    cap per year: this period gives back the excess, never more than it earned (earlier periods are not
    reopened)."""
    n, k, v = _net_lines(run, "cap_year"), comp_component.c, comp_plan_version.c
    e = _paid_earlier(run)
    first_day = year_start(run.period.start, sa.func.coalesce(v.year_start_month, 1))
    paid = sa.func.coalesce(
        sa.select(sa.func.sum(e.c.amount))
        .where(e.c.person_id == n.c.person_id, e.c.component == n.c.component, e.c.counts_in >= first_day)
        .scalar_subquery(),
        0,
    )
    excess = paid + n.c.net - k.cap_year
    return (
        sa.select(*line(
            run, "cap_year",
            person_id=n.c.person_id, plan_version_id=n.c.plan_version_id, component_id=n.c.component_id,
            component=n.c.component, base=n.c.net, credited=n.c.extras, earlier=paid, limit_amount=k.cap_year,
            amount=-sa.func.least(n.c.net, excess),
        ))
        .select_from(n)
        .join(comp_component, k.id == n.c.component_id)
        .join(comp_plan_version, v.id == n.c.plan_version_id)
        .where(k.cap_year.is_not(None), excess > 0, n.c.net > 0)
    )
