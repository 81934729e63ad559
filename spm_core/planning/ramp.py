"""A rep's plan amount as monthly quotas: spread evenly over the period's months (to the cent), then
each month times the ramp factor of the rep's month of tenure (SPEC: month 1 = the hire month).

A hire starting in a later month has no quota before it (factor 0), so planned hires count from their
start date. The ramped month is rounded half-up to cents; the unramped months sum to the plan amount.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import numpy as np
import pandas as pd

from .model import Ramp


def months_of(start: date, end: date) -> list[date]:
    """First days of the months from start's month to end's month."""
    first = start.year * 12 + start.month - 1
    last = end.year * 12 + end.month - 1
    return [date(i // 12, i % 12 + 1, 1) for i in range(first, last + 1)]


def tenure_month(month: date, hire: date | None) -> int:
    """1 in the hire month, 2 the month after; 0 or less before the hire. No hire date: long tenured."""
    if hire is None:
        return 10_000
    return (month.year - hire.year) * 12 + month.month - hire.month + 1


def monthly_quotas(leaves: pd.DataFrame, months: list[date], ramp: Ramp, own: Mapping[int, Ramp] | None = None) -> pd.DataFrame:
    """monthly_quotas_one for every leaf, each by its own schedule (`own`, per person id or seat node) or else
    the plan's `ramp`: one vectorised pass per distinct schedule, rows in the order of `leaves`."""
    own = own or {}
    ids = leaves["person_id"].astype("int64").to_numpy()
    groups: dict[Ramp, list[int]] = {}
    for position in np.flatnonzero(np.isin(ids, list(own))):  # only the few with a schedule of their own
        if own[int(ids[position])] != ramp:
            groups.setdefault(own[int(ids[position])], []).append(int(position))
    special = np.zeros(len(ids), dtype=bool)
    special[[p for ps in groups.values() for p in ps]] = True
    groups = {ramp: list(np.flatnonzero(~special)), **groups}
    parts = []
    for each, positions in groups.items():
        picked = np.sort(np.array(positions, dtype="int64"))
        if not len(picked):
            continue
        part = monthly_quotas_one(leaves.iloc[picked], months, each)
        parts.append(part.assign(order=np.repeat(picked, len(months)), ramp=each.text()))
    if not parts:
        return monthly_quotas_one(leaves, months, ramp).assign(ramp="")
    out = pd.concat(parts, ignore_index=True).sort_values(["order"], kind="stable")
    return out.drop(columns=["order"]).reset_index(drop=True)


def monthly_quotas_one(leaves: pd.DataFrame, months: list[date], ramp: Ramp) -> pd.DataFrame:
    """leaves: person_id, cents, hire_date. One row per person and month: full_cents (even spread, the
    leftover cents to the earliest months: cents.split_cents with equal weights), tenure, factor, cents
    (ramped, half-up), is_ramped (factor below 100 %). Integer arithmetic throughout, one pass over arrays."""
    n = len(months)
    cents = leaves["cents"].astype("int64").to_numpy()
    month_index = np.array([m.year * 12 + m.month - 1 for m in months])
    hires = pd.to_datetime(leaves["hire_date"])
    hire_index = np.where(hires.isna(), -(10**6), hires.dt.year.fillna(0) * 12 + hires.dt.month.fillna(1) - 1).astype("int64")
    full = (cents // n)[:, None] + (np.arange(n)[None, :] < (cents % n)[:, None])
    tenure = month_index[None, :] - hire_index[:, None] + 1
    steps = len(ramp.factors)
    num = np.array([0] + [f.numerator for f in ramp.factors] + [1], dtype="int64")
    den = np.array([1] + [f.denominator for f in ramp.factors] + [1], dtype="int64")
    step = np.clip(tenure, 0, steps + 1)  # 0 before the hire, 1..steps ramping, steps + 1 full
    ramped = (2 * full * num[step] + den[step]) // (2 * den[step])
    return pd.DataFrame(
        {
            "person_id": np.repeat(leaves["person_id"].astype("int64").to_numpy(), n),
            "month": months * len(leaves),
            "full_cents": full.ravel(),
            "tenure": tenure.ravel(),
            "factor": (num[step] / den[step]).ravel(),
            "cents": ramped.ravel(),
            "is_ramped": (num[step] < den[step]).ravel(),
        }
    )
