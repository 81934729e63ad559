"""Shared fixtures: a seeded demo warehouse (built once per session) and empty tiny warehouses, each on
every engine the metrics are tested live on (DuckDB, and PostgreSQL from tests/pg_cluster.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date

import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from spm_core import schema
from spm_core.db import create_schema, insert_frame, make_engine, read_frame
from spm_core.demo import DemoSpec, build_demo
from spm_core.transfer import copy_warehouse

ENGINES = ("duckdb", "postgresql")  # the engines the metrics tests run on, live
DEMO_SPEC = DemoSpec(opportunities=3000, activities=9000, seed=7, as_of=date(2026, 11, 23))
DEMO_TABLES = ("opportunity", "person", "quota", "activity", "stage", "team", "product", "region", "segment")


@pytest.fixture(scope="session", params=ENGINES)
def engine_kind(request: pytest.FixtureRequest) -> str:
    """The one parametrisation: every warehouse fixture below, and every test using one, runs on each engine
    (all DuckDB tests first, then all PostgreSQL ones, so each session-wide warehouse is built once)."""
    return request.param


@pytest.fixture(scope="session")
def new_warehouse_url(engine_kind: str, request: pytest.FixtureRequest,
                      tmp_path_factory: pytest.TempPathFactory) -> Callable[[], str]:
    """A factory of URLs of new, empty warehouses on the engine under test."""
    if engine_kind == "postgresql":
        return request.getfixturevalue("pg_database")
    return lambda: f"duckdb:///{tmp_path_factory.mktemp('warehouse')}/w.duckdb"


@pytest.fixture(scope="session")
def demo_duckdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A read-write engine on a demo warehouse in a temporary DuckDB file (seed 7, today 2026-11-23)."""
    path = tmp_path_factory.mktemp("demo_warehouse") / "demo.duckdb"
    engine = make_engine(f"duckdb:///{path}")
    build_demo(engine, DEMO_SPEC)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def demo_engine(engine_kind: str, new_warehouse_url: Callable[[], str], demo_duckdb: Engine) -> Iterator[Engine]:
    """The demo warehouse on the engine under test: the DuckDB file itself, or a copy of it (made once)."""
    if engine_kind == "duckdb":
        yield demo_duckdb
        return
    engine = make_engine(new_warehouse_url())
    copy_warehouse(demo_duckdb, engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def demo_frames(demo_duckdb: Engine) -> dict[str, pd.DataFrame]:
    """The demo warehouse's tables as plain DataFrames, read with a bare `select *` (no KPI code)."""
    return {name: read_frame(demo_duckdb, sa.select(schema.metadata.tables[name])) for name in DEMO_TABLES}


Rows = Sequence[Mapping[str, object]] | pd.DataFrame | pa.Table


def _as_frame(rows: Rows) -> pd.DataFrame | pa.Table:
    if isinstance(rows, pd.DataFrame | pa.Table):
        return rows
    return pa.Table.from_pylist([dict(r) for r in rows])


@pytest.fixture
def tiny_engine(new_warehouse_url: Callable[[], str]) -> Iterator[Callable[..., Engine]]:
    """A factory: `tiny_engine(person=[...], opportunity=[...], ...)` gives an engine on a new warehouse on
    the engine under test (a temporary DuckDB file, or a new database on the session's PostgreSQL cluster)
    holding the empty schema plus exactly the rows given (lists of dicts with the same keys, DataFrames or
    Arrow tables), inserted with insert_frame in one transaction. With no arguments the
    warehouse is empty; a test may also insert rows itself with insert_frame inside engine.begin()."""
    engines: list[Engine] = []

    def make(**tables: Rows) -> Engine:
        unknown = set(tables) - set(schema.metadata.tables)
        if unknown:
            raise ValueError(f"no table(s) {sorted(unknown)} in the schema")
        engine = make_engine(new_warehouse_url())
        engines.append(engine)
        create_schema(engine)
        with engine.begin() as conn:
            for name, rows in tables.items():
                if len(rows):
                    insert_frame(conn, schema.metadata.tables[name], _as_frame(rows))
        return engine

    yield make
    for engine in engines:
        engine.dispose()

# Fixtures for the Streamlit page tests (demo_url, empty_url, maven_url), the PostgreSQL cluster, the
# compensation ledger (comp_db), the one-rep comp warehouse (rep_warehouse), local Spark (demo_spark) and the
# real-browser tests (e2e_support: a streamlit server and Chromium).
pytest_plugins = ["apptest_support", "pg_cluster", "comp_ledger_support", "comp_engine_support", "spark_support", "e2e_support"]


@pytest.fixture(autouse=True)
def _no_page_error_hidden_by_the_boundary(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """app.py's error boundary turns a failing page into a message (no at.exception): fail the test on it
    anyway. A test that expects the boundary to fire checks its records and clears caplog."""
    yield
    hidden = [r for r in caplog.get_records("call") if r.name == "spm.errors"]
    assert not hidden, f"a page failed behind the error boundary: {hidden[0].getMessage()}\n{hidden[0].exc_text}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Groups for `pytest -n N --dist loadgroup` (scripts/test.sh): each test file stays on one worker, so its
    module fixtures are built once; the real-browser files share one group, so two Chromiums and two servers
    never compete for the same 2 cores (their timeouts assume one of each)."""
    for item in items:
        name = item.path.stem
        item.add_marker(pytest.mark.xdist_group("e2e" if name.startswith("test_e2e") else name))
