"""Page benchmark: each page's cold and warm seconds and peak memory as the demo leader (the compensation
pages as their usual viewer, VIEWERS), beside
the time of the page's history numbers read from the history facts and from raw opportunity_history.

    python -m spm_core bench-pages --opportunities 1000000      # builds /tmp/spm_pages_1000000.duckdb once
    python -m spm_core bench-pages --path /tmp/w.duckdb          # or times an existing warehouse

Why both: the issue's targets are page times (what a user waits for), and the facts are what should make
them; the last two columns show what the facts save on the same numbers in the same run. The pages run
under Streamlit's AppTest in a child process (ui/page_timer.py), so this library never imports Streamlit;
the history numbers run here. Timings are medians of `repeat` runs after one uncounted warm-up; the load
average is printed, since figures taken on a busy machine are slower than on a quiet one.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TextIO

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from . import forecast, history
from .coaching.stage_wins import stage_wins
from .db import get_info, make_engine, read_frame
from .demo import DemoSpec, build_demo
from .filters import Filters, Period, Scope
from .history_facts import has_facts
from .schema import opportunity, opportunity_history
from .users import create_demo_users

PAGES = (
    "overview", "pipeline", "attainment", "leaderboard", "forecast",
    "activities", "scorecard", "coaching", "one_on_ones", "contests",
    "my_commissions", "comp_team", "comp_admin", "comp_plans",
    "planning", "territories", "reports", "pulse",
)  # fmt: skip
# Who opens a page in the bench: the leader (the widest scope) unless named here; each compensation page
# as its usual viewer (a rep's own statement, a first-line manager's team, the comp admin's queue).
VIEWERS = {"my_commissions": "rep", "comp_team": "teamlead", "comp_admin": "comp_admin", "comp_plans": "comp_admin"}
AS_OF = date(2026, 11, 23)
ROOT = Path(__file__).resolve().parents[1]

# The history-based numbers each page computes (for the leader, this quarter): from the stored facts
# (facts=True, when the warehouse has them) or from raw opportunity_history (False). Forecast accuracy has
# no stored form (one pass over history for all periods) and runs the same query both ways.
Number = Callable[[Engine, Filters, Scope, date, bool], object]
HISTORY_NUMBERS: dict[str, dict[str, Number]] = {
    "pipeline": {
        "pipeline change": lambda e, f, s, d, facts: history.pipeline_change(e, f, s, d, facts=facts),
        "stage conversion": lambda e, f, s, d, facts: history.stage_conversion(e, f, s, facts=facts),
        "stalled deals": lambda e, f, s, d, facts: history.stalled_deals(e, f, s, d, facts=facts),
        "slipped deals": lambda e, f, s, d, facts: history.slipped_deals(e, f, s, facts=facts),
    },
    "forecast": {
        "statistical forecast": lambda e, f, s, d, facts: forecast.statistical_forecast(e, f, s, d, stored_numbers=facts),
        "accuracy": lambda e, f, s, d, facts: forecast.accuracy(e, f, s, forecast.current_week(f.period, d), d),
    },
    "coaching": {
        "stalled deals": lambda e, f, s, d, facts: history.stalled_deals(e, f, s, d, facts=facts),
        "slipped deals": lambda e, f, s, d, facts: history.slipped_deals(e, f, s, facts=facts),
        "stage win rates": lambda e, f, s, d, facts: stage_wins(e, f, s, facts=facts),
    },
}


@dataclass(frozen=True)
class PageRow:
    page: str
    cold_s: float
    warm_s: float
    peak_mb: float
    facts_s: float | None  # the page's history numbers, from the facts (None: the page has none)
    raw_s: float | None  # the same numbers from raw opportunity_history


HEADER = f"{'page':<16}{'cold s':>8}{'warm s':>8}{'peak MB':>9}{'history: facts s':>18}{'raw s':>8}"


def format_row(row: PageRow) -> str:
    def seconds(value: float | None) -> str:
        return "–" if value is None else f"{value:.2f}"

    return (
        f"{row.page:<16}{row.cold_s:>8.2f}{row.warm_s:>8.2f}{row.peak_mb:>9,.0f}{seconds(row.facts_s):>18}{seconds(row.raw_s):>8}"
    )


def _warehouse(path: Path | None, opportunities: int, out: TextIO) -> str:
    path = path or Path(f"/tmp/spm_pages_{opportunities}.duckdb")
    url = f"duckdb:///{path}"
    if path.exists():
        print(f"Reusing {path}", file=out)
    else:
        started = time.perf_counter()
        engine = make_engine(url)
        build_demo(engine, DemoSpec(opportunities=opportunities, activities=opportunities * 5, seed=11, as_of=AS_OF))
        engine.dispose()
        print(f"Built {path} in {time.perf_counter() - started:.1f} s", file=out)
    engine = make_engine(url, read_only=True)
    try:
        create_demo_users(engine)  # into the users file beside the warehouse, once
    finally:
        engine.dispose()
    return url


def _page_times(url: str, pages: tuple[str, ...], repeat: int) -> dict[str, dict]:
    """The child process's PAGE lines, by page."""
    done = subprocess.run(
        [sys.executable, "-m", "ui.page_timer", url, str(repeat), *pages],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    found = {}
    for line in done.stdout.splitlines():
        if line.startswith("PAGE "):
            row = json.loads(line.removeprefix("PAGE "))
            found[row["page"]] = row
    if done.returncode != 0 or set(found) != set(pages):
        raise RuntimeError(f"the page timer failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return found


def _median_seconds(run: Callable[[], object], repeat: int) -> float:
    run()  # warm-up: first compile, DuckDB's first read of the columns
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def history_seconds(engine: Engine, page: str, as_of: date, repeat: int, facts: bool) -> float | None:
    """Seconds for all of a page's history numbers (the sum of each one's median), from facts or raw history."""
    numbers = HISTORY_NUMBERS.get(page)
    if not numbers:
        return None
    filters, scope = Filters(Period.quarter(as_of)), Scope.everyone()
    return sum(_median_seconds(lambda n=n: n(engine, filters, scope, as_of, facts), repeat) for n in numbers.values())


def run_bench_pages(
    path: Path | None = None,
    opportunities: int = 1_000_000,
    repeat: int = 3,
    pages: tuple[str, ...] | None = None,
    out: TextIO = sys.stdout,
) -> list[PageRow]:
    pages = pages or PAGES
    unknown = set(pages) - set(PAGES)
    if unknown:
        raise ValueError(f"Unknown page(s) {', '.join(sorted(unknown))}; expected some of {', '.join(PAGES)}")
    url = _warehouse(path, opportunities, out)
    engine = make_engine(url, read_only=True)
    try:
        as_of = date.fromisoformat(get_info(engine)["as_of"])
        counts = {
            t.name: int(read_frame(engine, sa.select(sa.func.count()).select_from(t)).iloc[0, 0])
            for t in (opportunity, opportunity_history)
        }
        facts = has_facts(engine)
        print(
            f"{counts['opportunity']:,} opportunities, {counts['opportunity_history']:,} history rows; history facts: "
            f"{'yes' if facts else 'no (run rebuild-history-facts; both columns read raw history)'}; leader, this quarter "
            f"as of {as_of}; median of {repeat}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
            file=out,
        )
        raw = {p: history_seconds(engine, p, as_of, repeat, False) for p in pages}
        from_facts = {p: history_seconds(engine, p, as_of, repeat, facts) for p in pages}
    finally:
        engine.dispose()
    times = _page_times(url, tuple(pages), repeat)
    rows = [PageRow(p, times[p]["cold_s"], times[p]["warm_s"], times[p]["peak_mb"], from_facts[p], raw[p]) for p in pages]
    print(HEADER, file=out)
    for row in rows:
        print(format_row(row), file=out)
    print(f"load average after: {os.getloadavg()[0]:.1f}", file=out)
    return rows
