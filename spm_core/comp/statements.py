"""A person's statement for a period, read through the viewer's scope: the lines with their trace, the
total (the sum of the lines, to the cent), adjustments, year to date (over the plan year), the draw
balance, and per commission component its attainment and the distance to its next band.

Attainment follows the component that pays: its measure (bookings, pipeline created or won deals, with
its deal criteria) over its target or the person's quota, read through the engine's own queries
(rates.totals, crediting.component_quotas, crediting.edge) under the plan in force on the period's last
day (the plan a further deal would be paid on); nothing here re-implements a rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_UP, Decimal

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..filters import Period, Scope
from ..people import people_in_view
from ..schema import person
from . import rates
from .crediting import component_quotas, credits, edge, quotas
from .cycle import add_months, state, statuses
from .draws import months
from .engine import filters_deals, paid_measures
from .extras import plan_year
from .lines import ADJUSTMENT_RULES, FAR, Run
from .plans import COUNT_MEASURES
from .schema import comp_assignment, comp_component, comp_line, comp_plan_version, comp_rate_band
from .trace import lines, money_text, totals

ZERO = Decimal("0.00")
HUNDREDTH = Decimal("0.01")


def _quantity(measure: str, value: Decimal) -> tuple[str, str]:
    """A quantity of the measure as its number and its unit words: ("$1,234.50", "pipeline created"), ("3", "won deals")."""
    if measure in COUNT_MEASURES:
        units = value.quantize(HUNDREDTH).normalize()
        return f"{units:f}", f"won deal{'' if units == 1 else 's'}"
    return money_text(value), "pipeline created" if measure == "created_amount" else ""


def amount_text(measure: str, value: Decimal) -> str:
    """A quantity of the measure in words: $1,234.50, $1,234.50 pipeline created, 3 won deals (1 won deal)."""
    return " ".join(filter(None, _quantity(measure, value)))


@dataclass(frozen=True)
class NextBand:
    """The next band up: its lower edge (percent of the target), its rate (percent, or money per deal for
    a count measure), and how much more of the measure reaches it."""

    lower: Decimal
    rate: Decimal
    needed: Decimal
    measure: str = "won_amount"

    @property
    def text(self) -> str:
        rate = f"{money_text(self.rate)} per deal" if self.measure in COUNT_MEASURES else f"the {self.rate.normalize():f} % rate"
        number, words = _quantity(self.measure, self.needed)
        return f"{' '.join(filter(None, (number, 'more', words)))} to reach {self.lower.normalize():f} % and {rate}"


@dataclass(frozen=True)
class Attainment:
    """One commission component as the engine measures it in the period: credited (in the measure's
    unit) over its target (the person's quota or the component's target; None without one)."""

    component: str
    measure: str
    credited: Decimal
    target: Decimal | None
    next_band: NextBand | None

    @property
    def percent(self) -> Decimal | None:
        """Percent of the target (shown only; the engine decides on the exact numbers)."""
        return None if not self.target else (self.credited / self.target * 100).quantize(HUNDREDTH)

    def text(self, named: bool = False) -> str:
        """The gauge's words, e.g. "Attainment 44.12 % of $30,000.00. $1,765.43 more to reach 50 % and the
        5 % rate"; `named` prefixes the component (a plan with several commissions)."""
        head = f"{self.component}: " if named else ""
        if self.percent is None:
            return f"{head}no quota or target for the period: no attainment."
        return (f"{head}Attainment {self.percent} % of {amount_text(self.measure, self.target)}. "
                + (self.next_band.text if self.next_band else "The top band is reached."))


@dataclass(frozen=True)
class Statement:
    person_id: int
    person: str
    period: Period
    state: str  # the period's: open, calculated, approved, locked, paid
    status: str | None  # the statement's approval status (None before a calculation)
    comment: str | None  # the latest approval comment (why it was sent back)
    lines: pd.DataFrame
    total: Decimal
    adjustments: Decimal
    ytd: Decimal
    draw_balance: Decimal  # owed back from recoverable draws, after this period
    credited: Decimal  # bookings credited in the period (whatever the plan pays on)
    quota: Decimal | None  # the person's quota for the period
    components: tuple[Attainment, ...]  # per commission component of the plan on the period's last day, in plan order

    @property
    def attainments(self) -> list[tuple[Attainment, str]]:
        """Each component with its gauge text (named when the plan has more than one)."""
        return gauges(self.components)


def gauges(components: tuple[Attainment, ...]) -> list[tuple[Attainment, str]]:
    """Each commission with its gauge text, named when the plan has more than one."""
    return [(a, a.text(len(components) > 1)) for a in components]


def visible(conn: sa.Connection, scope: Scope, person_id: int) -> bool:
    """Whether the person exists and the viewer may see them."""
    ids = people_in_view(None, scope)
    stmt = sa.select(person.c.id).where(person.c.id == person_id)
    return conn.execute(stmt if ids is None else stmt.where(person.c.id.in_(ids))).first() is not None


def _sum(conn: sa.Connection, *where: sa.ColumnElement) -> Decimal:
    c = comp_line.c
    return Decimal(conn.execute(sa.select(sa.func.coalesce(sa.func.sum(c.amount), 0)).where(*where)).scalar_one()).quantize(ZERO)


def _year_start_month(conn: sa.Connection, person_id: int, period: Period) -> int:
    """The month the plan year of the person's plan on the period's last day starts in (January without one)."""
    a, v = comp_assignment.c, comp_plan_version.c
    found = conn.execute(
        sa.select(v.year_start_month).join_from(comp_assignment, comp_plan_version, v.id == a.plan_version_id)
        .where(a.person_id == person_id, a.effective_from <= period.end, sa.func.coalesce(a.effective_to, FAR) >= period.end)
    ).scalar()
    return found or 1


def _year_periods(period: Period, start_month: int = 1) -> list[Period]:
    """The periods of the same length, up to this one, that start in its plan year (YTD's periods)."""
    span, found = months(period), []
    first_day = plan_year(period.start, start_month).start
    start = period.start
    while start >= first_day:
        found.append(Period(start, add_months(start, span) - timedelta(days=1)))
        start = add_months(start, -span)
    return found[::-1]


def attainments(conn: sa.Connection, person_id: int, period: Period) -> tuple[Attainment, ...]:
    """Per commission component of the person's plan on the period's last day: the engine's credited
    total and target for that assignment (rates.totals, crediting.component_quotas) and each band's
    edge in the measure's unit (crediting.edge); the next band is the first edge above the total."""
    run = Run(0, period, person_id, paid_measures(conn), filters_deals(conn))
    t, q = rates.totals(run), component_quotas(period).subquery("component_quota")
    a, k, b = comp_assignment.c, comp_component.c, comp_rate_band.c
    rows = conn.execute(
        sa.select(k.id, k.name, k.measure, q.c.quota, sa.func.coalesce(t.c.total, 0), b.lower, b.rate, edge(q.c.quota, b.lower))
        .select_from(comp_assignment)
        .join(comp_component, sa.and_(k.plan_version_id == a.plan_version_id, k.kind == "commission"))
        .outerjoin(q, sa.and_(q.c.assignment_id == a.id, q.c.component_id == k.id))
        .outerjoin(t, sa.and_(t.c.assignment_id == a.id, t.c.component_id == k.id))
        .outerjoin(comp_rate_band, b.component_id == k.id)
        .where(a.person_id == person_id, a.effective_from <= period.end, sa.func.coalesce(a.effective_to, FAR) >= period.end)
        .order_by(k.position, b.lower)
    ).all()
    found: dict[int, Attainment] = {}
    for cid, name, measure, target, total, lower, rate, level in rows:
        target = None if target is None else Decimal(target)
        total = Decimal(total)
        if cid not in found:
            found[cid] = Attainment(name, measure, total, target, None)
        if target and lower is not None and found[cid].next_band is None and Decimal(level) > total:
            needed = (Decimal(level) - total).quantize(HUNDREDTH, ROUND_UP)
            found[cid] = Attainment(name, measure, total, target, NextBand(Decimal(lower), Decimal(rate), needed, measure))
    return tuple(found.values())


def statement(engine: Engine, scope: Scope, person_id: int, period: Period) -> Statement | None:
    """The statement, or None when the viewer may not see the person (or there is no such person)."""
    c = comp_line.c
    with engine.connect() as conn:
        if not visible(conn, scope, person_id):
            return None
        name = conn.execute(sa.select(person.c.name).where(person.c.id == person_id)).scalar_one()
        mine = c.person_id == person_id
        here = (c.period_start == period.start, c.period_end == period.end)
        total = _sum(conn, mine, *here)
        adjustments = _sum(conn, mine, *here, c.rule.in_(ADJUSTMENT_RULES))
        year = _year_periods(period, _year_start_month(conn, person_id, period))
        ytd = _sum(conn, mine, sa.tuple_(c.period_start, c.period_end).in_([(p.start, p.end) for p in year]))
        draws = _sum(conn, mine, c.rule.in_(["draw", "draw_recovery"]), c.period_end <= period.end)
        cr = credits(period).subquery("credit")
        credited = Decimal(conn.execute(sa.select(sa.func.coalesce(sa.func.sum(cr.c.credited), 0)).where(cr.c.person_id == person_id))
                           .scalar_one()).quantize(ZERO)
        q = quotas(period).subquery("person_quota")
        quota = conn.execute(sa.select(q.c.quota).where(q.c.person_id == person_id)).scalar()
        quota = None if quota is None else Decimal(quota).quantize(ZERO)
        status, comment = statuses(conn, period).get(person_id, (None, None))
        period_state = state(conn, period)
        found = attainments(conn, person_id, period)
    return Statement(person_id, name, period, period_state, status, comment, lines(engine, period, scope, person_id), total,
                     adjustments, ytd, draws, credited, quota, found)


def history(engine: Engine, scope: Scope, person_id: int) -> pd.DataFrame:
    """Per period with lines for the person (newest first): period_start, period_end, total, lines;
    empty when the viewer may not see them."""
    c = comp_line.c
    with engine.connect() as conn:
        if not visible(conn, scope, person_id):
            return pd.DataFrame(columns=["period_start", "period_end", "total", "lines"])
        result = conn.execute(
            sa.select(c.period_start, c.period_end, sa.func.sum(c.amount).label("total"), sa.func.count().label("lines"))
            .where(c.person_id == person_id).group_by(c.period_start, c.period_end).order_by(c.period_start.desc(), c.period_end)
        )
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()), dtype=object)


def periods_of(engine: Engine, scope: Scope, person_id: int) -> list[Period]:
    """The periods with lines for the person (newest first); none when the viewer may not see them."""
    frame = history(engine, scope, person_id)
    return [Period(start, end) for start, end in zip(frame["period_start"], frame["period_end"], strict=True)]


def periods_in_view(engine: Engine, scope: Scope) -> list[Period]:
    """The periods with lines for anyone in view (newest first): what the team and admin pages offer,
    so a statement of any past period can be opened, not only the last few quarters'."""
    c = comp_line.c
    stmt = sa.select(c.period_start, c.period_end).distinct().order_by(c.period_start.desc(), c.period_end)
    ids = people_in_view(None, scope)
    with engine.connect() as conn:
        rows = conn.execute(stmt if ids is None else stmt.where(c.person_id.in_(ids))).all()
    return [Period(start, end) for start, end in rows]


def team(engine: Engine, scope: Scope, period: Period) -> pd.DataFrame:
    """One row per person in view with lines in the period: person_id, person, total, lines, status, comment."""
    frame = totals(engine, period, scope)
    with engine.connect() as conn:
        found = statuses(conn, period)
    frame["status"] = [found.get(pid, (None, None))[0] for pid in frame["person_id"]]
    frame["comment"] = [found.get(pid, (None, None))[1] for pid in frame["person_id"]]
    return frame
