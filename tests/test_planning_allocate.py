"""Allocation against hand-worked examples: each method, the cent rule, overrides and locks, ramp."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pandas as pd
import pytest

from spm_core.planning.allocate import Tree, allocate
from spm_core.planning.cents import split_cents
from spm_core.planning.model import (
    BUCKETING,
    WEIGHTED,
    LevelRule,
    Override,
    PlanError,
    PlanRules,
    Ramp,
    Tier,
    parse_tiers,
    to_cents,
)
from spm_core.planning.ramp import monthly_quotas

# 1 leader; 2 and 3 managers; 2 has reps 10, 11, 12; 3 has reps 20, 21.
TREE = Tree(1, {1: (2, 3), 2: (10, 11, 12), 3: (20, 21)}, {1: "Lea", 2: "Ann", 3: "Bob"})


def cents_of(frame: pd.DataFrame) -> dict[int, int]:
    return dict(zip(frame["person_id"], frame["cents"], strict=True))


def test_split_hands_leftover_cents_to_largest_remainders_then_smaller_id():
    # 100 cents in thirds: 33.33 each, 1 cent left; equal remainders, so the smallest id gets it.
    assert [s.cents for s in split_cents(100, [7, 3, 5], [1, 1, 1])] == [33, 34, 33]
    # 1000 by 1:2:4 (sum 7): exact 142.86, 285.71, 571.43 -> floors 142, 285, 571 (998), remainders 6, 5, 3 -> +1 +1
    assert [s.cents for s in split_cents(1000, [1, 2, 3], [1, 2, 4])] == [143, 286, 571]


def test_even_splits_each_level_and_children_sum_to_parent_to_the_cent():
    out = cents_of(allocate(TREE, PlanRules(100_000_001), {}))
    # 1,000,000.01 / 2 -> 500,000.01 (id 2 has the smaller id) and 500,000.00
    assert out[2] == 50_000_001 and out[3] == 50_000_000
    # 500,000.01 / 3: 50,000,001 cents = 3 × 16,666,667 exactly
    assert [out[k] for k in (10, 11, 12)] == [16_666_667] * 3
    assert [out[k] for k in (20, 21)] == [25_000_000, 25_000_000]


def test_every_parent_equals_the_sum_of_its_children_with_odd_cents():
    frame = allocate(
        TREE,
        PlanRules(1_000_07, (LevelRule(), LevelRule(WEIGHTED, "open_pipeline"))),
        {"open_pipeline": {10: 1, 11: 1, 12: 1, 20: 3, 21: 7}},
    )
    sums = frame.dropna(subset=["parent_id"]).groupby("parent_id")["cents"].sum()
    own = frame.set_index("person_id")["cents"]
    assert all(sums[p] == own[p] for p in sums.index)


def test_weighted_by_a_measure_hand_worked():
    measures = {"prior_year_bookings": {2: 300_00, 3: 100_00, 10: 100_00, 11: 200_00, 12: 0, 20: 50_00, 21: 50_00}}
    rules = PlanRules(1_000_00, (LevelRule(WEIGHTED, "prior_year_bookings"),))
    out = cents_of(allocate(TREE, rules, measures))
    assert out[2] == 750_00 and out[3] == 250_00  # 3:1
    assert (out[10], out[11], out[12]) == (250_00, 500_00, 0)  # 1:2:0 of 750
    assert (out[20], out[21]) == (125_00, 125_00)


def test_weighted_without_any_history_falls_back_to_even_and_says_so():
    frame = allocate(TREE, PlanRules(90_00, (LevelRule(), LevelRule(WEIGHTED, "trailing_12_months"))), {})
    team = frame[frame["parent_id"] == 2]
    assert team["cents"].tolist() == [15_00, 15_00, 15_00]
    assert team["rule"].str.startswith("even (no trailing_12_months").all()


def test_bucketing_splits_tier_shares_evenly_within_tiers():
    tiers = (Tier("A", 1000, Fraction(1, 2)), Tier("B", 0, Fraction(1, 2)))
    rules = PlanRules(1_200_00, (LevelRule(), LevelRule(BUCKETING, "open_pipeline", tiers)))
    # Team 2 gets 600. Rep 10 is in A (≥ 1,000), reps 11 and 12 in B: A 300, B 300 / 2 = 150 each.
    out = cents_of(allocate(TREE, rules, {"open_pipeline": {10: 2000_00, 11: 10_00, 12: 999_99}}))
    assert (out[10], out[11], out[12]) == (300_00, 150_00, 150_00)
    # Team 3 has nobody in A: B takes the whole 600.
    assert (out[20], out[21]) == (300_00, 300_00)


def test_tier_shares_must_add_up_to_one():
    with pytest.raises(PlanError, match="100 %"):
        LevelRule(BUCKETING, "open_pipeline", (Tier("A", 0, Fraction(1, 2)),))


def test_override_is_kept_and_the_rest_of_the_level_is_redistributed_by_the_method():
    rules = PlanRules(900_00, overrides=(Override(10, 100_00, "new territory"),))
    out = allocate(TREE, rules, {})
    c = cents_of(out)
    assert c[10] == 100_00 and c[11] == c[12] == 175_00  # team 2 has 450: 350 left for two
    row = out.set_index("person_id").loc[10]
    assert row["locked"] and row["reason"] == "new territory"


def test_overriding_a_manager_moves_their_siblings_and_their_own_reps():
    out = cents_of(allocate(TREE, PlanRules(900_00, overrides=(Override(3, 300_00, "smaller region"),)), {}))
    assert out[2] == 600_00 and (out[10], out[11], out[12]) == (200_00, 200_00, 200_00)
    assert (out[20], out[21]) == (150_00, 150_00)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ((Override(20, 300_00, "x"), Override(21, 200_00, "y")), "over the parent"),
        ((Override(20, 100_00, "x"), Override(21, 100_00, "y")), "not its"),
        ((Override(99, 1_00, "x"),), "Unknown person"),
        ((Override(1, 1_00, "x"),), "change the target"),
    ],
)
def test_bad_overrides_are_refused_with_a_clear_message(overrides, message):
    with pytest.raises(PlanError, match=message):
        allocate(TREE, PlanRules(900_00, overrides=overrides), {})


def test_an_override_needs_a_reason_and_no_quota_is_negative():
    with pytest.raises(PlanError, match="reason"):
        Override(10, 1_00, "  ")
    with pytest.raises(PlanError, match="negative"):
        Override(10, -1, "because")
    assert to_cents("1,234.565") == 1_234_57


def test_ramp_matches_a_pandas_oracle():
    months = [date(2027, m, 1) for m in range(1, 13)]
    leaves = pd.DataFrame(
        {
            "person_id": [10, 11, 12],
            "cents": [1_200_000_05, 600_00, 1_000_01],
            "hire_date": [date(2020, 5, 3), date(2026, 12, 15), date(2027, 4, 20)],  # long ago, ramping, future hire
        }
    )
    got = monthly_quotas(leaves, months, Ramp.parse("25,50,75"))
    # Oracle: even spread with the leftover cents to the earliest months, tenure from the hire month.
    oracle = leaves.merge(pd.DataFrame({"month": pd.to_datetime(months)}), how="cross")
    oracle["i"] = oracle["month"].dt.month - 1
    oracle["full"] = oracle["cents"] // 12 + (oracle["i"] < oracle["cents"] % 12)
    hire = pd.to_datetime(oracle["hire_date"])
    oracle["tenure"] = (oracle["month"].dt.year - hire.dt.year) * 12 + oracle["month"].dt.month - hire.dt.month + 1
    oracle["factor"] = oracle["tenure"].map(lambda t: 0.0 if t < 1 else {1: 0.25, 2: 0.5, 3: 0.75}.get(t, 1.0))
    oracle["ramped"] = (oracle["full"] * oracle["factor"] + 0.5).apply(int)
    assert got["full_cents"].tolist() == oracle["full"].tolist()
    assert got["cents"].tolist() == oracle["ramped"].tolist()
    assert got.groupby("person_id")["full_cents"].sum().tolist() == [1_200_000_05, 600_00, 1_000_01]
    future = got[got["person_id"] == 12]
    assert future["cents"].iloc[:3].tolist() == [0, 0, 0] and future["factor"].iloc[3] == 0.25  # counts from April


def test_tiers_are_read_from_text():
    tiers = parse_tiers("A:100,000:50; B:0:50")
    assert tiers == (Tier("A", 100000.0, Fraction(1, 2)), Tier("B", 0.0, Fraction(1, 2)))
    with pytest.raises(PlanError, match="name : lowest"):
        parse_tiers("A:50")
