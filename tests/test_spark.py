"""The metrics layer live on Apache Spark (local mode): the demo warehouse loaded into Spark tables from
Parquet, every KPI with every grouping compiled with the Databricks (Spark SQL) dialect and run by Spark,
equal to DuckDB's numbers; so are the history engines that use the dialect-specific constructs (day
counts, medians). The session and its tables are built once (tests/spark_support.py); statements group
by several dimensions at once so that each dimension is covered with few Spark jobs."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from spm_core import history
from spm_core.db import read_frame
from spm_core.filters import Filters, Period, Scope
from spm_core.kpis import CATALOGUE
from spm_core.metrics import query
from spm_core.model import DIMENSIONS, MEASURES
from spm_core.schema import person

AS_OF = date(2026, 11, 23)  # the demo warehouse's today
YEAR = Filters(Period(date(2026, 1, 1), date(2026, 12, 31)))
Q4 = Filters(Period(date(2026, 10, 1), date(2026, 12, 31)))
GROUPINGS = (["rep", "month"], ["team", "quarter"], ["manager", "week"], ["segment", "year"], ["region", "day"],
             ["product", "stage", "forecast_category"])  # every dimension of model.DIMENSIONS, in six statements


def groupable(by: list[str]) -> list[str]:
    """The KPIs every measure of which can be grouped by all of `by`."""
    def fits(name: str) -> bool:
        return all(DIMENSIONS[d].key(MEASURES[m]) is not None for d in by for m in CATALOGUE[name].measures)

    return [name for name in CATALOGUE if fits(name)]


def assert_same(spark_frame: pd.DataFrame, duck_frame: pd.DataFrame) -> None:
    """Same rows and values; row order aside (Spark sorts NULL keys first, DuckDB last)."""
    assert list(spark_frame.columns) == list(duck_frame.columns)
    keys = [c for c in duck_frame.columns if c not in CATALOGUE]

    def tidy(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.sort_values(keys, na_position="last", kind="stable") if keys else frame
        return frame.reset_index(drop=True)

    assert len(spark_frame) == len(duck_frame)
    pd.testing.assert_frame_equal(tidy(spark_frame), tidy(duck_frame), check_dtype=False, rtol=1e-9, atol=1e-9)


@pytest.fixture(scope="module")
def manager_id(demo_duckdb) -> int:
    """A first-line manager of the demo (someone managed by a manager): a subtree scope a few levels deep."""
    boss = person.alias("boss")
    stmt = sa.select(sa.func.min(person.c.id)).join(boss, boss.c.id == person.c.manager_id).where(person.c.role == "manager")
    return int(read_frame(demo_duckdb, stmt).iloc[0, 0])


def test_every_grouping_covers_every_dimension():
    assert {d for by in GROUPINGS for d in by} == set(DIMENSIONS)
    assert set(groupable(["rep", "month"])) == set(CATALOGUE)


@pytest.mark.parametrize("as_stood", [None, date(2026, 11, 1)], ids=["now", "as_stood"])
def test_every_kpi_in_a_managers_scope_equals_duckdb(demo_spark, demo_duckdb, manager_id, as_stood):
    """All KPIs at once, in a manager's subtree (the recursive CTE) with a product filter, now and as it stood."""
    filters = Filters(Q4.period, products=frozenset({1, 2}))
    got = query(demo_spark, list(CATALOGUE), filters, Scope.subtree(manager_id), (), AS_OF, as_stood)
    expected = query(demo_duckdb, list(CATALOGUE), filters, Scope.subtree(manager_id), (), AS_OF, as_stood)
    assert expected["bookings"].iloc[0] > 0 and expected["open_pipeline"].iloc[0] > 0  # not a comparison of zeros
    assert_same(got, expected)


@pytest.mark.parametrize("by", GROUPINGS, ids=["+".join(by) for by in GROUPINGS])
def test_every_kpi_by_every_grouping_equals_duckdb(demo_spark, demo_duckdb, by):
    names = groupable(by)
    got = query(demo_spark, names, YEAR, Scope.everyone(), by, AS_OF)
    expected = query(demo_duckdb, names, YEAR, Scope.everyone(), by, AS_OF)
    assert len(expected) >= 2 and expected["bookings"].sum() > 0  # several groups, not a comparison of zeros
    assert_same(got, expected)


def test_history_engines_equal_duckdb(demo_spark, demo_duckdb, manager_id):
    """Pipeline change (snapshots of history) and stalled deals (day counts and median stints) on Spark."""
    scope = Scope.subtree(manager_id)
    change = history.pipeline_change(demo_spark, Q4, scope, AS_OF)
    pd.testing.assert_frame_equal(change, history.pipeline_change(demo_duckdb, Q4, scope, AS_OF), check_dtype=False)
    medians = history.median_days_in_stage(demo_spark, Q4, Scope.everyone(), AS_OF).sort_values("position")
    expected = history.median_days_in_stage(demo_duckdb, Q4, Scope.everyone(), AS_OF).sort_values("position")
    assert len(expected) > 0
    pd.testing.assert_frame_equal(medians.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False)
    stalled = history.stalled_deals(demo_spark, Q4, Scope.everyone(), AS_OF)
    pd.testing.assert_frame_equal(stalled, history.stalled_deals(demo_duckdb, Q4, Scope.everyone(), AS_OF), check_dtype=False)
