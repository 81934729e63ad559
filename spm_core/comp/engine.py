"""Calculate a period: run the stages in SPEC's order, each one set-based statement in the warehouse.

Python only orchestrates (a dozen statements per run, whatever the number of deals). A run replaces
the period's earlier engine lines (for one person with --person; adjustments posted into the period
stay), so running it twice gives the same lines, and records when, by whom, on which plan versions and
how many credit rows it read. A closed period (approved, locked, paid) is never rewritten: its run
posts the differences in the next open period (adjustments.py).
"""

from __future__ import annotations

import getpass
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..filters import Period
from ..schema import person
from .adjustments import post_differences
from .audit import record
from .clawbacks import clawback_lines, cut_lines
from .crediting import credits
from .cycle import CLOSED, after_run, engine_lines_of, state
from .draws import recovery_lines, top_up_lines
from .extras import bonus_lines, override_lines, year_bonus_lines
from .lines import Run, insert
from .periods import period_label
from .rates import marginal_lines, no_quota_lines, retroactive_lines
from .rules import cap_deal_lines, cap_period_lines, cap_year_lines, gate_lines, qualifier_lines
from .schema import comp_component, comp_line, comp_plan_version, comp_run, ensure_schema
from .spiffs import spiff_lines


@dataclass(frozen=True)
class RunSummary:
    run_id: int
    period: Period
    person_id: int | None
    credit_rows: int
    lines: int
    total: Decimal
    seconds: float


def _stages(conn: sa.Connection) -> list[Callable[[Run], sa.Select]]:
    kpis = conn.execute(sa.select(comp_component.c.qualifier_kpi).where(comp_component.c.qualifier_kpi.is_not(None)).distinct())
    qualifiers = [lambda run, name=name: qualifier_lines(run, name) for name in sorted(kpis.scalars())]
    k, v = comp_component.c, comp_plan_version.c
    months = conn.execute(sa.select(sa.func.coalesce(v.year_start_month, 1)).join_from(comp_component, comp_plan_version,
                                                                                      v.id == k.plan_version_id)
                          .where(k.kind == "bonus", k.bonus_per == "year").distinct()).scalars()
    yearly = [partial(year_bonus_lines, start_month=int(m)) for m in sorted(months)]
    # Bonuses and SPIFFs are written before the caps (a capped one counts inside them); their step keeps
    # their place in SPEC's order on the statement.
    return [marginal_lines, retroactive_lines, no_quota_lines, gate_lines, *qualifiers, cap_deal_lines, bonus_lines, *yearly, spiff_lines,
            cap_period_lines, cap_year_lines, override_lines, partial(top_up_lines, recoverable=True), partial(top_up_lines, recoverable=False),
            recovery_lines, clawback_lines, cut_lines]


def paid_measures(conn: sa.Connection) -> tuple[str, ...]:
    """The measures commissions and SPIFFs pay on (bookings at least: bonuses and overrides use them)."""
    k = comp_component.c
    used = conn.execute(sa.select(k.measure).where(k.kind.in_(["commission", "spiff"])).distinct()).scalars()
    return tuple(sorted({"won_amount", *used}))


def filters_deals(conn: sa.Connection) -> bool:
    """Whether any commission restricts its deals (product, segment, type or amount)."""
    k = comp_component.c
    criteria = sa.or_(*(column.is_not(None) for column in (k.deal_product, k.deal_segment, k.deal_type, k.deal_min_amount)))
    return conn.execute(sa.select(sa.exists().where(k.kind == "commission", criteria))).scalar_one()


def calculate(engine: Engine, period: Period, person_id: int | None = None, run_by: str | None = None) -> RunSummary:
    """Write the period's payout lines (everyone's, or one person's) and return a summary."""
    ensure_schema(engine)
    with engine.begin() as conn:
        return calculate_in(conn, period, person_id, run_by)


def calculate_in(conn: sa.Connection, period: Period, person_id: int | None = None, run_by: str | None = None,
                 what_if: bool = False) -> RunSummary:
    """calculate() inside the caller's transaction. what_if: for a transaction the caller rolls back (a
    plan preview, the estimator): the period's lines are rewritten as the engine pays them now, even in
    a closed period, with no cycle state or audit entry."""
    if not period.is_whole_months:
        raise ValueError(f"Calculate whole months (a month, quarter or year), not {period.start}..{period.end}: quotas and draws are monthly.")
    started = time.perf_counter()
    if person_id is not None and conn.execute(sa.select(person.c.id).where(person.c.id == person_id)).first() is None:
        raise ValueError(f"No person with id {person_id} in the warehouse.")
    run = Run(int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(comp_run.c.id), 0))).scalar_one()) + 1, period, person_id,
              paid_measures(conn), filters_deals(conn))
    actor = run_by or getpass.getuser()
    closed = not what_if and state(conn, period) in CLOSED
    if not closed:
        old = comp_line.delete().where(engine_lines_of(period))
        conn.execute(old if person_id is None else old.where(comp_line.c.person_id == person_id))
    for stage in _stages(conn):
        conn.execute(insert(stage(run)))
    if closed:
        target, posted = post_differences(conn, run, actor)
        record(conn, actor, "calculation", f"{period_label(period)} is {state(conn, period)}: {posted} prior-period line(s) "
               f"posted in {period_label(target)}", period, person_id)
    elif not what_if:
        after_run(conn, period, person_id, actor)
        record(conn, actor, "calculation", f"{period_label(period)} calculated", period, person_id)
    c = comp_line.c
    lines, total = conn.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(c.amount), 0)).where(c.run_id == run.run_id)).one()
    versions = conn.execute(sa.select(c.plan_version_id).where(c.run_id == run.run_id).distinct()).scalars().all()
    credit_source = credits(period).subquery("credit")
    count = sa.select(sa.func.count()).select_from(credit_source)
    if person_id is not None:
        count = count.where(credit_source.c.person_id == person_id)
    credit_rows = int(conn.execute(count).scalar_one())
    conn.execute(comp_run.insert(), {
        "id": run.run_id, "period_start": period.start, "period_end": period.end, "person_id": person_id,
        "run_at": datetime.now(), "run_by": actor, "plan_versions": ",".join(map(str, sorted(versions))),
        "credit_rows": credit_rows, "line_count": lines,
    })
    return RunSummary(run.run_id, period, person_id, credit_rows, int(lines), Decimal(total), time.perf_counter() - started)
