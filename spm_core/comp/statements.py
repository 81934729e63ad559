"""A person's statement for a period, read through the viewer's scope: the lines with their trace, the
total (the sum of the lines, to the cent), adjustments, year to date, the draw balance, attainment and
the distance to the next band of the plan's rate table.

Attainment and the distance use the engine's own crediting and quota queries, so the statement says
what the engine will pay on; nothing here re-implements a rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..filters import Period, Scope
from ..people import people_in_view
from ..schema import person
from .crediting import credits, quotas
from .cycle import add_months, state, statuses
from .draws import months
from .extras import plan_year
from .lines import ADJUSTMENT_RULES, FAR
from .schema import comp_assignment, comp_component, comp_line, comp_plan_version, comp_rate_band
from .trace import lines, money_text, totals

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class NextBand:
    """The next band up: its lower edge (percent of quota), its rate, and the bookings still needed."""

    lower: Decimal
    rate: Decimal
    needed: Decimal

    @property
    def text(self) -> str:
        return f"{money_text(self.needed)} more to reach {self.lower.normalize():f} % and the {self.rate.normalize():f} % rate"


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
    credited: Decimal
    quota: Decimal | None
    next_band: NextBand | None

    @property
    def attainment(self) -> Decimal | None:
        """Percent of quota (shown only; the engine decides on money)."""
        return None if not self.quota else (self.credited / self.quota * 100).quantize(Decimal("0.01"))


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


def _next_band(conn: sa.Connection, person_id: int, period: Period, credited: Decimal, quota: Decimal | None) -> NextBand | None:
    """The first band above the person's attainment in their commission rate table on the period's last day."""
    if not quota:
        return None
    a, k, b = comp_assignment.c, comp_component.c, comp_rate_band.c
    bands = conn.execute(
        sa.select(b.lower, b.rate)
        .join_from(comp_assignment, comp_component, k.plan_version_id == a.plan_version_id)
        .join(comp_rate_band, b.component_id == k.id)
        .where(a.person_id == person_id, k.kind == "commission", a.effective_from <= period.end,
               sa.func.coalesce(a.effective_to, FAR) >= period.end)
        .order_by(k.position, b.lower)
    ).all()
    for lower, rate in bands:
        level = (quota * Decimal(lower) / 100).quantize(ZERO)
        if level > credited:
            return NextBand(Decimal(lower), Decimal(rate), level - credited)
    return None


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
        next_band = _next_band(conn, person_id, period, credited, quota)
    return Statement(person_id, name, period, period_state, status, comment, lines(engine, period, scope, person_id), total,
                     adjustments, ytd, draws, credited, quota, next_band)


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
