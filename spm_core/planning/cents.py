"""Splitting an amount of cents among weighted parts so that the parts sum to it exactly (SPEC "Planning").

Each part gets the floor of its exact share; the cents left over go one each to the largest remainders,
ties to the smaller id (people before planned seats, whose node ids are negative: model.node_order).
All arithmetic is on Python integers, so no float ever decides a cent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Share:
    """One part of a split, with the arithmetic that produced it (the trace a reader checks by hand)."""

    id: int
    weight: int
    floor: int  # floor(total × weight / sum of weights), cents
    remainder: int  # (total × weight) mod (sum of weights): who gets a leftover cent
    extra: int  # 1 if a leftover cent went to this part, else 0

    @property
    def cents(self) -> int:
        return self.floor + self.extra


def split_cents(total: int, ids: Sequence[int], weights: Sequence[int]) -> list[Share]:
    """Shares of `total` cents in proportion to integer `weights` (in the order of `ids`).

    A zero total weight is the caller's decision to make (e.g. fall back to even): here it is an error."""
    if total < 0:
        raise ValueError(f"Cannot split a negative amount ({total} cents).")
    if len(ids) != len(weights) or not ids:
        raise ValueError("A split needs one weight per part and at least one part.")
    if any(w < 0 for w in weights):
        raise ValueError("Weights cannot be negative.")
    whole = sum(weights)
    if whole == 0:
        raise ValueError("Every weight is zero: there is nothing to split by.")
    floors = [total * w // whole for w in weights]
    remainders = [total * w % whole for w in weights]
    left = total - sum(floors)
    order = sorted(range(len(ids)), key=lambda i: (-remainders[i], ids[i] < 0, abs(ids[i])))
    lucky = set(order[:left])
    return [Share(ids[i], weights[i], floors[i], remainders[i], int(i in lucky)) for i in range(len(ids))]
