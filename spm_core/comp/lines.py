"""The shape of a payout line, the order of the rules, and what each stage reads back.

Every stage of the engine is one INSERT ... SELECT of lines; later stages read the lines already
written in the same run (the net so far), which is how SPEC's order of rules becomes data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from ..filters import Period
from .schema import comp_line

FAR = date(9999, 12, 31)

# SPEC's order: rate table, gates/thresholds and qualifiers, caps (deal, period, plan year), bonuses,
# manager overrides, draws, clawbacks. A rule acts on the net of the steps before it.
STEPS = {
    "marginal": 1,
    "retroactive": 1,
    "no_quota": 1,
    "gate": 2,
    "qualifier": 3,
    "cap_deal": 4,
    "cap_period": 5,
    "cap_year": 6,
    "bonus": 7,
    "spiff": 7,
    "override": 8,
    "draw": 9,
    "guarantee": 9,
    "draw_recovery": 9,
    "clawback": 10,
    "clawback_cut": 10,
    "prior_period": 11,
    "manual": 11,
    "dispute": 11,
}
# Lines a person or a later recalculation posted, not the engine: a period's run keeps them.
ADJUSTMENT_RULES = ("prior_period", "manual", "dispute")
RATE_RULES = ("marginal", "retroactive")
FIELDS = (
    "person_id", "plan_version_id", "component_id", "component", "opportunity_id", "close_date", "credited", "quota",
    "attainment_before", "attainment_after", "band_lower", "band_upper", "rate", "base", "threshold", "measured",
    "limit_amount", "earlier", "from_person_id", "amount",
    "origin_line_id", "origin_start", "origin_end", "origin_rule", "reason",
)
COLUMNS = ("run_id", "period_start", "period_end", "step", "rule", *FIELDS)


@dataclass(frozen=True)
class Run:
    """What a stage needs to know: the run it writes into, the period, an optional single person, the
    measures the plans' commissions and SPIFFs pay on (only those are credited), and whether any
    commission filters its deals (else the deals' product and segment are not joined)."""

    run_id: int
    period: Period
    person_id: int | None = None
    measures: tuple[str, ...] = ("won_amount",)
    deal_filters: bool = False


def line(run: Run, rule: str, **values: sa.ColumnElement) -> list[sa.ColumnElement]:
    """The select list of a line, in COLUMNS order; fields not given are NULL."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValueError(f"not line fields: {sorted(unknown)}")
    fixed = {
        "run_id": sa.literal(run.run_id),
        "period_start": sa.literal(run.period.start),
        "period_end": sa.literal(run.period.end),
        "step": sa.literal(STEPS[rule]),
        "rule": sa.literal(rule),
    }
    return [
        sa.cast(fixed[name] if name in fixed else values.get(name, sa.null()), comp_line.c[name].type).label(name)
        for name in COLUMNS
    ]


def insert(select: sa.Select) -> sa.Insert:
    return comp_line.insert().from_select(list(COLUMNS), select)


def net_before(run: Run, rule: str, name: str = "net") -> sa.Subquery:
    """Per person and component: the sum of this run's lines of the steps before `rule`."""
    c = comp_line.c
    return (
        sa.select(c.person_id, c.component_id, sa.func.sum(c.amount).label("net"))
        .where(c.run_id == run.run_id, c.step < STEPS[rule])
        .group_by(c.person_id, c.component_id)
        .subquery(name)
    )


def ratio(numerator: sa.ColumnElement, denominator: sa.ColumnElement) -> sa.ColumnElement:
    """Attainment for display (a float); every decision is taken on money, never on this."""
    return sa.cast(numerator, sa.Double) / sa.func.nullif(sa.cast(denominator, sa.Double), 0)
