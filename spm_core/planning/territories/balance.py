"""A balance proposal: few account moves that even out one criterion over territories (SPEC "Planning").

Greedy, and checkable by hand. Moving an account worth v from territory i to j changes the sum of squared
loads by 2v(L_j − L_i + v): it helps only when 0 < v < L_i − L_j = D, most at v = D/2. Each step takes the
most loaded territory and the least loaded one (the next pair when that one has no helpful account), and
among i's accounts that give at least half the best possible gain (v within D/2 ± D/(2√2)) moves the one
nearest j's centre, so geography stays contiguous where it can; failing that, the helpful one closest to
D/2. The total and so the mean never change, so every move lowers the spread: a proposal never raises it.
An account moves at most once and named (pinned) accounts never, so disruption is exactly the moves listed.
It stops at the target spread, when no move helps, or at max_moves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .measures import CRITERIA, spread
from .model import TerritoryError

WINDOW = 1 / (2 * np.sqrt(2))  # v within D/2 ± D·WINDOW gains at least half of the best move's gain
KM_PER_DEGREE = 111.2


@dataclass(frozen=True)
class Proposal:
    """The moves, the load per territory before and after, and the spread before and after."""

    criterion: str
    moves: pd.DataFrame  # account_id, name, from_id, to_id, value, km, spread_after (after this move)
    before: pd.Series  # load per territory id
    after: pd.Series
    spread_before: float | None
    spread_after: float | None

    @property
    def disruption(self) -> int:
        """SPEC: the number of accounts whose territory changes (each account moves at most once)."""
        return len(self.moves)


@dataclass(frozen=True)
class _Pool:
    """Each territory's movable accounts sorted by value, every account's value, and which are still unmoved."""

    order: list[np.ndarray]  # account positions per territory, by value
    sorted_values: list[np.ndarray]
    value: np.ndarray  # per account position
    free: np.ndarray  # per account position; cleared when the account moves

    def pick(self, i: int, gap: float, lat: np.ndarray, lon: np.ndarray, centre: tuple[float, float]) -> int | None:
        """The account of territory i to send towards `centre`, or None when no move lowers the spread."""
        vals, order = self.sorted_values[i], self.order[i]
        lo = np.searchsorted(vals, gap * (0.5 - WINDOW), "left")
        hi = np.searchsorted(vals, gap * (0.5 + WINDOW), "right")
        good = order[lo:hi]
        good = good[self.free[good] & (self.value[good] > 0) & (self.value[good] < gap)]
        if len(good):
            km = _km(lat[good], lon[good], *centre)
            if np.isfinite(km).any():
                return int(good[np.nanargmin(np.where(np.isfinite(km), km, np.inf))])
            return self._nearest_half(good, gap)
        helpful = order[(vals > 0) & (vals < gap)]
        helpful = helpful[self.free[helpful]]
        return self._nearest_half(helpful, gap) if len(helpful) else None

    def _nearest_half(self, positions: np.ndarray, gap: float) -> int:
        return int(positions[np.argmin(np.abs(self.value[positions] - gap / 2))])


def _km(lat: np.ndarray, lon: np.ndarray, clat: float, clon: float) -> np.ndarray:
    """Distance in km, equirectangular: plenty for ranking accounts by closeness to a territory's centre."""
    dx = (lon - clon) * np.cos(np.radians((lat + clat) / 2))
    return KM_PER_DEGREE * np.hypot(lat - clat, dx)


def propose(
    accounts: pd.DataFrame,
    territory_ids: Sequence[int],
    criterion: str,
    target: float = 0.05,
    max_moves: int | None = None,
) -> Proposal:
    """Moves that bring the spread of `criterion` over `territory_ids` to `target` or as near as one-by-one
    moves get. `accounts` needs account_id, name, territory_id, latitude, longitude, the criterion's column
    and optionally pinned (named accounts, never moved); accounts outside the territories are left out."""
    if criterion not in CRITERIA:
        raise TerritoryError(f"Balance by one of {', '.join(CRITERIA)}, not {criterion!r}.")
    if len(territory_ids) < 2:
        raise TerritoryError("Balancing needs at least two territories.")
    if target < 0 or (max_moves is not None and max_moves < 0):
        raise TerritoryError("The target spread and the most moves cannot be negative.")
    ids = np.asarray(sorted(set(int(t) for t in territory_ids)))
    rows = accounts[accounts["territory_id"].isin(ids)].reset_index(drop=True)
    value = rows[criterion].to_numpy(dtype=float)
    if (value < 0).any():
        raise TerritoryError(f"Some accounts have a negative {criterion}: balancing needs values of 0 or more.")
    home = np.searchsorted(ids, rows["territory_id"].to_numpy(dtype=np.int64))
    lat, lon = rows["latitude"].to_numpy(dtype=float), rows["longitude"].to_numpy(dtype=float)
    load = np.bincount(home, weights=value, minlength=len(ids))
    means = rows.assign(home=home).groupby("home")[["latitude", "longitude"]].mean().reindex(range(len(ids)))
    centres = list(zip(means["latitude"].to_numpy(dtype=float), means["longitude"].to_numpy(dtype=float), strict=True))
    pinned = rows["pinned"].to_numpy(dtype=bool) if "pinned" in rows else np.zeros(len(rows), bool)
    pool = _pool(home, value, ~pinned, len(ids))
    before = pd.Series(load.copy(), index=ids)
    moves: list[tuple[int, int, int, float, float, float | None]] = []
    while (max_moves is None or len(moves) < max_moves) and (spread(load) or 0) > target:
        step = _step(pool, load, lat, lon, centres)
        if step is None:
            break
        a, i, j = step
        load[i] -= value[a]
        load[j] += value[a]
        pool.free[a] = False
        moves.append((a, i, j, value[a], float(_km(lat[a : a + 1], lon[a : a + 1], *centres[j])[0]), spread(load)))
    taken = [m[0] for m in moves]
    frame = pd.DataFrame(
        {
            "account_id": rows["account_id"].to_numpy()[taken],
            "name": rows["name"].to_numpy()[taken],
            "from_id": ids[[m[1] for m in moves]],
            "to_id": ids[[m[2] for m in moves]],
            "value": [m[3] for m in moves],
            "km": [m[4] for m in moves],
            "spread_after": [m[5] for m in moves],
        }
    )
    return Proposal(criterion, frame, before, pd.Series(load, index=ids), spread(before), spread(load))


def _pool(home: np.ndarray, value: np.ndarray, movable: np.ndarray, k: int) -> _Pool:
    """One sort for all territories (by territory, then value), split into one array per territory."""
    ranked = np.lexsort((value, home))
    ranked = ranked[movable[ranked]]
    order = np.split(ranked, np.cumsum(np.bincount(home[ranked], minlength=k))[:-1])
    return _Pool(order, [value[o] for o in order], value, movable.copy())


def _step(
    pool: _Pool, load: np.ndarray, lat: np.ndarray, lon: np.ndarray, centres: list[tuple[float, float]]
) -> tuple[int, int, int] | None:
    """The next move: (account position, from, to), trying the heaviest-lightest pair first."""
    by_load = np.argsort(load, kind="stable")
    for i in by_load[::-1]:
        for j in by_load:
            gap = load[i] - load[j]
            if gap <= 0:
                break
            a = pool.pick(int(i), gap, lat, lon, centres[j])
            if a is not None:
                return a, int(i), int(j)
    return None
