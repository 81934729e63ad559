"""Copying warehouses between DuckDB and a live PostgreSQL, the demo on PostgreSQL, PostgreSQL's indexes."""

from __future__ import annotations

from datetime import date

import pandas as pd
import sqlalchemy as sa

from spm_core import schema
from spm_core.cli import main
from spm_core.coaching.tables import coaching_note
from spm_core.comp.schema import comp_line, line_id
from spm_core.contests.tables import contest
from spm_core.db import create_schema, make_engine, read_frame
from spm_core.demo import DemoSpec, build_demo
from spm_core.filters import Filters, Period, Scope
from spm_core.kpis import CATALOGUE
from spm_core.metrics import query
from spm_core.transfer import copied_tables, copy_warehouse

AS_OF = date(2026, 11, 23)
Q4 = Filters(Period(date(2026, 10, 1), date(2026, 12, 31)))


def table_rows(engine: sa.Engine, table: sa.Table) -> pd.DataFrame:
    """Every row, in a canonical order and dtypes, so two warehouses' copies compare equal."""
    frame = read_frame(engine, sa.select(table))
    frame = frame.astype({c: "object" for c in frame.columns}).where(frame.notna(), None)
    return frame.sort_values(list(frame.columns), key=lambda s: s.astype(str)).reset_index(drop=True)


def kpis(engine: sa.Engine, by: list[str]) -> pd.DataFrame:
    frame = query(engine, sorted(CATALOGUE), Q4, Scope.everyone(), by=by, as_of=AS_OF)
    return frame.sort_values(list(frame.columns[: len(by) * 2])).reset_index(drop=True)


def test_duckdb_to_postgresql_to_duckdb_keeps_every_row_and_every_kpi(demo_duckdb, pg_database, tmp_path):
    postgres = make_engine(pg_database())
    back = make_engine(f"duckdb:///{tmp_path}/back.duckdb")
    counts = copy_warehouse(demo_duckdb, postgres, batch_rows=1000)
    assert copy_warehouse(postgres, back, batch_rows=777) == counts
    assert counts["opportunity"] == 3000 and counts["opportunity_history"] > 3000
    for table in copied_tables(demo_duckdb):
        original = table_rows(demo_duckdb, table)
        assert len(original) == counts[table.name]
        for engine in (postgres, back):
            pd.testing.assert_frame_equal(table_rows(engine, table), original, obj=f"{table.name} on {engine.dialect.name}")
    for by in ([], ["team"], ["rep", "month"]):
        expected = kpis(demo_duckdb, by)
        assert len(expected) and expected["bookings"].sum() > 0
        for engine in (postgres, back):
            pd.testing.assert_frame_equal(kpis(engine, by), expected, check_dtype=False, rtol=1e-9)
    postgres.dispose()
    back.dispose()


def test_copy_replaces_the_targets_tables(tiny_engine, tmp_path):
    target = tiny_engine(region=[{"id": 9, "name": "Old"}])
    source = make_engine(f"duckdb:///{tmp_path}/source.duckdb")
    create_schema(source)
    with source.begin() as conn:
        conn.execute(schema.region.insert(), [{"id": 1, "name": "North"}, {"id": 2, "name": ""}])
    copy_warehouse(source, target)
    assert read_frame(target, sa.select(schema.region).order_by("id")).to_dict("records") == [
        {"id": 1, "name": "North"}, {"id": 2, "name": ""}]  # an empty string stays a string, not NULL
    source.dispose()


def test_copy_keeps_the_tables_of_coaching_and_contests(demo_duckdb, tmp_path):
    """Notes, scorecard settings and contests live in their packages' own tables: a copy must not lose them."""
    source = make_engine(f"duckdb:///{tmp_path}/source.duckdb")
    copy_warehouse(demo_duckdb, source)
    person_id = int(read_frame(source, sa.select(schema.person.c.id).limit(1)).iloc[0, 0])
    with source.begin() as conn:
        coaching_note.create(conn, checkfirst=True)
        conn.execute(coaching_note.insert(), [{"id": 1, "rep_id": person_id, "author_id": person_id, "meeting_date": AS_OF,
                                               "body": "Pipeline review", "updated_at": pd.Timestamp("2026-11-20 10:00")}])
    target = make_engine(f"duckdb:///{tmp_path}/target.duckdb")
    counts = copy_warehouse(source, target)
    assert counts["coaching_note"] == 1
    assert read_frame(target, sa.select(coaching_note.c.body)).iloc[0, 0] == "Pipeline review"
    assert sa.inspect(target).has_table(contest.name) == sa.inspect(source).has_table(contest.name)
    source.dispose()
    target.dispose()


def test_copied_compensation_lines_do_not_get_their_ids_again(demo_duckdb, pg_database, tmp_path):
    """comp_line ids come from a sequence: after a copy it must hand out ids past the copied ones."""
    top = int(read_frame(demo_duckdb, sa.select(sa.func.max(comp_line.c.id))).iloc[0, 0])
    assert top > 0  # the demo has statements
    postgres = make_engine(pg_database())
    back = make_engine(f"duckdb:///{tmp_path}/back.duckdb")
    copy_warehouse(demo_duckdb, postgres)
    copy_warehouse(postgres, back)
    for engine in (postgres, back):
        with engine.begin() as conn:
            assert conn.execute(sa.select(sa.func.nextval(line_id.name))).scalar_one() == top + 1, engine.dialect.name
    postgres.dispose()
    back.dispose()


def test_copy_command_prints_progress_and_refuses_to_overwrite_data(demo_duckdb, pg_database, capsys):
    source, target = demo_duckdb.url.render_as_string(), pg_database()
    demo_duckdb.dispose()  # the command opens the file read-only; DuckDB allows one mode per process
    assert main(["copy", "--from", source, "--to", target, "--batch", "1000"]) == 0
    out = capsys.readouterr().out
    assert "  opportunity                    3,000 / 3,000" in out and "Copied " in out
    assert main(["copy", "--from", source, "--to", target]) == 2
    assert "already holds data; add --force" in capsys.readouterr().err
    assert main(["copy", "--from", source, "--to", target, "--force"]) == 0
    assert main(["copy", "--from", target, "--to", target, "--force"]) == 2
    assert "the same warehouse" in capsys.readouterr().err


def test_demo_generator_fills_a_postgresql_warehouse(pg_database, tmp_path):
    engine = make_engine(pg_database())
    spec = DemoSpec(opportunities=500, activities=1000, seed=3, as_of=AS_OF)
    counts = build_demo(engine, spec)
    local = make_engine(f"duckdb:///{tmp_path}/same.duckdb")
    assert build_demo(local, spec) == counts
    pd.testing.assert_frame_equal(kpis(engine, ["team"]), kpis(local, ["team"]), check_dtype=False, rtol=1e-9)
    engine.dispose()
    local.dispose()


def test_postgresql_gets_the_indexes_the_metrics_use_and_duckdb_none(pg_database, tmp_path):
    engine = make_engine(pg_database())
    create_schema(engine)
    with engine.connect() as conn:
        indexes = dict(conn.execute(sa.text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")).all())
    assert "(close_date)" in indexes["ix_opportunity_close_date"] and "(owner_id)" in indexes["ix_opportunity_owner_id"]
    assert "(person_id, activity_date)" in indexes["ix_activity_person_date"]
    assert "(person_id, month)" in indexes["ix_quota_person_month"]
    assert "(opportunity_id, changed_at)" in indexes["ix_history_opportunity"]
    engine.dispose()
    duck = make_engine(f"duckdb:///{tmp_path}/no_indexes.duckdb")
    create_schema(duck)
    with duck.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM duckdb_indexes()").scalar() == 0
    duck.dispose()
