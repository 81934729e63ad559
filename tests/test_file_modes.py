"""The warehouse and its write-ahead log are 600 wherever they are written (issue 8, item 13): the app's
first start, `python -m spm_core init`, and the app's own writes (the Import data page)."""

from __future__ import annotations

import os
import stat
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from spm_core import cli, demo, warehouse
from spm_core.db import make_engine
from spm_core.schema import warehouse_info
from ui.warehouse import writable

AS_OF = date(2026, 11, 23)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def current_umask() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


@pytest.fixture
def wal_modes(monkeypatch) -> list[int]:
    """Mode of the DuckDB .wal as the demo build leaves it (before the engine closes and checkpoints)."""
    seen: list[int] = []
    real = demo.build_demo

    def build_and_look(engine, spec):
        rows = real(engine, spec)
        wal = Path(f"{engine.url.database}.wal")
        assert wal.exists(), "a build with no .wal left open proves nothing"
        seen.append(mode(wal))
        return rows

    monkeypatch.setattr(demo, "build_demo", build_and_look)
    monkeypatch.setattr(warehouse, "build_demo", build_and_look)
    return seen


def test_the_first_start_creates_the_warehouse_and_its_wal_600(tmp_path, monkeypatch, wal_modes):
    monkeypatch.setenv("SPM_USERS_FILE", str(tmp_path / "users.yaml"))
    umask = current_umask()
    first = warehouse.ensure_demo_warehouse(f"duckdb:///{tmp_path}/data/spm.duckdb", opportunities=300, as_of=AS_OF)
    assert first.created and mode(Path(first.path)) == 0o600
    assert wal_modes == [0o600]
    assert current_umask() == umask  # the process's umask is back as it was


def test_init_creates_the_warehouse_and_its_wal_600(tmp_path, monkeypatch, wal_modes):
    monkeypatch.setenv("SPM_USERS_FILE", str(tmp_path / "users.yaml"))
    empty, demo_file = tmp_path / "empty.duckdb", tmp_path / "demo.duckdb"
    assert cli.main(["init", "--url", f"duckdb:///{empty}"]) == 0
    assert cli.main(["init", "--demo", "--opportunities", "300", "--url", f"duckdb:///{demo_file}"]) == 0
    assert mode(empty) == 0o600 and mode(demo_file) == 0o600
    assert wal_modes == [0o600]


def test_the_apps_writes_keep_the_wal_600(tmp_path, monkeypatch):
    url = f"duckdb:///{tmp_path}/spm.duckdb"
    monkeypatch.setenv("SPM_USERS_FILE", str(tmp_path / "users.yaml"))
    monkeypatch.setenv("SPM_WAREHOUSE_URL", url)
    assert cli.main(["init", "--url", url]) == 0
    with writable() as engine:
        with engine.begin() as conn:
            conn.execute(sa.insert(warehouse_info).values(key="probe", value="1"))
        assert mode(tmp_path / "spm.duckdb.wal") == 0o600  # committed, not yet checkpointed


SPILLING = "SELECT max(r) FROM (SELECT row_number() OVER (ORDER BY s) AS r FROM big)"  # a sort larger than the cap


@pytest.fixture
def big_warehouse(tmp_path, monkeypatch) -> Path:
    """A file with 2M rows of text, read under a 64 MB cap, by a process with the usual umask (022)."""
    path = tmp_path / "w.duckdb"
    engine = make_engine(f"duckdb:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE big AS SELECT md5(i::VARCHAR) AS s FROM range(2000000) t(i)")
    engine.dispose()
    monkeypatch.setenv("SPM_DUCKDB_MEMORY_LIMIT", "64MB")
    previous = os.umask(0o022)
    yield path
    os.umask(previous)


def test_a_reader_spills_into_a_folder_only_its_owner_can_open(big_warehouse):
    engine = make_engine(f"duckdb:///{big_warehouse}", read_only=True)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql(SPILLING).scalar() == 2_000_000
    finally:
        engine.dispose()
    assert mode(big_warehouse.with_name("w.duckdb.tmp")) == 0o700


def test_where_the_warehouse_folder_takes_no_spill_folder_a_private_one_elsewhere_is_used(big_warehouse):
    big_warehouse.with_name("w.duckdb.tmp").write_text("not a folder")  # refuses a folder there, as a read-only mount would
    engine = make_engine(f"duckdb:///{big_warehouse}", read_only=True)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql(SPILLING).scalar() == 2_000_000
            folder = Path(conn.exec_driver_sql("SELECT current_setting('temp_directory')").scalar())
    finally:
        engine.dispose()
    assert folder.parent != big_warehouse.parent and mode(folder) == 0o700
