"""Territory balancing at scale: N accounts around the demo's cities (unevenly busy, potential lognormal) in K
geographic territories (the accounts ordered by city then longitude, cut into K runs of uneven length), each territory owned by its own manager who owns its accounts, two deals
an account held by the account's owner, then each step timed with its Python peak memory (tracemalloc) and the
process's peak RSS.

    python scripts/territory_bench.py --accounts 50000 --territories 40
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from ...db import create_schema, insert_frame, make_engine
from ...demo.geo import CITIES, JITTER_DEGREES
from ...filters import Scope
from ...schema import account, opportunity, person, territory
from ..bench import Step, _timed
from ..rights import Planner
from .balance import propose
from .carve import carve
from .measures import account_measures, measures_statement
from .moves import NewTerritory, accept_carving, accept_moves
from .publish import publish

BENCH = Planner("bench", "admin", Scope.everyone())  # the bench acts as an admin: every right, everyone in view

AS_OF = date(2026, 11, 23)


def market(accounts: int, territories: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Managers, territories, accounts (each territory a run of neighbouring accounts, so territories are
    geographic however many there are) and deals."""
    rng = np.random.default_rng(seed)
    cities = [(country, *city) for country, rows in CITIES.items() for city in rows]
    busy = rng.dirichlet(np.full(len(cities), 0.7))  # some cities hold far more accounts than others
    city = rng.choice(len(cities), accounts, p=busy)
    lat = np.array([c[4] for c in cities])[city] + rng.uniform(-JITTER_DEGREES, JITTER_DEGREES, accounts)
    lon = np.array([c[5] for c in cities])[city] + rng.uniform(-JITTER_DEGREES, JITTER_DEGREES, accounts)
    ids = np.arange(1, territories + 1)
    runs = np.cumsum(rng.uniform(0.5, 1.5, territories))
    ends = np.round(runs / runs[-1] * accounts).astype(np.int64)
    home = np.empty(accounts, np.int64)
    home[np.lexsort((lon, city))] = np.searchsorted(ends, np.arange(accounts), side="right") + 1
    people = pd.DataFrame({"id": ids, "name": [f"Manager {t}" for t in ids], "role": "manager", "active": True, "ramp_months": 0})
    terr = pd.DataFrame({"id": ids, "name": [f"Territory {t}" for t in ids], "owner_id": ids})
    accts = pd.DataFrame(
        {
            "id": np.arange(1, accounts + 1),
            "name": [f"Account {i}" for i in range(1, accounts + 1)],
            "country": np.array([c[0] for c in cities])[city],
            "state": np.array([c[2] for c in cities])[city],
            "latitude": lat,
            "longitude": lon,
            "territory_id": home,
            "owner_id": home,
            "potential": np.round(rng.lognormal(11, 1.0, accounts), -2),
            "employees": rng.integers(5, 20_000, accounts),
        }
    )
    n = 2 * accounts
    is_open = rng.random(n) < 0.5
    on = rng.integers(1, accounts + 1, n)
    deals = pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "account_id": on,
            "owner_id": accts["owner_id"].to_numpy()[on - 1],
            "amount": rng.integers(1_000, 100_000, n).astype(float),
            "stage": np.where(is_open, "Proposal", "Closed Won"),
            "probability": np.where(is_open, 60, 100),
            "forecast_category": np.where(is_open, "Best Case", "Closed"),
            "close_date": (pd.Timestamp(AS_OF) - pd.to_timedelta(rng.integers(-100, 300, n), unit="D")).astype("datetime64[us]"),
            "is_closed": ~is_open,
            "is_won": ~is_open,
        }
    )
    return people, terr, accts, deals


def build(path: Path, accounts: int, territories: int, seed: int = 1) -> Engine:
    """A DuckDB warehouse at `path` holding market(accounts, territories, seed); its engine."""
    engine = make_engine(f"duckdb:///{path}")
    create_schema(engine)
    people, terr, accts, deals = market(accounts, territories, seed)
    with engine.begin() as conn:
        insert_frame(conn, person, people)
        insert_frame(conn, territory, terr)
        insert_frame(conn, account, accts)
        insert_frame(conn, opportunity, deals)
    return engine


def run(path: Path, accounts: int = 50_000, territories: int = 40, seed: int = 1) -> tuple[list[Step], dict[str, tuple]]:
    """Build the warehouse at `path`, then time: reading every account's measures (one set-based query),
    proposing moves by potential and by workload, accepting every potential move, carving the busiest
    territory into 4 new ones (by potential) and accepting that, and publishing it all from AS_OF with open
    deals following (history rows, owners, deals). Also returns the spreads and disruption of each."""
    engine = build(path, accounts, territories, seed)
    box: dict[str, object] = {}
    ids = list(range(1, territories + 1))  # market() numbers the territories 1..K
    sql = str(measures_statement(engine, AS_OF, Scope.everyone()).compile(engine, compile_kwargs={"literal_binds": True}))
    raw = engine.raw_connection()
    steps = [
        _timed(
            f"read measures of {accounts:,} accounts", lambda: box.update(rows=account_measures(engine, AS_OF, Scope.everyone()))
        ),
        _timed("the same as raw DuckDB SQL", lambda: raw.driver_connection.execute(sql).df()),
        _timed(f"propose by potential, {territories} territories", lambda: box.update(p=propose(box["rows"], ids, "potential"))),
        _timed(f"propose by workload, {territories} territories", lambda: box.update(w=propose(box["rows"], ids, "workload"))),
    ]
    raw.close()
    steps.append(_timed("accept every potential move", lambda: accept_moves(engine, box["p"].moves, "potential", BENCH)))
    rows = account_measures(engine, AS_OF, Scope.everyone())
    busiest = int(rows["territory_id"].mode()[0])
    chosen = rows[rows["territory_id"] == busiest]
    steps.append(
        _timed(
            f"carve {len(chosen):,} accounts into 4",
            lambda: box.update(c=carve(chosen, 4, "potential", keep=busiest)),
        )
    )
    new = [NewTerritory(f"Carved {p}", None) for p in range(3)]
    steps.append(_timed("accept the carving", lambda: accept_carving(engine, box["c"], new, BENCH)))
    steps.append(
        _timed("publish (history, owners, open deals)", lambda: box.update(pub=publish(engine, AS_OF, "move", BENCH, AS_OF)))
    )
    engine.dispose()
    figures = {
        name: (box[key].spread_before, box[key].spread_after, box[key].disruption)
        for name, key in (("potential", "p"), ("workload", "w"))
    }
    carving = box["c"]
    figures["carving"] = (None, carving.spread, carving.disruption)
    figures["published"] = (box["pub"].accounts_moved, box["pub"].deals_moved)
    return steps, figures


def report(steps: list[Step], figures: dict[str, tuple]) -> str:
    lines = [f"{'step':<44}{'seconds':>9}{'python peak MB':>16}{'process peak RSS MB':>21}"]
    lines += [f"{s.name:<44}{s.seconds:>9.2f}{s.python_peak_mb:>16.1f}{s.rss_peak_mb:>21.0f}" for s in steps]
    lines += [
        f"spread of {n}: {figures[n][0]:.1%} -> {figures[n][1]:.1%} with {figures[n][2]:,} moves"
        for n in ("potential", "workload")
    ]
    _, carved, moved = figures["carving"]
    lines.append(f"carving into 4: spread {carved:.1%}, {moved:,} accounts change territory")
    accounts, deals = figures["published"]
    lines.append(f"published: {accounts:,} accounts moved, {deals:,} open deals followed their new owner")
    return "\n".join(lines)
