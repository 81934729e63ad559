"""Drawing categories for millions of rows without an n×k matrix of probabilities."""

from __future__ import annotations

import numpy as np


def choice_by_group(rng: np.random.Generator, group: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """For each row, a category in range(probs.shape[1]) drawn with the probabilities probs[group[row]].

    Rows share their group's distribution, so one rng.choice per group (a few) needs memory for the rows
    of one group, where a per-row inverse CDF needed n×k floats (10M rows, 7 categories: over 1 GiB)."""
    out = np.empty(len(group), dtype=np.int64)
    for g, p in enumerate(np.asarray(probs, dtype=float)):
        rows = np.flatnonzero(group == g)
        out[rows] = rng.choice(len(p), size=len(rows), p=p / p.sum())
    return out
