"""The metrics layer compiles for PostgreSQL too: no DuckDB-only SQL in KPI queries."""

from datetime import date

import pytest
from sqlalchemy.dialects import postgresql

from spm_core.filters import Filters, Period, Scope
from spm_core.kpis import CATALOGUE
from spm_core.metrics import compile_query, compile_reps_share

FILTERS = Filters(Period(date(2026, 1, 1), date(2026, 3, 31)), teams=frozenset({1}), managers=frozenset({3}), products=frozenset({2}))


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_kpi_compiles_for_postgresql(name):
    k = CATALOGUE[name]
    build = compile_reps_share if k.reps_share else compile_query
    stmt = build(k if k.reps_share else [name], FILTERS, Scope.subtree(2), ["team", "month"], date(2026, 2, 1))
    sql = str(stmt.compile(dialect=postgresql.dialect()))
    assert "WITH RECURSIVE" in sql and "date_trunc" in sql
    for duckdb_only in ("quantile_cont", "arg_max", "list_", "strftime"):
        assert duckdb_only not in sql


def test_counts_come_back_as_whole_numbers(tmp_path):
    from spm_core.db import create_schema, make_engine
    from spm_core.metrics import query

    engine = make_engine(f"duckdb:///{tmp_path}/e.duckdb")
    create_schema(engine)
    frame = query(engine, ["deals_won", "activities", "bookings"], FILTERS, Scope.everyone())
    assert str(frame["deals_won"].dtype) == "int64" and str(frame["activities"].dtype) == "int64"
    assert frame.iloc[0].tolist() == [0, 0, 0.0]
