"""The contests package's own tables, created on the first write (the app reads the warehouse read-only;
a missing table reads as "no contests yet")."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Boolean, Column, Date, Float, Integer, MetaData, String, Table
from sqlalchemy.engine import Engine

metadata = MetaData()

contest = Table(
    "contest",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String, nullable=False),
    Column("starts", Date, nullable=False),
    Column("ends", Date, nullable=False),
    Column("level", String, nullable=False),  # individual | team
    Column("board", String, nullable=False),  # ranked | race | elimination
    Column("target", Float),  # race: the score to reach
    Column("eliminate", Integer),  # elimination: how many drop each round
    Column("every_days", Integer),  # elimination: days per round
    Column("prizes", String),
    Column("recurring", String),  # daily | weekly | monthly; NULL: one round over the whole window
    Column("scope_root", Integer),  # the creating manager: participants come from their subtree; NULL: everyone
    Column("created_by", Integer),
)

# One row per metric: points per unit, or (per_target) points per % of the person's target.
contest_metric = Table(
    "contest_metric",
    metadata,
    Column("contest_id", Integer, primary_key=True, autoincrement=False),
    Column("kpi", String, primary_key=True),
    Column("points", Float, nullable=False),
    Column("per_target", Boolean, nullable=False),
)

# Who takes part: people matching every dimension listed (any of its values); none listed: everyone in scope.
contest_participant = Table(
    "contest_participant",
    metadata,
    Column("contest_id", Integer, primary_key=True, autoincrement=False),
    Column("dimension", String, primary_key=True),  # team | segment | role
    Column("value", String, primary_key=True),
)

contest_target = Table(
    "contest_target",
    metadata,
    Column("contest_id", Integer, primary_key=True, autoincrement=False),
    Column("person_id", Integer, primary_key=True, autoincrement=False),
    Column("kpi", String, primary_key=True),
    Column("target", Float, nullable=False),
)


def ensure_tables(engine: Engine | sa.Connection) -> None:
    metadata.create_all(engine, checkfirst=True)


def exists(engine: Engine | sa.Connection) -> bool:
    return sa.inspect(engine).has_table(contest.name)
