"""Stored numbers of the standard periods: the pipeline change waterfall per current owner and product, for
this and last month, quarter and year at the warehouse's as_of (schema.pipeline_change_fact).

Why: the waterfall compares every deal's state at the period's start with its state now, two snapshots of
all of history, seconds at 10M deals on each cold view. Which deals a view holds is a per-deal condition on
their current owner and product, so storing the steps per (owner, product) makes any view's waterfall, for
any scope and filters, an exact sum of a few thousand rows (history.pipeline_change reads them when
history_facts.period_facts_hold). Built by the same query as the live path (history.pipeline_change_select),
when the demo is generated, after every import (as_of may move) and by `rebuild-history-facts`; other
periods and other as_of days are computed live.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from . import history_facts
from .db import get_info, set_info
from .history import pipeline_change_select
from .history_facts import INFO_KEY, PERIOD_FACTS_KEY, standard_periods
from .schema import pipeline_change_fact, warehouse_info


def rebuild(conn: sa.Connection, as_of: date) -> int:
    """Replace the stored waterfalls with those of the standard periods at as_of; returns the row count."""
    pipeline_change_fact.create(conn, checkfirst=True)
    conn.execute(pipeline_change_fact.delete())
    for period in standard_periods(as_of):
        steps = pipeline_change_select(period, as_of, [], per_owner=True).subquery("steps")
        stmt = sa.select(
            sa.literal(as_of, sa.Date).label("as_of"),
            sa.literal(period.start, sa.Date).label("period_start"),
            sa.literal(period.end, sa.Date).label("period_end"),
            *steps.c,
        )
        conn.execute(sa.insert(pipeline_change_fact).from_select([c.name for c in stmt.selected_columns], stmt))
    set_info(conn, {PERIOD_FACTS_KEY: as_of.isoformat()})
    return int(conn.execute(sa.select(sa.func.count()).select_from(pipeline_change_fact)).scalar_one())


def refresh(conn: sa.Connection) -> None:
    """After an import, in its transaction: restore the stored waterfalls at the warehouse's (maybe new) as_of,
    when the history facts are kept up (a warehouse without them reads history live)."""
    info = dict(conn.execute(sa.select(warehouse_info.c.key, warehouse_info.c.value)).all())
    if info.get(INFO_KEY) == "true" and info.get("as_of"):
        rebuild(conn, date.fromisoformat(info["as_of"]))


def rebuild_all(engine: Engine, cluster: bool = True) -> tuple[int, int]:
    """Every stored history number: the per-deal facts, then the standard periods' waterfalls (at the
    warehouse's as_of; none without one, since "today" moves). Returns both row counts."""
    facts = history_facts.rebuild(engine, cluster=cluster)
    as_of = get_info(engine).get("as_of")
    if not as_of:
        return facts, 0
    with engine.begin() as conn:
        return facts, rebuild(conn, date.fromisoformat(as_of))
