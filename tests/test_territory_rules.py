"""Territory rules on a hand-made market: which rule claims which account, gaps, overlaps, named
assignments winning over rules, applying, and bad input that writes nothing."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa
from planning_support import LEA
from territory_support import ACCOUNTS, TERRITORIES

from spm_core.db import read_frame
from spm_core.planning.territories.model import Rule, TerritoryError
from spm_core.planning.territories.rules import Assignment, add_rule, apply_rules, assign, check, resolve, rules, unassign
from spm_core.schema import account, territory_assignment, territory_rule


@pytest.fixture
def engine(tiny_engine):
    engine = tiny_engine(territory=TERRITORIES, account=ACCOUNTS)
    add_rule(engine, Rule(1, country="United States", postcode_from="10000", postcode_to="19999"), LEA)
    add_rule(engine, Rule(2, country="United States", state="CA"), LEA)
    add_rule(engine, Rule(3, size_band="Large"), LEA)
    return engine


def territories_now(engine) -> dict[int, int | None]:
    rows = read_frame(engine, sa.select(account.c.id, account.c.territory_id).order_by(account.c.id))
    return {int(a): (None if pd.isna(t) else int(t)) for a, t in rows.itertuples(index=False)}


def test_each_rule_claims_the_accounts_worked_out_by_hand(engine):
    assert rules(engine).set_index("id")["claimed"].to_dict() == {1: 2, 2: 1, 3: 2}  # East: Acme, Echo; Key: Crest, Echo
    res = resolve(engine).set_index("account_id")
    assert res["status"].to_dict() == {1: "rule", 2: "rule", 3: "rule", 4: "gap", 5: "overlap"}
    assert res.loc[[1, 2, 3], "resolved_id"].tolist() == [1, 2, 3]
    assert res.loc[[4, 5], "resolved_id"].isna().all()


def test_the_check_lists_the_gap_and_the_overlap_with_both_territories(engine):
    found = check(engine)
    assert found.gaps["account_id"].tolist() == [4]
    assert found.overlaps[["account_id", "claimed_by", "also_claimed_by"]].values.tolist() == [[5, 1, 3]]
    assert not found.clean and found.idle_rules.empty


def test_a_named_assignment_wins_over_the_rules_and_ends_the_overlap(engine):
    assign(engine, [Assignment(5, 3, "key account")], LEA)
    res = resolve(engine).set_index("account_id")
    assert (res.loc[5, "status"], int(res.loc[5, "resolved_id"])) == ("assigned", 3)
    assert check(engine).overlaps.empty
    assert territories_now(engine)[5] == 3  # moved at once


def test_applying_gives_every_resolved_account_its_territory_and_leaves_the_gap_alone(engine):
    assign(engine, [Assignment(5, 1, "key account")], LEA)
    with engine.begin() as conn:
        conn.execute(account.update().where(account.c.id == 4).values(territory_id=2))
    assert apply_rules(engine) == 3  # Acme, Bolt, Crest; Echo already assigned there
    assert territories_now(engine) == {1: 1, 2: 2, 3: 3, 4: 2, 5: 1}
    assert apply_rules(engine) == 0  # idempotent


def test_applying_is_refused_while_an_overlap_remains_and_writes_nothing(engine):
    with pytest.raises(TerritoryError, match="1 account.*two or more territories"):
        apply_rules(engine)
    assert set(territories_now(engine).values()) == {None}


def test_postcode_range_ends_are_inclusive(tiny_engine):
    engine = tiny_engine(territory=TERRITORIES, account=ACCOUNTS)
    add_rule(engine, Rule(1, postcode_from="10010", postcode_to="10200"), LEA)
    assert resolve(engine).set_index("account_id")["status"].to_dict() == {1: "rule", 2: "gap", 3: "gap", 4: "gap", 5: "rule"}


def test_an_unassigned_account_goes_back_to_its_rules(engine):
    assign(engine, [Assignment(1, 2, "key account")], LEA)
    unassign(engine, 1, LEA)
    assert resolve(engine).set_index("account_id").loc[1, "status"] == "rule"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Rule(1), "at least one criterion"),
        (lambda: Rule(1, size_band="Huge"), "Size band 'Huge'"),
        (lambda: Rule(1, postcode_from="2", postcode_to="1"), "range 2–1 is empty"),
    ],
)
def test_a_malformed_rule_is_refused_with_a_message(make, message):
    with pytest.raises(TerritoryError, match=message):
        make()


def test_a_rule_that_matches_nothing_is_refused_and_not_stored(engine):
    with pytest.raises(TerritoryError, match="matches no account"):
        add_rule(engine, Rule(2, country="Atlantis"), LEA)
    assert len(read_frame(engine, sa.select(territory_rule))) == 3


def test_unknown_accounts_and_territories_are_refused_and_nothing_is_written(engine):
    with pytest.raises(TerritoryError, match="Unknown account"):
        assign(engine, [Assignment(1, 2, "key"), Assignment(99, 2, "key")], LEA)
    with pytest.raises(TerritoryError, match="Unknown territory"):
        assign(engine, [Assignment(1, 9, "key")], LEA)
    with pytest.raises(TerritoryError, match="no territory 9"):
        add_rule(engine, Rule(9, country="Canada"), LEA)
    with pytest.raises(TerritoryError, match="needs a reason"):
        assign(engine, [Assignment(1, 2, " ")], LEA)
    assert read_frame(engine, sa.select(territory_assignment)).empty
    assert territories_now(engine)[1] is None


def test_an_old_warehouse_gets_the_account_columns_on_the_first_write(tiny_engine):
    engine = tiny_engine(territory=TERRITORIES)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE territory_rule"))
        conn.execute(sa.text("ALTER TABLE account DROP COLUMN potential"))
        conn.execute(sa.text("INSERT INTO account (id, name, country) VALUES (1, 'Old', 'Canada')"))
    add_rule(engine, Rule(1, country="Canada"), LEA)
    assert pd.isna(read_frame(engine, sa.select(account.c.potential)).iloc[0, 0])  # the column is back, empty
