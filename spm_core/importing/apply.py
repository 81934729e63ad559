"""Write an import plan into the warehouse: all of it in one transaction, or nothing.

The plan is resolved again inside the transaction (plan.resolve), so ids are assigned against the warehouse
as it is when writing, not as it was when the user previewed the plan. On PostgreSQL imports take turns (a
transaction-level advisory lock): a second import waits for the first to commit, then resolves against
what it wrote, instead of assigning the same new ids beside it. Readers never wait: they see the old
data until the commit. Upserts are delete + bulk insert on
the upsert key, which makes importing the same files twice a no-op the second time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .. import fact_changes, schema
from ..db import add_new_columns, dated_arrow, insert_frame, set_info
from ..stages import stage_rows
from .model import ImportPlan, ImportRejected, ImportReport, Parsed
from .plan import Resolution, Write, key_conditions, resolve

Progress = Callable[[float, str], None]


def apply_import(engine: Engine, plan: ImportPlan, progress: Progress | None = None) -> ImportReport:
    """Write `plan` (which must have no errors) in one transaction; on any error the warehouse is unchanged."""
    if not plan.ok:
        raise ImportRejected(f"{len(plan.errors)} row(s) cannot be imported; nothing was written", plan.errors)
    started = time.perf_counter()
    report = progress or (lambda fraction, message: None)
    report(0.0, "Checking the files against the warehouse")
    with engine.begin() as conn:
        _one_import_at_a_time(conn, report)
        schema.metadata.create_all(conn)
        add_new_columns(conn)
        resolution = resolve(conn, plan.parsed, plan.stage_mapping)
        if resolution.errors:
            raise ImportRejected("the warehouse changed since the plan was made; plan the import again", resolution.errors)
        if resolution.stages_missing:
            insert_frame(conn, schema.stage, pd.DataFrame(stage_rows()))
        changes = fact_changes.track(conn, _changed_deals(resolution.writes))
        for step, write in enumerate(resolution.writes):
            report(0.1 + 0.8 * step / len(resolution.writes), f"Writing {write.table.name}")
            _write(conn, write)
        report(0.9, "Updating the warehouse information")
        set_info(conn, _info(conn, plan.parsed, resolution))
        if changes is not None:
            fact_changes.refresh(conn, changes, stages_replaced=resolution.stages_missing)
    report(1.0, "Done")
    return ImportReport(
        kind=plan.parsed.kind,
        inserted=resolution.inserts,
        updated=resolution.updates,
        people_created=tuple(resolution.people_to_create),
        products_created=tuple(resolution.products_to_create),
        product_matches=resolution.product_matches,
        seconds=time.perf_counter() - started,
        groups_created={table: tuple(names) for table, names in resolution.groups_to_create.items()},
        undated=resolution.undated,
    )


IMPORT_LOCK = 0x53504D494D504F52  # any fixed number: "SPMIMPOR"; released when the transaction ends


def _one_import_at_a_time(conn: sa.Connection, report: Progress) -> None:
    """Wait (saying so) while another import holds the warehouse's import lock (PostgreSQL; a DuckDB file has
    one writer anyway)."""
    if conn.dialect.name != "postgresql":
        return
    if not conn.execute(sa.select(sa.func.pg_try_advisory_xact_lock(IMPORT_LOCK))).scalar():
        report(0.0, "Waiting for another import to finish")
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(IMPORT_LOCK)))


def _write(conn: sa.Connection, write: Write) -> None:
    """Delete the rows being replaced, then bulk-insert the new state."""
    if write.key is not None and len(write.replaces):
        with key_conditions(conn, write.key, write.replaces) as conditions:
            for condition in conditions:
                conn.execute(sa.delete(write.table).where(condition))
    if len(write.rows):
        insert_frame(conn, write.table, dated_arrow(write.rows))


def _changed_deals(writes: list[Write]) -> pd.Series:
    """Ids of the opportunities this import writes or whose history it writes: what the stored history
    numbers are recomputed for (fact_changes.py)."""
    parts = []
    for w in writes:
        column = {schema.opportunity: "id", schema.opportunity_history: "opportunity_id"}.get(w.table)
        if column is not None:
            parts += [pd.Series(w.replaces, dtype="Int64"), pd.Series(w.rows.get(column, []), dtype="Int64")]
    return pd.concat(parts, ignore_index=True).dropna() if parts else pd.Series(dtype="Int64")


def _info(conn: sa.Connection, parsed: Parsed, resolution: Resolution) -> dict[str, str]:
    """source, has_history, has_quotas, and the dates the imported data spans (as_of never after today)."""
    info = {
        "source": parsed.kind,
        "has_history": _has_rows(conn, schema.opportunity_history),
        "has_quotas": _has_rows(conn, schema.quota),
    }
    dates = _imported_dates(parsed, resolution)
    if len(dates):
        # Widen the span the warehouse already had, never narrow it: an old export added to newer data
        # must not move every dashboard's "today" back in time.
        before = dict(conn.execute(sa.select(schema.warehouse_info.c.key, schema.warehouse_info.c.value)).all())
        latest, earliest = dates.max().date(), dates.min().date()
        if before.get("as_of"):
            latest = max(latest, date.fromisoformat(before["as_of"]))
        if before.get("start"):
            earliest = min(earliest, date.fromisoformat(before["start"]))
        info["as_of"] = min(latest, date.today()).isoformat()
        info["start"] = earliest.isoformat()
    return info


def _has_rows(conn: sa.Connection, table: sa.Table) -> str:
    return "true" if conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() else "false"


def _imported_dates(parsed: Parsed, resolution: Resolution) -> pd.Series:
    """Created dates, close dates of closed deals and history changes: the days the data has seen happen
    (an open deal's close date is a forecast, not an event)."""
    deals = next(w.rows for w in resolution.writes if w.table is schema.opportunity)
    parts = [deals["created_date"], deals["close_date"].where(deals["is_closed"].fillna(False).astype(bool))]
    if parsed.history is not None:
        parts.append(parsed.history["changed_at"])
    return pd.concat([p.astype("datetime64[ns]") for p in parts]).dropna()
