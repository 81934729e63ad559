"""Keep the stored history numbers (history_facts.py, period_facts.py) up through an import by recomputing
only what it can have changed, instead of all of them (a minute or more at 10M deals, for one deal).

What each stored number depends on, and so what an import's changed deals (the opportunities and the
histories it writes) reach:
- deal_stage, deal_current_stage, period_open_at_start: one deal's own history -> the changed deals;
- the per (owner, product) period rows (waterfall, cohorts, accuracy, stage wins): sums over the deals whose
  current owner and product are the group's -> every group a changed deal was in before or is in after;
- the stint medians: not a sum -> recomputed whole (4 s at 10M), unless no changed deal had or has a stint
  ending in the year they cover;
- the whole warehouse's as_of (which periods are stored), its first history day (which past periods the
  forecast learns from) and the stage table -> when an import moves one, everything is rebuilt.
Each part is deleted and recomputed by the full rebuild's own statements restricted to those deals or
groups, so the result equals a full rebuild (tests/test_fact_changes.py compares every table).

History is narrowed to the changed groups' deals first (a temporary table of their ids), so each restricted
statement reads those deals' rows. Once the groups hold a large share of all deals, one pass over everything
is cheaper: past FULL_SHARE the period numbers are rebuilt whole (`python -m spm_core bench-fact-changes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from . import history_facts, period_facts
from .db import insert_frame
from .schema import deal_stage, opportunity, opportunity_history, warehouse_info

NO_PRODUCT = -1  # the group key of deals without a product (ids are positive), so groups match with "="
# Above this share of all deals in the changed groups, the period numbers are rebuilt whole. At 10M deals (load
# 3.6): one deal changed, 5 s against 50 s whole; 1 % changed, whose groups hold 28 % of the deals, 21 s.
FULL_SHARE = 0.5


@dataclass(frozen=True)
class Changes:
    """The deals an import changes and the state the stored numbers were built on, noted before it writes."""

    deals: sa.Table  # temporary: id
    groups: sa.Table  # temporary: owner_id, product_key of the deals, before and after the writes
    group_deals: sa.Table  # temporary: id of every deal in those groups (after the writes)
    first_history_day: object  # min(changed_at), as the driver returns it
    stored_as_of: str | None
    had_median_stints: bool  # a changed deal had a stint the stored medians count

    def in_groups(self, owner_id: sa.ColumnElement, product_id: sa.ColumnElement) -> sa.ColumnElement:
        """Whether (owner_id, product_id) is a group a changed deal was or is in (period_facts.InGroups)."""
        g = self.groups.c
        return sa.exists().where(g.owner_id == owner_id, g.product_key == sa.func.coalesce(product_id, NO_PRODUCT))


def _info(conn: sa.Connection) -> dict[str, str]:
    return dict(conn.execute(sa.select(warehouse_info.c.key, warehouse_info.c.value)).all())


def _first_history_day(conn: sa.Connection) -> object:
    """What forecast.learning_periods reads of the whole history (and what an old export can move)."""
    return conn.execute(sa.select(sa.func.min(opportunity_history.c.changed_at))).scalar_one()


def _median_stints(conn: sa.Connection, deals: sa.Table, as_of: str | None) -> bool:
    """Whether a deal of `deals` has a stint the medians at as_of count (history.median_select's window)."""
    if not as_of:
        return False
    day = date.fromisoformat(as_of)
    ds = deal_stage.c
    found = sa.select(ds.opportunity_id).where(
        ds.opportunity_id.in_(sa.select(deals.c.id)),
        ds.position.is_not(None),
        ds.next_entered.between(day - timedelta(days=365), day),
    )
    return conn.execute(found.limit(1)).first() is not None


def _share_in_groups(conn: sa.Connection, changes: Changes) -> float:
    """Note the ids of the deals in the changed groups (after the writes); returns their share of all deals."""
    o = opportunity.c
    in_groups = sa.select(o.id).where(changes.in_groups(o.owner_id, o.product_id))
    conn.execute(sa.insert(changes.group_deals).from_select(["id"], in_groups))
    total = conn.execute(sa.select(sa.func.count()).select_from(opportunity)).scalar_one()
    grouped = conn.execute(sa.select(sa.func.count()).select_from(changes.group_deals)).scalar_one()
    return grouped / total if total else 0.0


def _note_groups(conn: sa.Connection, changes: Changes) -> None:
    o = opportunity.c
    key = sa.func.coalesce(o.product_id, NO_PRODUCT)
    stmt = sa.select(o.owner_id, key).where(o.id.in_(sa.select(changes.deals.c.id))).distinct()
    conn.execute(sa.insert(changes.groups).from_select(["owner_id", "product_key"], stmt))


def _temporary(name: str, *columns: sa.Column) -> sa.Table:
    return sa.Table(name, sa.MetaData(), *columns, prefixes=["TEMPORARY"])


def track(conn: sa.Connection, deal_ids: pd.Series) -> Changes | None:
    """Before an import writes, in its transaction: note the deals it changes and their current groups.
    None when the warehouse's facts are not complete (they are not kept up: the views read history)."""
    if not history_facts.facts_complete(conn):
        return None
    deals = _temporary("_changed_deals", sa.Column("id", sa.BigInteger))
    groups = _temporary("_changed_groups", sa.Column("owner_id", sa.Integer), sa.Column("product_key", sa.Integer))
    group_deals = _temporary("_changed_group_deals", sa.Column("id", sa.BigInteger))
    for table in (deals, groups, group_deals):
        table.create(conn)
    ids = pd.Series(deal_ids).dropna().astype("int64").unique()
    if len(ids):
        insert_frame(conn, deals, pa.table({"id": pa.array(ids, pa.int64())}))
    stored_as_of = _info(conn).get(history_facts.PERIOD_FACTS_KEY)
    changes = Changes(
        deals, groups, group_deals, _first_history_day(conn), stored_as_of, _median_stints(conn, deals, stored_as_of)
    )
    _note_groups(conn, changes)
    return changes


def refresh(conn: sa.Connection, changes: Changes, stages_replaced: bool) -> None:
    """After the import's writes and its warehouse_info update: recompute what the changed deals reach
    (everything when as_of, the first history day or the stage table moved), then drop the temporary tables
    (on failure the transaction's rollback drops them)."""
    _note_groups(conn, changes)
    ids = sa.select(changes.deals.c.id)
    share = _share_in_groups(conn, changes)  # 0: no deal changed (an import of quotas, say)
    if stages_replaced:
        history_facts.refresh(conn, sa.true(), sa.true())
    elif share:
        history_facts.refresh(conn, deal_stage.c.opportunity_id.in_(ids), opportunity_history.c.opportunity_id.in_(ids))
    as_of = _info(conn).get("as_of")
    if as_of:
        moved = changes.stored_as_of != as_of or _first_history_day(conn) != changes.first_history_day
        if stages_replaced or moved or share > FULL_SHARE:
            period_facts.rebuild(conn, date.fromisoformat(as_of))
        elif share:
            medians = changes.had_median_stints or _median_stints(conn, changes.deals, as_of)
            group_deals = sa.select(changes.group_deals.c.id)
            period_facts.refresh_changed(conn, date.fromisoformat(as_of), ids, changes.in_groups, group_deals, medians)
    for table in (changes.deals, changes.groups, changes.group_deals):
        table.drop(conn)
