"""Publishing territories from an effective date, worked by hand on the small market of territory_support:
history rows appended (never overwritten) and read as of any day, the owner rule, open deals following the
new owner while won deals keep their credit, future dates waiting for apply_due, refusals that write nothing,
and the property that after any publish every account has exactly one territory on every day."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from planning_support import LEA, planner
from territory_support import PEOPLE, PLACED, TERRITORIES

from spm_core.comp.schema import comp_period
from spm_core.db import read_frame
from spm_core.filters import Period, Scope
from spm_core.planning.territories.history import account_history, assignments_as_of, credited_bookings
from spm_core.planning.territories.model import TerritoryError
from spm_core.planning.territories.publish import apply_due, planned_changes, publications, publish
from spm_core.planning.territories.rules import Assignment, assign
from spm_core.schema import account, opportunity, opportunity_split, territory_history, territory_publication

AS_OF = date(2026, 11, 23)
EVERYONE = Scope.everyone()


def deal(did, account_id, owner_id, closed, close_date):
    return {
        "id": did,
        "account_id": account_id,
        "owner_id": owner_id,
        "amount": 100.0 * did,
        "stage": "Won" if closed else "Open",
        "probability": 100 if closed else 50,
        "forecast_category": "Closed" if closed else "Pipeline",
        "close_date": close_date,
        "is_closed": closed,
        "is_won": closed,
    }


DEALS = [
    deal(1, 1, 4, False, date(2026, 12, 15)),  # Acme, open, Rita's: follows the account
    deal(2, 1, 4, True, date(2026, 10, 1)),  # Acme, won by Rita: keeps its credit
    deal(3, 1, 9, False, date(2026, 12, 20)),  # Acme, open, Olga's overlay: not the previous owner's, stays
    deal(4, 2, 5, False, date(2026, 12, 1)),  # Bolt, untouched
]


@pytest.fixture
def engine(tiny_engine):
    return tiny_engine(person=PEOPLE, territory=TERRITORIES, account=PLACED, opportunity=DEALS)


def owners(engine, table) -> dict[int, int]:
    return dict(read_frame(engine, sa.select(table.c.id, table.c.owner_id).order_by(table.c.id)).itertuples(index=False))


def in_force(engine, day) -> dict[int, tuple[int, int]]:
    rows = assignments_as_of(engine, day, EVERYONE)
    return {a: (t, o) for a, t, o in rows[["account_id", "territory_id", "owner_id"]].itertuples(index=False)}


def test_a_moved_account_goes_to_the_new_territory_owner_with_its_open_deals_won_deals_keep_credit(engine):
    assign(engine, [Assignment(1, 2, "key account")], LEA)  # Acme East -> West; Rita is not under Wes
    assert planned_changes(engine, EVERYONE)[["account_id", "from_owner", "to_owner"]].values.tolist() == [[1, "Rita", "Wes"]]
    done = publish(engine, date(2026, 11, 1), "move", LEA, AS_OF)
    assert (done.accounts_moved, done.deals_moved) == (1, 1)
    assert owners(engine, opportunity) == {1: 3, 2: 4, 3: 9, 4: 5}
    assert owners(engine, account)[1] == 3
    assert in_force(engine, date(2026, 10, 31))[1] == (1, 4)  # the day before: East, Rita
    assert in_force(engine, date(2026, 11, 1))[1] == (2, 3)  # from the effective date: West, Wes
    assert in_force(engine, date(2026, 11, 1))[2] == (2, 5)  # Bolt never moved
    audit = publications(engine, EVERYONE).iloc[0]
    assert (audit["published_by"], audit["effective_date"].date(), audit["accounts_moved"]) == ("lea", date(2026, 11, 1), 1)
    assert planned_changes(engine, EVERYONE).empty


def test_keeping_open_deals_moves_the_account_only(engine):
    assign(engine, [Assignment(1, 2, "key account")], LEA)
    assert publish(engine, date(2026, 11, 1), "keep", LEA, AS_OF).deals_moved == 0
    assert owners(engine, opportunity) == {1: 4, 2: 4, 3: 9, 4: 5} and owners(engine, account)[1] == 3


def test_an_owner_who_works_under_the_new_territory_owner_keeps_the_account(engine):
    assign(engine, [Assignment(3, 3, "key account")], LEA)  # Crest East -> Key (Lea's): Rita is under Lea
    done = publish(engine, date(2026, 11, 1), "move", LEA, AS_OF)
    assert (done.accounts_moved, done.deals_moved) == (1, 0)
    assert in_force(engine, date(2026, 11, 2))[3] == (3, 4) and owners(engine, account)[3] == 4


def test_history_is_appended_never_overwritten(engine):
    assign(engine, [Assignment(1, 2, "key account")], LEA)
    publish(engine, date(2026, 11, 1), "move", LEA, AS_OF)
    assign(engine, [Assignment(1, 3, "key account")], LEA)  # then Acme West -> Key
    publish(engine, date(2026, 11, 10), "move", planner("ann", "planner"), AS_OF)
    rows = read_frame(engine, sa.select(territory_history).where(territory_history.c.account_id == 1))
    got = {
        int(tid): (None if pd.isna(f) else f.date(), None if pd.isna(t) else t.date(), int(o))
        for f, t, tid, o in rows[["valid_from", "valid_to", "territory_id", "owner_id"]].itertuples(index=False)
    }
    assert got == {
        1: (None, date(2026, 11, 1), 4),
        2: (date(2026, 11, 1), date(2026, 11, 10), 3),
        3: (date(2026, 11, 10), None, 3),  # Wes works under Lea, who owns Key: he keeps Acme
    }
    shown = account_history(engine, EVERYONE)
    assert shown.loc[shown["account_id"] == 1, "published_by"].fillna("baseline").tolist() == ["ann", "lea", "baseline"]


def test_a_future_date_is_history_now_and_moves_owners_when_it_comes(engine):
    assign(engine, [Assignment(1, 2, "key account")], LEA)
    done = publish(engine, date(2026, 12, 1), "move", LEA, AS_OF)
    assert done.deals_moved is None and owners(engine, opportunity)[1] == 4 and owners(engine, account)[1] == 4
    assert in_force(engine, AS_OF)[1] == (1, 4) and in_force(engine, date(2026, 12, 1))[1] == (2, 3)
    assert apply_due(engine, date(2026, 11, 30)) == 0
    assert apply_due(engine, date(2026, 12, 1)) == 1
    assert owners(engine, opportunity)[1] == 3 and owners(engine, account)[1] == 3
    assert apply_due(engine, date(2026, 12, 2)) == 0  # applied once


def state(engine) -> tuple:
    return tuple(
        read_frame(engine, sa.select(t)).sort_values(list(read_frame(engine, sa.select(t)).columns[:2])).to_csv()
        for t in (territory_history, territory_publication, account, opportunity)
    )


@pytest.mark.parametrize(
    ("prepare", "effective", "message"),
    [
        (lambda e: None, date(2026, 11, 1), "Nothing to publish"),
        (lambda e: _close_october(e), date(2026, 10, 15), "pay period 2026-10-01 to 2026-10-31, which is locked"),
        (lambda e: _homeless(e), date(2026, 11, 1), "1 account.*no territory"),
        (lambda e: _published_then_moved(e), date(2026, 11, 1), "already have a change published from 2026-11-01"),
    ],
    ids=["nothing", "closed period", "no territory", "rewrite"],
)
def test_bad_publishing_is_refused_and_writes_nothing(engine, prepare, effective, message):
    prepare(engine)
    assign(engine, [Assignment(2, 1, "key account")], LEA)  # Bolt West -> East: something to publish
    if message == "Nothing to publish":
        publish(engine, date(2026, 10, 1), "move", LEA, AS_OF)
    before = state(engine)
    with pytest.raises(TerritoryError, match=message):
        publish(engine, effective, "move", LEA, AS_OF)
    assert state(engine) == before


def _close_october(engine):
    with engine.begin() as conn:
        conn.execute(
            comp_period.insert().values(
                period_start=date(2026, 10, 1),
                period_end=date(2026, 10, 31),
                state="locked",
                changed_at=pd.Timestamp("2026-11-02"),
                changed_by="cara",
            )
        )


def _homeless(engine):
    assign(engine, [Assignment(5, 1, "key account")], LEA)  # writes the baseline first
    with engine.begin() as conn:
        conn.execute(account.update().where(account.c.id == 4).values(territory_id=None))


def _published_then_moved(engine):
    assign(engine, [Assignment(1, 2, "key account")], LEA)
    publish(engine, date(2026, 11, 1), "move", LEA, AS_OF)
    assign(engine, [Assignment(1, 1, "back east")], LEA)  # Acme again, from the same day: a rewrite


def test_a_rep_sees_the_history_and_assignments_of_their_own_accounts_only(engine):
    assign(engine, [Assignment(1, 2, "key account")], LEA)
    publish(engine, date(2026, 11, 1), "move", LEA, AS_OF)
    ray = Scope.only(5)
    assert set(assignments_as_of(engine, AS_OF, ray)["account_id"]) == {2, 4}
    assert set(account_history(engine, ray)["account_id"]) == {2, 4}
    assert publications(engine, ray).empty  # the publication touched none of Ray's accounts
    assert len(publications(engine, Scope.only(3))) == 1  # Wes owns Acme now


@pytest.mark.parametrize("seed", range(6))
def test_after_any_publish_every_account_has_exactly_one_territory_on_every_day(tiny_engine, seed):
    rng = np.random.default_rng(seed)
    engine = tiny_engine(person=PEOPLE, territory=TERRITORIES, account=PLACED)
    day = date(2026, 1, 1)
    for _ in range(4):
        moving = rng.choice(5, int(rng.integers(1, 4)), replace=False) + 1
        assign(engine, [Assignment(int(a), int(rng.integers(1, 4)), "plan") for a in moving], LEA)
        day = day + pd.Timedelta(days=int(rng.integers(1, 60)))
        try:
            publish(engine, day, str(rng.choice(["move", "keep"])), LEA, AS_OF)
        except TerritoryError as exc:
            assert "Nothing to publish" in str(exc)
        for probe in pd.date_range("2025-12-30", day + pd.Timedelta(days=2), freq="3D").date:
            held = assignments_as_of(engine, probe, EVERYONE)
            assert sorted(held["account_id"]) == [1, 2, 3, 4, 5] and held["territory_id"].notna().all()


def test_bookings_are_credited_to_the_territory_in_force_on_each_close_date(tiny_engine):
    late_win = deal(5, 1, 3, True, date(2026, 11, 15))  # Acme, won by Wes after it moved West
    engine = tiny_engine(person=PEOPLE, territory=TERRITORIES, account=PLACED, opportunity=[*DEALS, late_win])
    assign(engine, [Assignment(1, 2, "key account")], LEA)
    publish(engine, date(2026, 11, 1), "move", LEA, AS_OF)
    got = credited_bookings(engine, Period(date(2026, 10, 1), date(2026, 12, 31)), EVERYONE)
    # deal 2 (200, won 10-01) stays with East; deal 5 (500, won 11-15) goes to West
    assert got[["territory_id", "deals", "bookings"]].values.tolist() == [[1, 1, 200.0], [2, 1, 500.0]]
    ray = credited_bookings(engine, Period(date(2026, 10, 1), date(2026, 12, 31)), Scope.only(5))
    assert ray.empty  # neither deal is on an account of Ray's


def test_the_previous_owners_credit_share_of_a_moving_deal_follows_it(tiny_engine):
    shared = deal(6, 1, 4, False, date(2026, 12, 30))  # Acme, open, Rita's, half of it already Wes's
    splits = [
        {"opportunity_id": 1, "person_id": 4, "percent": 60.0},  # Rita 60 / Olga 40: Rita's share goes to Wes
        {"opportunity_id": 1, "person_id": 9, "percent": 40.0},
        {"opportunity_id": 2, "person_id": 4, "percent": 100.0},  # won: stays Rita's
        {"opportunity_id": 6, "person_id": 4, "percent": 50.0},  # Rita 50 / Wes 50: Wes ends with 100
        {"opportunity_id": 6, "person_id": 3, "percent": 50.0},
    ]
    engine = tiny_engine(
        person=PEOPLE, territory=TERRITORIES, account=PLACED, opportunity=[*DEALS, shared], opportunity_split=splits
    )
    assign(engine, [Assignment(1, 2, "key account")], LEA)
    assert publish(engine, date(2026, 11, 1), "move", LEA, AS_OF).deals_moved == 2
    rows = read_frame(engine, sa.select(opportunity_split))
    got = {(int(o), int(p)): float(c) for o, p, c in rows[["opportunity_id", "person_id", "percent"]].itertuples(index=False)}
    assert got == {(1, 3): 60, (1, 9): 40, (2, 4): 100, (6, 3): 100}
