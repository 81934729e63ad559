"""Benchmark and cross-check: every KPI group through the metrics layer vs hand-written DuckDB SQL.

    run_bench(Path("/tmp/spm_bench.duckdb"), opportunities=10_000_000, activities=50_000_000)

Why: the metrics layer compiles KPIs with SQLAlchemy Core (generic UNION ALL blocks, CASE
aggregates, a pandas merge for reps-share KPIs); this measures what that costs against the SQL a
person would write by hand for the same answer, on the same file, in the same process. Each case
also asserts that both give the same numbers, so the benchmark doubles as an independent check of
the KPI definitions (a mismatch raises BenchMismatch naming the case).

With a PostgreSQL URL, the same warehouse is copied there and each case also runs through the metrics
layer on PostgreSQL, checked against DuckDB's answer and timed in the same interleaved loop: the
figures then compare the engines on identical data in one run.

Timings are the median of `repeat` runs after one uncounted warm-up (PITFALLS.md: the first call pays
for warm-up). Memory is the RSS high-water mark from resource.getrusage(RUSAGE_SELF).ru_maxrss; on
Linux it is reset before each phase (writing 5 to /proc/self/clear_refs), so each figure is that
phase's own peak; where the reset is not possible it is the process's peak so far.
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TextIO

import duckdb
import pandas as pd
from sqlalchemy.engine import Engine

from . import schema
from .db import get_info, make_engine
from .filters import Filters, Period, Scope
from .kpis import CATALOGUE
from .metrics import query


class BenchMismatch(ValueError):
    """The metrics layer and the hand-written SQL disagree for a case (a ValueError, so the CLI
    reports it as one line)."""


@dataclass(frozen=True)
class BenchRow:
    """One case's result: row count, median seconds both ways, their ratio, and the case's peak RSS
    (with PostgreSQL: its median seconds and its ratio to the metrics layer on DuckDB)."""

    case: str
    rows: int
    metrics_s: float
    raw_s: float
    ratio: float  # metrics_s / raw_s: > 1 means the metrics layer is slower
    peak_rss_mb: float
    postgres_s: float | None = None

    @property
    def postgres_ratio(self) -> float | None:
        return None if self.postgres_s is None else self.postgres_s / self.metrics_s


@dataclass(frozen=True)
class Context:
    """What the cases are parameterised by, read from the warehouse."""

    as_of: date
    quarter: Period
    year: Period
    manager_id: int  # a second-line manager (a manager of managers of reps)
    segment_id: int  # that manager's segment

    def params(self, names: tuple[str, ...]) -> list[object]:
        """Positional values for the `?` placeholders of a raw SQL string."""
        values = {
            "q_lo": self.quarter.start,
            "q_hi": self.quarter.end,
            "y_lo": self.year.start,
            "y_hi": self.year.end,
            "as_of": self.as_of,
            "manager": self.manager_id,
            "segment": self.segment_id,
        }
        return [values[n] for n in names]


@dataclass(frozen=True)
class Case:
    """A KPI request through the metrics layer and the hand-written SQL giving the same frame."""

    name: str
    kpis: tuple[str, ...]
    by: tuple[str, ...]
    request: Callable[[Context], tuple[Filters, Scope]]
    sql: str  # same column names as query(...) returns
    params: tuple[str, ...]  # Context.params names, one per `?`


def _this_quarter(ctx: Context) -> tuple[Filters, Scope]:
    return Filters(ctx.quarter), Scope.everyone()


def _this_year(ctx: Context) -> tuple[Filters, Scope]:
    return Filters(ctx.year), Scope.everyone()


def _manager_segment(ctx: Context) -> tuple[Filters, Scope]:
    return Filters(ctx.quarter, segments=frozenset({ctx.segment_id})), Scope.subtree(ctx.manager_id)


Q = ("q_lo", "q_hi")

# ---------------------------------------------------------------------------------------------
# The hand-written SQL. Written the way an analyst would against this schema, but matching the
# metrics layer's definitions exactly (e.g. a group appears when any deal of it closes in the
# period, so bookings use FILTER rather than a WHERE on is_won).
# ---------------------------------------------------------------------------------------------

SQL_ATTAINMENT_BY_TEAM = """
WITH won AS (
    SELECT p.team_id, sum(o.amount) FILTER (WHERE o.is_won) AS bookings
    FROM opportunity o JOIN person p ON p.id = o.owner_id
    WHERE o.close_date BETWEEN ? AND ?
    GROUP BY p.team_id
), quotas AS (
    SELECT p.team_id, sum(q.amount) AS quota, sum(q.amount) FILTER (WHERE q.is_ramped) AS ramped_quota
    FROM quota q JOIN person p ON p.id = q.person_id
    WHERE q.month BETWEEN ? AND ?
    GROUP BY p.team_id
)
SELECT coalesce(w.team_id, q.team_id) AS team_id, t.name AS team,
       coalesce(w.bookings, 0) AS bookings,
       coalesce(q.quota, 0) AS quota,
       coalesce(q.ramped_quota, 0) AS ramped_quota,
       coalesce(w.bookings, 0) / nullif(coalesce(q.quota, 0), 0) AS attainment
FROM won w
FULL JOIN quotas q ON q.team_id IS NOT DISTINCT FROM w.team_id
LEFT JOIN team t ON t.id = coalesce(w.team_id, q.team_id)
ORDER BY team
"""

SQL_REPS_AT_QUOTA_BY_TEAM = """
WITH won AS (
    SELECT owner_id AS person_id, sum(amount) FILTER (WHERE is_won) AS bookings
    FROM opportunity
    WHERE close_date BETWEEN ? AND ?
    GROUP BY owner_id
), quotas AS (
    SELECT person_id, sum(amount) AS quota
    FROM quota
    WHERE month BETWEEN ? AND ?
    GROUP BY person_id
), per_rep AS (
    SELECT coalesce(w.person_id, q.person_id) AS person_id,
           coalesce(w.bookings, 0) AS bookings, coalesce(q.quota, 0) AS quota
    FROM won w FULL JOIN quotas q ON q.person_id = w.person_id
)
SELECT p.team_id, t.name AS team,
       count(*) FILTER (WHERE r.quota > 0 AND r.bookings / r.quota >= 1)
         / nullif(count(*) FILTER (WHERE r.quota > 0), 0) AS pct_reps_at_quota
FROM per_rep r
JOIN person p ON p.id = r.person_id
LEFT JOIN team t ON t.id = p.team_id
GROUP BY p.team_id, t.name
ORDER BY team
"""

SQL_PIPELINE_BY_SEGMENT = """
WITH deals AS (
    SELECT p.segment_id,
           sum(o.amount) FILTER (WHERE NOT o.is_closed) AS open_amount,
           count(*) FILTER (WHERE NOT o.is_closed) AS open_count,
           sum(o.amount * s.probability / 100.0) FILTER (WHERE NOT o.is_closed) AS weighted,
           sum(o.amount) FILTER (WHERE o.is_won) AS won
    FROM opportunity o
    JOIN person p ON p.id = o.owner_id
    JOIN stage s ON s.name = o.stage
    WHERE o.close_date BETWEEN ? AND ?
    GROUP BY p.segment_id
), quotas AS (
    SELECT p.segment_id, sum(q.amount) AS quota
    FROM quota q JOIN person p ON p.id = q.person_id
    WHERE q.month BETWEEN ? AND ?
    GROUP BY p.segment_id
)
SELECT coalesce(d.segment_id, q.segment_id) AS segment_id, sg.name AS segment,
       coalesce(d.open_amount, 0) AS open_pipeline,
       coalesce(d.open_count, 0) AS open_deals,
       coalesce(d.weighted, 0) AS weighted_pipeline,
       coalesce(d.open_amount, 0) / nullif(greatest(coalesce(q.quota, 0) - coalesce(d.won, 0), 0), 0) AS coverage
FROM deals d
FULL JOIN quotas q ON q.segment_id IS NOT DISTINCT FROM d.segment_id
LEFT JOIN segment sg ON sg.id = coalesce(d.segment_id, q.segment_id)
ORDER BY segment
"""

SQL_WIN_RATE_BY_REP = """
WITH closed AS (
    SELECT owner_id,
           count(*) FILTER (WHERE is_won) AS won_n,
           count(*) FILTER (WHERE is_closed AND NOT is_won) AS lost_n,
           sum(amount) FILTER (WHERE is_won) AS won_amount,
           sum(amount) FILTER (WHERE is_closed AND NOT is_won) AS lost_amount
    FROM opportunity
    WHERE close_date BETWEEN ? AND ?
    GROUP BY owner_id
)
SELECT c.owner_id AS rep_id, p.name AS rep,
       c.won_n / nullif(c.won_n + c.lost_n, 0) AS win_rate,
       coalesce(c.won_amount, 0) / nullif(coalesce(c.won_amount, 0) + coalesce(c.lost_amount, 0), 0) AS win_rate_value,
       coalesce(c.won_amount, 0) / nullif(c.won_n, 0) AS avg_deal_size,
       c.won_n AS deals_won,
       c.lost_n AS deals_lost
FROM closed c LEFT JOIN person p ON p.id = c.owner_id
ORDER BY rep
"""

SQL_CYCLE_BY_REGION = """
WITH cycles AS (
    SELECT p.region_id,
           avg(o.close_date - o.created_date) FILTER (WHERE o.is_won AND o.created_date IS NOT NULL) AS mean_days,
           median(o.close_date - o.created_date) FILTER (WHERE o.is_won AND o.created_date IS NOT NULL) AS median_days
    FROM opportunity o JOIN person p ON p.id = o.owner_id
    WHERE o.close_date BETWEEN ? AND ?
    GROUP BY p.region_id
)
SELECT c.region_id, r.name AS region, c.mean_days AS sales_cycle_days, c.median_days AS sales_cycle_median_days
FROM cycles c LEFT JOIN region r ON r.id = c.region_id
ORDER BY region
"""

SQL_VELOCITY = """
WITH t AS (
    SELECT count(*) FILTER (WHERE NOT is_closed) AS open_n,
           count(*) FILTER (WHERE is_won) AS won_n,
           count(*) FILTER (WHERE is_closed AND NOT is_won) AS lost_n,
           sum(amount) FILTER (WHERE is_won) AS won_amount,
           avg(close_date - created_date) FILTER (WHERE is_won AND created_date IS NOT NULL) AS cycle_days
    FROM opportunity
    WHERE close_date BETWEEN ? AND ?
)
SELECT open_n * (won_n / nullif(won_n + lost_n, 0)) * (coalesce(won_amount, 0) / nullif(won_n, 0))
       / nullif(cycle_days, 0) AS sales_velocity
FROM t
"""

SQL_CREATED_BY_MONTH = """
SELECT date_trunc('month', created_date)::DATE AS month,
       sum(amount) AS pipeline_created,
       count(*) AS deals_created
FROM opportunity
WHERE created_date BETWEEN ? AND ?
GROUP BY 1
ORDER BY 1
"""

SQL_FORECAST_BY_MANAGER = """
WITH d AS (
    SELECT p.manager_id,
           sum(o.amount) FILTER (WHERE o.is_won) AS won,
           sum(o.amount) FILTER (WHERE NOT o.is_closed AND o.forecast_category = 'Commit') AS commit_amount,
           sum(o.amount) FILTER (WHERE NOT o.is_closed AND o.forecast_category = 'Best Case') AS best_case_amount
    FROM opportunity o JOIN person p ON p.id = o.owner_id
    WHERE o.close_date BETWEEN ? AND ?
    GROUP BY p.manager_id
)
SELECT d.manager_id, m.name AS manager,
       coalesce(d.won, 0) + coalesce(d.commit_amount, 0) AS forecast_call,
       coalesce(d.won, 0) + coalesce(d.commit_amount, 0) + coalesce(d.best_case_amount, 0) AS forecast_upside,
       coalesce(d.commit_amount, 0) AS commit_pipeline,
       coalesce(d.best_case_amount, 0) AS best_case_pipeline
FROM d LEFT JOIN person m ON m.id = d.manager_id
ORDER BY manager
"""

SQL_ACTIVITIES_BY_REP = """
WITH a AS (
    SELECT person_id,
           count(*) AS activities,
           count(*) FILTER (WHERE activity_type = 'call') AS calls,
           count(*) FILTER (WHERE activity_type = 'email') AS emails,
           count(*) FILTER (WHERE activity_type = 'meeting') AS meetings,
           count(*) FILTER (WHERE activity_type = 'demo') AS demos
    FROM activity
    WHERE activity_date BETWEEN ? AND ?
    GROUP BY person_id
)
SELECT a.person_id AS rep_id, p.name AS rep, a.activities, a.calls, a.emails, a.meetings, a.demos
FROM a LEFT JOIN person p ON p.id = a.person_id
ORDER BY rep
"""

# Pacing divides by the elapsed fraction of the period on as_of (today counts; 1 once it is over).
SQL_PACING = """
WITH d AS (
    SELECT sum(o.amount) FILTER (WHERE o.is_won) AS won,
           sum(o.amount * s.probability / 100.0) FILTER (WHERE NOT o.is_closed) AS weighted
    FROM opportunity o JOIN stage s ON s.name = o.stage
    WHERE o.close_date BETWEEN ? AND ?
), q AS (
    SELECT sum(amount) AS quota FROM quota WHERE month BETWEEN ? AND ?
), e AS (
    SELECT CASE WHEN as_of < lo THEN 0.0
                ELSE least(1.0, (least(as_of, hi) - lo + 1) / (hi - lo + 1)) END AS elapsed
    FROM (SELECT ?::DATE AS as_of, ?::DATE AS lo, ?::DATE AS hi)
)
SELECT coalesce(d.won, 0) / nullif(e.elapsed, 0) AS pacing,
       coalesce(d.won, 0) / nullif(e.elapsed, 0) / nullif(coalesce(q.quota, 0), 0) AS pacing_attainment,
       (coalesce(d.won, 0) + coalesce(d.weighted, 0)) / nullif(coalesce(q.quota, 0), 0) AS projected_attainment,
       greatest(coalesce(q.quota, 0) - coalesce(d.won, 0), 0) AS quota_remaining
FROM d, q, e
"""

# A second-line manager's subtree (recursive, UNION stops loops), narrowed to one segment; three facts.
SQL_SCOPED_BY_REP = """
WITH RECURSIVE tree(id) AS (
    SELECT id FROM person WHERE id = ?
    UNION
    SELECT p.id FROM person p JOIN tree ON p.manager_id = tree.id
), in_view AS (
    SELECT id FROM person WHERE id IN (SELECT id FROM tree) AND segment_id = ?
), deals AS (
    SELECT owner_id AS person_id,
           sum(amount) FILTER (WHERE is_won) AS won,
           sum(amount) FILTER (WHERE NOT is_closed) AS open_amount,
           count(*) FILTER (WHERE is_won) AS won_n,
           count(*) FILTER (WHERE is_closed AND NOT is_won) AS lost_n
    FROM opportunity
    WHERE close_date BETWEEN ? AND ? AND owner_id IN (SELECT id FROM in_view)
    GROUP BY owner_id
), quotas AS (
    SELECT person_id, sum(amount) AS quota
    FROM quota
    WHERE month BETWEEN ? AND ? AND person_id IN (SELECT id FROM in_view)
    GROUP BY person_id
), acts AS (
    SELECT person_id, count(*) AS n
    FROM activity
    WHERE activity_date BETWEEN ? AND ? AND person_id IN (SELECT id FROM in_view)
    GROUP BY person_id
), reps AS (
    SELECT person_id FROM deals UNION SELECT person_id FROM quotas UNION SELECT person_id FROM acts
)
SELECT r.person_id AS rep_id, p.name AS rep,
       coalesce(d.won, 0) AS bookings,
       coalesce(q.quota, 0) AS quota,
       coalesce(d.won, 0) / nullif(coalesce(q.quota, 0), 0) AS attainment,
       coalesce(d.open_amount, 0) AS open_pipeline,
       coalesce(d.won_n, 0) / nullif(coalesce(d.won_n, 0) + coalesce(d.lost_n, 0), 0) AS win_rate,
       coalesce(a.n, 0) AS activities
FROM reps r
LEFT JOIN deals d ON d.person_id = r.person_id
LEFT JOIN quotas q ON q.person_id = r.person_id
LEFT JOIN acts a ON a.person_id = r.person_id
LEFT JOIN person p ON p.id = r.person_id
ORDER BY rep
"""

CASES: tuple[Case, ...] = (
    Case(
        "attainment_by_team",
        ("bookings", "quota", "ramped_quota", "attainment"),
        ("team",),
        _this_quarter,
        SQL_ATTAINMENT_BY_TEAM,
        Q + Q,
    ),
    Case("reps_at_quota_by_team", ("pct_reps_at_quota",), ("team",), _this_quarter, SQL_REPS_AT_QUOTA_BY_TEAM, Q + Q),
    Case(
        "pacing_projection",
        ("pacing", "pacing_attainment", "projected_attainment", "quota_remaining"),
        (),
        _this_quarter,
        SQL_PACING,
        Q + Q + ("as_of", "q_lo", "q_hi"),
    ),
    Case(
        "pipeline_by_segment",
        ("open_pipeline", "open_deals", "weighted_pipeline", "coverage"),
        ("segment",),
        _this_quarter,
        SQL_PIPELINE_BY_SEGMENT,
        Q + Q,
    ),
    Case(
        "win_rate_by_rep",
        ("win_rate", "win_rate_value", "avg_deal_size", "deals_won", "deals_lost"),
        ("rep",),
        _this_quarter,
        SQL_WIN_RATE_BY_REP,
        Q,
    ),
    Case("cycle_by_region", ("sales_cycle_days", "sales_cycle_median_days"), ("region",), _this_quarter, SQL_CYCLE_BY_REGION, Q),
    Case("velocity", ("sales_velocity",), (), _this_quarter, SQL_VELOCITY, Q),
    Case(
        "created_by_month", ("pipeline_created", "deals_created"), ("month",), _this_year, SQL_CREATED_BY_MONTH, ("y_lo", "y_hi")
    ),
    Case(
        "forecast_by_manager",
        ("forecast_call", "forecast_upside", "commit_pipeline", "best_case_pipeline"),
        ("manager",),
        _this_quarter,
        SQL_FORECAST_BY_MANAGER,
        Q,
    ),
    Case(
        "activities_by_rep",
        ("activities", "calls", "emails", "meetings", "demos"),
        ("rep",),
        _this_quarter,
        SQL_ACTIVITIES_BY_REP,
        Q,
    ),
    Case(
        "scoped_segment_by_rep",
        ("bookings", "quota", "attainment", "open_pipeline", "win_rate", "activities"),
        ("rep",),
        _manager_segment,
        SQL_SCOPED_BY_REP,
        ("manager", "segment") + Q + Q + Q,
    ),
)

HEADER = f"{'case':<24} {'rows':>6} {'metrics s':>10} {'raw SQL s':>10} {'ratio':>6} {'peak RSS MB':>12}"
POSTGRES_HEADER = f"{HEADER} {'postgres s':>12} {'pg/duck':>8}"  # the metrics layer on each engine

SQL_SECOND_LINE_MANAGER = """
SELECT m.id, m.segment_id
FROM person m
WHERE m.role = 'manager' AND m.segment_id IS NOT NULL
  AND EXISTS (SELECT 1 FROM person c
              WHERE c.manager_id = m.id AND c.role = 'manager'
                AND EXISTS (SELECT 1 FROM person r WHERE r.manager_id = c.id AND r.role = 'rep'))
ORDER BY m.id
LIMIT 1
"""


# ---------------------------------------------------------------------------------------------
# Memory
# ---------------------------------------------------------------------------------------------


def _reset_peak_rss() -> bool:
    """Reset the kernel's RSS high-water mark (Linux >= 4.0) so the next reading is this phase's own peak."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_rss_mb() -> float:
    """ru_maxrss in MB (KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


# ---------------------------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------------------------


def _check_same(case: str, got: pd.DataFrame, want: pd.DataFrame, rtol: float = 1e-9, atol: float = 1e-6) -> None:
    """Raise BenchMismatch unless both frames hold the same rows and values (pandas' own comparison,
    numbers within tolerance, NULL matching NULL). The grouping columns become the index, so row
    order does not matter and pandas' message names the rows that differ."""
    if list(got.columns) != list(want.columns):
        raise BenchMismatch(f"{case}: metrics layer columns {list(got.columns)} != raw SQL columns {list(want.columns)}")
    if len(got) != len(want):
        raise BenchMismatch(f"{case}: metrics layer gave {len(got)} rows, raw SQL {len(want)}")
    keys = [c for c in got.columns if c not in CATALOGUE]
    got, want = _comparable(got, keys), _comparable(want, keys)
    try:
        pd.testing.assert_frame_equal(got, want, check_dtype=False, check_index_type=False, rtol=rtol, atol=atol)
    except AssertionError as exc:
        raise BenchMismatch(f"{case}: metrics layer (left) differs from raw SQL (right): {exc}") from None


def _comparable(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Sorted by the grouping columns, which become the index; values normalised so only they are
    compared, not how each driver typed them."""
    frame = frame.apply(_comparable_column)
    return frame.set_index(keys).sort_index(na_position="last") if keys else frame


def _comparable_column(column: pd.Series) -> pd.Series:
    """Numbers as float64 (NULL as NaN, whatever the nullable dtype), dates as timestamps."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.astype("float64")
    if pd.api.types.is_datetime64_any_dtype(column) or column.map(type).eq(date).any():
        return pd.to_datetime(column)
    return column


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------


def _timed(fn: Callable[[], pd.DataFrame]) -> tuple[float, pd.DataFrame]:
    start = time.perf_counter()
    frame = fn()
    return time.perf_counter() - start, frame


def _build(path: Path, opportunities: int, activities: int, reuse: bool, out: TextIO) -> None:
    """Generate the demo warehouse (unless reusing one), reporting time and peak RSS."""
    from .demo import DemoSpec, build_demo

    if reuse and path.exists():
        print(f"Reusing {path}", file=out)
        return
    for stale in (path, path.with_name(path.name + ".wal")):
        stale.unlink(missing_ok=True)  # a clean file: timings and size not skewed by a previous build
    reset = _reset_peak_rss()
    engine = make_engine(f"duckdb:///{path}")
    start = time.perf_counter()
    try:
        build_demo(engine, DemoSpec(opportunities=opportunities, activities=activities))
    finally:
        engine.dispose()  # release the read-write handle: the bench reopens the file read-only
    seconds = time.perf_counter() - start
    source = "ru_maxrss, reset before the build" if reset else "ru_maxrss, process peak so far"
    print(f"Generated {path} in {seconds:.1f} s; peak RSS {_peak_rss_mb():,.0f} MB ({source})", file=out)


def _raw_connection(path: Path, engine: Engine) -> duckdb.DuckDBPyConnection:
    """A plain duckdb connection to the engine's file, in this process.

    DuckDB shares one database instance per file and process, and refuses a second connection whose
    configuration differs; duckdb-engine sets custom_user_agent, so the same value is passed here. Both
    sides then run against the same instance (same buffer cache, same threads).
    """
    with engine.connect() as conn:
        agent = conn.exec_driver_sql("SELECT current_setting('custom_user_agent')").scalar()
    config = {"custom_user_agent": agent} if agent else {}
    return duckdb.connect(str(path), read_only=True, config=config)


def _context(con: duckdb.DuckDBPyConnection, engine: Engine) -> Context:
    as_of = date.fromisoformat(get_info(engine)["as_of"])
    found = con.execute(SQL_SECOND_LINE_MANAGER).fetchone()
    if found is None:
        raise ValueError("The warehouse has no second-line manager (a manager of managers of reps) to scope by.")
    return Context(as_of, Period.quarter(as_of), Period.year(as_of), int(found[0]), int(found[1]))


def _print_table_counts(con: duckdb.DuckDBPyConnection, out: TextIO) -> None:
    print("Rows per table:", file=out)
    for table in schema.metadata.sorted_tables:
        (count,) = con.execute(f'SELECT count(*) FROM "{table.name}"').fetchone()
        print(f"  {table.name:<22} {count:>14,}", file=out)


def run_case(
    case: Case, ctx: Context, engine: Engine, con: duckdb.DuckDBPyConnection, repeat: int, postgres: Engine | None = None
) -> BenchRow:
    """Warm up every way (and cross-check those results), then time `repeat` interleaved runs of each."""
    filters, scope = case.request(ctx)
    params = ctx.params(case.params)
    if case.sql.count("?") != len(params):
        raise ValueError(f"{case.name}: {case.sql.count('?')} placeholders but {len(params)} parameters")

    def metrics(on: Engine = engine) -> pd.DataFrame:
        return query(on, list(case.kpis), filters, scope, by=list(case.by), as_of=ctx.as_of)

    def raw() -> pd.DataFrame:
        return con.execute(case.sql, params).df()

    _reset_peak_rss()
    _, got = _timed(metrics)
    _, want = _timed(raw)
    _check_same(case.name, got, want)
    if postgres is not None:
        _check_same(f"{case.name} on PostgreSQL", _timed(lambda: metrics(postgres))[1], got)
    metrics_times, raw_times, postgres_times = [], [], []
    for _ in range(repeat):  # interleaved, so drift (other load, cache state) hits every side alike
        metrics_times.append(_timed(metrics)[0])
        raw_times.append(_timed(raw)[0])
        if postgres is not None:
            postgres_times.append(_timed(lambda: metrics(postgres))[0])
    m, r = statistics.median(metrics_times), statistics.median(raw_times)
    p = statistics.median(postgres_times) if postgres_times else None
    return BenchRow(case.name, len(got), m, r, m / r if r > 0 else float("inf"), _peak_rss_mb(), p)


def format_row(row: BenchRow) -> str:
    line = f"{row.case:<24} {row.rows:>6} {row.metrics_s:>10.4f} {row.raw_s:>10.4f} {row.ratio:>6.2f} {row.peak_rss_mb:>12,.0f}"
    return line if row.postgres_s is None else f"{line} {row.postgres_s:>12.4f} {row.postgres_ratio:>8.2f}"


def _postgres_copy(path: Path, url: str, reuse: bool, out: TextIO) -> Engine:
    """The bench warehouse copied to PostgreSQL (kept when reusing and it is the same demo)."""
    from .transfer import copy_warehouse

    source, target = make_engine(f"duckdb:///{path}", read_only=True), make_engine(url)
    try:
        if reuse and get_info(target) == get_info(source):
            print(f"Reusing the copy at {target.url.render_as_string()}", file=out)
        else:
            start = time.perf_counter()
            rows = sum(copy_warehouse(source, target).values())
            print(f"Copied {rows:,} rows to {target.url.render_as_string()} in {time.perf_counter() - start:.1f} s", file=out)
    finally:
        source.dispose()  # the bench reopens the file with its own settings
    return target


def run_bench(
    path: Path,
    opportunities: int = 10_000_000,
    activities: int = 50_000_000,
    repeat: int = 5,
    reuse: bool = False,
    out: TextIO | None = None,
    postgres_url: str | None = None,
) -> list[BenchRow]:
    """Build (or reuse) a demo warehouse at `path` (and its copy at postgres_url), then time and cross-check
    every case; print a table to `out` (sys.stdout at call time when None, so captured/redirected stdout works)."""
    out = sys.stdout if out is None else out
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    path = Path(path)
    _build(path, opportunities, activities, reuse, out)
    postgres = _postgres_copy(path, postgres_url, reuse, out) if postgres_url else None
    engine = make_engine(f"duckdb:///{path}", read_only=True)
    con = _raw_connection(path, engine)
    try:
        ctx = _context(con, engine)
        _print_table_counts(con, out)
        print(
            f"as_of {ctx.as_of}; quarter {ctx.quarter.start}..{ctx.quarter.end}; scoped case: subtree of person "
            f"{ctx.manager_id}, segment {ctx.segment_id}; median of {repeat} run(s) after 1 warm-up",
            file=out,
        )
        peak_note = "this case's peak (reset per case)" if _reset_peak_rss() else "process peak so far"
        print(f"peak RSS MB = ru_maxrss, {peak_note}", file=out)
        print(HEADER if postgres is None else POSTGRES_HEADER, file=out)
        rows = []
        for case in CASES:
            row = run_case(case, ctx, engine, con, repeat, postgres)
            rows.append(row)
            print(format_row(row), file=out, flush=True)
        return rows
    finally:
        con.close()
        engine.dispose()
        if postgres is not None:
            postgres.dispose()
