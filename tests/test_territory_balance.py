"""Balancing: the spread and disruption against hand computations, the greedy's choices worked by hand,
and properties on generated account sets (never raises the spread, counts its moves exactly, leaves
pinned accounts and balanced sets alone)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from spm_core.planning.territories.balance import propose
from spm_core.planning.territories.measures import spread
from spm_core.planning.territories.model import TerritoryError


def accounts(rows: list[tuple[int, float, float, float]]) -> pd.DataFrame:
    """(territory, value, latitude, longitude) per account; ids 1, 2, ... in order."""
    frame = pd.DataFrame(rows, columns=["territory_id", "potential", "latitude", "longitude"])
    return frame.assign(account_id=range(1, len(rows) + 1), name=[f"A{i}" for i in range(1, len(rows) + 1)], accounts=1)


def test_spread_is_the_population_standard_deviation_over_the_mean():
    assert spread([1, 2, 3]) == pytest.approx(math.sqrt(2 / 3) / 2)  # std sqrt(((-1)²+0+1²)/3), mean 2
    assert spread([5, 5, 5]) == 0
    assert spread([0, 0]) is None and spread([]) is None


def test_the_move_nearest_half_the_gap_wins_when_there_is_no_geography():
    # East 10+4+1 = 15, West empty: the gap is 15; moving 10 leaves 5 | 10 (CV 1/3), moving 4 leaves 11 | 4 (CV 7/15).
    nan = float("nan")
    p = propose(accounts([(1, 10, nan, nan), (1, 4, nan, nan), (1, 1, nan, nan)]), [1, 2], "potential", target=0)
    assert p.moves[["account_id", "from_id", "to_id", "value"]].values.tolist() == [[1, 1, 2, 10]]
    assert (p.spread_before, p.spread_after) == (pytest.approx(1.0), pytest.approx(1 / 3))
    assert p.disruption == 1 and p.after.to_dict() == {1: 5, 2: 10}


def test_among_good_moves_the_account_nearest_the_receiving_territory_goes():
    # East 6 (at 0,0) + 5 (at 0,9.5) + 1 = 12, West 1 at (0,10): the gap 11 makes 6 and 5 good moves; 5 is nearer West.
    rows = [(1, 6, 0, 0), (1, 5, 0, 9.5), (1, 1, 0, 0), (2, 1, 0, 10)]
    p = propose(accounts(rows), [1, 2], "potential")
    assert p.moves["account_id"].tolist() == [2]
    assert p.moves["km"].iloc[0] == pytest.approx(0.5 * 111.2)
    assert p.spread_after == pytest.approx(0.5 / 6.5)  # 7 | 6; no account under the gap of 1 is left


def test_account_counts_even_out_one_account_at_a_time():
    p = propose(accounts([(1, 1, 0, 0)] * 5 + [(2, 1, 0, 0)]), [1, 2], "accounts", target=0)
    assert p.disruption == 2 and p.after.to_dict() == {1: 3, 2: 3} and p.spread_after == 0


def test_an_empty_territory_receives_accounts():
    p = propose(accounts([(1, 1, 0, 0)] * 4), [1, 2, 3, 4], "accounts", target=0)
    assert p.after.to_dict() == {1: 1, 2: 1, 3: 1, 4: 1} and p.disruption == 3


def test_an_already_balanced_set_proposes_nothing():
    rows = [(1, 3, 0, 0), (1, 2, 0, 0), (2, 5, 1, 1), (3, 4, 2, 2), (3, 1, 2, 2)]
    p = propose(accounts(rows), [1, 2, 3], "potential", target=0)
    assert p.moves.empty and p.disruption == 0 and p.spread_before == p.spread_after == 0


def test_pinned_accounts_never_move():
    frame = accounts([(1, 10, 0, 0), (1, 4, 0, 0)]).assign(pinned=[True, False])
    p = propose(frame, [1, 2], "potential", target=0)
    assert p.moves["account_id"].tolist() == [2]


@pytest.mark.parametrize("seed", range(25))
def test_on_generated_sets_the_spread_never_rises_and_disruption_is_exact(seed):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(5, 400)), int(rng.integers(2, 12))
    frame = accounts(
        list(
            zip(
                rng.integers(1, k + 1, n),
                rng.lognormal(3, 1.2, n).round(2),
                rng.uniform(-40, 60, n),
                rng.uniform(-120, 140, n),
                strict=True,
            )
        )
    )
    frame["workload"] = rng.integers(1, 6, n).astype(float)
    frame["pinned"] = rng.random(n) < 0.1
    for criterion in ("potential", "accounts", "workload"):
        p = propose(frame, list(range(1, k + 1)), criterion, target=float(rng.choice([0.0, 0.05, 0.2])))
        assert p.spread_before is None or p.spread_after <= p.spread_before + 1e-12
        assert (np.diff([p.spread_before, *p.moves["spread_after"]]) < 0).all()  # every single move helps
        moved = frame.set_index("account_id")["territory_id"].copy()
        moved[p.moves["account_id"].to_numpy()] = p.moves["to_id"].to_numpy()
        assert p.disruption == int((moved != frame.set_index("account_id")["territory_id"]).sum())
        assert not frame.set_index("account_id").loc[p.moves["account_id"], "pinned"].any()
        after = moved.groupby(moved).size() if criterion == "accounts" else frame[criterion].groupby(moved.to_numpy()).sum()
        assert after.reindex(p.after.index, fill_value=0).to_numpy() == pytest.approx(p.after.to_numpy())


def test_max_moves_caps_the_disruption():
    p = propose(accounts([(1, 1, 0, 0)] * 10), [1, 2], "accounts", target=0, max_moves=2)
    assert p.disruption == 2 and p.after.to_dict() == {1: 8, 2: 2}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([1, 2], "revenue"), "Balance by one of potential, accounts, workload"),
        (([1], "potential"), "at least two territories"),
    ],
)
def test_bad_input_gets_a_clear_message(args, message):
    with pytest.raises(TerritoryError, match=message):
        propose(accounts([(1, 1, 0, 0)]), *args)


def test_negative_values_are_refused():
    with pytest.raises(TerritoryError, match="negative potential"):
        propose(accounts([(1, -1, 0, 0), (2, 1, 0, 0)]), [1, 2], "potential")
