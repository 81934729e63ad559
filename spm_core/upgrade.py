"""Bring a warehouse made by an earlier version up to this version's schema.

The app opens the warehouse read-only, so a table or column added since the file was made would make every
page that reads it fail (a statement selecting a plan's new year_start_month, say) until something happened
to write. open_warehouse therefore checks once per open and, when something is missing, adds it on a short
read-write connection. Only additions: new tables, and new columns added as nullable (rows written before
them have no value to give), never a change to data.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from . import schema
from .comp import schema as comp_schema  # noqa: F401  (registers the compensation tables in schema.metadata)


def _present(conn: sa.Connection) -> dict[str, set[str]]:
    """Columns per table, from information_schema (reflection fails on duckdb-engine: PITFALLS)."""
    rows = conn.execute(sa.text("SELECT table_name, column_name FROM information_schema.columns"))
    present: dict[str, set[str]] = {}
    for table, column in rows:
        present.setdefault(table, set()).add(column)
    return present


def missing(engine: Engine | sa.Connection) -> list[str]:
    """What this version's schema has and the warehouse lacks: "table" or "table.column", sorted."""
    if isinstance(engine, Engine):
        with engine.connect() as conn:
            return missing(conn)
    present = _present(engine)
    gaps = []
    for table in schema.metadata.sorted_tables:
        if table.name not in present:
            gaps.append(table.name)
            continue
        gaps += [f"{table.name}.{c.name}" for c in table.columns if c.name not in present[table.name]]
    return sorted(gaps)


def upgrade(engine: Engine) -> list[str]:
    """Add the missing tables and columns (on a read-write engine); returns what was added."""
    gaps = missing(engine)
    if not gaps:
        return []
    schema.metadata.create_all(engine)  # tables only: create_all never alters an existing table
    with engine.begin() as conn:
        present = _present(conn)
        for gap in gaps:
            table_name, _, column_name = gap.partition(".")
            if column_name and column_name not in present.get(table_name, set()):
                column = schema.metadata.tables[table_name].c[column_name]
                kind = column.type.compile(dialect=conn.dialect)
                conn.execute(sa.text(f'ALTER TABLE "{table_name}" ADD COLUMN "{column_name}" {kind}'))
    return gaps
