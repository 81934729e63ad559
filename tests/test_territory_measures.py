"""What accounts and territories carry, read from a hand-made warehouse and worked out by hand: potential,
open pipeline, trailing-12-month bookings (the window's ends), workload, pins, and the viewer's scope."""

from __future__ import annotations

from datetime import date

import pytest
from planning_support import LEA
from territory_support import ACCOUNTS, TERRITORIES

from spm_core.filters import Scope
from spm_core.planning.territories.measures import account_measures, spreads, territories, territory_summary
from spm_core.planning.territories.rules import Assignment, assign

AS_OF = date(2026, 11, 23)
PEOPLE = [
    {"id": pid, "name": f"P{pid}", "role": role, "manager_id": boss, "active": True, "ramp_months": 0}
    for pid, role, boss in [
        (1, "leader", None),
        (2, "manager", 1),
        (3, "manager", 1),
        (10, "rep", 2),
        (11, "rep", 2),
        (12, "rep", 3),
    ]
]
OWNERS = {1: (1, 10), 2: (2, 11), 3: (3, 10), 4: (1, 12), 5: (None, None)}  # account: (territory, owner)


def _deal(i, account_id, amount, close, won=False, closed=False):
    return {
        "id": i,
        "account_id": account_id,
        "owner_id": 10,
        "amount": amount,
        "stage": "Closed Won" if won else ("Closed Lost" if closed else "Proposal"),
        "probability": 100 if won else (0 if closed else 60),
        "forecast_category": "Closed" if won else ("Omitted" if closed else "Best Case"),
        "close_date": close,
        "is_closed": closed or won,
        "is_won": won,
    }


DEALS = [
    _deal(1, 1, 50.0, date(2027, 1, 1)),  # open
    _deal(2, 1, 70.0, date(2026, 6, 1), won=True),
    _deal(3, 1, 1000.0, date(2025, 10, 1), won=True),  # over 12 months ago
    _deal(4, 2, 300.0, date(2026, 5, 1), closed=True),  # lost
    _deal(5, 2, 20.0, date(2026, 12, 1)),
    _deal(6, 2, 30.0, None),  # open with no close date: still open pipeline and work
    _deal(7, 3, 5.0, date(2025, 11, 23), won=True),  # exactly 365 days before as_of: outside
    _deal(8, 3, 9.0, date(2025, 11, 24), won=True),  # inside
    _deal(9, 3, 4.0, AS_OF, won=True),  # as_of itself: inside
]


@pytest.fixture
def engine(tiny_engine):
    accounts = [{**a, "territory_id": OWNERS[a["id"]][0], "owner_id": OWNERS[a["id"]][1]} for a in ACCOUNTS]
    return tiny_engine(person=PEOPLE, territory=TERRITORIES, account=accounts, opportunity=DEALS)


def test_each_account_carries_what_was_worked_out_by_hand(engine):
    rows = account_measures(engine, AS_OF, Scope.everyone()).set_index("account_id")
    columns = ["potential", "open_pipeline", "bookings_12m", "workload"]
    assert rows[columns].values.tolist() == [
        [100, 50, 70, 2],
        [200, 50, 0, 3],
        [300, 0, 13, 1],
        [400, 0, 0, 1],
        [500, 0, 0, 1],
    ]
    assert not rows["pinned"].any()


def test_territories_sum_their_accounts_and_the_spread_is_hand_computed(engine):
    summary = territory_summary(account_measures(engine, AS_OF, Scope.everyone()), territories(engine, Scope.everyone()))
    table = summary.set_index("territory")[["accounts", "potential", "open_pipeline", "bookings_12m", "workload"]]
    assert table.values.tolist() == [[2, 500, 50, 70, 3], [1, 200, 50, 0, 3], [1, 300, 0, 13, 1]]  # East, West, Key
    # potential 500, 200, 300: mean 1000/3, variance (166.67² + 133.33² + 33.33²)/3 = 15,555.6, std 124.72
    assert spreads(summary)["potential"] == pytest.approx(0.374166, abs=1e-6)
    assert spreads(summary)["accounts"] == pytest.approx((2 / 9) ** 0.5 / (4 / 3))


def test_a_named_account_is_pinned(engine):
    assign(engine, [Assignment(3, 3, "key account")], LEA)
    rows = account_measures(engine, AS_OF, Scope.everyone()).set_index("account_id")
    assert rows["pinned"].to_dict() == {1: False, 2: False, 3: True, 4: False, 5: False}


def test_a_rep_sees_only_the_accounts_they_own_and_their_territories_totals_of_those(engine):
    mine = account_measures(engine, AS_OF, Scope.only(10))
    assert mine["account_id"].tolist() == [1, 3]
    summary = territory_summary(mine, territories(engine, Scope.only(10)))
    assert summary.set_index("territory")["potential"].to_dict() == {"East": 100, "Key": 300}  # not East's 500


def test_a_manager_sees_the_subtree_owners_accounts_and_the_territories_they_own(engine):
    assert account_measures(engine, AS_OF, Scope.subtree(3))["account_id"].tolist() == [2, 4]
    assert territories(engine, Scope.subtree(3))["territory"].tolist() == ["East", "West"]


def test_nobody_sees_nothing(engine):
    assert account_measures(engine, AS_OF, Scope.nobody()).empty
    assert territories(engine, Scope.nobody()).empty


def test_accepted_moves_are_named_and_made_and_pinned_for_the_next_proposal(engine):
    from spm_core.planning.territories.balance import propose
    from spm_core.planning.territories.moves import accept_moves

    rows = account_measures(engine, AS_OF, Scope.everyone())
    proposal = propose(rows, [1, 2, 3], "potential", target=0)
    assert proposal.spread_after < proposal.spread_before
    assert accept_moves(engine, proposal.moves, "potential", LEA) == proposal.disruption
    again = account_measures(engine, AS_OF, Scope.everyone()).set_index("account_id")
    for a, t in zip(proposal.moves["account_id"], proposal.moves["to_id"], strict=True):
        assert again.loc[a, "territory_id"] == t and again.loc[a, "pinned"]
    after = territory_summary(again.reset_index(), territories(engine, Scope.everyone()))
    assert spreads(after)["potential"] == pytest.approx(proposal.spread_after)


def test_a_stale_move_is_refused_and_nothing_moves(engine):
    import pandas as pd

    from spm_core.planning.territories.model import TerritoryError
    from spm_core.planning.territories.moves import accept_moves

    moves = pd.DataFrame({"account_id": [1, 2], "from_id": [1, 3], "to_id": [2, 1]})  # account 2 is in West, not Key
    with pytest.raises(TerritoryError, match=r"Account\(s\) 2 changed territory"):
        accept_moves(engine, moves, "potential", LEA)
    assert account_measures(engine, AS_OF, Scope.everyone())["territory_id"].tolist()[:2] == [1, 2]


def test_accepting_some_moves_moves_those_accounts_only(engine):
    from spm_core.planning.territories.balance import propose
    from spm_core.planning.territories.moves import accept_moves

    rows = account_measures(engine, AS_OF, Scope.everyone())
    proposal = propose(rows, [1, 2, 3], "potential", target=0)
    assert proposal.disruption >= 1
    before = rows.set_index("account_id")["territory_id"]
    accept_moves(engine, proposal.moves.iloc[:1], "potential", LEA)
    after = account_measures(engine, AS_OF, Scope.everyone()).set_index("account_id")["territory_id"]
    changed = after[after.ne(before)].index.tolist()
    assert changed == [int(proposal.moves["account_id"].iloc[0])]
