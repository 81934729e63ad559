"""Capacity against a pandas oracle: productivity per segment from history, ramped headcount, hires."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from planning_support import AS_OF, LEA, PEOPLE, YEAR_2027, _deal, _p

from spm_core.filters import Scope
from spm_core.planning import scenarios as sc
from spm_core.planning.capacity import capacity, productivity
from spm_core.planning.compute import ScenarioSpec
from spm_core.planning.model import PlanRules, Ramp

RAMP = {1: 0.25, 2: 0.5, 3: 0.75}
# A rep hired in June 2026 ramps inside the history window: only their months past the ramp count.
PEOPLE_PLUS = [*PEOPLE, _p(22, "Rep Twentytwo", "rep", 3, 2, hire=date(2026, 6, 15))]


def random_deals(seed: int = 5) -> list[dict]:
    rng = np.random.default_rng(seed)
    owners = rng.choice([10, 11, 12, 20, 21, 22], 300)
    days = pd.Timestamp("2025-08-01") + pd.to_timedelta(rng.integers(0, 480, 300), unit="D")
    won = rng.random(300) < 0.6
    return [
        _deal(i + 1, int(o), float(rng.integers(1, 500) * 10), d.date(), won=bool(w))
        for i, (o, d, w) in enumerate(zip(owners, days, won, strict=True))
    ]


@pytest.fixture
def engine(tiny_engine):
    return tiny_engine(
        person=PEOPLE_PLUS, opportunity=random_deals(), segment=[{"id": 1, "name": "SMB"}, {"id": 2, "name": "Enterprise"}]
    )


def months_between(month: pd.Series, hire: pd.Series) -> pd.Series:
    return (month.dt.year - hire.dt.year) * 12 + month.dt.month - hire.dt.month + 1


def oracle_productivity(deals: pd.DataFrame, people: pd.DataFrame) -> pd.Series:
    reps = people[people["role"] == "rep"].assign(hire=lambda f: pd.to_datetime(f["hire_date"]))
    window = pd.DataFrame({"month": pd.date_range("2025-11-01", "2026-10-01", freq="MS")})
    grid = reps.merge(window, how="cross")
    grid = grid[months_between(grid["month"], grid["hire"]) > 3]
    won = deals[deals["is_won"]].assign(month=lambda f: pd.to_datetime(f["close_date"]).dt.to_period("M").dt.to_timestamp())
    won = won[(won["month"] >= "2025-11-01") & (won["month"] <= "2026-10-01")]
    booked = won.groupby(["owner_id", "month"])["amount"].sum().rename("booked").reset_index()
    grid = grid.merge(booked, left_on=["id", "month"], right_on=["owner_id", "month"], how="left").fillna({"booked": 0.0})
    return grid.groupby("segment_id")["booked"].sum() / grid.groupby("segment_id").size()


def test_productivity_matches_the_oracle(engine):
    got = productivity(engine, AS_OF, Ramp.parse("25,50,75")).set_index("segment_id")["monthly"]
    want = oracle_productivity(pd.DataFrame(random_deals()), pd.DataFrame(PEOPLE_PLUS))
    assert got.sort_index().round(6).tolist() == want.sort_index().round(6).tolist()


def test_capacity_gap_and_hires_match_the_oracle(engine):
    sid = sc.create_scenario(engine, ScenarioSpec("Even", YEAR_2027, PlanRules(900_000_00)), LEA, AS_OF)
    got = capacity(engine, sid, AS_OF, Scope.everyone()).set_index("segment_id")
    rate = oracle_productivity(pd.DataFrame(random_deals()), pd.DataFrame(PEOPLE_PLUS))
    people = pd.DataFrame(PEOPLE_PLUS).set_index("id")
    alloc = sc.allocation(engine, sid, Scope.everyone())
    reps = alloc[alloc["kind"] == "rep"].copy()
    months = pd.Series(pd.date_range("2027-01-01", "2027-12-01", freq="MS"))
    hire = pd.to_datetime(reps["person_id"].map(people["hire_date"]))
    reps["factors"] = [
        months_between(months, pd.Series([h] * 12)).map(lambda t: 0.0 if t < 1 else RAMP.get(t, 1.0)).sum() for h in hire
    ]
    reps["capacity"] = reps["factors"] * reps["segment_id"].map(rate)
    for seg, group in reps.groupby("segment_id"):
        gap = group["amount"].sum() - group["capacity"].sum()
        per_hire = rate[seg] * (0.25 + 0.5 + 0.75 + 9)
        assert got.loc[seg, "capacity"] == pytest.approx(group["capacity"].sum())
        assert got.loc[seg, "gap"] == pytest.approx(gap)
        assert got.loc[seg, "per_hire"] == pytest.approx(per_hire)
        assert got.loc[seg, "hires"] == math.ceil(gap / per_hire)
    assert (got["hires"] > 0).all() and got.loc[1, "reps"] == 3 and got.loc[1, "segment"] == "SMB"
    assert reps.set_index("person_id").loc[12, "factors"] == 8.5  # hired in March 2027: 0.25 + 0.5 + 0.75 + 7


def test_no_gap_needs_no_hires(engine):
    sid = sc.create_scenario(engine, ScenarioSpec("Tiny", YEAR_2027, PlanRules(1_00)), LEA, AS_OF)
    assert capacity(engine, sid, AS_OF, Scope.everyone())["hires"].tolist() == [0, 0]
