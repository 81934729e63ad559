"""Carving accounts into N new territories: the bisection's cuts worked by hand, the kept piece and the
disruption (SPEC: accounts whose territory changes), accounts without coordinates, properties on generated
sets, bad input, and accepting a carving (new territories created and filled in one transaction)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from planning_support import LEA
from territory_support import PEOPLE, PLACED, TERRITORIES

from spm_core.db import read_frame
from spm_core.planning.territories.carve import carve
from spm_core.planning.territories.measures import spread
from spm_core.planning.territories.model import TerritoryError
from spm_core.planning.territories.moves import NewTerritory, accept_carving
from spm_core.planning.territories.rules import Assignment, assign
from spm_core.schema import account, territory, territory_assignment

NAN = float("nan")


def accounts(rows: list[tuple[int, float, float, float]]) -> pd.DataFrame:
    """(territory, potential, latitude, longitude) per account; ids 1, 2, ... in order."""
    frame = pd.DataFrame(rows, columns=["territory_id", "potential", "latitude", "longitude"])
    return frame.assign(account_id=range(1, len(rows) + 1), name=[f"A{i}" for i in range(1, len(rows) + 1)], accounts=1)


def pieces(c) -> list[int]:
    return c.accounts.sort_values("account_id")["piece"].tolist()


def test_four_accounts_on_a_line_split_in_the_middle():
    c = carve(accounts([(7, 1, 0, lon) for lon in (0, 1, 2, 3)]), 2, "accounts")
    assert pieces(c) == [0, 0, 1, 1] and c.loads.tolist() == [2, 2] and c.spread == 0
    assert c.disruption == 4  # every account goes to a new territory


def test_the_cut_balances_the_criterion_not_the_count():
    # potentials 1, 1, 1, 3 west to east: the left half of 6 is 3, reached after three accounts
    c = carve(accounts([(7, v, 0, lon) for v, lon in ((1, 0), (1, 1), (1, 2), (3, 3))]), 2, "potential")
    assert pieces(c) == [0, 0, 0, 1] and c.loads.tolist() == [3, 3]


def test_three_pieces_along_the_longer_north_south_span():
    # six accounts up a meridian: one third (2 accounts) first, then the rest halved
    c = carve(accounts([(7, 1, lat, 0) for lat in range(6)]), 3, "accounts")
    assert pieces(c) == [0, 0, 1, 1, 2, 2] and c.spread == 0


def test_two_far_apart_clusters_become_the_two_pieces():
    rows = [(7, 5, 48.9, 2.3), (7, 5, 48.8, 2.4), (7, 5, 40.7, -74.0), (7, 5, 40.8, -73.9)]  # Paris, New York
    c = carve(accounts(rows), 2, "potential")
    assert pieces(c) == [1, 1, 0, 0]  # west (New York) first


def test_keeping_a_territory_keeps_the_piece_with_most_of_its_accounts():
    frame = accounts([(7, 1, 0, 0), (7, 1, 0, 1), (8, 1, 0, 2), (8, 1, 0, 3)])
    kept8 = carve(frame, 2, "accounts", keep=8)
    assert (kept8.kept_piece, kept8.disruption) == (1, 2)  # A3, A4 stay in 8; A1, A2 move
    assert carve(frame, 2, "accounts", keep=7).kept_piece == 0


def test_accounts_without_coordinates_go_to_the_lightest_piece_then_the_polish_evens_out():
    # located A1, A2 (1 each) split 1 | 1; A3 (5, no place) joins piece 0: 6 | 1; the polish moves A1: 5 | 2
    c = carve(accounts([(7, 1, 0, 0), (7, 1, 0, 1), (7, 5, NAN, NAN)]), 2, "potential")
    assert pieces(c) == [1, 1, 0] and c.loads.tolist() == [5, 2]
    assert c.spread == pytest.approx(spread([5, 2]))


def test_pinned_accounts_are_not_carved():
    frame = accounts([(7, 1, 0, lon) for lon in range(5)]).assign(pinned=[False, False, True, False, False])
    c = carve(frame, 2, "accounts")
    assert sorted(c.accounts["account_id"]) == [1, 2, 4, 5] and c.loads.tolist() == [2, 2]


@pytest.mark.parametrize("seed", range(15))
def test_on_generated_sets_every_account_lands_once_and_the_figures_add_up(seed):
    rng = np.random.default_rng(seed)
    n_acc, k = int(rng.integers(10, 300)), int(rng.integers(2, 9))
    lat, lon = rng.uniform(30, 50, n_acc), rng.uniform(-120, -70, n_acc)
    lat[rng.random(n_acc) < 0.05] = NAN
    frame = accounts(list(zip(rng.integers(1, 3, n_acc), rng.lognormal(3, 1, n_acc).round(2), lat, lon, strict=True)))
    frame["workload"] = rng.integers(1, 5, n_acc).astype(float)
    for criterion in ("potential", "accounts", "workload"):
        c = carve(frame, k, criterion, keep=1)
        assert sorted(c.accounts["account_id"]) == list(range(1, n_acc + 1))
        assert set(c.accounts["piece"]) == set(range(k))  # no empty piece
        sums = frame.set_index("account_id")[criterion].groupby(c.accounts.set_index("account_id")["piece"]).sum()
        assert sums.reindex(range(k)).to_numpy() == pytest.approx(c.loads.to_numpy())
        assert c.spread == pytest.approx(spread(c.loads))
        stays = (c.accounts["from_id"] == 1) & (c.accounts["piece"] == c.kept_piece)
        assert c.disruption == n_acc - stays.sum()


@pytest.mark.parametrize(
    ("n", "kwargs", "message"),
    [
        (1, {}, "at least two"),
        (9, {}, "3 account.*cannot fill 9"),
        (2, {"keep": 99}, "Territory 99 is not among"),
        (2, {"criterion": "revenue"}, "Balance by one of"),
    ],
)
def test_bad_carving_input_gets_a_clear_message(n, kwargs, message):
    args = {"criterion": "potential", **kwargs}
    with pytest.raises(TerritoryError, match=message):
        carve(accounts([(7, 1, 0, 0), (7, 1, 0, 1), (7, 1, 0, 2)]), n, **args)


@pytest.fixture
def engine(tiny_engine):
    return tiny_engine(person=PEOPLE, territory=TERRITORIES, account=PLACED)


def east(engine) -> pd.DataFrame:
    rows = read_frame(engine, sa.select(account).where(account.c.territory_id == 1))
    return rows.rename(columns={"id": "account_id"}).assign(accounts=1)


def test_accepting_a_carving_creates_the_territories_and_moves_their_accounts(engine):
    # East holds Acme (40.7, -74.0), Crest (30.3, -97.7), Echo (40.8, -73.9): two by count, keeping East
    c = carve(east(engine), 2, "accounts", keep=1)
    assert pieces(c) == [1, 0, 1] and c.kept_piece == 1 and c.disruption == 1  # Crest is the western piece
    ids = accept_carving(engine, c, [NewTerritory("South", 5)], LEA)
    assert ids == {0: 4, 1: 1}
    made = read_frame(engine, sa.select(territory).where(territory.c.id == 4)).iloc[0]
    assert (made["name"], made["owner_id"]) == ("South", 5)
    now = dict(read_frame(engine, sa.select(account.c.id, account.c.territory_id)).itertuples(index=False))
    assert now == {1: 1, 2: 2, 3: 4, 4: 2, 5: 1}
    named = read_frame(engine, sa.select(territory_assignment))
    assert named[["account_id", "territory_id"]].values.tolist() == [[3, 4]] and "carved from East" in named["reason"][0]


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ([NewTerritory("West", None)], "named 'West' exists"),
        ([NewTerritory(" ", None)], "its own name"),
        ([NewTerritory("South", 77)], "Unknown owner"),
        ([NewTerritory("South", None), NewTerritory("North", None)], "Name 1 new territory, not 2"),
    ],
)
def test_a_bad_carving_acceptance_writes_nothing(engine, new, message):
    c = carve(east(engine), 2, "accounts", keep=1)
    before = read_frame(engine, sa.select(territory)), read_frame(engine, sa.select(account))
    with pytest.raises(TerritoryError, match=message):
        accept_carving(engine, c, new, LEA)
    pd.testing.assert_frame_equal(read_frame(engine, sa.select(territory)), before[0])
    pd.testing.assert_frame_equal(read_frame(engine, sa.select(account)), before[1])


def test_a_stale_carving_is_refused(engine):
    c = carve(east(engine), 2, "accounts")
    assign(engine, [Assignment(3, 2, "key account")], LEA)
    with pytest.raises(TerritoryError, match="changed territory since the proposal"):
        accept_carving(engine, c, [NewTerritory("North", None), NewTerritory("South", None)], LEA)
    assert len(read_frame(engine, sa.select(territory))) == 3
