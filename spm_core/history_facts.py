"""Per-deal history facts: one row per deal and stage it was ever in (schema.deal_stage), derived from
opportunity_history and the stage table, so stage conversion, time in stage, stalled deals and stage win
rates read a few rows per deal instead of grouping every change of every deal on each page view.

Exactness: each column is the aggregate the raw-history query computes (history.py keeps both paths and
tests/test_history_facts.py compares them), so SPEC definitions do not move:
- entered / left_at: min(changed_at) / max(valid_to) of the deal's rows in the stage;
- next_entered: the next stage entry in (entered, position) order, over stages the stage table holds;
- advanced: a later entry (entered on or after this one) at position + 1, or at a higher won stage.
deal_current_stage adds, for each deal whose current history row is open, the day it has been in that stage
since (what stalled deals measure): the later of the last day it left another stage (max left_at) and its first
entry into this one, as history.stalled_deals computes it from the deal's rows.

When the facts exist: `warehouse_info.history_facts = FACTS_VERSION`, set by a full rebuild (demo generation,
`python -m spm_core rebuild-history-facts`). Imports refresh the deals they write (fact_changes.py), and only
when the facts were complete before; a warehouse without them (an older file, a fresh import) keeps
reading opportunity_history, which gives the same numbers more slowly. The app opens warehouses
read-only, so it never builds them itself. The facts depend on the stage table's positions: rebuild
after changing stages.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .db import get_info, set_info
from .filters import PERIOD_NAMES, Period
from .schema import deal_current_stage, deal_stage, opportunity_history, stage, warehouse_info

h = opportunity_history.c
INFO_KEY = "history_facts"
# The stored numbers' layout version, kept in warehouse_info[INFO_KEY]: a file built by another version
# (say, before a stored table existed) reads raw history until rebuilt, instead of failing.
FACTS_VERSION = "5"
# How opportunity_history is stored on DuckDB (the demo writes it so, cluster_history rewrites it so): the
# current rows (valid_to NULL) first by changed_at, then the replaced rows by valid_to.
HISTORY_ORDER = "current rows by changed_at, then replaced rows by valid_to"


def has_facts(engine: Engine) -> bool:
    """Whether the warehouse's history facts are complete (built in full, kept up by imports since)."""
    return get_info(engine).get(INFO_KEY) == FACTS_VERSION


PERIOD_FACTS_KEY = "period_facts_as_of"


def standard_periods(as_of: date) -> list[Period]:
    """The periods the filter bar names (this and last month, quarter, year) on as_of: the ones stored."""
    return list(dict.fromkeys(Period.named(name, as_of) for name in PERIOD_NAMES))


def stored_as_of(engine: Engine) -> date | None:
    """The as_of period_facts were built at (None without complete facts of this version)."""
    info = get_info(engine)
    stored = info.get(PERIOD_FACTS_KEY)
    return date.fromisoformat(stored) if info.get(INFO_KEY) == FACTS_VERSION and stored else None


def period_facts_hold(engine: Engine, period: Period, as_of: date | None = None) -> bool:
    """Whether period_facts stored this period's numbers at this as_of (built for the warehouse's as_of;
    None: at whichever as_of they were built, for numbers that do not depend on it)."""
    info = get_info(engine)
    stored = info.get(PERIOD_FACTS_KEY)
    if info.get(INFO_KEY) != FACTS_VERSION or not stored or (as_of is not None and stored != as_of.isoformat()):
        return False
    return period in standard_periods(date.fromisoformat(stored))


def facts_select(conditions: Sequence[sa.ColumnElement] = ()) -> sa.Select:
    """deal_stage rows computed from opportunity_history (the deals matching `conditions` on it), in
    entered order so DuckDB's zone maps skip most of the table for a period's entries."""
    entries = (
        sa.select(
            h.opportunity_id,
            h.stage,
            sa.func.min(h.changed_at).label("entered"),
            sa.func.max(h.valid_to).label("left_at"),
        )
        .where(*conditions)
        .group_by(h.opportunity_id, h.stage)
        .subquery("entries")
    )
    e = entries.c
    position, is_won = stage.c.position, stage.c.is_won
    # Windows over the stages the stage table holds only (the raw queries join it): a NULL position is its
    # own partition, whose window values are discarded below.
    deal = (e.opportunity_id, position.is_(None))
    by_position = {"partition_by": deal, "order_by": position}
    next_position = sa.func.lead(position).over(**by_position)
    next_position_entered = sa.func.lead(e.entered).over(**by_position)
    # The latest entry into a won stage placed after this one: "some won stage above, entered on or after".
    won_above = sa.func.max(sa.case((is_won, e.entered))).over(**by_position, rows=(1, None))
    advanced = sa.or_(
        sa.and_(next_position == position + 1, next_position_entered >= e.entered),
        won_above >= e.entered,
    )
    next_entered = sa.func.lead(e.entered).over(partition_by=deal, order_by=(e.entered, position))
    positioned = position.is_not(None)
    return (
        sa.select(
            e.opportunity_id,
            e.stage,
            e.entered,
            e.left_at,
            position,
            is_won,
            sa.case((positioned, next_entered)).label("next_entered"),
            sa.case((positioned, sa.func.coalesce(advanced, False))).label("advanced"),
        )
        .select_from(entries.outerjoin(stage, stage.c.name == e.stage))
        .order_by(e.entered, e.opportunity_id)
    )


COLUMNS = ("opportunity_id", "stage", "entered", "left_at", "position", "is_won", "next_entered", "advanced")
CURRENT_COLUMNS = ("opportunity_id", "stage", "in_stage_since")


def current_select(conditions: Sequence[sa.ColumnElement] = ()) -> sa.Select:
    """deal_current_stage rows from deal_stage (complete for these deals) and the current history rows (the
    deals matching `conditions` on opportunity_history): open deals only, the ones stalled deals list."""
    ds = deal_stage.c
    current = sa.select(h.opportunity_id, h.stage).where(h.valid_to.is_(None), sa.not_(h.is_closed), *conditions)
    cur = current.distinct().subquery("cur")
    left_other = sa.func.max(sa.case((ds.stage != cur.c.stage, ds.left_at)))
    first_seen = sa.func.min(sa.case((ds.stage == cur.c.stage, ds.entered)))
    return (
        sa.select(cur.c.opportunity_id, cur.c.stage, sa.func.coalesce(sa.func.greatest(left_other, first_seen), first_seen))
        .select_from(cur.join(deal_stage, ds.opportunity_id == cur.c.opportunity_id))
        .group_by(cur.c.opportunity_id, cur.c.stage)
    )


def _current_first(valid_to: sa.ColumnElement, changed_at: sa.ColumnElement) -> list[sa.ColumnElement]:
    """HISTORY_ORDER as ORDER BY terms."""
    current = sa.case((valid_to.is_(None), 0), else_=1)
    return [current, sa.func.coalesce(valid_to, changed_at), changed_at]


def cluster_history(conn: sa.Connection) -> None:
    """Rewrite opportunity_history in HISTORY_ORDER (DuckDB only: PostgreSQL reads it through indexes).
    Same rows, other physical order: a snapshot on day d then reads the current rows changed by d and the
    replaced rows valid after d, and DuckDB's zone maps skip the rest (imports append in their own order)."""
    if conn.dialect.name != "duckdb":
        return
    sorted_copy = sa.Table(
        "history_sorted", sa.MetaData(), *(c._copy() for c in opportunity_history.columns), prefixes=["TEMPORARY"]
    )
    sorted_copy.create(conn)
    columns = list(opportunity_history.c.keys())
    ordered = sa.select(opportunity_history).order_by(*_current_first(h.valid_to, h.changed_at))
    conn.execute(sa.insert(sorted_copy).from_select(columns, ordered))
    conn.execute(opportunity_history.delete())
    conn.execute(sa.insert(opportunity_history).from_select(columns, sa.select(sorted_copy)))
    sorted_copy.drop(conn)


def rebuild(engine: Engine, cluster: bool = True) -> int:
    """Recompute every deal's facts from opportunity_history and mark them complete (clustering history
    first unless told not to); returns the number of fact rows."""
    with engine.begin() as conn:
        if cluster:
            cluster_history(conn)
        deal_stage.create(conn, checkfirst=True)
        deal_current_stage.create(conn, checkfirst=True)
        conn.execute(deal_stage.delete())
        conn.execute(deal_current_stage.delete())
        conn.execute(sa.insert(deal_stage).from_select(list(COLUMNS), facts_select()))
        conn.execute(sa.insert(deal_current_stage).from_select(list(CURRENT_COLUMNS), current_select()))
        set_info(conn, {INFO_KEY: FACTS_VERSION})
        return int(conn.execute(sa.select(sa.func.count()).select_from(deal_stage)).scalar_one())


def refresh(conn: sa.Connection, facts_condition: sa.ColumnElement, history_condition: sa.ColumnElement) -> None:
    """Recompute the facts of some deals inside the caller's transaction (an import): the same deals
    selected once on deal_stage.opportunity_id and once on opportunity_history.opportunity_id (every deal with
    a current row has deal_stage rows, so the deals' old current rows are found through deal_stage)."""
    had_facts = sa.select(deal_stage.c.opportunity_id).where(facts_condition)
    conn.execute(deal_current_stage.delete().where(deal_current_stage.c.opportunity_id.in_(had_facts)))
    conn.execute(deal_stage.delete().where(facts_condition))
    conn.execute(sa.insert(deal_stage).from_select(list(COLUMNS), facts_select([history_condition])))
    conn.execute(sa.insert(deal_current_stage).from_select(list(CURRENT_COLUMNS), current_select([history_condition])))


def facts_complete(conn: sa.Connection) -> bool:
    """has_facts inside the caller's transaction (an import decides whether to keep the facts up)."""
    info = warehouse_info.c
    values = conn.execute(sa.select(info.value).where(info.key == INFO_KEY)).scalars().all()  # all: DuckDB wants it finished
    return values == [FACTS_VERSION]
