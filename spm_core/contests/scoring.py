"""Contest scores and boards (SPEC: score = Σ points per unit × units over the contest's metrics, or
points per % of a personal target; ties share the rank, 1224).

    board(engine, contest, as_of)

Units come from the metrics layer over the contest's window (the current round of a recurring contest)
up to the day scored (so a contest agrees
with every dashboard), for the participants only. Rank change is since yesterday: the rank on the day
before minus the rank now (+2: up two places; <NA> on the first day). A race adds each entry's progress
toward the target; an elimination drops the bottom `eliminate` at the end of every `every_days` days,
where entries tied at the cut all stay (fewer drop rather than drop someone for a tie).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .. import metrics
from ..db import read_frame
from ..filters import Filters, Period, Scope
from ..leaderboard import rank_entries
from ..schema import team
from .badges import badges
from .model import Contest, MetricRule, occurrence, participants


def points(units: pd.DataFrame, rules: Sequence[MetricRule], targets: pd.DataFrame) -> pd.Series:
    """Score per entry (units: index entry id, a column per kpi). targets: index entry id, a column per
    kpi (the personal target; missing: that metric scores 0 for the entry, as % of no target is nothing)."""
    total = pd.Series(0.0, index=units.index)
    for rule in rules:  # one vector operation per metric
        got = units[rule.kpi].astype("float64")
        if rule.per_target:
            target = targets[rule.kpi].reindex(units.index) if rule.kpi in targets else pd.Series(float("nan"), index=units.index)
            got = (got / target.where(target > 0) * 100).fillna(0.0)
        total = total + rule.points * got
    return total


def eliminated(rounds: Sequence[pd.Series], drop: int) -> pd.Series:
    """The round (1-based) in which each entry dropped out, <NA> while still in. rounds[k]: the scores
    (index entry id) at the end of round k+1; each round the bottom `drop` of those still in leave,
    except entries tied at the cut, who all stay."""
    ids = rounds[0].index if rounds else pd.Index([])
    out = pd.Series(pd.NA, index=ids, dtype="Int64")
    for k, scores in enumerate(rounds, start=1):
        alive = scores[out.reindex(scores.index).isna()].round(6)
        if len(alive) <= 1:
            break
        cut = alive.nsmallest(min(drop, len(alive) - 1)).max()  # never eliminate everyone
        below = alive[alive <= cut] if (alive <= cut).sum() <= drop else alive[alive < cut]
        out.loc[below.index] = k
    return out


def _entries(engine: Engine | sa.Connection, c: Contest, people: pd.DataFrame) -> pd.DataFrame:
    """The board's entries (id, name): the participants, or their teams."""
    if c.level == "individual":
        return people[["id", "name"]].assign(id=people["id"].astype("int64"))
    teams = read_frame(
        engine, sa.select(team.c.id, team.c.name).where(team.c.id.in_(sorted(set(people["team_id"].dropna().astype(int)))))
    )
    return teams.assign(id=teams["id"].astype("int64"))


def units_on(
    engine: Engine | sa.Connection, c: Contest, people: pd.DataFrame, entries: pd.DataFrame, start: date, day: date
) -> pd.DataFrame:
    """Units of each metric per entry from `start` (the round's first day) up to `day` (zeros before start)."""
    kpis = [m.kpi for m in c.metrics]
    blank = pd.DataFrame(0.0, index=entries["id"], columns=kpis)
    if day < start or people.empty:
        return blank
    window = Filters(Period(start, min(day, c.ends)), reps=frozenset(int(i) for i in people["id"]))
    key = "rep" if c.level == "individual" else "team"
    values = metrics.query(engine, kpis, window, Scope.everyone(), by=[key])
    values = values.dropna(subset=[f"{key}_id"]).astype({f"{key}_id": "int64"}).set_index(f"{key}_id")[kpis]
    return values.reindex(entries["id"]).fillna(0.0).astype("float64")


def _targets(c: Contest) -> pd.DataFrame:
    frame = pd.DataFrame(list(c.targets), columns=["person_id", "kpi", "target"])
    return frame.pivot_table(index="person_id", columns="kpi", values="target", aggfunc="last")


def _ranked(entries: pd.DataFrame, scores: pd.Series) -> pd.DataFrame:
    return rank_entries(entries.assign(value=entries["id"].map(scores).fillna(0.0).to_numpy()))


def board(engine: Engine | sa.Connection, c: Contest, as_of: date) -> pd.DataFrame:
    """The contest's board on as_of: index entry id; rank, name, score, change, badges (badges.py), one
    column per metric's units, and progress (race: score / target, capped at 1) or out_in_round (elimination)."""
    people = participants(engine, c)
    entries = _entries(engine, c, people)
    today = min(as_of, c.ends)
    start = occurrence(c, today).start
    targets = _targets(c)
    now_units = units_on(engine, c, people, entries, start, today)
    now = _ranked(entries, points(now_units, c.metrics, targets))
    yesterday = today - timedelta(days=1)
    if yesterday >= start:  # the first day of a round has no change: yesterday belonged to another round
        before = _ranked(entries, points(units_on(engine, c, people, entries, start, yesterday), c.metrics, targets))
        change = (now["id"].map(before.set_index("id")["rank"]) - now["rank"]).astype("Int64")
    else:
        change = pd.Series(pd.NA, index=now.index, dtype="Int64")
    awarded = badges(engine, c, people, start, today)
    out = now.assign(change=change, badges=now["id"].map(lambda i: awarded.get(int(i), ()))).set_index("id")
    out = out.rename(columns={"value": "score"})
    out = out.join(now_units)
    if c.board == "race":
        out["progress"] = (out["score"] / c.target).clip(upper=1.0)
    if c.board == "elimination":
        ends = [start + timedelta(days=c.every_days * k - 1) for k in range(1, (today - start).days // c.every_days + 2)]
        ends = [d for d in ends if d <= today]
        rounds = [points(units_on(engine, c, people, entries, start, d), c.metrics, targets) for d in ends]  # a query a round
        out["out_in_round"] = (
            eliminated(rounds, c.eliminate).reindex(out.index) if rounds else pd.Series(pd.NA, index=out.index, dtype="Int64")
        )
    return out
