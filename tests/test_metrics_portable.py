"""The metrics layer compiles for every warehouse the README names, with no server: PostgreSQL,
Snowflake, BigQuery, Trino and Databricks/Spark. Each KPI with each grouping its facts allow, as of
now and as it stood on a past day, and every statement the history and forecast engines send, is
compiled with each dialect (bound values inlined); constructs a warehouse rejects must not appear, and
its own spelling of them (spm_core/portable.py) must. So are the statements the other engines send on the
demo: a compensation run, capacity planning, the pulse, a contest board, planned territory changes.
Spark also runs the metrics live (test_spark.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Dialect, Engine

from spm_core import forecast, history
from spm_core.comp.engine import calculate_in
from spm_core.contests.model import Contest, MetricRule
from spm_core.contests.scoring import board
from spm_core.db import create_schema, make_engine, read_frame
from spm_core.filters import Filters, Period, Scope
from spm_core.kpis import CATALOGUE
from spm_core.metrics import compile_query, compile_reps_share, query
from spm_core.model import DIMENSIONS, MEASURES
from spm_core.people import visible_people
from spm_core.planning.capacity import productivity
from spm_core.planning.model import Ramp
from spm_core.planning.territories.publish import planned_changes
from spm_core.pulse import enps

FILTERS = Filters(Period(date(2026, 1, 1), date(2026, 3, 31)), teams=frozenset({1}), managers=frozenset({3}), products=frozenset({2}))
AS_OF = date(2026, 11, 23)  # the demo warehouse's today
WAREHOUSES = ("postgresql", "snowflake", "bigquery", "trino", "databricks")

# What each warehouse refuses, as a pattern over the compiled SQL (case-insensitive).
DATE_MINUS_DATE = (r"(_date|entered|\bt)[`\"]? - "  # Spark: an INTERVAL; BigQuery, Trino: no integer days
                   r"| - [`\"]?\w+[`\"]?\.[`\"]?(\w*_date|month)\b")  # ... minus a table's date column
ANY_BUT_DUCKDB_PG = {"UNION without ALL in a recursive CTE": r"\bUNION(?! ALL)", "FILTER clause": r"FILTER \(WHERE",
                     ":: cast": r"::", "DuckDB function": r"\b(quantile_cont|arg_max|list_\w+|strftime)\("}
MAKE_DATE = {"make_date": r"\bmake_date\("}  # Snowflake, BigQuery, Trino
PG_INTERVAL = {"INTERVAL 'n unit'": r"INTERVAL '\d+ \w+'"}  # BigQuery, Trino: INTERVAL n UNIT / INTERVAL 'n' UNIT
REFUSED = {
    "postgresql": {"DuckDB function": ANY_BUT_DUCKDB_PG["DuckDB function"]},
    "snowflake": {**ANY_BUT_DUCKDB_PG, **MAKE_DATE, "date minus date": DATE_MINUS_DATE},
    "bigquery": {**ANY_BUT_DUCKDB_PG, **MAKE_DATE, **PG_INTERVAL, "date minus date": DATE_MINUS_DATE, "date_trunc(unit, day)": r"date_trunc\('",
                 "ordered-set median": r"WITHIN GROUP", "DOUBLE type": r"\bDOUBLE\b",
                 "CTE column list": r"`\w+`\((`\w+`(, )?)+\) AS\s*\("},
    "trino": {**ANY_BUT_DUCKDB_PG, **MAKE_DATE, **PG_INTERVAL, "date minus date": DATE_MINUS_DATE, "ordered-set median": r"WITHIN GROUP"},
    "databricks": {**ANY_BUT_DUCKDB_PG, "date minus date": DATE_MINUS_DATE},
}
# The warehouse's own spelling, which a statement with a day count, a week or a median must use.
SPELLING = {
    "postgresql": {"days": r"\(opportunity\.close_date - opportunity\.created_date\)", "week": r"date_trunc\('week'",
                   "median": r"percentile_cont\(0\.5\) WITHIN GROUP"},
    "snowflake": {"days": r"DATEDIFF\(day, ", "week": r"date_trunc\('week'", "median": r"percentile_cont\(0\.5\) WITHIN GROUP"},
    "bigquery": {"days": r"DATE_DIFF\(", "week": r"DATE_TRUNC\([^)]*, ISOWEEK\)", "median": r"APPROX_QUANTILES\("},
    "trino": {"days": r"date_diff\('day', ", "week": r"date_trunc\('week'", "median": r"approx_percentile\("},
    "databricks": {"days": r"datediff\(", "week": r"date_trunc\('week'", "median": r"percentile_cont\(0\.5\) WITHIN GROUP"},
}

# In the history and forecast engines' statements, whose day counts are not between deal columns.
HISTORY_SPELLING = {**SPELLING, "postgresql": {"days": r"\('[\d-]+' - coalesce\(", "median": SPELLING["postgresql"]["median"]}}


def dialect(name: str) -> Dialect:
    """The dialect a URL of that warehouse selects (its package is in requirements-dev.txt)."""
    return sa.engine.make_url(f"{name}://").get_dialect()()


def compiled(stmt: sa.ClauseElement, name: str) -> str:
    return str(stmt.compile(dialect=dialect(name), compile_kwargs={"literal_binds": True}))


def refused(sql: str, name: str) -> list[str]:
    return [what for what, pattern in REFUSED[name].items() if re.search(pattern, sql, re.IGNORECASE)]


def groupable(dimension: str | None) -> list[str]:
    """The KPIs every measure of which can be grouped by the dimension (all of them for no grouping)."""
    dim = DIMENSIONS.get(dimension or "")
    return [n for n, k in CATALOGUE.items() if dim is None or all(dim.key(MEASURES[m]) is not None for m in k.measures)]


def statements() -> Iterator[tuple[str, sa.Select]]:
    """Each KPI alone, now and as it stood on a past day; then per dimension, all KPIs it can group in one statement."""
    for name, k in sorted(CATALOGUE.items()):
        for as_stood in (None, date(2026, 2, 10)):
            build = compile_reps_share if k.reps_share else compile_query
            yield f"{name}{' as stood' if as_stood else ''}", build(k if k.reps_share else [name], FILTERS, Scope.subtree(2), (), AS_OF, as_stood)
    for dimension in DIMENSIONS:
        names = groupable(dimension)
        additive = [n for n in names if not CATALOGUE[n].reps_share]
        yield f"{len(additive)} KPIs by {dimension}", compile_query(additive, FILTERS, Scope.subtree(2), [dimension], AS_OF)
        if "pct_reps_at_quota" in names:
            share = CATALOGUE["pct_reps_at_quota"]
            yield f"pct_reps_at_quota by {dimension}", compile_reps_share(share, FILTERS, Scope.subtree(2), [dimension], AS_OF)


def test_every_kpi_is_in_the_statements_with_every_grouping_its_facts_allow():
    names = {what.split(" by ")[0].removesuffix(" as stood") for what, _ in statements()}
    assert set(CATALOGUE) <= names
    no_stage = {"quota", "ramped_quota", "attainment", "pct_reps_at_quota", "pacing_attainment", "projected_attainment",
                "quota_remaining", "coverage", "activities", "calls", "emails", "meetings", "demos"}  # quotas, activities
    assert set(groupable("stage")) == set(CATALOGUE) - no_stage and set(groupable("team")) == set(CATALOGUE)


@pytest.mark.parametrize("warehouse", WAREHOUSES)
def test_every_kpi_and_grouping_compiles_for_each_warehouse(warehouse):
    for what, stmt in statements():
        sql = compiled(stmt, warehouse)
        assert "WITH RECURSIVE" in sql.upper(), what  # the viewer's scope (a manager's subtree) is in every statement
        assert not refused(sql, warehouse), f"{what} on {warehouse}: {refused(sql, warehouse)}\n{sql}"


@pytest.mark.parametrize("warehouse", WAREHOUSES)
def test_day_counts_weeks_and_medians_use_the_warehouse_spelling(warehouse):
    days = compiled(compile_query(["sales_cycle_days"], FILTERS, Scope.everyone(), ["week"]), warehouse)
    middle = compiled(compile_query(["sales_cycle_median_days"], FILTERS, Scope.everyone()), warehouse)
    for construct, sql in (("days", days), ("week", days), ("median", middle)):
        assert re.search(SPELLING[warehouse][construct], sql), f"{construct} on {warehouse}:\n{sql}"


def captured_statements(engine: Engine) -> list[sa.ClauseElement]:
    """Every statement the history and forecast engines send for one view of the demo warehouse."""
    seen: list[sa.ClauseElement] = []

    def keep(conn, clause, multiparams, params, execution_options):
        if isinstance(clause, sa.sql.Select | sa.sql.CompoundSelect):
            seen.append(clause)

    q4 = FILTERS.with_period(Period(date(2026, 10, 1), date(2026, 12, 31)))
    sa.event.listen(engine, "before_execute", keep)
    try:
        history.pipeline_change(engine, q4, Scope.subtree(2), AS_OF)
        history.stage_conversion(engine, q4, Scope.subtree(2))
        history.stalled_deals(engine, q4, Scope.subtree(2), AS_OF)
        history.slipped_deals(engine, q4, Scope.subtree(2))
        history.overdue_deals(engine, q4, Scope.subtree(2), AS_OF)
        history.forecast_accuracy(engine, q4, forecast.past_periods(q4.period, AS_OF, 2), 4, Scope.subtree(2), AS_OF)
        forecast.rollup(engine, q4, Scope.subtree(2), AS_OF)
        cast = forecast.statistical_forecast(engine, q4, Scope.subtree(2), AS_OF)
        forecast.forecast_deals(engine, q4, Scope.subtree(2), AS_OF, cast.cells)
    finally:
        sa.event.remove(engine, "before_execute", keep)
    return seen


@pytest.fixture(scope="module")
def engine_statements(demo_duckdb: Engine) -> list[sa.ClauseElement]:
    return captured_statements(demo_duckdb)


@pytest.mark.parametrize("warehouse", WAREHOUSES)
def test_history_and_forecast_statements_compile_for_each_warehouse(engine_statements, warehouse):
    assert len(engine_statements) >= 15
    spelled = set()
    for stmt in engine_statements:
        sql = compiled(stmt, warehouse)
        assert not refused(sql, warehouse), f"{warehouse}: {refused(sql, warehouse)}\n{sql}"
        spelled |= {c for c in ("days", "median") if re.search(HISTORY_SPELLING[warehouse][c], sql)}
    assert spelled == {"days", "median"}  # stalled deals count days, their thresholds come from median stints


def other_engines_statements(engine: Engine) -> list[sa.ClauseElement]:
    """Every statement (reads and INSERT ... SELECTs) the compensation, planning, pulse, contest and territory
    engines send for one view of the demo warehouse, in a transaction rolled back (the demo is shared)."""
    seen: list[sa.ClauseElement] = []

    def keep(conn, clause, multiparams, params, execution_options):
        if isinstance(clause, sa.sql.Select | sa.sql.CompoundSelect) or getattr(clause, "select", None) is not None:
            seen.append(clause)  # an INSERT holds its SELECT; plain INSERT/DELETE of values are not dialect-sensitive

    q4 = Period(date(2026, 10, 1), date(2026, 12, 31))
    contest = Contest("November", date(2026, 11, 1), date(2026, 11, 30), "team", "ranked", (MetricRule("bookings", 0.1),))
    sa.event.listen(engine, "before_execute", keep)
    try:
        with engine.connect() as conn, conn.begin() as transaction:
            calculate_in(conn, q4, run_by="portable", what_if=True)
            productivity(conn, AS_OF, Ramp())
            board(conn, contest, AS_OF)
            transaction.rollback()
        for by in (None, *enps.BY):
            enps.pulse(engine, q4, Scope.subtree(2), by)
        planned_changes(engine, Scope.subtree(2))
    finally:
        sa.event.remove(engine, "before_execute", keep)
    return seen


# The engines' own spelling: prorated quota days and month ends (comp), weeks (contest streaks), months (capacity, pulse).
ENGINE_SPELLING = {
    "postgresql": {"days": r"\(least\(", "month end": r"INTERVAL '1 month' AS DATE\) - 1\)", "make date": r"make_date\(",
                   "week": r"date_trunc\('week'", "month": r"date_trunc\('month'"},
    "snowflake": {"days": r"DATEDIFF\(day, ", "month end": r"LAST_DAY\(", "make date": r"DATE_FROM_PARTS\(",
                  "week": r"date_trunc\('week'", "month": r"date_trunc\('month'"},
    "bigquery": {"days": r"DATE_DIFF\(", "month end": r"LAST_DAY\(", "make date": r"\bDATE\(CAST",
                 "week": r"DATE_TRUNC\([^)]*, ISOWEEK\)", "month": r"DATE_TRUNC\([^)]*, MONTH\)"},
    "trino": {"days": r"date_diff\('day', ", "month end": r"last_day_of_month\(", "make date": r"CAST\(format\('%04d",
              "week": r"date_trunc\('week'", "month": r"date_trunc\('month'"},
    "databricks": {"days": r"datediff\(", "month end": r"\blast_day\(", "make date": r"make_date\(",
                   "week": r"date_trunc\('week'", "month": r"date_trunc\('month'"},
}


@pytest.fixture(scope="module")
def other_statements(demo_duckdb: Engine) -> list[sa.ClauseElement]:
    return other_engines_statements(demo_duckdb)


@pytest.mark.parametrize("warehouse", WAREHOUSES)
def test_comp_planning_pulse_contest_and_territory_statements_compile_for_each_warehouse(other_statements, warehouse):
    assert len(other_statements) >= 20
    spelled, recursive = set(), 0
    for stmt in other_statements:
        sql = compiled(stmt, warehouse)
        assert not refused(sql, warehouse), f"{warehouse}: {refused(sql, warehouse)}\n{sql}"
        spelled |= {c for c, pattern in ENGINE_SPELLING[warehouse].items() if re.search(pattern, sql)}
        recursive += "WITH RECURSIVE" in sql.upper()
    assert spelled == set(ENGINE_SPELLING[warehouse])
    assert recursive >= 2  # the override's subtree (comp) and the territory owners' (planned changes)


def test_a_manager_loop_in_bad_data_ends_the_subtree(tiny_engine):
    """2 manages 3 and 3 manages 2 (a loop): the subtree of 2 is {2, 3} and the query ends (the recursion's
    depth counter, now that it is UNION ALL); 1, above nobody in the loop, sees only themself."""
    people = [
        {"id": 1, "name": "A", "role": "manager", "manager_id": None, "active": True, "ramp_months": 0},
        {"id": 2, "name": "B", "role": "manager", "manager_id": 3, "active": True, "ramp_months": 0},
        {"id": 3, "name": "C", "role": "rep", "manager_id": 2, "active": True, "ramp_months": 0},
    ]
    engine = tiny_engine(person=people)
    assert sorted(read_frame(engine, visible_people(None, Scope.subtree(2)))["id"]) == [2, 3]
    assert sorted(read_frame(engine, visible_people(None, Scope.subtree(1)))["id"]) == [1]


def test_counts_come_back_as_whole_numbers(tmp_path):
    engine = make_engine(f"duckdb:///{tmp_path}/e.duckdb")
    create_schema(engine)
    frame = query(engine, ["deals_won", "activities", "bookings"], FILTERS, Scope.everyone())
    assert str(frame["deals_won"].dtype) == "int64" and str(frame["activities"].dtype) == "int64"
    assert frame.iloc[0].tolist() == [0, 0, 0.0]


@pytest.mark.parametrize("warehouse", ["duckdb", "postgresql"])
def test_conditional_measures_filter_their_rows_where_the_warehouse_can(warehouse):
    """DuckDB and PostgreSQL aggregate with FILTER (WHERE ...), which skips the other rows; the others get CASE."""
    kpis = ["win_rate", "win_rate_value", "sales_cycle_median_days"]  # won/lost counts and amounts, a median
    sql = compiled(compile_query(kpis, FILTERS, Scope.everyone()), warehouse)
    assert sql.count("FILTER (WHERE") == 5 and "CASE WHEN" not in sql, sql
    assert compiled(compile_query(kpis, FILTERS, Scope.everyone()), "snowflake").count("CASE WHEN") == 5
