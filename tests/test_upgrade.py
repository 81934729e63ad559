"""A warehouse made by an earlier version opens in this one: the tables and columns added since are added on
a short read-write connection when the app opens it read-only, and a file that cannot be written stays
readable (with a warning) instead of failing."""

from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa

from spm_core.comp.schema import is_ready
from spm_core.db import create_schema, make_engine
from spm_core.upgrade import missing
from spm_core.warehouse import open_warehouse


def _older_warehouse(tmp_path: Path) -> str:
    """This version's schema minus a compensation column, an opportunity column and a planning table."""
    url = f"duckdb:///{tmp_path}/old.duckdb"
    engine = make_engine(url)
    create_schema(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE comp_plan_version DROP COLUMN year_start_month"))
        conn.execute(sa.text("ALTER TABLE opportunity DROP COLUMN loss_reason"))
        conn.execute(sa.text("DROP TABLE plan_seat"))
    assert missing(engine) == ["comp_plan_version.year_start_month", "opportunity.loss_reason", "plan_seat"]
    engine.dispose()
    return url


def test_opening_read_only_adds_what_this_version_needs(tmp_path):
    url = _older_warehouse(tmp_path)
    engine = open_warehouse(url)  # read-only, as the app opens it
    try:
        assert missing(engine) == [] and is_ready(engine)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT year_start_month FROM comp_plan_version")).all()
    finally:
        engine.dispose()


def test_a_file_another_connection_holds_stays_readable_and_says_why(tmp_path, caplog):
    url = _older_warehouse(tmp_path)
    holder = make_engine(url, read_only=True)
    with holder.connect():  # DuckDB refuses a read-write open of a file this process has open read-only
        with caplog.at_level(logging.WARNING, logger="spm.warehouse"):
            engine = open_warehouse(url)
        try:
            assert "plan_seat" in missing(engine)
            assert any("Could not" in r.getMessage() for r in caplog.records)
        finally:
            engine.dispose()
    holder.dispose()
    engine = open_warehouse(url)  # the next open, with the file free, adds them
    assert missing(engine) == []
    engine.dispose()
