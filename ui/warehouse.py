"""One warehouse engine per server process, and cached KPI queries keyed by the warehouse's version.

DuckDB allows one writer or many readers per file across processes (PITFALLS.md), so the app opens
the warehouse read-only; a CLI load can then run beside it after the app is stopped, or the app's
own admin page writes through a separate short-lived engine. The file's version is its modification time.

A PostgreSQL warehouse is shared: other processes write while the app reads, and readers never wait for
writers. Its engine stays open; its version is read from the warehouse at every page run
(spm_core/data_version.py), so a commit from anywhere shows on the next run and never before.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date

import duckdb
import pandas as pd
import sqlalchemy as sa
import streamlit as st
from sqlalchemy.engine import Engine

from spm_core import comparison as comparisons
from spm_core import data_version, metrics, result_cache
from spm_core import deals as deal_lists
from spm_core.config import ENV_VAR, warehouse_url
from spm_core.db import WarehouseError, duckdb_path, get_info, make_engine
from spm_core.files import private_umask
from spm_core.filters import Filters, Scope
from spm_core.warehouse import FirstStart, ensure_demo_warehouse, open_warehouse
from ui.text import md


def configured_url() -> str:
    """secrets.toml's warehouse_url, else $SPM_WAREHOUSE_URL, else the embedded DuckDB file."""
    try:
        from_secrets = st.secrets.get("warehouse_url")
    except FileNotFoundError:
        from_secrets = None
    return warehouse_url(from_secrets or os.environ.get(ENV_VAR))


@dataclass(frozen=True)
class Warehouse:
    engine: Engine
    url: str
    version: str  # changes whenever the data does; part of every cache key
    info: dict[str, str]
    first_start: FirstStart

    @property
    def as_of(self) -> date:
        """'Today' for the data: a generated or historical dataset says its own date; else today."""
        value = self.info.get("as_of")
        return min(date.fromisoformat(value), date.today()) if value else date.today()

    @property
    def has_history(self) -> bool:
        return self.info.get("has_history") == "true"

    @property
    def has_quotas(self) -> bool:
        return self.info.get("has_quotas") == "true"


def _release(wh: Warehouse) -> None:
    wh.engine.dispose()


@st.cache_resource(
    show_spinner="Opening the warehouse (the first start builds a demo one: a few seconds)...", on_release=_release
)
def _open(url: str, version: str) -> Warehouse:
    first = ensure_demo_warehouse(url)
    engine = open_warehouse(url)
    result_cache.attach(engine)  # one result per statement for all sessions; a reopened warehouse starts afresh
    return Warehouse(engine, url, version, get_info(engine), first)


def _file_version(url: str) -> str:
    path = duckdb_path(url)
    if path is None or not path.exists():
        return "new"
    stat = path.stat()
    return f"{stat.st_mtime_ns}-{stat.st_size}"


def first_start_pending() -> bool:
    """True until the embedded demo warehouse exists: opening it will first build it (about 20 s)."""
    path = duckdb_path(configured_url())
    return path is not None and not path.exists()


# Held while writable() has the warehouse open read-write, so no session reopens it read-only meanwhile.
_WRITING = threading.RLock()


def current() -> Warehouse:
    """The warehouse for this server; reopened (and caches invalidated) when its file changes, or at the
    data version a shared warehouse holds now."""
    url = configured_url()
    if duckdb_path(url) is None:
        return _shared(url)
    with _WRITING:
        return _open(url, _file_version(url))


def _shared(url: str) -> Warehouse:
    """The open warehouse at the version read now, read before any data of this run: the data is then at
    least that new, so nothing older is ever kept under this version's keys."""
    opened = _open(url, "shared")
    version = data_version.version(opened.engine)
    cache = result_cache.cache_of(opened.engine)
    if cache is not None:
        cache.renew(version)
    return _at_version(opened, id(opened.engine), ".".join(map(str, version)))


@st.cache_resource(show_spinner=False, max_entries=4)
def _at_version(_opened: Warehouse, engine_id: int, version: str) -> Warehouse:
    """The shared warehouse's information (as_of, has_history...) as of this version: an import moves it."""
    return replace(_opened, version=version, info=get_info(_opened.engine))


# Why a write can fail that is nobody's input mistake: another process holds the DuckDB file, a lost
# connection, a conflicting transaction. Pages say so and keep what was typed; nothing was written.
WRITE_FAILURES = (WarehouseError, sa.exc.SQLAlchemyError, duckdb.Error)


def refusal(exc: BaseException) -> str:
    """The message for a WRITE_FAILURES exception (its first line only: no SQL, no traceback)."""
    reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    return f"The warehouse refused the change ({md(reason)}). Nothing was written; try again in a moment."


@contextmanager
def writable() -> Iterator[Engine]:
    """A short-lived read-write engine on the warehouse (the admin import page writes through it).

    DuckDB refuses a read-write connection to a file this process has open read-only, so the cached
    read-only engines are closed first. Afterwards current() opens the warehouse read-only again under
    the file's new version, which also invalidates every cached query result. A shared warehouse needs
    none of that: the commit moves its data version, which every session reads on its next run.
    """
    url = configured_url()
    if duckdb_path(url) is None:  # a shared warehouse: readers go on meanwhile, and see the commit next run
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()
        return
    with _WRITING, private_umask():  # the .wal written meanwhile is 600 like the warehouse
        _open.clear()  # on_release disposes each cached engine
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


@st.cache_data(show_spinner=False, max_entries=512)
def kpis(
    _engine: Engine, version: str, names: tuple[str, ...], filters: Filters, scope: Scope, by: tuple[str, ...], as_of: date
) -> pd.DataFrame:
    return metrics.query(_engine, list(names), filters, scope, list(by), as_of)


@st.cache_data(show_spinner=False, max_entries=256)
def comparison(
    _engine: Engine, version: str, names: tuple[str, ...], filters: Filters, scope: Scope, as_of: date, against: str
) -> comparisons.Comparison:
    return comparisons.compare(_engine, names, filters, scope, as_of, against)


@st.cache_data(show_spinner=False, max_entries=128)
def deals(_engine: Engine, version: str, kpi_name: str, filters: Filters, scope: Scope) -> pd.DataFrame:
    return deal_lists.deals(_engine, kpi_name, filters, scope)
