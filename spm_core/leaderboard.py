"""Leaderboards: who ranks where on a KPI, how that moved since the previous period, and badges.

    board(engine, "bookings", filters, scope, level="rep", as_of=today)

The board frame is what a rep may see of their peers, so it carries nothing but the rank, the name,
the metric's value, the rank change and the badges, indexed by the entry's id (person id on individual
boards, team id on team boards; the id is there to find the viewer's own row). Values come from the
metrics layer (metrics.query grouped by rep or team), so a board always agrees with every other view.

Who is on a board (the choice SPEC.md leaves open):
- Individual boards list people with role 'rep' only, in the viewer's scope and passing the people
  filters. A rep is listed when active and hired by the period's end (hire date unknown counts as hired),
  or, whatever those, when the rep has a non-zero value in the period (so a rep who has since left still
  shows for what they sold then). A listed rep with nothing in the period has the value 0 and ranks
  with the others at 0: a rep always finds their own row.
- Team boards list the teams of the reps listed above, plus any team with a non-zero value; a team's
  value is the metrics layer's value grouped by team (everyone in view in that team).
- An entry with no value at all (attainment without a quota: "no quota") is not ranked and not on the
  board; its id is listed in `frame.attrs["unranked"]` so a page can say why someone is missing.

Ranking (SPEC.md): competition ranking ("1224") on the value, highest first, ties listed by name; values
are compared rounded to 6 decimals so that float noise never breaks a tie. Rank change is the rank in the
previous period of the same length (Period.previous(), computed with the same rules) minus the rank now:
+2 means up two places; <NA> when the entry was not ranked then ("new").

What a rep sees of the others (the Audience; PEER_RULE says it in words): leaders, admins and managers
see every value. A rep sees every rank, name, rank change and badge, their own value, and the others'
values only (1) when the admin's peer_visibility is rank_and_metric, (2) on the board of the one metric
the admin chose (peer_metric), so no two metrics of a peer ever combine into a third (bookings /
attainment = quota), and (3) for whole calendar months, so a short window cannot single out one deal; a
minimum length alone would not do: two overlapping ranges a day apart differ by that one day's deals.
On team boards every team, the rep's own included, is a group of others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from . import metrics
from .db import read_frame
from .filters import Filters, Period, Scope
from .kpis import CATALOGUE
from .people import people_in_view
from .schema import opportunity, person, team

if TYPE_CHECKING:
    from .settings import Settings

METRICS: tuple[str, ...] = ("bookings", "attainment", "deals_won", "pipeline_created", "activities")
LEVELS: tuple[str, ...] = ("rep", "team")
# Metrics that have no value (rather than 0) when their denominator is missing: attainment without quota.
UNDEFINED_WHEN_MISSING = frozenset({"attainment"})

HUNDRED_CLUB, BIGGEST_DEAL, FIRST_DEAL = "100 % club", "Biggest deal", "First deal"
BADGES: tuple[str, ...] = (HUNDRED_CLUB, BIGGEST_DEAL, FIRST_DEAL)
BADGE_HELP: dict[str, str] = {
    HUNDRED_CLUB: "Attainment >= 100 % in the period (bookings / quota; needs a quota).",
    BIGGEST_DEAL: "Closed the largest single won deal of the period among everyone on this board "
    "(under the current filters); ties: all of them. On team boards: the team of that deal's owner.",
    FIRST_DEAL: "The rep's first-ever won deal in this warehouse closed in the period (individual boards only; "
    "the product filter does not apply: it is a milestone of the rep, not of a product).",
}
BOARD_COLUMNS: tuple[str, ...] = ("rank", "name", "value", "change", "badges")
PEER_RULE = (
    "What reps see of the others: every rank, name, rank change and badge; a value only on the board of the one "
    "metric an admin allows (Settings), never under 'rank only', and only for whole calendar months (a month, "
    "quarter or year, or a custom range from the 1st to a month's last day), so that no two numbers of a peer "
    "reveal a third (bookings ÷ attainment = quota) and no short range reveals a single deal. Leaders and "
    "managers see every value."
)


@dataclass(frozen=True)
class Audience:
    """Who looks at a board: everyone's values (leaders, admins, managers), or a rep who sees the others'
    values only as peer_values_hidden() allows. own_id: the rep's own row, always shown in full."""

    limited: bool = False
    own_id: int | None = None
    peer_visibility: str = "rank_and_metric"
    peer_metric: str = "bookings"

    @classmethod
    def full(cls) -> Audience:
        return cls()

    @classmethod
    def of(cls, role: str, person_id: int | None, settings: Settings) -> Audience:
        """The audience of a signed-in user: reps are limited by the admin's settings, other roles are not."""
        if role != "rep":
            return cls.full()
        return cls(True, person_id, settings.peer_visibility, settings.peer_metric)


def peer_values_hidden(metric: str, period: Period, audience: Audience) -> str | None:
    """Why this audience may not see the others' values on this board (a sentence), or None when it may."""
    if not audience.limited:
        return None
    if audience.peer_visibility == "rank_only":
        return "Your admin has set leaderboards to show reps the others' ranks, not their numbers."
    if metric != audience.peer_metric:
        allowed = CATALOGUE[audience.peer_metric].label.lower()
        return f"Reps see the others' {allowed} only, so that two numbers never reveal a third (such as a quota)."
    if not period.is_whole_months:
        return "Reps see the others' numbers for whole calendar months only (a shorter range can single out one deal)."
    return None


def _check(metric: str, level: str) -> None:
    if metric not in METRICS:
        raise ValueError(f"Unknown leaderboard metric {metric!r}; expected one of {', '.join(METRICS)}.")
    if level not in LEVELS:
        raise ValueError(f"Unknown leaderboard level {level!r}; expected 'rep' or 'team'.")


def rank_entries(entries: pd.DataFrame) -> pd.DataFrame:
    """Competition ranking ("1224") of entries (id, name, value; no NaN values), highest value first,
    ties listed by name (case-insensitive, then id so the order is total). Adds `rank`, sorts."""
    if entries.empty:
        return entries.assign(rank=pd.Series(dtype="int64"))
    rank = entries["value"].astype("float64").round(6).rank(method="min", ascending=False).astype("int64")
    keyed = entries.assign(rank=rank, _name_key=entries["name"].astype(str).str.casefold())
    return keyed.sort_values(["rank", "_name_key", "id"], kind="stable").drop(columns="_name_key").reset_index(drop=True)


def _roster(engine: Engine | sa.Connection, filters: Filters, scope: Scope) -> pd.DataFrame:
    """Reps in view (scope + people filters): id, name, team_id, active, hire_date."""
    p = person.c
    stmt = sa.select(p.id, p.name, p.team_id, p.active, p.hire_date).where(p.role == "rep")
    people = people_in_view(filters, scope)
    if people is not None:
        stmt = stmt.where(p.id.in_(people))
    return read_frame(engine, stmt)


def _eligible(roster: pd.DataFrame, period: Period) -> pd.Series:
    """Active reps hired by the period's end (an unknown hire date counts as hired)."""
    hired = pd.to_datetime(roster["hire_date"])
    return roster["active"].astype(bool) & (hired.isna() | (hired <= pd.Timestamp(period.end)))


def _entries(
    roster: pd.DataFrame, teams: pd.DataFrame, values: pd.DataFrame, metric: str, level: str, period: Period
) -> pd.DataFrame:
    """The board's population for one period (id, name, value) before ranking; value NaN = no value.

    `values` is metrics.query(..., by=[level]) for the period; `teams` the team table (id, name)."""
    eligible = roster[_eligible(roster, period)]
    key = f"{level}_id"
    got = values.loc[values[key].notna(), [key, metric]].rename(columns={key: "id", metric: "value"})
    got = got.assign(id=got["id"].astype("int64"))
    if level == "rep":
        candidates, listed_ids = roster[["id", "name"]], eligible["id"]
    else:
        candidates, listed_ids = teams[["id", "name"]], eligible["team_id"].dropna()
    frame = candidates.assign(id=candidates["id"].astype("int64")).merge(got, on="id", how="left")
    value = frame["value"].astype("float64")
    if metric not in UNDEFINED_WHEN_MISSING:
        value = value.fillna(0.0)
    keep = frame["id"].isin(listed_ids.astype("int64")) | (value.notna() & (value != 0))
    return frame.assign(value=value).loc[keep, ["id", "name", "value"]].reset_index(drop=True)


def _values(
    engine: Engine | sa.Connection, kpis: list[str], filters: Filters, scope: Scope, level: str, as_of: date | None
) -> pd.DataFrame:
    return metrics.query(engine, kpis, filters, scope, by=[level], as_of=as_of)


def _deal_facts(engine: Engine | sa.Connection, filters: Filters, scope: Scope) -> pd.DataFrame:
    """Per owner in view with a won deal ever: team_id, the date of their first-ever won deal and their
    largest won deal closed in the period (NULL when none). One scan of won deals."""
    o = opportunity.c
    in_period = [o.close_date.between(filters.period.start, filters.period.end)]
    if filters.products:
        in_period.append(o.product_id.in_(sorted(filters.products)))
    stmt = (
        sa.select(
            o.owner_id,
            person.c.team_id,
            sa.func.min(o.close_date).label("first_won"),
            sa.func.max(sa.case((sa.and_(*in_period), o.amount))).label("biggest"),
        )
        .select_from(opportunity.join(person, person.c.id == o.owner_id))
        .where(o.is_won)
        .group_by(o.owner_id, person.c.team_id)
    )
    people = people_in_view(filters, scope)
    if people is not None:
        stmt = stmt.where(o.owner_id.in_(people))
    return read_frame(engine, stmt)


def award_badges(ids: pd.Series, level: str, period: Period, attainment: pd.Series, deal_facts: pd.DataFrame) -> pd.Series:
    """Badges (a tuple of names, in BADGES order) for each board entry id.

    attainment: entry id -> attainment in the period (NaN without quota). deal_facts: _deal_facts rows
    (owner_id, team_id, first_won, biggest). See BADGE_HELP for each badge's definition."""
    entry_ids = set(ids.astype("int64"))
    club = {int(i) for i, v in attainment.items() if pd.notna(v) and v >= 1.0 and int(i) in entry_ids}
    owner_key = "owner_id" if level == "rep" else "team_id"
    facts = deal_facts[deal_facts[owner_key].notna()]
    facts = facts[facts[owner_key].astype("int64").isin(entry_ids)]
    biggest = facts["biggest"].astype("float64")
    top = biggest.max()
    biggest_ids = set(facts.loc[biggest == top, owner_key].astype("int64")) if pd.notna(top) else set()
    first_ids: set[int] = set()
    if level == "rep":
        first = pd.to_datetime(facts["first_won"])
        in_period = (first >= pd.Timestamp(period.start)) & (first <= pd.Timestamp(period.end))
        first_ids = set(facts.loc[in_period, "owner_id"].astype("int64"))
    won = {HUNDRED_CLUB: club, BIGGEST_DEAL: biggest_ids, FIRST_DEAL: first_ids}
    return pd.Series([tuple(b for b in BADGES if int(i) in won[b]) for i in ids], index=ids.index, dtype="object", name="badges")


def board(
    engine: Engine | sa.Connection,
    metric: str,
    filters: Filters,
    scope: Scope,
    level: str = "rep",
    as_of: date | None = None,
    *,
    audience: Audience,
) -> pd.DataFrame:
    """The leaderboard on `metric` for the filtered period: index id; columns rank, name, value, change,
    badges; sorted by rank then name. attrs["unranked"]: ids of entries without a value (no quota).
    Ranks are over everyone's values; the values the audience may not see are NaN, and
    attrs["peer_values_hidden"] says why (None when all are shown)."""
    _check(metric, level)
    previous = filters.with_period(filters.period.previous())
    roster = _roster(engine, filters, scope)
    teams = read_frame(engine, sa.select(team.c.id, team.c.name))
    now_kpis = [metric] if metric == "attainment" else [metric, "attainment"]
    now_values = _values(engine, now_kpis, filters, scope, level, as_of)
    before_values = _values(engine, [metric], previous, scope, level, as_of)

    now = _entries(roster, teams, now_values, metric, level, filters.period)
    before = rank_entries(_entries(roster, teams, before_values, metric, level, previous.period).dropna(subset=["value"]))
    ranked = rank_entries(now.dropna(subset=["value"]))
    previous_rank = before.set_index("id")["rank"]
    change = (ranked["id"].map(previous_rank) - ranked["rank"]).astype("Int64")

    grouped = now_values.dropna(subset=[f"{level}_id"])
    attainment = pd.Series(grouped["attainment"].to_numpy(), index=grouped[f"{level}_id"].astype("int64"))
    badges = award_badges(ranked["id"], level, filters.period, attainment, _deal_facts(engine, filters, scope))
    out = ranked.assign(change=change, badges=badges).set_index("id")[list(BOARD_COLUMNS)]
    hidden = peer_values_hidden(metric, filters.period, audience)
    if hidden:
        own = audience.own_id if level == "rep" else None  # a team is others, the rep's own team too
        out["value"] = out["value"].where(out.index == own)
    out.attrs["unranked"] = tuple(int(i) for i in now.loc[now["value"].isna(), "id"])
    out.attrs["peer_values_hidden"] = hidden
    return out


def entries_in_scope(engine: Engine | sa.Connection, level: str, scope: Scope) -> frozenset[int] | None:
    """The board entries whose deals the viewer may list (None: all of them): people in their scope on
    individual boards, and on team boards the teams whose every member is in their scope, so that a
    team's deal list always adds up to the team's number."""
    if scope.is_everyone:
        return None
    people = people_in_view(None, scope)
    p = person.c
    if level == "rep":
        return frozenset(int(i) for i in read_frame(engine, people).iloc[:, 0])
    all_in = sa.func.min(sa.case((p.id.in_(people), 1), else_=0)) == 1
    stmt = sa.select(p.team_id).where(p.team_id.is_not(None)).group_by(p.team_id).having(all_in)
    return frozenset(int(i) for i in read_frame(engine, stmt)["team_id"])


def viewer_entry(engine: Engine | sa.Connection, viewer_id: int | None, level: str) -> int | None:
    """The board entry that is the viewer's own row: themselves on individual boards, their team on
    team boards (None when not signed in or not in a team)."""
    if viewer_id is None:
        return None
    if level == "rep":
        return viewer_id
    found = read_frame(engine, sa.select(person.c.team_id).where(person.c.id == viewer_id))
    if found.empty or pd.isna(found.iloc[0, 0]):
        return None
    return int(found.iloc[0, 0])
