"""DuckDB readers keep at most SPM_DUCKDB_MEMORY_LIMIT (1 GB by default) of the file in memory; writers keep
DuckDB's own default (db.make_engine)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from spm_core.db import MEMORY_LIMIT_ENV, WarehouseError, make_engine
from spm_core.warehouse import open_warehouse


def _limit(url: str, read_only: bool) -> str:
    engine = make_engine(url, read_only=read_only)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT current_setting('memory_limit')")).scalar()
    finally:
        engine.dispose()


def test_readers_are_capped_at_one_gigabyte_unless_told_and_writers_are_not(tmp_path, monkeypatch):
    monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    writer = _limit(url, read_only=False)  # creates the file
    assert _limit(url, read_only=True) == "953.6 MiB"  # 1 GB in DuckDB's binary units
    assert writer != "953.6 MiB"
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "256MB")
    assert _limit(url, read_only=True) == "244.1 MiB"


def test_a_memory_limit_duckdb_cannot_read_is_named_in_the_error(tmp_path, monkeypatch):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    _limit(url, read_only=False)
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "lots")
    with pytest.raises(WarehouseError, match=f"{MEMORY_LIMIT_ENV}='lots' is not a memory size"):
        open_warehouse(url)
