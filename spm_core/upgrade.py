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
from .db import add_columns, missing_columns, present_columns


def missing(engine: Engine | sa.Connection) -> list[str]:
    """What this version's schema has and the warehouse lacks: "table" or "table.column", sorted."""
    if isinstance(engine, Engine):
        with engine.connect() as conn:
            return missing(conn)
    present = present_columns(engine)
    tables = schema.metadata.sorted_tables
    gaps = [t.name for t in tables if t.name not in present]
    gaps += [f"{c.table.name}.{c.name}" for c in missing_columns(engine, tables)]
    return sorted(gaps)


def upgrade(engine: Engine) -> list[str]:
    """Add the missing tables and columns (on a read-write engine); returns what was added."""
    gaps = missing(engine)
    if not gaps:
        return []
    schema.metadata.create_all(engine)  # tables only: create_all never alters an existing table
    with engine.begin() as conn:
        add_columns(conn, missing_columns(conn, schema.metadata.sorted_tables))
    return gaps
