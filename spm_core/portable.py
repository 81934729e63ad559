"""SQL that each warehouse spells its own way, compiled per dialect by SQLAlchemy's @compiles.

The engines write `days_between(end, start)`, `period_start("week", day)`, `month_end(first)`,
`date_from_parts(y, m, d)` and `median(x)`; DuckDB and PostgreSQL get the SQL they always had (date
minus date, date_trunc, `+ INTERVAL '1 month'`, make_date, percentile_cont), and
Snowflake, BigQuery, Trino and Spark (Databricks, Hive) their own spelling, so one URL change moves
the app. Only names live here: a dialect not listed gets the DuckDB/PostgreSQL form.

Medians on BigQuery and Trino are approximate (APPROX_QUANTILES, approx_percentile): neither has an
exact median aggregate; every other warehouse computes it exactly.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import CTE
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


class month_end(FunctionElement):
    """The last day (a DATE) of the month that begins on `first` (a DATE on the 1st of a month)."""

    type = sa.Date()
    inherit_cache = True
    name = "month_end"


class date_from_parts(FunctionElement):
    """The DATE of a year, month (1-12) and day, three INTEGER expressions."""

    type = sa.Date()
    inherit_cache = True
    name = "date_from_parts"


class median(FunctionElement):
    """The median of a numeric expression, as an aggregate (exact where the warehouse has one)."""

    type = sa.Double()
    inherit_cache = True
    name = "median"


class count_where(FunctionElement):
    """How many rows meet a condition, as an aggregate."""

    type = sa.BigInteger()
    inherit_cache = True
    name = "count_where"


class sum_where(FunctionElement):
    """The sum of `value` over the rows that meet `condition`, as an aggregate (NULL when none do)."""

    inherit_cache = True
    name = "sum_where"

    def __init__(self, value: sa.ColumnElement, condition: sa.ColumnElement) -> None:
        super().__init__(value, condition)
        self.type = sa.sql.sqltypes.to_instance(getattr(value, "type", None))


class median_where(FunctionElement):
    """The median of `value` over the rows that meet `condition`, as an aggregate."""

    type = sa.Double()
    inherit_cache = True
    name = "median_where"


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


# ---------------------------------------------------------------- month_end


@compiles(month_end)
def _end_default(element, compiler, **kw):
    (first,) = _args(element, compiler, **kw)
    return f"(CAST({first} + INTERVAL '1 month' AS DATE) - 1)"


@compiles(month_end, "snowflake")
@compiles(month_end, "bigquery")
def _end_last_day(element, compiler, **kw):
    (first,) = _args(element, compiler, **kw)
    return f"LAST_DAY({first})"


@compiles(month_end, "trino")
def _end_trino(element, compiler, **kw):
    (first,) = _args(element, compiler, **kw)
    return f"last_day_of_month({first})"


for _name in SPARK:

    @compiles(month_end, _name)
    def _end_spark(element, compiler, **kw):
        (first,) = _args(element, compiler, **kw)
        return f"last_day({first})"


# ---------------------------------------------------------------- date_from_parts


@compiles(date_from_parts)
def _parts_default(element, compiler, **kw):  # DuckDB, PostgreSQL and Spark
    return f"make_date({', '.join(_args(element, compiler, **kw))})"


@compiles(date_from_parts, "snowflake")
def _parts_snowflake(element, compiler, **kw):
    return f"DATE_FROM_PARTS({', '.join(_args(element, compiler, **kw))})"


@compiles(date_from_parts, "bigquery")
def _parts_bigquery(element, compiler, **kw):
    return f"DATE({', '.join(_args(element, compiler, **kw))})"


@compiles(date_from_parts, "trino")
def _parts_trino(element, compiler, **kw):  # no make_date: an ISO text, cast
    return f"CAST(format('%04d-%02d-%02d', {', '.join(_args(element, compiler, **kw))}) AS DATE)"


# ---------------------------------------------------------------- recursive CTEs


@compiles(CTE, "bigquery")
def _cte_bigquery(element, compiler, **kw):
    """BigQuery takes no column list on a CTE (`WITH RECURSIVE t AS`), which SQLAlchemy writes for every
    recursive one (`t(id, depth)`); the anchor select names the columns. The recursive CTE as completed by
    union_all (it restates the anchor's) is rendered from a private copy marked non-recursive while its
    text is written (no column list), then recursive again so the clause still says WITH RECURSIVE."""
    if not element.recursive or element._restates is None:
        return compiler.visit_cte(element, **kw)
    copies = compiler.__dict__.setdefault("_portable_cte_copies", {})  # one copy per statement compiled
    plain = copies.setdefault(element, element._generate())
    plain.recursive = False
    try:
        return compiler.visit_cte(plain, **kw)
    finally:
        plain.recursive = True


# ---------------------------------------------------------------- median


@compiles(median)
def _median_default(element, compiler, **kw):
    (value,) = _args(element, compiler, **kw)
    return f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {value})"


@compiles(median, "duckdb")
def _median_duckdb(element, compiler, **kw):  # the same interpolated median, ~1 ms less per 3M rows than percentile_cont
    (value,) = _args(element, compiler, **kw)
    return f"median({value})"


@compiles(median, "bigquery")
def _median_bigquery(element, compiler, **kw):
    (value,) = _args(element, compiler, **kw)
    return f"APPROX_QUANTILES({value}, 2)[OFFSET(1)]"


@compiles(median, "trino")
def _median_trino(element, compiler, **kw):
    (value,) = _args(element, compiler, **kw)
    return f"approx_percentile({value}, 0.5)"


# ---------------------------------------------------------------- count_where, sum_where, median_where
# Everywhere: an aggregate over CASE. DuckDB and PostgreSQL: the aggregate's FILTER clause, which skips the
# other rows instead of computing a NULL for each (DuckDB at 10M deals: a win-rate scan 0.24 -> 0.16 s).


@compiles(count_where)
def _count_where_default(element, compiler, **kw):
    (condition,) = _args(element, compiler, **kw)
    return f"count(CASE WHEN {condition} THEN 1 END)"


@compiles(sum_where)
def _sum_where_default(element, compiler, **kw):
    value, condition = _args(element, compiler, **kw)
    return f"sum(CASE WHEN {condition} THEN {value} END)"


@compiles(count_where, "duckdb")
@compiles(count_where, "postgresql")
def _count_where_filter(element, compiler, **kw):
    (condition,) = _args(element, compiler, **kw)
    return f"count(*) FILTER (WHERE {condition})"


@compiles(sum_where, "duckdb")
@compiles(sum_where, "postgresql")
def _sum_where_filter(element, compiler, **kw):
    value, condition = _args(element, compiler, **kw)
    return f"sum({value}) FILTER (WHERE {condition})"


@compiles(median_where)
def _median_where_default(element, compiler, **kw):
    value, condition = element.clauses
    return compiler.process(median(sa.case((condition, value))), **kw)


@compiles(median_where, "duckdb")
def _median_where_duckdb(element, compiler, **kw):
    value, condition = _args(element, compiler, **kw)
    return f"median({value}) FILTER (WHERE {condition})"


@compiles(median_where, "postgresql")
def _median_where_filter(element, compiler, **kw):
    value, condition = _args(element, compiler, **kw)
    return f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {value}) FILTER (WHERE {condition})"
