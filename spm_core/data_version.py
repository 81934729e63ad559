"""Which version of its data a shared PostgreSQL warehouse holds, so the app's caches tell old results from new.

A DuckDB file's version is its modification time (ui/warehouse.py). A PostgreSQL warehouse is written by
other processes while the app reads it (a CLI import, another app process behind the same address), so
its version lives in the warehouse: every transaction that wrote anything through an spm_core engine sets
warehouse_info's `data_version` to the next number of a sequence in the same commit (track_writes, an
event on the engine; a sequence outlives `copy --force` replacing the tables, so the number only grows). Being
part of the writing transaction, the new number becomes visible exactly when the data does: a reader that
asks for the version first and then reads the data never holds new numbers under an old version's key,
nor old numbers under a new one. The app asks once per page run (one indexed row, well under a
millisecond on a local server).

Writes by other tools (psql, your own ETL) do not move the counter: for them the version also turns over
every OUTSIDE_WRITES_SECONDS (the bound the README states).
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine

KEY = "data_version"
OUTSIDE_WRITES_SECONDS = 300  # also the result cache's max_age: the same bound for the same reason

# Only a transaction that wrote has a transaction id (PostgreSQL assigns one at its first write, DDL and
# COPY included), so read-only transactions that end in a commit leave the version alone.
_WROTE = "SELECT pg_current_xact_id_if_assigned() IS NOT NULL AND to_regclass('warehouse_info') IS NOT NULL"
_SEQUENCE = "CREATE SEQUENCE IF NOT EXISTS spm_data_version"
_BUMP = (
    f"INSERT INTO warehouse_info (key, value) VALUES ('{KEY}', nextval('spm_data_version')::text) "
    "ON CONFLICT (key) DO UPDATE SET value = nextval('spm_data_version')::text"  # drawn under the row's lock:
)  # two writers committing at once store their numbers in commit order


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
        if cursor.fetchone()[0]:
            cursor.execute(_SEQUENCE)
            cursor.execute(_BUMP)
    finally:
        cursor.close()


_READ = sa.text(
    "SELECT (SELECT oid FROM pg_database WHERE datname = current_database())::bigint, "
    "(SELECT value FROM warehouse_info WHERE key = :key)"
).bindparams(key=KEY)


def version(engine: Engine, now: float | None = None) -> tuple[int, int, int]:
    """(the database's identity, the number the last committed writing transaction left, OUTSIDE_WRITES_SECONDS
    periods elapsed), read fresh (never through the result cache). For one database both numbers only grow;
    a database dropped and made again is another identity, so its restarted numbers never match old keys.
    On other warehouses only the period moves."""
    period = int((time.time() if now is None else now) // OUTSIDE_WRITES_SECONDS)
    if engine.dialect.name != "postgresql":
        return 0, 0, period
    with engine.connect() as conn:
        database, value = conn.execute(_READ).one()
    return int(database), int(value) if value else 0, period
