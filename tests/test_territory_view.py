"""The map's data: one point per account up to Altair's 5,000 rows, grouped into cells above, totals kept."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ui.territory_view import MAP_POINTS, map_points


def frame(n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    accounts = pd.DataFrame(
        {
            "account_id": range(n),
            "name": [f"A{i}" for i in range(n)],
            "territory": rng.choice(["East", "West"], n),
            "latitude": rng.uniform(40, 42, n),
            "longitude": rng.uniform(-75, -73, n),
            "potential": 1.0,
        }
    )
    summary = accounts.groupby("territory").agg(accounts=("account_id", "size"), potential=("potential", "sum")).reset_index()
    return accounts, summary


def test_few_accounts_are_drawn_one_by_one_with_their_territorys_totals():
    accounts, summary = frame(100)
    points = map_points(accounts, summary)
    assert len(points) == 100
    east = points[points["territory"] == "East"]
    assert (east["territory_accounts"] == (accounts["territory"] == "East").sum()).all()


def test_many_accounts_are_grouped_into_cells_under_altairs_limit_and_nothing_is_lost():
    accounts, summary = frame(MAP_POINTS + 1000)
    points = map_points(accounts, summary)
    assert len(points) <= MAP_POINTS and points["potential"].sum() == len(accounts)
    assert points["name"].str.endswith("accounts").all()
