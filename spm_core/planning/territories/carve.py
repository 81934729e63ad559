"""Carving accounts into N new territories (a region split for new hires), balanced on one criterion with
geography kept together as best it can be.

Recursive bisection, checkable by hand: the accounts are sorted along the wider of their two spans (longitude
scaled by the cosine of the mean latitude, so degrees compare as distances) and cut where the left side's total
is nearest floor(n/2)/n of the whole; each side is carved again into its share of the pieces. Every piece is
then a compact block of the map. Accounts without coordinates go, largest first, to the lightest piece. Then
balance.propose polishes the pieces (it never raises the spread and prefers accounts near the receiving piece).
Named (pinned) accounts are not carved: they keep their territory.

SPEC: the spread is the coefficient of variation over the pieces; disruption is the accounts whose territory
changes. With keep, one existing territory keeps the piece holding most of its accounts (fewer moves);
otherwise every carved account moves to a new territory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .balance import propose
from .measures import CRITERIA, spread
from .model import TerritoryError


@dataclass(frozen=True)
class Carving:
    """Each carved account's piece (0..n-1), the load per piece, the spread, and which piece `keep` holds."""

    criterion: str
    accounts: pd.DataFrame  # account_id, name, from_id, piece, value, latitude, longitude
    loads: pd.Series  # per piece
    spread: float | None
    kept_piece: int | None
    keep: int | None

    @property
    def disruption(self) -> int:
        """SPEC: the accounts whose territory changes (all but those of `keep` landing in its piece)."""
        if self.keep is None:
            return len(self.accounts)
        stays = (self.accounts["from_id"] == self.keep) & (self.accounts["piece"] == self.kept_piece)
        return int((~stays).sum())


def _bisect(idx: np.ndarray, n: int, value: np.ndarray, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """Split account positions `idx` into n compact blocks of about equal value (each at least one account)."""
    if n == 1:
        return [idx]
    left_n = n // 2
    axis = x if np.ptp(x[idx]) >= np.ptp(y[idx]) else y
    order = idx[np.argsort(axis[idx], kind="stable")]
    cum = np.cumsum(value[order])
    target = cum[-1] * left_n / n
    # a cut after k accounts (left gets order[:k]) must leave each side enough accounts for its pieces
    ks = np.arange(left_n, len(order) - (n - left_n) + 1)
    k = int(ks[np.argmin(np.abs(cum[ks - 1] - target))])
    return _bisect(order[:k], left_n, value, x, y) + _bisect(order[k:], n - left_n, value, x, y)


def carve(accounts: pd.DataFrame, n: int, criterion: str, keep: int | None = None, target: float = 0.05) -> Carving:
    """Carve the unpinned accounts of `accounts` (account_id, name, territory_id, latitude, longitude, the
    criterion's column, optionally pinned) into n balanced pieces."""
    if criterion not in CRITERIA:
        raise TerritoryError(f"Balance by one of {', '.join(CRITERIA)}, not {criterion!r}.")
    rows = accounts[~accounts["pinned"].astype(bool)] if "pinned" in accounts else accounts
    rows = rows.reset_index(drop=True)
    if n < 2:
        raise TerritoryError("Carve into at least two territories.")
    if len(rows) < n:
        raise TerritoryError(f"{len(rows)} account(s) cannot fill {n} territories: choose fewer territories or more accounts.")
    if keep is not None and keep not in set(rows["territory_id"]):
        raise TerritoryError(f"Territory {keep} is not among the territories being carved.")
    value = rows[criterion].to_numpy(dtype=float)
    if (value < 0).any():
        raise TerritoryError(f"Some accounts have a negative {criterion}: balancing needs values of 0 or more.")
    lat, lon = rows["latitude"].to_numpy(dtype=float), rows["longitude"].to_numpy(dtype=float)
    located = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
    x = np.nan_to_num(lon * np.cos(np.radians(np.nanmean(lat) if len(located) else 0.0)))
    weight = value if value[located].sum() > 0 else np.ones(len(rows))
    piece = np.full(len(rows), -1)
    blocks = _bisect(located, n, weight, x, np.nan_to_num(lat)) if len(located) >= n else []
    for p, block in enumerate(blocks):
        piece[block] = p
    load = np.bincount(piece[piece >= 0], weights=value[piece >= 0], minlength=n)
    count = np.bincount(piece[piece >= 0], minlength=n)
    for a in np.flatnonzero(piece < 0)[np.argsort(-value[piece < 0], kind="stable")]:
        p = int(np.argmin(count)) if count.min() == 0 else int(np.argmin(load))  # every piece gets an account first
        piece[a], load[p], count[p] = p, load[p] + value[a], count[p] + 1
    polished = propose(rows.assign(territory_id=piece + 1), list(range(1, n + 1)), criterion, target)
    moved = pd.Series(polished.moves["to_id"].to_numpy() - 1, index=polished.moves["account_id"].to_numpy())
    at = np.flatnonzero(rows["account_id"].isin(moved.index))
    piece[at] = moved.loc[rows["account_id"].to_numpy()[at]].to_numpy()
    return _carving(rows, piece, value, n, criterion, keep)


def _carving(rows: pd.DataFrame, piece: np.ndarray, value: np.ndarray, n: int, criterion: str, keep: int | None) -> Carving:
    frame = pd.DataFrame(
        {
            "account_id": rows["account_id"].to_numpy(),
            "name": rows["name"].to_numpy(),
            "from_id": rows["territory_id"].to_numpy(),
            "piece": piece,
            "value": value,
            "latitude": rows["latitude"].to_numpy(dtype=float),
            "longitude": rows["longitude"].to_numpy(dtype=float),
        }
    )
    loads = pd.Series(np.bincount(piece, weights=value, minlength=n), index=range(n))
    kept = None
    if keep is not None:
        mine = frame.loc[frame["from_id"] == keep, "piece"]
        kept = int(mine.value_counts().sort_index().idxmax())  # the piece holding most of its accounts (lowest on ties)
    return Carving(criterion, frame, loads, spread(loads), kept, keep)
