"""Copy a whole warehouse between engines (`python -m spm_core copy --from URL --to URL`).

Rows travel as Arrow batches: DuckDB hands them over natively, other warehouses stream through a
server-side cursor; each batch is written with insert_frame (DuckDB's Arrow scan, PostgreSQL's COPY).
The target's tables are replaced inside one transaction, so a failed copy leaves the target as it was
(on PostgreSQL; DuckDB too, its DDL being transactional).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from . import schema
from .coaching import tables as coaching_tables
from .contests import tables as contest_tables
from .db import WarehouseError, analyze, arrow_type, has_schema, insert_frame

Progress = Callable[[str, int, int], None]  # table, rows copied so far, rows in the table
# Packages that keep their own MetaData, their tables made on the first write (coaching notes, scorecard
# settings, contests): copied when the source has them, else left out of the target as well.
OWN_METADATA = (coaching_tables.metadata, contest_tables.metadata)


def copied_tables(engine: Engine) -> list[sa.Table]:
    """Every SPM table the warehouse holds, in an order that inserts parents before children."""
    inspector = sa.inspect(engine)
    tables = [*schema.metadata.sorted_tables, *(t for m in OWN_METADATA for t in m.sorted_tables)]
    return [t for t in tables if inspector.has_table(t.name)]


def copy_warehouse(source: Engine, target: Engine, *, batch_rows: int = 100_000, progress: Progress | None = None) -> dict[str, int]:
    """Replace the target's SPM tables with the source's, schema and rows; returns rows per table."""
    if source.url == target.url:
        raise WarehouseError("The source and the target are the same warehouse.")
    if not has_schema(source):
        raise WarehouseError(f"No SPM tables in {source.url.render_as_string()}.")
    present = copied_tables(source)
    with source.connect() as src:
        totals = {t.name: src.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() for t in present}
        with target.begin() as dst:
            for own in OWN_METADATA:
                own.drop_all(dst)
                own.create_all(dst, tables=[t for t in present if t.metadata is own])
            schema.metadata.drop_all(dst)
            schema.metadata.create_all(dst)
            for table in present:
                done = 0
                for batch in read_batches(src, table, batch_rows):
                    insert_frame(dst, table, batch)
                    done += batch.num_rows
                    if progress:
                        progress(table.name, done, totals[table.name])
                if progress and done == 0:
                    progress(table.name, 0, 0)
            advance_sequences(dst, present)
    analyze(target)
    return totals


def advance_sequences(conn: sa.Connection, tables: list[sa.Table]) -> None:
    """Ids copied with their rows must not be handed out again: each id sequence (the compensation lines')
    is moved past the largest id copied. The target's sequences were just created, so they start at 1."""
    for table in tables:
        for column in table.columns:
            if not isinstance(column.default, sa.Sequence):
                continue
            top = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(column), 0))).scalar_one())
            if not top:
                continue
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT setval(CAST(:name AS regclass), :next, false)"), {"name": column.default.name, "next": top + 1})
            else:  # DuckDB has no setval: draw the copied ids from the new sequence, in one vectorised statement
                conn.execute(sa.select(sa.func.max(sa.func.nextval(column.default.name))).select_from(sa.func.range(top)))


def read_batches(conn: sa.Connection, table: sa.Table, batch_rows: int) -> Iterator[pa.Table]:
    """The table's rows in Arrow batches of at most batch_rows, with the schema's column types."""
    names = [c.name for c in table.columns]
    if conn.dialect.name == "duckdb":
        cols = ", ".join(f'"{n}"' for n in names)
        for batch in conn.connection.driver_connection.sql(f'SELECT {cols} FROM "{table.name}"').to_arrow_reader(batch_rows):
            yield pa.Table.from_batches([batch])
        return
    result = conn.execution_options(yield_per=batch_rows).execute(sa.select(table))
    for rows in result.partitions():
        values = list(zip(*rows, strict=True))
        yield pa.table({c.name: pa.array(values[i], type=arrow_type(c)) for i, c in enumerate(table.columns)})
