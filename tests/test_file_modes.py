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
