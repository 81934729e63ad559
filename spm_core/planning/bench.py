"""Planning at scale: a synthetic organisation of N reps (five per-level fan-outs down to teams of 8) with
deals, then each step of a plan timed with its Python peak memory (tracemalloc) and the process's peak RSS.

    python scripts/plan_bench.py --reps 5000
"""

from __future__ import annotations

import resource
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

from ..db import create_schema, insert_frame, make_engine
from ..filters import Period, Scope
from ..schema import opportunity, person
from . import scenarios as sc
from .capacity import capacity
from .compute import ScenarioSpec
from .model import BUCKETING, WEIGHTED, LevelRule, Override, PlannedSeat, PlanRules, Ramp, RampOverride, Tier
from .publish import approve, publish
from .rights import Planner

BENCH = Planner("bench", "admin", Scope.everyone())  # the bench acts as an admin: every right, everyone in view

AS_OF = date(2026, 11, 23)
YEAR = Period(date(2027, 1, 1), date(2027, 12, 31))


@dataclass(frozen=True)
class Step:
    name: str
    seconds: float
    python_peak_mb: float  # tracemalloc's peak during the step
    rss_peak_mb: float  # the process's peak resident memory so far


def organisation(reps: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """People (leader, VPs, directors, team managers, reps) and won/open deals, three a rep a year."""
    rng = np.random.default_rng(seed)
    teams = -(-reps // 8)
    directors = -(-teams // 8)
    vps = -(-directors // 5)
    ids = np.arange(2, 2 + vps + directors + teams + reps)
    vp, director, team, rep = np.split(ids, np.cumsum([vps, directors, teams]))
    manager = np.concatenate(
        [np.full(vps, 1), vp[np.arange(directors) % vps], director[np.arange(teams) % directors], team[np.arange(reps) // 8]]
    )
    hire = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 2900, len(ids)), unit="D")
    people = pd.DataFrame(
        {
            "id": np.concatenate([[1], ids]),
            "name": [f"Person {i}" for i in range(1, len(ids) + 2)],
            "role": ["leader"] + ["manager"] * (vps + directors + teams) + ["rep"] * reps,
            "manager_id": pd.array(np.concatenate([[0], manager]), dtype="Int64"),
            "segment_id": np.concatenate([[0], rng.integers(1, 4, len(ids))]),
            "hire_date": np.concatenate([[pd.Timestamp("2019-01-01")], hire]).astype("datetime64[us]"),
            "active": True,
            "ramp_months": 3,
        }
    )
    people.loc[0, "manager_id"] = pd.NA
    n = reps * 6
    close = pd.Timestamp(AS_OF) - pd.to_timedelta(rng.integers(-200, 700, n), unit="D")
    closed = close <= pd.Timestamp(AS_OF)
    won = closed & (rng.random(n) < 0.4)
    deals = pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "owner_id": rng.choice(rep, n),
            "amount": rng.integers(1_000, 200_000, n).astype(float),
            "stage": np.where(won, "Closed Won", np.where(closed, "Closed Lost", "Proposal")),
            "probability": np.where(won, 100, np.where(closed, 0, 60)),
            "forecast_category": np.where(won, "Closed", np.where(closed, "Omitted", "Best Case")),
            "close_date": close.astype("datetime64[us]"),
            "is_closed": closed,
            "is_won": won,
        }
    )
    return people, deals


def _timed(name: str, work: Callable[[], object]) -> Step:
    tracemalloc.start()
    start = time.perf_counter()
    work()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return Step(name, seconds, peak / 2**20, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def run(path: Path, reps: int = 5_000, seed: int = 1) -> list[Step]:
    """Build the warehouse at `path`, then time: allocate (read tree and measures, split 4 levels: even,
    weighted, weighted, bucketing; a planned seat per 20 reps, a ramp of their own for every 50th rep) and store;
    read the allocation with each rep's quota after ramp; capacity; an override (reallocate and store again); approve and publish
    (ramped monthly quotas for every rep written to the quota table with history)."""
    engine = make_engine(f"duckdb:///{path}")
    create_schema(engine)
    people, deals = organisation(reps, seed)
    with engine.begin() as conn:
        insert_frame(conn, person, people)
        insert_frame(conn, opportunity, deals)
    tiers = (Tier("Top", 1_000_000, Fraction(1, 2)), Tier("Core", 0, Fraction(1, 2)))
    levels = (
        LevelRule(),
        LevelRule(WEIGHTED, "prior_year_bookings"),
        LevelRule(WEIGHTED, "trailing_12_months"),
        LevelRule(BUCKETING, "open_pipeline", tiers),
    )
    teams = people.loc[people["id"].isin(people.loc[people["role"] == "rep", "manager_id"]), "id"].astype(int).to_numpy()
    seats = tuple(  # open headcount: one seat for every 20 reps, starting through the year
        PlannedSeat(k, f"TBH {k}", int(teams[k % len(teams)]), date(2027, 1 + k % 12, 1), 1 + k % 3)
        for k in range(1, reps // 20 + 1)
    )
    fast = tuple(RampOverride(int(i), Ramp.parse("50"), "bench") for i in people.loc[people["role"] == "rep", "id"].iloc[::50])
    spec = ScenarioSpec("Bench", YEAR, PlanRules(reps * 1_000_000_00 + 7, levels), seats=seats, ramps=fast)
    box: dict[str, int] = {}
    steps = [
        _timed(f"allocate {reps:,} reps and store", lambda: box.update(sid=sc.create_scenario(engine, spec, BENCH, AS_OF)))
    ]
    rep_id = int(people["id"].iloc[-1])
    steps.append(
        _timed(
            "override one rep, reallocate",
            lambda: sc.set_override(engine, box["sid"], Override(rep_id, 1_00, "bench"), BENCH, AS_OF),
        )
    )
    steps.append(_timed("read it with quotas after ramp", lambda: sc.allocation(engine, box["sid"], Scope.everyone())))
    steps.append(_timed("capacity", lambda: capacity(engine, box["sid"], AS_OF, Scope.everyone())))
    top = people.loc[people["manager_id"] == 1, "id"].astype(int)
    for manager in top:
        approve(engine, box["sid"], manager, BENCH)
    steps.append(_timed("publish monthly quotas", lambda: box.update(rows=publish(engine, box["sid"], BENCH, AS_OF))))
    engine.dispose()
    return steps


def report(steps: list[Step]) -> str:
    lines = [f"{'step':<36}{'seconds':>9}{'python peak MB':>16}{'process peak RSS MB':>21}"]
    lines += [f"{s.name:<36}{s.seconds:>9.2f}{s.python_peak_mb:>16.1f}{s.rss_peak_mb:>21.0f}" for s in steps]
    return "\n".join(lines)
