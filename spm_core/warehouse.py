"""Opening the warehouse, and creating the embedded demo one on first start.

The demo is built into a temporary file and renamed into place, so an interrupted first start
never leaves a half-built warehouse behind.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .config import warehouse_url
from .db import WarehouseError, duckdb_path, has_schema, make_engine
from .demo import DemoSpec, build_demo
from .files import private_umask
from .upgrade import missing, upgrade
from .users import create_demo_users

FIRST_START_OPPORTUNITIES = 100_000
log = logging.getLogger("spm.warehouse")


@dataclass(frozen=True)
class FirstStart:
    created: bool
    path: str | None
    rows: dict[str, int]
    demo_users: tuple[tuple[str, str, str], ...] = ()  # (username, role, password) created with it


def ensure_demo_warehouse(
    url: str | None = None, opportunities: int = FIRST_START_OPPORTUNITIES, as_of: date | None = None
) -> FirstStart:
    """Create the embedded demo warehouse if the DuckDB file does not exist yet; other URLs are
    expected to exist (we never write demo data into someone's PostgreSQL unasked)."""
    url = warehouse_url(url)
    path = duckdb_path(url)
    if path is None or path.exists():
        return FirstStart(False, str(path) if path else None, {})
    path.parent.mkdir(parents=True, exist_ok=True)
    building = path.with_name(path.name + f".{os.getpid()}.tmp")
    building.unlink(missing_ok=True)
    with private_umask():  # the file and its .wal are 600 from the start
        engine = make_engine(f"duckdb:///{building}")
        try:
            rows = build_demo(engine, DemoSpec(opportunities=opportunities, as_of=as_of or date.today()))
        finally:
            engine.dispose()
    if path.exists():  # another process finished first: keep theirs
        building.unlink(missing_ok=True)
        return FirstStart(False, str(path), {})
    building.replace(path)
    engine = make_engine(url, read_only=True)
    try:
        users = tuple(create_demo_users(engine))
    finally:
        engine.dispose()
    print(f"Demo warehouse built at {path.resolve()}.", flush=True)
    if users:  # printed once, on the console that started the app; the README lists them too
        print("Demo sign-ins (demo data only):\n" + "\n".join(f"  {u:<10} {role:<8} {pw}" for u, role, pw in users), flush=True)
    return FirstStart(True, str(path), rows, users)


def open_warehouse(url: str | None = None, read_only: bool = True) -> Engine:
    """An engine on an existing warehouse with the SPM schema, or a WarehouseError saying what to do."""
    engine = make_engine(url, read_only=read_only)
    try:
        ok = has_schema(engine)
    except Exception as exc:  # driver errors differ per warehouse; the message is what matters here
        engine.dispose()
        raise WarehouseError(f"Cannot open the warehouse at {warehouse_url(url)}: {exc}") from exc
    if not ok:
        engine.dispose()
        raise WarehouseError(
            f"The warehouse at {warehouse_url(url)} has no SPM tables yet: "
            "run `python -m spm_core init --demo` (or `init` for an empty one)."
        )
    if read_only and missing(engine):
        engine.dispose()
        _upgrade(url)
        engine = make_engine(url, read_only=True)
    elif not read_only:
        upgrade(engine)
    return engine


def _upgrade(url: str | None) -> None:
    """Add what this version's schema has and the file lacks, on a short read-write connection. When the file
    cannot be opened for writing (another process holds it), the app goes on read-only: pages that need the
    new parts say so, and the next open tries again."""
    with private_umask():
        try:
            writer = make_engine(url)
        except Exception as exc:  # driver errors differ per warehouse
            log.warning("Could not open %s to add this version's tables: %s", warehouse_url(url), exc)
            return
        try:
            added = upgrade(writer)
        except sa.exc.DBAPIError as exc:
            log.warning("Could not add this version's tables to %s: %s", warehouse_url(url), exc)
            return
        finally:
            writer.dispose()
    log.info("Upgraded %s: added %s", warehouse_url(url), ", ".join(added))
