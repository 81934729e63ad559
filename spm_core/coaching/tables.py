"""The coaching package's own tables: scorecard settings, 1:1 notes and action items.

They live in their own MetaData (not schema.py's) so the warehouse core does not depend on coaching,
and are created on the first write (ensure_tables), since the app opens an existing warehouse
read-only: a reader treats a missing table as "nothing saved yet".
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Boolean, Column, Date, DateTime, Float, Integer, MetaData, String, Table
from sqlalchemy.engine import Engine

metadata = MetaData()

# The admin's scorecard: one row per component (a KPI), its weight (fractions summing to 1), cap and the
# default monthly target (NULL: bookings against the person's quota).
scorecard_component = Table(
    "scorecard_component",
    metadata,
    Column("kpi", String, primary_key=True),
    Column("weight", Float, nullable=False),
    Column("monthly_target", Float),
    Column("cap", Float, nullable=False),
)

# Per-person monthly targets overriding a component's default.
scorecard_target = Table(
    "scorecard_target",
    metadata,
    Column("person_id", Integer, primary_key=True, autoincrement=False),
    Column("kpi", String, primary_key=True),
    Column("monthly_target", Float, nullable=False),
)

coaching_note = Table(
    "coaching_note",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("rep_id", Integer, nullable=False),
    Column("author_id", Integer, nullable=False),
    Column("meeting_date", Date, nullable=False),
    Column("body", String, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

action_item = Table(
    "action_item",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("note_id", Integer, nullable=False),
    Column("text", String, nullable=False),
    Column("due_date", Date),
    Column("done", Boolean, nullable=False),
)


def ensure_tables(engine: Engine | sa.Connection) -> None:
    metadata.create_all(engine, checkfirst=True)


def exists(engine: Engine | sa.Connection, table: Table) -> bool:
    return sa.inspect(engine).has_table(table.name)
