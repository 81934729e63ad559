"""Which version of its data a shared PostgreSQL warehouse holds, so the app's caches tell old results from new.

A DuckDB file's version is its modification time (ui/warehouse.py). A PostgreSQL warehouse is written by
other processes while the app reads it (a CLI import, another app process behind the same address), so
its version lives in the warehouse: every transaction that wrote anything through an spm_core engine adds
one to the single row of the table `spm_data_version` in the same commit (track_writes, an event on the
engine). That table is bookkeeping, not SPM data: no SPM schema holds it, so `copy --force` neither copies
nor replaces it, and the number only grows. Being part of the writing transaction, the new number becomes
visible exactly when the data does: a reader that asks for the version first and then reads the data
never keeps old numbers under a new version's key. The app asks once per page run (two one-row queries).

Writes by other tools (psql, your own ETL) do not move the counter: for them the version also turns over
every OUTSIDE_WRITES_SECONDS (the bound the README states).
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine

OUTSIDE_WRITES_SECONDS = 300  # also the result cache's max_age: the same bound for the same reason

# Only a transaction that wrote has a transaction id (PostgreSQL assigns one at its first write, DDL and
# COPY included), so read-only transactions that end in a commit leave the version alone.
_WROTE = "SELECT pg_current_xact_id_if_assigned() IS NOT NULL, to_regclass('spm_data_version') IS NOT NULL"
# Two first writers at once would both create the table, and the second CREATE fails on PostgreSQL's catalog
# (a duplicate key in pg_type) when the first commits, losing its whole transaction: a lock held to commit
# makes the second wait and then find the table.
_CREATE_LOCK = "SELECT pg_advisory_xact_lock(hashtext('spm_data_version'))"
_CREATE = "CREATE TABLE IF NOT EXISTS spm_data_version (id integer PRIMARY KEY, version bigint NOT NULL)"
# The row's lock orders writers committing at once: each adds one to what the previous one committed.
_BUMP = (
    "INSERT INTO spm_data_version VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET version = spm_data_version.version + 1"
)
_IDENTITY = sa.text(
    "SELECT oid::bigint, to_regclass('spm_data_version') IS NOT NULL FROM pg_database WHERE datname = current_database()"
)
_READ = sa.text("SELECT version FROM spm_data_version WHERE id = 1")


def track_writes(engine: Engine) -> None:
    """From now on every committed transaction on `engine` that wrote bumps the version (PostgreSQL only;
    a DuckDB file is versioned by the file itself)."""
    if engine.dialect.name != "postgresql" or sa.event.contains(engine, "commit", _bump_if_written):
        return
    sa.event.listen(engine, "commit", _bump_if_written)


def _bump_if_written(conn: sa.Connection) -> None:
    """Runs just before the DBAPI commit, on the same connection: through the raw cursor, so it is not
    itself a statement SQLAlchemy would see (and it cannot start a transaction of its own)."""
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(_WROTE)
        wrote, present = cursor.fetchone()
        if wrote:
            if not present:
                cursor.execute(_CREATE_LOCK)
                cursor.execute(_CREATE)
            cursor.execute(_BUMP)
    finally:
        cursor.close()


def version(engine: Engine, now: float | None = None) -> tuple[int, int, int]:
    """(the database's identity, the number the last committed writing transaction left, OUTSIDE_WRITES_SECONDS
    periods elapsed), read fresh (never through the result cache). For one database both numbers only grow;
    a database dropped and made again is another identity, so its restarted numbers never match old keys.
    On other warehouses only the period moves."""
    period = int((time.time() if now is None else now) // OUTSIDE_WRITES_SECONDS)
    if engine.dialect.name != "postgresql":
        return 0, 0, period
    with engine.connect() as conn:
        database, present = conn.execute(_IDENTITY).one()
        value = conn.execute(_READ).scalar() if present else 0
    return int(database), int(value or 0), period
