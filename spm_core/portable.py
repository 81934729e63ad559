"""SQL that each warehouse spells its own way, compiled per dialect by SQLAlchemy's @compiles.

The metrics layer writes `days_between(end, start)`, `month_start("week", day)` and `median(x)`;
DuckDB and PostgreSQL get the SQL they always had (date minus date, date_trunc, percentile_cont), and
Snowflake, BigQuery, Trino and Spark (Databricks, Hive) their own spelling, so one URL change moves
the app. Only names live here: a dialect not listed gets the DuckDB/PostgreSQL form.

Medians on BigQuery and Trino are approximate (APPROX_QUANTILES, approx_percentile): neither has an
exact median aggregate; every other warehouse computes it exactly.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal

SPARK = ("databricks", "hive")  # databricks-sqlalchemy, and PyHive's Spark Thrift server dialect
UNITS = ("week", "month", "quarter", "year")
BIGQUERY_UNITS = {"week": "ISOWEEK", "month": "MONTH", "quarter": "QUARTER", "year": "YEAR"}  # ISO weeks start Monday


class days_between(FunctionElement):
    """Whole days from `start` to `end` (two DATE expressions): end - start."""

    type = sa.Integer()
    inherit_cache = True
    name = "days_between"


class period_start(FunctionElement):
    """The first day (a DATE) of the week (Monday), month, quarter or year holding a DATE."""

    type = sa.Date()
    inherit_cache = True
    name = "period_start"
    _traverse_internals = [*FunctionElement._traverse_internals, ("unit", InternalTraversal.dp_string)]  # in the cache key

    def __init__(self, unit: str, day: sa.ColumnElement) -> None:
        if unit not in UNITS:
            raise ValueError(f"unknown period unit {unit!r}; expected one of {', '.join(UNITS)}")
        self.unit = unit
        super().__init__(day)



class median(FunctionElement):
    """The median of a numeric expression, as an aggregate (exact where the warehouse has one)."""

    type = sa.Double()
    inherit_cache = True
    name = "median"


def _args(element: FunctionElement, compiler, **kw) -> list[str]:
    return [compiler.process(arg, **kw) for arg in element.clauses]


# ---------------------------------------------------------------- days_between


@compiles(days_between)
def _days_default(element, compiler, **kw):
    end, start = _args(element, compiler, **kw)
    return f"({end} - {start})"


@compiles(days_between, "snowflake")
def _days_snowflake(element, compiler, **kw):
    end, start = _args(element, compiler, **kw)
    return f"DATEDIFF(day, {start}, {end})"


@compiles(days_between, "bigquery")
def _days_bigquery(element, compiler, **kw):
    end, start = _args(element, compiler, **kw)
    return f"DATE_DIFF({end}, {start}, DAY)"


@compiles(days_between, "trino")
def _days_trino(element, compiler, **kw):
    end, start = _args(element, compiler, **kw)
    return f"date_diff('day', {start}, {end})"


for _name in SPARK:  # Spark's date - date is an INTERVAL; datediff gives the whole days

    @compiles(days_between, _name)
    def _days_spark(element, compiler, **kw):
        end, start = _args(element, compiler, **kw)
        return f"datediff({end}, {start})"


# ---------------------------------------------------------------- period_start


@compiles(period_start)
def _start_default(element, compiler, **kw):
    (day,) = _args(element, compiler, **kw)
    return f"CAST(date_trunc('{element.unit}', {day}) AS DATE)"


@compiles(period_start, "bigquery")
def _start_bigquery(element, compiler, **kw):
    (day,) = _args(element, compiler, **kw)
    return f"DATE_TRUNC({day}, {BIGQUERY_UNITS[element.unit]})"


# ---------------------------------------------------------------- median


@compiles(median)
def _median_default(element, compiler, **kw):
    (value,) = _args(element, compiler, **kw)
    return f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {value})"


@compiles(median, "bigquery")
def _median_bigquery(element, compiler, **kw):
    (value,) = _args(element, compiler, **kw)
    return f"APPROX_QUANTILES({value}, 2)[OFFSET(1)]"


@compiles(median, "trino")
def _median_trino(element, compiler, **kw):
    (value,) = _args(element, compiler, **kw)
    return f"approx_percentile({value}, 0.5)"
