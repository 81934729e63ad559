"""The leaderboard and forecast engines (spm_core.leaderboard, spm_core.forecast) against independent
computations: a plain-pandas oracle over the demo warehouse's raw tables (written from SPEC.md and the
modules' documented choices, sharing no code with spm_core), and tiny warehouses worked out by hand.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from statistics import NormalDist

import pandas as pd
import pytest
import sqlalchemy as sa

from spm_core import forecast, leaderboard, schema
from spm_core.db import read_frame
from spm_core.filters import Filters, Period, Scope
from spm_core.history import NeedsHistory
from spm_core.stages import DEFAULT_STAGES

AS_OF = date(2026, 11, 23)
Q4 = Period(date(2026, 10, 1), date(2026, 12, 31))  # in progress on AS_OF
Q3 = Period(date(2026, 7, 1), date(2026, 9, 30))  # over by AS_OF
# The demo's tree: 2 (leader) -> 3 -> 5 -> 7 (team 1: reps 9-14); 2 -> 4 -> 6 -> 8 (team 2: reps 15-20).
TEAM1_MANAGER, TEAM2_MANAGER = 7, 8
TEAM1_REPS, TEAM2_REPS = set(range(9, 15)), set(range(15, 21))


# --------------------------------------------------------------------------------------------- oracle helpers


def between(column: pd.Series, period: Period) -> pd.Series:
    d = pd.to_datetime(column)
    return (d >= pd.Timestamp(period.start)) & (d <= pd.Timestamp(period.end))


def scope_ids(people: pd.DataFrame, scope: Scope) -> set[int]:
    """The people a scope lets one see, by walking manager_id down to a fixed point."""
    if scope.is_everyone:
        return {int(i) for i in people["id"]}
    ids = set(scope.person_ids or ())
    while scope.include_subtree:
        more = {int(i) for i in people.loc[people["manager_id"].isin(ids), "id"]} - ids
        if not more:
            break
        ids |= more
    return ids


def subtree_of(people: pd.DataFrame, root: int) -> set[int]:
    return scope_ids(people, Scope.subtree(root))


def int_or_none(values) -> list[int | None]:
    return [None if pd.isna(v) else int(v) for v in values]


# --------------------------------------------------------------------------------------------- leaderboard oracle


def person_facts(frames: dict[str, pd.DataFrame], period: Period, view: set[int]) -> pd.DataFrame:
    """Per person in view: bookings, deals won, pipeline created, activities and quota in the period."""
    deals = frames["opportunity"][frames["opportunity"]["owner_id"].isin(view)]
    won = deals[deals["is_won"].astype(bool) & between(deals["close_date"], period)]
    created = deals[between(deals["created_date"], period)]
    acts = frames["activity"][frames["activity"]["person_id"].isin(view) & between(frames["activity"]["activity_date"], period)]
    quotas = frames["quota"][frames["quota"]["person_id"].isin(view) & between(frames["quota"]["month"], period)]
    return pd.DataFrame(
        {
            "bookings": won.groupby("owner_id")["amount"].sum(),
            "deals_won": won.groupby("owner_id").size().astype("float64"),
            "pipeline_created": created.groupby("owner_id")["amount"].sum(),
            "activities": acts.groupby("person_id").size().astype("float64"),
            "quota": quotas.groupby("person_id")["amount"].sum(),
        }
    ).fillna(0.0)


def values_by(frames: dict[str, pd.DataFrame], metric: str, period: Period, view: set[int], level: str) -> dict[int, float]:
    """entry id -> the metric's value (NaN attainment without a quota) for entries with any fact."""
    facts = person_facts(frames, period, view)
    if level == "team":
        team_of = frames["person"].set_index("id")["team_id"]
        facts = facts.assign(key=facts.index.map(team_of)).dropna(subset=["key"]).groupby("key").sum()
    if metric == "attainment":
        quota = facts["quota"]
        values = facts["bookings"] / quota.where(quota > 0)
    else:
        values = facts[metric]
    return {int(k): float(v) for k, v in values.items()}


def oracle_entries(frames, metric: str, level: str, period: Period, scope: Scope) -> list[tuple[int, str, float]]:
    people = frames["person"]
    view = scope_ids(people, scope)
    reps = people[(people["role"] == "rep") & people["id"].isin(view)]
    hired = pd.to_datetime(reps["hire_date"])
    eligible = reps[reps["active"].astype(bool) & (hired.isna() | (hired <= pd.Timestamp(period.end)))]
    if level == "rep":
        names, listed = dict(zip(reps["id"], reps["name"], strict=True)), set(eligible["id"])
    else:
        names = dict(zip(frames["team"]["id"], frames["team"]["name"], strict=True))
        listed = {int(t) for t in eligible["team_id"].dropna()}
    values = values_by(frames, metric, period, view, level)
    rows = []
    for i, name in names.items():
        v = values.get(int(i), math.nan if metric == "attainment" else 0.0)
        if int(i) in listed or (not math.isnan(v) and v != 0):
            rows.append((int(i), str(name), v))
    return rows


def competition_ranks(rows: list[tuple[int, str, float]]) -> list[tuple[int, int, str, float]]:
    """(rank, id, name, value), "1224" ranking highest first, ties by name (case-insensitive) then id."""
    ranked = [r for r in rows if not math.isnan(r[2])]
    out = [(1 + sum(round(o[2], 6) > round(r[2], 6) for o in ranked), *r) for r in ranked]
    return sorted(out, key=lambda r: (r[0], r[2].casefold(), r[1]))


def oracle_board(frames, metric: str, level: str, period: Period, scope: Scope) -> pd.DataFrame:
    now = oracle_entries(frames, metric, level, period, scope)
    before = {i: rank for rank, i, _, _ in competition_ranks(oracle_entries(frames, metric, level, period.previous(), scope))}
    ranked = competition_ranks(now)
    ids = [r[1] for r in ranked]
    # badges
    view = scope_ids(frames["person"], scope)
    attainment = values_by(frames, "attainment", period, view, level)
    club = {i for i in ids if not math.isnan(attainment.get(i, math.nan)) and attainment[i] >= 1.0}
    deals = frames["opportunity"]
    won = deals[deals["is_won"].astype(bool) & deals["owner_id"].isin(view)]
    team_of = frames["person"].set_index("id")["team_id"]
    key = won["owner_id"] if level == "rep" else won["owner_id"].map(team_of)
    won = won.assign(key=key).dropna(subset=["key"])
    won = won[won["key"].astype("int64").isin(ids)]
    in_period = won[between(won["close_date"], period)]
    top = in_period["amount"].max()
    biggest = set(in_period.loc[in_period["amount"] == top, "key"].astype("int64")) if len(in_period) else set()
    first = set()
    if level == "rep":
        first_won = pd.to_datetime(won.groupby("key")["close_date"].min())
        first = {int(k) for k, d in first_won.items() if period.start <= d.date() <= period.end}
    badges = [tuple(b for b, who in zip(leaderboard.BADGES, (club, biggest, first), strict=True) if i in who) for i in ids]
    return (
        pd.DataFrame(
            {
                "id": ids,
                "rank": [r[0] for r in ranked],
                "name": [r[2] for r in ranked],
                "value": [r[3] for r in ranked],
                "change": [before[i] - r[0] if i in before else None for r, i in zip(ranked, ids, strict=True)],
                "badges": badges,
            },
            dtype="object",
        )
        .astype({"id": "int64", "rank": "int64", "value": "float64"})
        .assign(unranked=[tuple(sorted(r[0] for r in now if math.isnan(r[2])))] * len(ids))
    )


def assert_board_matches(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(leaderboard.BOARD_COLUMNS)
    assert list(got.index) == list(want["id"])
    assert list(got["rank"]) == list(want["rank"])
    assert list(got["name"]) == list(want["name"])
    assert list(got["value"]) == pytest.approx(list(want["value"]), rel=1e-9, abs=1e-9)
    assert int_or_none(got["change"]) == int_or_none(want["change"])
    assert list(got["badges"]) == list(want["badges"])


# --------------------------------------------------------------------------------------------- leaderboard on the demo


@pytest.mark.parametrize("metric", leaderboard.METRICS)
@pytest.mark.parametrize("level", leaderboard.LEVELS)
@pytest.mark.parametrize("period", [Q3, Q4], ids=["Q3", "Q4"])
def test_board_matches_the_pandas_oracle(demo_engine, demo_frames, metric, level, period):
    got = leaderboard.board(demo_engine, metric, Filters(period), Scope.everyone(), level, AS_OF, audience=leaderboard.Audience.full())
    want = oracle_board(demo_frames, metric, level, period, Scope.everyone())
    assert_board_matches(got, want)
    assert tuple(sorted(got.attrs["unranked"])) == (want["unranked"].iloc[0] if len(want) else ())


@pytest.mark.parametrize("metric", ["bookings", "attainment", "deals_won"])
@pytest.mark.parametrize("level", leaderboard.LEVELS)
def test_board_in_a_subtree_scope_matches_the_oracle_and_shows_nobody_outside(demo_engine, demo_frames, metric, level):
    scope = Scope.subtree(TEAM1_MANAGER)
    got = leaderboard.board(demo_engine, metric, Filters(Q3), scope, level, AS_OF, audience=leaderboard.Audience.full())
    assert_board_matches(got, oracle_board(demo_frames, metric, level, Q3, scope))
    assert set(got.index) <= (TEAM1_REPS if level == "rep" else {1})
    assert set(got.index) == (TEAM1_REPS if level == "rep" else {1})


def test_board_of_a_demo_quarter_lists_every_rep_and_the_new_hire_as_new(demo_engine):
    # Lena Lopez (12) was hired 2026-09-07: on Q3's board (hired by its end) but not on Q2's, so "new".
    got = leaderboard.board(demo_engine, "bookings", Filters(Q3), Scope.everyone(), "rep", AS_OF, audience=leaderboard.Audience.full())
    assert set(got.index) == TEAM1_REPS | TEAM2_REPS
    assert pd.isna(got.loc[12, "change"])
    assert got["change"].drop(index=12).notna().all()


def test_entries_in_scope_on_the_demo(demo_engine):
    assert leaderboard.entries_in_scope(demo_engine, "rep", Scope.everyone()) is None
    assert leaderboard.entries_in_scope(demo_engine, "rep", Scope.subtree(TEAM1_MANAGER)) == {TEAM1_MANAGER, *TEAM1_REPS}
    assert leaderboard.entries_in_scope(demo_engine, "team", Scope.subtree(TEAM1_MANAGER)) == {1}
    # A single rep of team 1 sees their own row but no team whose deals they could not all list.
    assert leaderboard.entries_in_scope(demo_engine, "rep", Scope.only(9)) == {9}
    assert leaderboard.entries_in_scope(demo_engine, "team", Scope.only(9)) == frozenset()
    # The leader's scope holds both teams entirely.
    assert leaderboard.entries_in_scope(demo_engine, "team", Scope.subtree(2)) == {1, 2}


def test_viewer_entry_on_the_demo(demo_engine):
    assert leaderboard.viewer_entry(demo_engine, 9, "rep") == 9
    assert leaderboard.viewer_entry(demo_engine, 9, "team") == 1
    assert leaderboard.viewer_entry(demo_engine, 17, "team") == 2
    assert leaderboard.viewer_entry(demo_engine, 2, "team") is None  # the leader is in no team
    assert leaderboard.viewer_entry(demo_engine, None, "rep") is None
    assert leaderboard.viewer_entry(demo_engine, None, "team") is None


def test_board_rejects_unknown_metric_or_level(demo_engine):
    with pytest.raises(ValueError, match="metric"):
        leaderboard.board(demo_engine, "revenue", Filters(Q3), Scope.everyone(), audience=leaderboard.Audience.full())
    with pytest.raises(ValueError, match="level"):
        leaderboard.board(demo_engine, "bookings", Filters(Q3), Scope.everyone(), level="region", audience=leaderboard.Audience.full())


# --------------------------------------------------------------------------------------------- tiny warehouses

STAGES = {s.name: s for s in DEFAULT_STAGES}
STAGE_ROWS = [s.__dict__.copy() for s in DEFAULT_STAGES]
Q1 = Period(date(2026, 1, 1), date(2026, 3, 31))
Q2 = Period(date(2026, 4, 1), date(2026, 6, 30))
AFTER_Q2 = date(2026, 7, 15)

# 1 Lea Leader
# +-- 2 Vic VP
# |   +-- 3 Dora Director
# |       +-- 4 Manny Manager (team 1)
# |           +-- 5 Rita Rep (team 1)
# |           +-- 6 Rob Rep (team 1)
# |           +-- 9 amy Ant (team 1, lower-case name: ties sort case-insensitively)
# +-- 7 Olga Other (team 2)
#     +-- 8 Sam Sibling (team 2)
#     +-- 10 Zed Gone (team 2, inactive)
#     +-- 11 Nat New (team 2, hired 2026-05-01)
LEADER, VP, DIRECTOR, MANAGER, RITA, ROB, OLGA, SAM, AMY, ZED, NAT = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11


def _person(pid, name, role, manager, team, *, active=True, hired=None) -> dict:
    return {
        "id": pid,
        "name": name,
        "role": role,
        "manager_id": manager,
        "team_id": team,
        "segment_id": 1,
        "region_id": 1,
        "active": active,
        "hire_date": hired,
        "ramp_months": 0,
    }


PEOPLE = [
    _person(LEADER, "Lea Leader", "leader", None, None),
    _person(VP, "Vic VP", "manager", LEADER, None),
    _person(DIRECTOR, "Dora Director", "manager", VP, None),
    _person(MANAGER, "Manny Manager", "manager", DIRECTOR, 1),
    _person(RITA, "Rita Rep", "rep", MANAGER, 1),
    _person(ROB, "Rob Rep", "rep", MANAGER, 1),
    _person(AMY, "amy Ant", "rep", MANAGER, 1),
    _person(OLGA, "Olga Other", "manager", LEADER, 2),
    _person(SAM, "Sam Sibling", "rep", OLGA, 2),
    _person(ZED, "Zed Gone", "rep", OLGA, 2, active=False),
    _person(NAT, "Nat New", "rep", OLGA, 2, hired=date(2026, 5, 1)),
]
TEAMS = [{"id": 1, "name": "Team One", "manager_id": MANAGER}, {"id": 2, "name": "Team Two", "manager_id": OLGA}]


def deal(
    did: int,
    owner: int,
    amount: float,
    stage: str,
    close: date,
    created: date = date(2025, 12, 1),
    *,
    category: str | None = None,
    product: int = 1,
) -> dict:
    s = STAGES[stage]
    return {
        "id": did,
        "owner_id": owner,
        "account_id": None,
        "product_id": product,
        "amount": float(amount),
        "stage": stage,
        "probability": s.probability,
        "forecast_category": category or s.forecast_category,
        "created_date": created,
        "close_date": close,
        "is_closed": s.is_closed,
        "is_won": s.is_won,
    }


def won(did: int, owner: int, amount: float, close: date, **kw) -> dict:
    return deal(did, owner, amount, "Closed Won", close, **kw)


def quota(qid: int, who: int, month: date, amount: float) -> dict:
    return {"id": qid, "person_id": who, "month": month, "amount": float(amount), "quota_type": "bookings", "is_ramped": False}


def warehouse(tiny_engine, opportunity=(), quota=(), **more):
    return tiny_engine(
        person=PEOPLE,
        team=TEAMS,
        stage=STAGE_ROWS,
        product=[{"id": 1, "name": "Widget"}],
        opportunity=list(opportunity),
        quota=list(quota),
        **more,
    )


def test_rank_entries_is_competition_ranking_with_ties_by_name_and_float_noise_ignored():
    entries = pd.DataFrame(
        {"id": [1, 2, 3, 4, 5], "name": ["bob", "Alice", "carl", "Dan", "Eve"], "value": [0.1 + 0.2, 0.3, 5.0, 0.3, 0.0]}
    )
    got = leaderboard.rank_entries(entries)
    assert list(got["id"]) == [3, 2, 1, 4, 5]  # carl; then Alice, bob, Dan tied (0.1 + 0.2 == 0.3 to 6 places)
    assert list(got["rank"]) == [1, 2, 2, 2, 5]
    assert leaderboard.rank_entries(entries.iloc[:0]).empty


def test_board_ties_rank_change_eligibility_and_badges_by_hand(tiny_engine):
    engine = warehouse(
        tiny_engine,
        opportunity=[
            # Q1 (the previous period): Rob 900 > Sam 500 > Rita 100; amy and Nat nothing.
            won(1, ROB, 900, date(2026, 2, 1)),
            won(2, SAM, 500, date(2026, 2, 1)),
            won(3, RITA, 100, date(2026, 1, 5)),
            # Q2: Rita 300 + 300 (her largest 300), amy 600 (first ever, one deal), Rob 250, Sam 0, Zed (inactive) 50,
            # Nat (hired May 1) 0; a manager's 5000 deal is not on the individual board.
            won(4, RITA, 300, date(2026, 4, 10)),
            won(5, RITA, 300, date(2026, 6, 30)),
            won(6, AMY, 600, date(2026, 5, 5)),
            won(7, ROB, 250, date(2026, 4, 1)),
            won(8, ZED, 50, date(2026, 5, 1)),
            won(9, MANAGER, 5000, date(2026, 5, 1)),
            deal(10, SAM, 7000, "Proposal", date(2026, 6, 1)),  # open: not bookings
        ],
        quota=[quota(1, RITA, date(2026, 4, 1), 600), quota(2, ROB, date(2026, 5, 1), 500)],
    )
    got = leaderboard.board(engine, "bookings", Filters(Q2), Scope.everyone(), "rep", AFTER_Q2, audience=leaderboard.Audience.full())
    # amy and Rita tie on 600 (amy first: names compare case-insensitively), Rob 250, Zed 50 (inactive but sold),
    # then Nat and Sam on 0 (listed: active and hired by the period's end).
    assert list(got.index) == [AMY, RITA, ROB, ZED, NAT, SAM]
    assert list(got["rank"]) == [1, 1, 3, 4, 5, 5]
    assert list(got["value"]) == [600, 600, 250, 50, 0, 0]
    # Previous ranks: Rob 1, Sam 2, Rita 3, amy 4 (active, 0), Zed unlisted (inactive, 0), Nat not hired yet.
    assert int_or_none(got["change"]) == [4 - 1, 3 - 1, 1 - 3, None, None, 2 - 5]
    # Rita: 600 / 600 quota = 100 % club; biggest deal of Q2 on the board: amy's 600 (the manager's 5000 is not
    # on it); first-ever won deal in Q2: amy and Zed.
    assert list(got["badges"]) == [
        (leaderboard.BIGGEST_DEAL, leaderboard.FIRST_DEAL),
        (leaderboard.HUNDRED_CLUB,),
        (),
        (leaderboard.FIRST_DEAL,),
        (),
        (),
    ]
    assert got.attrs["unranked"] == ()


def test_attainment_board_leaves_out_reps_without_quota_and_lists_them(tiny_engine):
    engine = warehouse(
        tiny_engine,
        opportunity=[won(1, RITA, 300, date(2026, 4, 10)), won(2, ROB, 800, date(2026, 5, 1))],
        quota=[quota(1, RITA, date(2026, 4, 1), 200), quota(2, SAM, date(2026, 6, 1), 1000)],
    )
    got = leaderboard.board(engine, "attainment", Filters(Q2), Scope.everyone(), "rep", AFTER_Q2, audience=leaderboard.Audience.full())
    assert list(got.index) == [RITA, SAM]
    assert list(got["value"]) == [1.5, 0.0]
    assert sorted(got.attrs["unranked"]) == [ROB, AMY, NAT]  # no quota: no attainment (not 0)
    assert list(got["badges"]) == [(leaderboard.HUNDRED_CLUB, leaderboard.BIGGEST_DEAL, leaderboard.FIRST_DEAL), ()]


def test_team_board_by_hand(tiny_engine):
    engine = warehouse(
        tiny_engine,
        opportunity=[
            won(1, RITA, 300, date(2026, 4, 10)),
            won(2, MANAGER, 100, date(2026, 4, 11)),  # team 1: 400
            won(3, SAM, 400, date(2026, 5, 1)),
            won(4, OLGA, 50, date(2026, 5, 1)),  # team 2: 450, the biggest deal 400
            won(5, SAM, 999, date(2026, 2, 1)),  # Q1: team 2 first, team 1 second
            won(6, ROB, 10, date(2026, 2, 1)),
        ],
        quota=[quota(1, MANAGER, date(2026, 4, 1), 400)],
    )
    got = leaderboard.board(engine, "bookings", Filters(Q2), Scope.everyone(), "team", AFTER_Q2, audience=leaderboard.Audience.full())
    assert list(got.index) == [2, 1]
    assert list(got["name"]) == ["Team Two", "Team One"]
    assert list(got["value"]) == [450, 400]
    assert int_or_none(got["change"]) == [0, 0]
    assert list(got["badges"]) == [(leaderboard.BIGGEST_DEAL,), (leaderboard.HUNDRED_CLUB,)]
    # Scoped to team 1's manager: team 2 is nowhere.
    scoped = leaderboard.board(engine, "bookings", Filters(Q2), Scope.subtree(MANAGER), "team", AFTER_Q2, audience=leaderboard.Audience.full())
    assert list(scoped.index) == [1]
    assert list(scoped["badges"]) == [(leaderboard.HUNDRED_CLUB, leaderboard.BIGGEST_DEAL)]


def test_biggest_deal_ties_go_to_everyone_and_the_product_filter_applies(tiny_engine):
    engine = warehouse(
        tiny_engine,
        opportunity=[
            won(1, RITA, 500, date(2026, 4, 10), created=date(2025, 1, 1)),
            won(2, ROB, 500, date(2026, 5, 10)),
            won(3, SAM, 900, date(2026, 5, 10), product=2),
            won(4, SAM, 10, date(2025, 5, 10)),
        ],
    )
    got = leaderboard.board(engine, "bookings", Filters(Q2, products=frozenset({1})), Scope.everyone(), "rep", AFTER_Q2, audience=leaderboard.Audience.full())
    assert list(got.index) == [RITA, ROB, AMY, NAT, SAM]
    big, first = leaderboard.BIGGEST_DEAL, leaderboard.FIRST_DEAL
    # Sam's first-ever won deal was in 2025, and his 900 is another product.
    assert list(got["badges"]) == [(big, first), (big, first), (), (), ()]


def test_viewer_entry_and_entries_in_scope_by_hand(tiny_engine):
    engine = warehouse(tiny_engine)
    assert leaderboard.viewer_entry(engine, SAM, "team") == 2
    assert leaderboard.viewer_entry(engine, VP, "team") is None
    assert leaderboard.viewer_entry(engine, VP, "rep") == VP
    # Dora's subtree holds all of team 1 (Manny, Rita, Rob, amy) but nobody of team 2.
    assert leaderboard.entries_in_scope(engine, "team", Scope.subtree(DIRECTOR)) == {1}
    assert leaderboard.entries_in_scope(engine, "rep", Scope.subtree(OLGA)) == {OLGA, SAM, ZED, NAT}


# --------------------------------------------------------------------------------------------- forecast oracle

AMOUNT_COLUMNS = list(forecast.AMOUNT_COLUMNS)


def person_amounts(frames, period: Period, view: set[int]) -> pd.DataFrame:
    """Per person in view with a row of any kind: closed, commit, best case, pipeline, omitted, open and
    weighted (stage table's probability) pipeline, quota."""
    probability = dict(zip(frames["stage"]["name"], frames["stage"]["probability"], strict=True))
    deals = frames["opportunity"][frames["opportunity"]["owner_id"].isin(view)]
    in_period = between(deals["close_date"], period)
    won = deals[deals["is_won"].astype(bool) & in_period]
    open_ = deals[~deals["is_closed"].astype(bool) & in_period]
    open_ = open_.assign(weighted=open_["amount"] * open_["stage"].map(probability).astype("float64") / 100.0)
    category = open_["forecast_category"]
    quotas = frames["quota"][frames["quota"]["person_id"].isin(view) & between(frames["quota"]["month"], period)]
    return pd.DataFrame(
        {
            "closed": won.groupby("owner_id")["amount"].sum(),
            "commit": open_[category == "Commit"].groupby("owner_id")["amount"].sum(),
            "best_case": open_[category == "Best Case"].groupby("owner_id")["amount"].sum(),
            "pipeline": open_[category == "Pipeline"].groupby("owner_id")["amount"].sum(),
            "omitted": open_[~category.isin(["Commit", "Best Case", "Pipeline"])].groupby("owner_id")["amount"].sum(),
            "open_pipeline": open_.groupby("owner_id")["amount"].sum(),
            "weighted": open_.groupby("owner_id")["weighted"].sum(),
            "quota": quotas.groupby("person_id")["amount"].sum(),
        },
        columns=AMOUNT_COLUMNS,
    ).fillna(0.0)


def oracle_rollup(frames, period: Period, scope: Scope, teams: frozenset[int] = frozenset()) -> pd.DataFrame:
    """Rows: people in view owning anything or reps in view, plus their managers within the scope; each
    row sums its whole subtree (people in view only); reps counts the reps in view in the subtree."""
    people = frames["person"]
    visible = scope_ids(people, scope)
    in_view = visible & ({int(i) for i in people.loc[people["team_id"].isin(teams), "id"]} if teams else visible)
    amounts = person_amounts(frames, period, in_view)
    manager_of = {int(i): (None if pd.isna(m) else int(m)) for i, m in zip(people["id"], people["manager_id"], strict=True)}
    name_of = dict(zip(people["id"].astype(int), people["name"], strict=True))
    role_of = dict(zip(people["id"].astype(int), people["role"], strict=True))
    reps_in_view = {i for i in in_view if role_of[i] == "rep"}
    nodes: set[int] = set()
    for seller in reps_in_view | {int(i) for i in amounts.index}:
        walk: int | None = seller
        while walk is not None and walk not in nodes:
            if walk in visible:
                nodes.add(walk)
            walk = manager_of[walk]
    shown_manager = {n: (manager_of[n] if manager_of[n] in nodes else None) for n in nodes}
    order: list[tuple[int, int]] = []

    def visit(node: int, depth: int) -> None:
        order.append((node, depth))
        for child in sorted((c for c in nodes if shown_manager[c] == node), key=lambda c: name_of[c]):
            visit(child, depth + 1)

    for root in sorted((n for n in nodes if shown_manager[n] is None), key=lambda c: name_of[c]):
        visit(root, 0)
    rows = []
    for node, depth in order:
        below = subtree_of(people, node)
        sums = amounts[amounts.index.isin(below)].sum()
        row = {
            "person_id": node,
            "name": name_of[node],
            "role": role_of[node],
            "manager_id": shown_manager[node],
            "depth": depth,
            "direct_reports": sum(shown_manager[c] == node for c in nodes),
            "reps": len(below & reps_in_view),
            **{c: float(sums[c]) for c in AMOUNT_COLUMNS},
        }
        row["call"] = row["closed"] + row["commit"]
        row["upside"] = row["call"] + row["best_case"]
        row["call_vs_quota"] = row["call"] / row["quota"] if row["quota"] > 0 else math.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=list(forecast.ROLLUP_COLUMNS))


def assert_rollup_matches(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(forecast.ROLLUP_COLUMNS)
    assert list(got["person_id"]) == list(want["person_id"])
    for column in ("name", "role", "depth", "direct_reports", "reps"):
        assert list(got[column]) == list(want[column]), column
    assert int_or_none(got["manager_id"]) == int_or_none(want["manager_id"])
    for column in (*AMOUNT_COLUMNS, "call", "upside", "call_vs_quota"):
        assert list(got[column]) == pytest.approx(list(want[column]), rel=1e-9, abs=1e-6, nan_ok=True), column


# --------------------------------------------------------------------------------------------- forecast on the demo


@pytest.mark.parametrize(
    ("scope", "teams"),
    [
        (Scope.everyone(), frozenset()),
        (Scope.subtree(TEAM1_MANAGER), frozenset()),
        (Scope.subtree(4), frozenset()),
        (Scope.everyone(), frozenset({1})),
        (Scope.only(9), frozenset()),
    ],
    ids=["everyone", "team1-manager", "second-line-manager", "team-filter", "one-rep"],
)
@pytest.mark.parametrize("period", [Q3, Q4], ids=["Q3", "Q4"])
def test_rollup_matches_the_pandas_oracle(demo_engine, demo_frames, scope, teams, period):
    got = forecast.rollup(demo_engine, Filters(period, teams=teams), scope, AS_OF)
    want = oracle_rollup(demo_frames, period, scope, teams)
    assert_rollup_matches(got, want)
    assert set(got["person_id"]) <= scope_ids(demo_frames["person"], scope)


def test_rollup_manager_rows_are_their_subtree_sums_on_the_demo(demo_engine):
    tree = forecast.rollup(demo_engine, Filters(Q4), Scope.everyone(), AS_OF).set_index("person_id")
    for manager in (2, 3, 4, 5, 6, TEAM1_MANAGER, TEAM2_MANAGER):
        kids = forecast.children(tree.reset_index(), manager)["person_id"]
        # No manager owns deals or quota in the demo: a manager's row is the sum of their direct reports' rows.
        assert list(tree.loc[manager, AMOUNT_COLUMNS]) == pytest.approx(list(tree.loc[list(kids), AMOUNT_COLUMNS].sum()))
    assert list(forecast.children(tree.reset_index(), None)["person_id"]) == [2]
    assert tree.loc[2, "reps"] == 12 and tree.loc[TEAM1_MANAGER, "reps"] == 6


def test_rollup_with_a_team_filter_counts_only_reps_in_view(demo_engine, demo_frames):
    tree = forecast.rollup(demo_engine, Filters(Q4, teams=frozenset({1})), Scope.everyone(), AS_OF).set_index("person_id")
    assert set(tree.index) == {2, 3, 5, TEAM1_MANAGER, *TEAM1_REPS}
    assert tree.loc[2, "reps"] == 6  # the leader's row covers team 1 only: its numbers and its rep count
    assert tree.loc[2, "closed"] == pytest.approx(tree.loc[TEAM1_MANAGER, "closed"])


def submissions_oracle(engine, frames, quarter: Period, as_of: date, view: set[int]) -> pd.DataFrame:
    subs = read_frame(engine, sa.select(schema.forecast_submission))
    subs = subs[
        (pd.to_datetime(subs["period_start"]) == pd.Timestamp(quarter.start))
        & (pd.to_datetime(subs["period_end"]) == pd.Timestamp(quarter.end))
        & (pd.to_datetime(subs["submitted_at"]) < pd.Timestamp(as_of + timedelta(days=1)))
        & subs["person_id"].isin(view)
    ]
    latest = subs.sort_values(["submitted_at", "id"]).groupby("person_id").tail(1)
    people = frames["person"].set_index("id")
    latest = latest.assign(
        name=latest["person_id"].map(people["name"]), reports_to=latest["person_id"].map(people["manager_id"]).map(people["name"])
    )
    return latest.sort_values("name").reset_index(drop=True)


@pytest.mark.parametrize("as_of", [AS_OF, date(2026, 11, 19), date(2026, 11, 18)])
@pytest.mark.parametrize("scope", [Scope.everyone(), Scope.subtree(TEAM2_MANAGER)], ids=["everyone", "team2"])
def test_latest_submissions_match_the_oracle(demo_engine, demo_frames, as_of, scope):
    quarter = forecast.submission_quarter(Q4, as_of)
    assert quarter == Q4
    got = forecast.latest_submissions(demo_engine, Filters(Q4), scope, quarter, as_of)
    want = submissions_oracle(demo_engine, demo_frames, quarter, as_of, scope_ids(demo_frames["person"], scope))
    assert len(want) > 0
    assert list(got["person_id"]) == list(want["person_id"])
    assert list(got["name"]) == list(want["name"])
    assert list(got["reports_to"]) == list(want["reports_to"])
    assert list(pd.to_datetime(got["submitted_at"])) == list(pd.to_datetime(want["submitted_at"]))
    assert list(got["submitted_commit"]) == list(want["commit_amount"])
    assert list(got["submitted_best_case"]) == list(want["best_case_amount"])
    assert list(got["is_override"]) == list(want["is_override"])
    # Weekly submissions at 09:00: Nov 19 is the last made by Nov 19 (and Nov 23), Nov 12 the last by Nov 18.
    last = datetime(2026, 11, 12, 9) if as_of == date(2026, 11, 18) else datetime(2026, 11, 19, 9)
    assert set(pd.to_datetime(got["submitted_at"])) == {pd.Timestamp(last)}


def test_compare_submissions_on_the_demo(demo_engine, demo_frames):
    scope = Scope.subtree(TEAM1_MANAGER)
    subs = forecast.latest_submissions(demo_engine, Filters(Q4), scope, Q4, AS_OF)
    system = forecast.rollup(demo_engine, Filters(Q4), scope, AS_OF)
    got = forecast.compare_submissions(subs, system)
    want = oracle_rollup(demo_frames, Q4, scope).set_index("person_id")
    assert list(got["person_id"]) == [
        TEAM1_MANAGER,
        *sorted(TEAM1_REPS, key=lambda i: demo_frames["person"].set_index("id").loc[i, "name"]),
    ]
    call = got["person_id"].map(want["call"])
    assert list(got["system_call"]) == pytest.approx(list(call))
    assert list(got["system_upside"]) == pytest.approx(list(got["person_id"].map(want["upside"])))
    assert list(got["difference"]) == pytest.approx(list(got["submitted_commit"] - call))
    assert list(got["kind"]) == ["Manager override"] + ["Own forecast"] * 6


# --------------------------------------------------------------------------------------------- statistical forecast oracle

EDGES = (15, 30, 60, 120, 240)


def bucket(days: float) -> int:
    return -1 if pd.isna(days) else sum(days >= e for e in EDGES)


def shrink(won: float, deals: float, prior: float, weight: float = forecast.PRIOR_WEIGHT) -> float:
    return (won + weight * prior) / (deals + weight)


def oracle_statistical(engine, frames, period: Period, as_of: date, view: set[int], lookback: int = 8) -> dict:
    hist = read_frame(engine, sa.select(schema.opportunity_history))
    deals = frames["opportunity"][frames["opportunity"]["owner_id"].isin(view)].set_index("id")
    won_deals = deals[deals["is_won"].astype(bool)]
    bookings = float(won_deals.loc[between(won_deals["close_date"], period), "amount"].sum())
    horizon = (period.end - as_of).days
    first = pd.to_datetime(hist["changed_at"]).min().date()
    periods, candidate = [], period.previous()
    while len(periods) < lookback:
        if candidate.end < as_of:
            periods.append(candidate)
        candidate = candidate.previous()
    periods = [p for p in periods if p.end - timedelta(days=horizon) >= first]
    history_cells: dict[tuple[str, int], list[int]] = {}
    other = []
    changed, valid_to = pd.to_datetime(hist["changed_at"]), pd.to_datetime(hist["valid_to"])
    for p in periods:
        t = pd.Timestamp(p.end - timedelta(days=horizon))
        state = hist[
            (changed <= t)
            & (valid_to.isna() | (valid_to > t))
            & ~hist["is_closed"].astype(bool)
            & between(hist["close_date"], p)
            & hist["opportunity_id"].isin(deals.index)
        ]
        cohort_won = 0.0
        for _, row in state.iterrows():
            d = deals.loc[row["opportunity_id"]]
            age = (t - pd.Timestamp(d["created_date"])).days if pd.notna(d["created_date"]) else math.nan
            closed = pd.Timestamp(d["close_date"])
            is_won = bool(d["is_won"]) and closed > t and p.contains(closed.date())
            cell = history_cells.setdefault((row["stage"], bucket(age)), [0, 0])
            cell[0] += 1
            cell[1] += int(is_won)
            cohort_won += float(d["amount"]) if is_won else 0.0
        closes = pd.to_datetime(won_deals["close_date"])
        won_after = float(won_deals.loc[between(won_deals["close_date"], p) & (closes > t), "amount"].sum())
        other.append(max(0.0, won_after - cohort_won))
    priors = {
        n: p / 100
        for n, p, c in zip(frames["stage"]["name"], frames["stage"]["probability"], frames["stage"]["is_closed"], strict=True)
        if not c
    }
    open_now = deals[~deals["is_closed"].astype(bool) & between(deals["close_date"], period)]
    ages = [(pd.Timestamp(as_of) - pd.Timestamp(c)).days if pd.notna(c) else math.nan for c in open_now["created_date"]]
    open_now = open_now.assign(bucket=[bucket(a) for a in ages])
    total_deals = sum(c[0] for c in history_cells.values())
    overall = sum(c[1] for c in history_cells.values()) / total_deals if total_deals else 0.0
    keys = sorted(set(history_cells) | set(zip(open_now["stage"], open_now["bucket"], strict=True)))
    cells, open_expected, variance = [], 0.0, 0.0
    for stage_name, b in keys:
        prior = priors.get(stage_name, overall)
        stage_deals = sum(c[0] for (s, _), c in history_cells.items() if s == stage_name)
        stage_won = sum(c[1] for (s, _), c in history_cells.items() if s == stage_name)
        rate = shrink(stage_won, stage_deals, prior) if stage_deals else prior
        deals_in_cell, won_in_cell = history_cells.get((stage_name, b), (0, 0))
        p = shrink(won_in_cell, deals_in_cell, rate) if (stage_name, b) in history_cells else rate
        amounts = open_now.loc[(open_now["stage"] == stage_name) & (open_now["bucket"] == b), "amount"].astype(float)
        open_expected += p * amounts.sum()
        variance += p * (1 - p) * float((amounts**2).sum())
        cells.append((stage_name, b, deals_in_cell, won_in_cell, p, len(amounts), float(amounts.sum())))
    other_mean = sum(other) / len(other) if other else 0.0
    if len(other) > 1:
        variance += float(pd.Series(other).var(ddof=1))
    std = math.sqrt(variance)
    expected = bookings + open_expected + other_mean
    low_z, high_z = NormalDist().inv_cdf(0.1), NormalDist().inv_cdf(0.9)
    return {
        "bookings": bookings,
        "open_expected": open_expected,
        "other_expected": other_mean,
        "expected": expected,
        "std": std,
        "low": max(bookings, expected + low_z * std),
        "high": expected + high_z * std,
        "periods": tuple(periods),
        "cells": cells,
        "remaining_days": horizon,
    }


def assert_statistical_matches(got: forecast.StatisticalForecast, want: dict) -> None:
    for name in ("bookings", "open_expected", "other_expected", "expected", "std", "low", "high"):
        assert getattr(got, name) == pytest.approx(want[name], rel=1e-9, abs=1e-6), name
    assert got.periods == want["periods"]
    assert got.remaining_days == want["remaining_days"]
    cells = got.cells
    assert list(cells.columns) == list(forecast.CELL_COLUMNS)
    rows = list(
        zip(
            cells["stage"],
            cells["age_bucket"].astype(int),
            cells["history_deals"].astype(int),
            cells["history_won"].astype(int),
            strict=True,
        )
    )
    assert rows == [c[:4] for c in want["cells"]]
    assert list(cells["p"]) == pytest.approx([c[4] for c in want["cells"]], rel=1e-12)
    assert list(cells["open_deals"].astype(int)) == [c[5] for c in want["cells"]]
    assert list(cells["open_amount"]) == pytest.approx([c[6] for c in want["cells"]])
    assert got.low <= got.expected <= got.high
    assert got.expected == pytest.approx(got.bookings + got.open_expected + got.other_expected, rel=1e-12)


@pytest.mark.parametrize(
    ("period", "scope"),
    [
        (Q4, Scope.everyone()),
        (Q4, Scope.subtree(TEAM1_MANAGER)),
        (Period.month(AS_OF), Scope.everyone()),
        (Period.year(AS_OF), Scope.subtree(TEAM2_MANAGER)),
    ],
    ids=["Q4", "Q4-team1", "November", "2026-team2"],
)
def test_statistical_forecast_matches_the_oracle(demo_engine, demo_frames, period, scope):
    got = forecast.statistical_forecast(demo_engine, Filters(period), scope, AS_OF)
    want = oracle_statistical(demo_engine, demo_frames, period, AS_OF, scope_ids(demo_frames["person"], scope))
    assert len(want["periods"]) > 0 and want["other_expected"] > 0
    assert_statistical_matches(got, want)
    assert not got.is_final


def test_statistical_forecast_of_a_finished_period_has_no_range(demo_engine, demo_frames):
    got = forecast.statistical_forecast(demo_engine, Filters(Q3), Scope.everyone(), AS_OF)
    bookings = person_amounts(demo_frames, Q3, scope_ids(demo_frames["person"], Scope.everyone()))["closed"].sum()
    assert got.is_final and got.remaining_days == 0
    assert (got.low, got.expected, got.high, got.std) == pytest.approx((bookings, bookings, bookings, 0.0))
    assert got.open_expected == 0 and got.other_expected == 0 and got.periods == () and got.cells.empty


def accuracy_oracle(engine, frames, period: Period, view: set[int], week: int, as_of: date, count: int = 8) -> pd.DataFrame:
    hist = read_frame(engine, sa.select(schema.opportunity_history))
    hist = hist[hist["opportunity_id"].isin(frames["opportunity"].loc[frames["opportunity"]["owner_id"].isin(view), "id"])]
    deals = frames["opportunity"][frames["opportunity"]["owner_id"].isin(view)]
    periods, candidate = [], period.previous()
    while len(periods) < count:
        if candidate.end < as_of:
            periods.append(candidate)
        candidate = candidate.previous()
    rows = []
    for p in reversed(periods):
        day = min(p.start + timedelta(days=7 * week), p.end)
        ts = pd.Timestamp(day)
        state = hist[
            (pd.to_datetime(hist["changed_at"]) <= ts)
            & (hist["valid_to"].isna() | (pd.to_datetime(hist["valid_to"]) > ts))
            & between(hist["close_date"], p)
        ]
        counted = state["is_won"].astype(bool) | (~state["is_closed"].astype(bool) & (state["forecast_category"] == "Commit"))
        f = float(state.loc[counted, "amount"].sum())
        a = float(deals.loc[deals["is_won"].astype(bool) & between(deals["close_date"], p), "amount"].sum())
        if f or a:
            rows.append((p.start, day, f, a, 1 - abs(f - a) / a if a else None))
    return pd.DataFrame(rows, columns=["period_start", "snapshot_date", "forecast", "actual", "accuracy"])


@pytest.mark.parametrize("scope", [Scope.everyone(), Scope.subtree(TEAM1_MANAGER)], ids=["everyone", "team1"])
@pytest.mark.parametrize("week", [0, 7, 12])
def test_accuracy_matches_the_oracle(demo_engine, demo_frames, scope, week):
    got = forecast.accuracy(demo_engine, Filters(Q4), scope, week, AS_OF)
    want = accuracy_oracle(demo_engine, demo_frames, Q4, scope_ids(demo_frames["person"], scope), week, AS_OF)
    assert len(want) == 8
    assert list(pd.to_datetime(got["period_start"])) == list(pd.to_datetime(want["period_start"]))
    assert list(pd.to_datetime(got["snapshot_date"])) == list(pd.to_datetime(want["snapshot_date"]))
    assert list(got["forecast"]) == pytest.approx(list(want["forecast"]))
    assert list(got["actual"]) == pytest.approx(list(want["actual"]))
    assert list(got["accuracy"]) == pytest.approx(list(want["accuracy"]), rel=1e-9)
    assert got["complete"].all()


def test_current_week_and_weeks_in():
    assert forecast.weeks_in(Q4) == 14  # 92 days
    assert forecast.current_week(Q4, AS_OF) == 7  # 53 days in
    assert forecast.current_week(Q4, date(2026, 9, 1)) == 0
    assert forecast.current_week(Q4, date(2027, 3, 1)) == 13


# --------------------------------------------------------------------------------------------- forecast on tiny warehouses

HAS_HISTORY = [{"key": "has_history", "value": "true"}]


def forecast_deals_q2() -> list[dict]:
    return [
        won(1, RITA, 1000, date(2026, 4, 10)),
        won(2, RITA, 7777, date(2026, 3, 31)),  # the second is Q1
        deal(3, RITA, 500, "Proposal", date(2026, 6, 1), category="Commit"),
        deal(4, RITA, 300, "Discovery", date(2026, 6, 2), category="Best Case"),
        deal(5, RITA, 200, "Prospecting", date(2026, 6, 3), category="Pipeline"),
        deal(6, RITA, 50, "Qualification", date(2026, 6, 4), category="Omitted"),
        won(7, ROB, 2000, date(2026, 5, 1)),
        deal(8, ROB, 100, "Negotiation", date(2026, 6, 30), category="Commit"),
        won(9, MANAGER, 400, date(2026, 4, 2)),
        deal(10, SAM, 700, "Proposal", date(2026, 6, 15), category="Best Case"),
        deal(11, SAM, 99, "Proposal", date(2026, 7, 1), category="Commit"),  # Q3
    ]


FORECAST_QUOTAS = [
    quota(1, RITA, date(2026, 4, 1), 1000),
    quota(2, RITA, date(2026, 5, 1), 2000),
    quota(3, ROB, date(2026, 6, 1), 1000),
    quota(4, SAM, date(2026, 4, 1), 2000),
    quota(5, SAM, date(2026, 7, 1), 5000),
]


def test_rollup_by_hand(tiny_engine):
    engine = warehouse(tiny_engine, opportunity=forecast_deals_q2(), quota=FORECAST_QUOTAS)
    tree = forecast.rollup(engine, Filters(Q2), Scope.everyone(), AFTER_Q2)
    by_id = tree.set_index("person_id")
    cols = ["closed", "commit", "best_case", "pipeline", "omitted", "open_pipeline", "weighted", "quota", "call", "upside"]
    # Rita: won 1000; open Commit 500 (Proposal 60 %), Best Case 300 (Discovery 30 %), Pipeline 200 (Prospecting 10 %),
    # Omitted 50 (Qualification 20 %): weighted 300 + 90 + 20 + 10 = 420; quota 1000 + 2000.
    assert list(by_id.loc[RITA, cols]) == pytest.approx([1000, 500, 300, 200, 50, 1050, 420, 3000, 1500, 1800])
    assert list(by_id.loc[ROB, cols]) == pytest.approx([2000, 100, 0, 0, 0, 100, 80, 1000, 2100, 2100])
    assert list(by_id.loc[SAM, cols]) == pytest.approx([0, 0, 700, 0, 0, 700, 420, 2000, 0, 700])
    # Manny's own 400 plus his reps; Vic and Dora above him carry the same subtree.
    team_one = [3400, 600, 300, 200, 50, 1150, 500, 4000, 4000, 4300]
    for manager in (MANAGER, DIRECTOR, VP):
        assert list(by_id.loc[manager, cols]) == pytest.approx(team_one)
    assert list(by_id.loc[OLGA, cols]) == pytest.approx([0, 0, 700, 0, 0, 700, 420, 2000, 0, 700])
    assert list(by_id.loc[LEADER, cols]) == pytest.approx([3400, 600, 1000, 200, 50, 1850, 920, 6000, 4000, 5000])
    assert by_id.loc[LEADER, "call_vs_quota"] == pytest.approx(4000 / 6000)
    assert math.isnan(by_id.loc[AMY, "call_vs_quota"])  # no quota
    assert by_id.loc[MANAGER, "call_vs_quota"] == 1.0
    assert [int(by_id.loc[i, "reps"]) for i in (LEADER, VP, MANAGER, OLGA, RITA)] == [6, 3, 3, 3, 1]
    assert [int(by_id.loc[i, "direct_reports"]) for i in (LEADER, VP, DIRECTOR, MANAGER, OLGA)] == [2, 1, 1, 3, 3]
    order = [i for i in tree["person_id"] if i != AMY]
    assert order == [LEADER, OLGA, NAT, SAM, ZED, VP, DIRECTOR, MANAGER, RITA, ROB]
    assert [int(by_id.loc[i, "depth"]) for i in order] == [0, 1, 2, 2, 2, 1, 2, 3, 4, 4]
    assert list(forecast.children(tree, OLGA)["person_id"]) == [NAT, SAM, ZED]
    assert list(forecast.children(tree, None)["person_id"]) == [LEADER]


def test_rollup_in_a_scope_and_with_a_team_filter_by_hand(tiny_engine):
    engine = warehouse(tiny_engine, opportunity=forecast_deals_q2(), quota=FORECAST_QUOTAS)
    scoped = forecast.rollup(engine, Filters(Q2), Scope.subtree(MANAGER), AFTER_Q2)
    assert set(scoped["person_id"]) == {MANAGER, RITA, ROB, AMY}  # nobody outside Manny's subtree
    root = scoped[scoped["person_id"] == MANAGER].iloc[0]
    assert pd.isna(root["manager_id"]) and root["depth"] == 0 and root["reps"] == 3
    assert (root["closed"], root["call"], root["upside"]) == (3400, 4000, 4300)
    team_two = forecast.rollup(engine, Filters(Q2, teams=frozenset({2})), Scope.everyone(), AFTER_Q2).set_index("person_id")
    assert set(team_two.index) == {LEADER, OLGA, SAM, ZED, NAT}
    assert (team_two.loc[LEADER, "best_case"], team_two.loc[LEADER, "closed"], team_two.loc[LEADER, "reps"]) == (700, 0, 3)
    assert forecast.rollup(engine, Filters(Q2), Scope.nobody(), AFTER_Q2).empty


def test_category_deals_by_hand(tiny_engine):
    engine = warehouse(tiny_engine, opportunity=forecast_deals_q2())
    closed = forecast.category_deals(engine, Filters(Q2), Scope.everyone(), "Closed", root_id=VP)
    assert list(closed["id"]) == [7, 1, 9]  # Rob 2000, Rita 1000, Manny 400: largest first
    assert list(forecast.category_deals(engine, Filters(Q2), Scope.everyone(), "Best Case")["id"]) == [10, 4]
    assert list(forecast.category_deals(engine, Filters(Q2), Scope.subtree(OLGA), "Commit")["id"]) == []
    assert list(forecast.category_deals(engine, Filters(Q2), Scope.everyone(), "Pipeline")["id"]) == [5]
    with pytest.raises(ValueError, match="category"):
        forecast.category_deals(engine, Filters(Q2), Scope.everyone(), "Omitted")


def submission(
    sid: int, who: int, quarter: Period, at: datetime, commit: float, best: float, *, override=False, note=None
) -> dict:
    return {
        "id": sid,
        "person_id": who,
        "period_start": quarter.start,
        "period_end": quarter.end,
        "submitted_at": at,
        "commit_amount": float(commit),
        "best_case_amount": float(best),
        "note": note,
        "is_override": override,
    }


def test_latest_and_compare_submissions_by_hand(tiny_engine):
    q3 = Period(date(2026, 7, 1), date(2026, 9, 30))
    engine = warehouse(
        tiny_engine,
        opportunity=forecast_deals_q2(),
        quota=FORECAST_QUOTAS,
        forecast_submission=[
            submission(1, RITA, Q2, datetime(2026, 4, 1, 9), 100, 150),
            submission(2, RITA, Q2, datetime(2026, 5, 1, 9), 200, 250),
            submission(3, RITA, Q2, datetime(2026, 7, 16, 0), 999, 999),  # after as_of (Jul 15)
            submission(4, RITA, q3, datetime(2026, 7, 2, 9), 5, 5),  # another quarter
            submission(5, ROB, Q2, datetime(2026, 5, 2, 10), 1, 1),
            submission(6, ROB, Q2, datetime(2026, 5, 2, 10), 300, 400),  # same time: the later id wins
            submission(7, MANAGER, Q2, datetime(2026, 6, 30, 17), 3500, 4000, override=True, note="judgement"),
            submission(8, SAM, Q2, datetime(2026, 7, 15, 23, 59), 50, 60),  # on as_of itself
        ],
    )
    assert forecast.submission_quarter(Q2, AFTER_Q2) == Q2
    assert forecast.submission_quarter(Period.year(AFTER_Q2), AFTER_Q2) == q3
    subs = forecast.latest_submissions(engine, Filters(Q2), Scope.everyone(), Q2, AFTER_Q2)
    assert list(subs["person_id"]) == [MANAGER, RITA, ROB, SAM]  # by name
    assert list(subs["submitted_commit"]) == [3500, 200, 300, 50]
    assert list(subs["submitted_best_case"]) == [4000, 250, 400, 60]
    assert list(subs["reports_to"]) == ["Dora Director", "Manny Manager", "Manny Manager", "Olga Other"]
    assert list(subs["is_override"]) == [True, False, False, False]
    assert subs["note"].iloc[0] == "judgement"
    scoped = forecast.latest_submissions(engine, Filters(Q2), Scope.subtree(MANAGER), Q2, AFTER_Q2)
    assert list(scoped["person_id"]) == [MANAGER, RITA, ROB]
    assert list(forecast.latest_submissions(engine, Filters(Q2), Scope.everyone(), Q2, date(2026, 4, 30))["person_id"]) == [RITA]

    system = forecast.rollup(engine, Filters(Q2), Scope.everyone(), AFTER_Q2)
    got = forecast.compare_submissions(subs, system)
    # Sorted by depth (Sam 2, Manny 3, Rita and Rob 4) then name; a commit compares with closed + commit.
    assert list(got["person_id"]) == [SAM, MANAGER, RITA, ROB]
    assert list(got["system_call"]) == [0, 4000, 1500, 2100]
    assert list(got["system_upside"]) == [700, 4300, 1800, 2100]
    assert list(got["difference"]) == [50, 3500 - 4000, 200 - 1500, 300 - 2100]
    assert list(got["kind"]) == ["Own forecast", "Manager override", "Own forecast", "Own forecast"]


def history_rows(first_id: int, opportunity_id: int, states: list[tuple]) -> list[dict]:
    """History of one deal from its states (changed_at, stage, amount, close_date, forecast_category), each
    valid until the next one."""
    rows = []
    for i, (changed, stage_name, amount, close, category) in enumerate(states):
        s = STAGES[stage_name]
        rows.append(
            {
                "id": first_id + i,
                "opportunity_id": opportunity_id,
                "changed_at": changed,
                "valid_to": states[i + 1][0] if i + 1 < len(states) else None,
                "stage": stage_name,
                "amount": float(amount),
                "close_date": close,
                "probability": s.probability,
                "forecast_category": category,
                "is_closed": s.is_closed,
                "is_won": s.is_won,
            }
        )
    return rows


# Q1 2026 seen on Mar 1 (30 days left); the comparable point of Q4 2025 is Dec 1 2025.
MAR_1 = date(2026, 3, 1)
STAT_DEALS = [
    won(1, RITA, 1000, date(2025, 12, 10), created=date(2025, 11, 20)),  # A: open at Dec 1 (Proposal), then won
    deal(2, ROB, 800, "Closed Lost", date(2025, 12, 15), created=date(2025, 11, 20)),  # B: open at Dec 1, then lost
    won(3, RITA, 500, date(2025, 12, 20), created=date(2025, 12, 5)),  # C: created after Dec 1 and won: "other"
    won(4, SAM, 400, date(2025, 11, 25), created=date(2025, 11, 1)),  # D: won before Dec 1
    deal(5, RITA, 2000, "Proposal", date(2026, 3, 20), created=date(2026, 2, 20)),  # E: open now, 9 days old
    won(6, ROB, 300, date(2026, 1, 10), created=date(2026, 1, 2)),  # F: booked in Q1
]
STAT_HISTORY = [
    *history_rows(
        1,
        1,
        [
            (date(2025, 11, 20), "Proposal", 1000, date(2025, 12, 20), "Commit"),
            (date(2025, 12, 10), "Closed Won", 1000, date(2025, 12, 10), "Closed"),
        ],
    ),
    *history_rows(
        3,
        2,
        [
            (date(2025, 11, 20), "Proposal", 800, date(2025, 12, 28), "Best Case"),
            (date(2025, 12, 15), "Closed Lost", 800, date(2025, 12, 15), "Omitted"),
        ],
    ),
    *history_rows(
        5,
        3,
        [
            (date(2025, 12, 5), "Negotiation", 500, date(2025, 12, 20), "Commit"),
            (date(2025, 12, 20), "Closed Won", 500, date(2025, 12, 20), "Closed"),
        ],
    ),
    *history_rows(
        7,
        4,
        [
            (date(2025, 11, 1), "Negotiation", 400, date(2025, 11, 25), "Commit"),
            (date(2025, 11, 25), "Closed Won", 400, date(2025, 11, 25), "Closed"),
        ],
    ),
    *history_rows(9, 5, [(date(2026, 2, 20), "Proposal", 2000, date(2026, 3, 20), "Best Case")]),
    *history_rows(
        10,
        6,
        [
            (date(2026, 1, 2), "Qualification", 300, date(2026, 1, 20), "Pipeline"),
            (date(2026, 1, 10), "Closed Won", 300, date(2026, 1, 10), "Closed"),
        ],
    ),
]


def test_statistical_forecast_by_hand(tiny_engine):
    engine = warehouse(tiny_engine, opportunity=STAT_DEALS, opportunity_history=STAT_HISTORY, warehouse_info=HAS_HISTORY)
    got = forecast.statistical_forecast(engine, Filters(Q1), Scope.everyone(), MAR_1, lookback=1)
    q4_2025 = Period(date(2025, 10, 1), date(2025, 12, 31))
    assert got.periods == (q4_2025,) and got.remaining_days == 30
    # At Dec 1: A and B open in Proposal, 11 days old (bucket 0), one won. Stage rate (1 + 5 x 0.6) / (2 + 5) = 4/7,
    # cell rate (1 + 5 x 4/7) / 7 = 27/49. Won in Q4 after Dec 1: A 1000 + C 500; outside the cohort: 500.
    p = 27 / 49
    assert list(got.cells["stage"]) == ["Proposal"] and list(got.cells["age_bucket"]) == [0]
    assert (got.cells["history_deals"].iloc[0], got.cells["history_won"].iloc[0]) == (2, 1)
    assert (got.cells["open_deals"].iloc[0], got.cells["open_amount"].iloc[0]) == (1, 2000)
    assert got.cells["p"].iloc[0] == pytest.approx(p, rel=1e-12)
    assert got.bookings == 300 and got.other_expected == 500
    assert got.open_expected == pytest.approx(2000 * p)
    assert got.expected == pytest.approx(300 + 2000 * p + 500)
    std = 2000 * math.sqrt(p * (1 - p))
    assert got.std == pytest.approx(std)
    assert got.low == pytest.approx(max(300, got.expected + NormalDist().inv_cdf(0.1) * std))
    assert got.high == pytest.approx(got.expected + NormalDist().inv_cdf(0.9) * std)
    assert got.low <= got.expected <= got.high
    # Sam's subtree: nothing open, nothing booked, nothing won after Dec 1 -> all zero.
    sam = forecast.statistical_forecast(engine, Filters(Q1), Scope.subtree(OLGA), MAR_1, lookback=1)
    assert (sam.bookings, sam.expected, sam.low, sam.high, sam.std) == (0, 0, 0, 0, 0)
    deals = forecast.forecast_deals(engine, Filters(Q1), Scope.everyone(), MAR_1, got.cells)
    assert list(deals["id"]) == [5]
    assert deals["expected_amount"].iloc[0] == pytest.approx(2000 * p)


def test_statistical_forecast_without_comparable_history_falls_back_to_stage_probabilities(tiny_engine):
    # History starts Jan 2 2026, after Q4 2025's comparable point (Dec 1): no past period, p = Proposal's 60 %.
    engine = warehouse(tiny_engine, opportunity=STAT_DEALS[4:], opportunity_history=STAT_HISTORY[-3:], warehouse_info=HAS_HISTORY)
    got = forecast.statistical_forecast(engine, Filters(Q1), Scope.everyone(), MAR_1, lookback=1)
    assert got.periods == () and got.other_expected == 0
    assert got.expected == pytest.approx(300 + 0.6 * 2000)
    assert got.std == pytest.approx(2000 * math.sqrt(0.6 * 0.4))


def test_statistical_forecast_of_the_final_day_and_after_has_zero_range(tiny_engine):
    engine = warehouse(tiny_engine, opportunity=STAT_DEALS, opportunity_history=STAT_HISTORY, warehouse_info=HAS_HISTORY)
    for today in (Q1.end, date(2026, 6, 1)):
        got = forecast.statistical_forecast(engine, Filters(Q1), Scope.everyone(), today)
        assert got.is_final
        assert (got.bookings, got.low, got.expected, got.high, got.std) == (300, 300, 300, 300, 0)


def test_forecast_views_need_history(tiny_engine):
    engine = warehouse(tiny_engine, opportunity=STAT_DEALS)
    with pytest.raises(NeedsHistory):
        forecast.statistical_forecast(engine, Filters(Q1), Scope.everyone(), MAR_1)
    with pytest.raises(NeedsHistory):
        forecast.accuracy(engine, Filters(Q1), Scope.everyone(), 3, MAR_1)


def test_accuracy_by_hand(tiny_engine):
    engine = warehouse(tiny_engine, opportunity=STAT_DEALS, opportunity_history=STAT_HISTORY, warehouse_info=HAS_HISTORY)
    got = forecast.accuracy(engine, Filters(Q1), Scope.everyone(), 9, MAR_1, count=2)
    # Q3 2025 had neither forecast nor bookings: left out. Q4 2025 at week 9 (Dec 3): D won 400 + A in Commit
    # 1000 = 1400; B (Best Case) and C (not yet created) are not in the call. Actual: A + C + D = 1900.
    assert list(got["period_start"].astype(str)) == ["2025-10-01"]
    assert list(got["snapshot_date"].astype(str)) == ["2025-12-03"]
    assert (got["forecast"].iloc[0], got["actual"].iloc[0]) == (1400, 1900)
    assert got["accuracy"].iloc[0] == pytest.approx(1 - 500 / 1900)
    scoped = forecast.accuracy(engine, Filters(Q1), Scope.only(SAM), 9, MAR_1, count=2)
    assert (scoped["forecast"].iloc[0], scoped["actual"].iloc[0], scoped["accuracy"].iloc[0]) == (400, 400, 1.0)
