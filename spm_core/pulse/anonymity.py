"""The anonymity rule for survey figures: no group with fewer than MIN_RESPONSES responses is shown.

Small groups are merged into one "Other" group. When "Other" itself would be small, the next smallest groups
join it until it is not (or everything is in it): otherwise the company figure minus the groups shown would
give the small group's answers away (complementary disclosure). A group that still cannot reach the minimum
is withheld, never shown.
"""

from __future__ import annotations

import pandas as pd

MIN_RESPONSES = 5
OTHER = "Other"


def merge_small_groups(groups: pd.DataFrame, key: str) -> pd.DataFrame:
    """`groups` (the `key` label, `responses` and other counts): groups of at least MIN_RESPONSES as they are, the
    rest summed (every count) into one OTHER row with `groups_merged`, or dropped when even that stays too small."""
    ordered = groups.sort_values(["responses", key], kind="stable").reset_index(drop=True)
    small = ordered["responses"] < MIN_RESPONSES
    cut = int(small.sum())
    while 0 < cut < len(ordered) and ordered["responses"].iloc[:cut].sum() < MIN_RESPONSES:
        cut += 1  # an Other below the minimum would be revealed by subtraction: pull in the next smallest
    shown, merged = ordered.iloc[cut:], ordered.iloc[:cut]
    out = shown.assign(groups_merged=1)
    if cut and merged["responses"].sum() >= MIN_RESPONSES:
        other = {key: OTHER, **{c: int(merged[c].sum()) for c in merged.columns if c != key}, "groups_merged": cut}
        out = pd.concat([out, pd.DataFrame([other])], ignore_index=True)
    return out.reset_index(drop=True)
