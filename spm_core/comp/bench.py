"""Benchmark: one quarter's commission run for every rep vs a hand-written DuckDB SQL of the same bands.

    python -m spm_core comp bench --opportunities 1000000

The engine's figure is a whole run (crediting with splits, marginal bands, gates and caps, bonuses,
SPIFFs, overrides, draws, clawbacks, written as traced lines); the hand-written SQL computes only the AE
plans' marginal band lines, the step the two share, and must give exactly the engine's marginal lines (checked with EXCEPT
both ways). The demo has paid that quarter and changed some of its deals since (clawbacks), so each
engine run is a what-if run: every line of the quarter as the engine pays it now, written, counted and
rolled back (a plain run of a paid quarter would only post its differences). Timings are the median of
`repeat` runs after one uncounted warm-up; memory is the RSS high-water mark of each phase, reset before
it on Linux (see spm_core/bench.py).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TextIO

import sqlalchemy as sa

from ..bench import _peak_rss_mb, _reset_peak_rss
from ..db import make_engine
from ..demo import DemoSpec, build_demo
from ..filters import Period
from ..upgrade import upgrade
from .engine import RunSummary, calculate_in
from .lines import Run
from .rates import marginal_lines

AS_OF = date(2026, 11, 23)

# The AE plan's bands (spm_core/demo/comp.py) written by hand, decimals kept exact: DuckDB turns a
# DECIMAL divided by anything into a DOUBLE, so percentages are multiplied by 0.01.
# People on an AE plan for the whole quarter: a plan that starts or ends inside it (a new hire, a change)
# prorates the quota by days (SPEC), which the hand-written SQL leaves to the engine's own tests.
WHOLE_PERIOD_SQL = """
CREATE OR REPLACE TEMP TABLE whole_period AS
SELECT DISTINCT a.person_id
FROM comp_assignment a
JOIN comp_plan_version v ON v.id = a.plan_version_id
JOIN comp_plan p ON p.id = v.plan_id AND p.name LIKE 'Account Executive%'  -- and its new-hire variant
WHERE a.effective_from <= $start AND coalesce(a.effective_to, DATE '9999-12-31') >= $end
  AND a.person_id NOT IN (
      SELECT person_id FROM comp_assignment
      WHERE effective_from <= $end AND coalesce(effective_to, DATE '9999-12-31') >= $start
      GROUP BY person_id HAVING count(*) > 1
  )
"""
HAND_SQL = """
CREATE OR REPLACE TEMP TABLE hand_lines AS
WITH credit AS (
    SELECT o.id AS opp, o.owner_id AS person, o.close_date, o.amount::DECIMAL(18,2) AS credited
    FROM opportunity o
    WHERE o.is_won AND o.close_date BETWEEN $start AND $end
      AND NOT EXISTS (SELECT 1 FROM opportunity_split s WHERE s.opportunity_id = o.id)
    UNION ALL
    SELECT o.id, s.person_id, o.close_date, round(o.amount::DECIMAL(38,8) * s.percent * 0.01, 2)::DECIMAL(18,2)
    FROM opportunity o JOIN opportunity_split s ON s.opportunity_id = o.id
    WHERE o.is_won AND o.close_date BETWEEN $start AND $end
), quota_q AS (
    SELECT person_id, sum(amount)::DECIMAL(18,2) AS quota FROM quota WHERE month BETWEEN $start AND $end GROUP BY 1
), ae AS (
    SELECT c.*, q.quota
    FROM credit c
    JOIN whole_period w ON w.person_id = c.person
    JOIN quota_q q ON q.person_id = c.person
    WHERE q.quota > 0
), running AS (
    SELECT *, sum(credited::DECIMAL(38,8)) OVER (PARTITION BY person ORDER BY close_date, opp ROWS UNBOUNDED PRECEDING) AS cum
    FROM ae
), bands(lower, upper, rate) AS (
    VALUES (0::DECIMAL(9,4), 50::DECIMAL(9,4), 2::DECIMAL(9,4)), (50, 100, 5), (100, 150, 8), (150, NULL, 12)
), edges AS (
    SELECT r.*, b.rate, b.lower, b.upper,
           (r.quota::DECIMAL(38,8) * b.lower * 0.01)::DECIMAL(38,8) AS lo,
           (r.quota::DECIMAL(38,8) * b.upper * 0.01)::DECIMAL(38,8) AS hi
    FROM running r, bands b
)
SELECT person, opp, lower,
       round((least(cum, coalesce(hi, cum)) - greatest(cum - credited, lo))::DECIMAL(38,8) * rate * 0.01, 2)::DECIMAL(18,2) AS amount
FROM edges
WHERE lo < cum AND (hi IS NULL OR hi > cum - credited)
"""

DIFFERENCE_SQL = """
SELECT count(*) FROM (
    (SELECT person, opp, lower, amount FROM hand_lines
     EXCEPT ALL SELECT person_id, opportunity_id, band_lower, amount FROM comp_line
     WHERE rule = 'marginal' AND period_start = $start AND period_end = $end)
    UNION ALL
    (SELECT person_id, opportunity_id, band_lower, amount FROM comp_line
     WHERE rule = 'marginal' AND period_start = $start AND period_end = $end
       AND person_id IN (SELECT person_id FROM whole_period)
     EXCEPT ALL SELECT person, opp, lower, amount FROM hand_lines)
)
"""


class BenchMismatch(ValueError):
    """The engine and the hand-written SQL disagree (the CLI prints it as an error)."""


def _timed(work: Callable[[], object], repeat: int) -> tuple[float, float, object]:
    """(median seconds, peak RSS MB, last result) after one uncounted warm-up."""
    work()
    _reset_peak_rss()
    seconds, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), _peak_rss_mb(), result


def run_comp_bench(path: Path, opportunities: int, repeat: int = 3, reuse: bool = False, out: TextIO = sys.stdout) -> None:
    engine = make_engine(f"duckdb:///{path}")
    upgrade(engine)  # a reused warehouse from an earlier version gets this version's tables and columns
    if not (reuse and path.exists()):
        started = time.perf_counter()
        build_demo(engine, DemoSpec(opportunities=opportunities, seed=42, as_of=AS_OF))
        print(f"Demo warehouse {path}: {opportunities:,} opportunities in {time.perf_counter() - started:.1f} s", file=out)
    period = Period.quarter(AS_OF).previous()
    params = {"start": period.start, "end": period.end}

    def whole_run() -> RunSummary:
        with engine.connect() as conn:
            summary = calculate_in(conn, period, run_by="bench", what_if=True)
            conn.rollback()
        return summary

    engine_s, engine_mb, summary = _timed(whole_run, repeat)
    stage = sa.select(sa.func.count()).select_from(marginal_lines(Run(0, period)).subquery())
    with engine.connect() as conn:
        stage_s, stage_mb, stage_rows = _timed(lambda: conn.execute(stage).scalar_one(), repeat)

    with engine.connect() as conn:
        calculate_in(conn, period, run_by="bench", what_if=True)  # compared below, then rolled back
        raw = conn.connection.driver_connection

        def hand() -> int:
            raw.execute(WHOLE_PERIOD_SQL, params)
            raw.execute(HAND_SQL, params)
            return raw.execute("SELECT count(*) FROM hand_lines").fetchone()[0]

        hand_s, hand_mb, hand_rows = _timed(hand, repeat)
        differing = raw.execute(DIFFERENCE_SQL, params).fetchone()[0]
        marginal = raw.execute(
            "SELECT count(*) FROM comp_line WHERE rule = 'marginal' AND period_start = $start AND period_end = $end", params
        ).fetchone()[0]
        compared = raw.execute("SELECT count(*) FROM whole_period").fetchone()[0]
        conn.rollback()
    engine.dispose()
    print(f"Commission run for {period.start}..{period.end} (median of {repeat}, after a warm-up):", file=out)
    print(f"  {'':<34}{'rows':>10}{'seconds':>10}{'peak RSS MB':>13}", file=out)
    print(f"  {'engine, whole run (all rules)':<34}{summary.lines:>10,}{engine_s:>10.2f}{engine_mb:>13.0f}", file=out)
    print(f"  {'engine, marginal stage alone':<34}{stage_rows:>10,}{stage_s:>10.2f}{stage_mb:>13.0f}", file=out)
    print(f"  {'hand-written SQL, marginal bands':<34}{hand_rows:>10,}{hand_s:>10.2f}{hand_mb:>13.0f}", file=out)
    print(f"  engine marginal lines {marginal:,}; compared with the hand-written SQL for the {compared:,} people on an AE plan "
          f"all quarter (a plan starting or ending inside it prorates quota): {differing} lines differ", file=out)
    print(f"  credit rows {summary.credit_rows:,}; run total ${summary.total:,.2f}", file=out)
    if differing:
        raise BenchMismatch(f"The engine's marginal lines differ from the hand-written SQL in {differing} row(s).")
