"""A contest's definition, its checks, and how it is stored and read back.

A contest runs from `starts` to `ends` (both included), in one round or recurring daily, weekly (Monday to
Sunday) or monthly (each round scored afresh), for individuals or teams, scores one or more
metrics (points per unit, or points per % of a personal target), and is shown as a ranked table, a race
to `target` points, or an elimination (the bottom `eliminate` drop every `every_days` days). Participants
are the active people of the chosen roles matching the chosen teams and segments, within the creating
manager's subtree (scope_root; None: an admin's contest, everyone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..db import read_frame
from ..filters import Period, Scope
from ..kpis import CATALOGUE
from ..people import people_in_view, subtree_ids
from ..schema import person
from .tables import contest, contest_metric, contest_participant, contest_target, ensure_tables, exists

LEVELS = ("individual", "team")
BOARDS = ("ranked", "race", "elimination")
RECURRENCES = ("daily", "weekly", "monthly")
METRICS = ("bookings", "deals_won", "deals_created", "pipeline_created", "activities", "calls", "emails", "meetings", "demos")
PARTICIPANT_ROLES = ("rep", "manager")
MAX_NAME, MAX_PRIZES = 100, 1000


class ContestError(ValueError):
    """A contest that cannot be saved, with a message for the person creating it."""


@dataclass(frozen=True)
class MetricRule:
    """`points` per unit of `kpi`; with per_target, `points` per % of the person's target for it."""

    kpi: str
    points: float
    per_target: bool = False


@dataclass(frozen=True)
class Contest:
    name: str
    starts: date
    ends: date
    level: str
    board: str
    metrics: tuple[MetricRule, ...]
    teams: frozenset[int] = frozenset()
    segments: frozenset[int] = frozenset()
    roles: frozenset[str] = frozenset({"rep"})
    target: float | None = None
    eliminate: int | None = None
    every_days: int | None = None
    prizes: str = ""
    recurring: str | None = None
    scope_root: int | None = None
    created_by: int | None = None
    targets: tuple[tuple[int, str, float], ...] = field(default=())  # (person id, kpi, target)
    id: int | None = None


def validate(c: Contest) -> Contest:
    """The contest if it can run, else ContestError saying what to change."""
    if not c.name.strip() or len(c.name) > MAX_NAME:
        raise ContestError(f"A contest needs a name of 1 to {MAX_NAME} characters.")
    if c.starts > c.ends:
        raise ContestError("A contest cannot end before it starts.")
    if c.level not in LEVELS or c.board not in BOARDS:
        raise ContestError(f"Level is one of {', '.join(LEVELS)}; board one of {', '.join(BOARDS)}.")
    if not c.metrics:
        raise ContestError("A contest scores at least one metric.")
    kpis = [m.kpi for m in c.metrics]
    if len(set(kpis)) != len(kpis) or any(k not in METRICS for k in kpis):
        raise ContestError(f"Each metric once, from: {', '.join(METRICS)}.")
    if any(not m.points > 0 for m in c.metrics):
        raise ContestError("Points per unit must be more than 0.")
    if c.level == "team" and any(m.per_target for m in c.metrics):
        raise ContestError("Scores in % of a personal target are for individual contests.")
    if not c.roles or not c.roles <= set(PARTICIPANT_ROLES):
        raise ContestError(f"Participants' roles: one or more of {', '.join(PARTICIPANT_ROLES)}.")
    if c.board == "race" and not (c.target is not None and c.target > 0):
        raise ContestError("A race needs a target score above 0.")
    if c.board == "elimination" and not (c.eliminate and c.eliminate >= 1 and c.every_days and c.every_days >= 1):
        raise ContestError("An elimination needs how many drop (1 or more) and every how many days (1 or more).")
    if c.recurring is not None and c.recurring not in RECURRENCES:
        raise ContestError(f"A contest recurs {', '.join(RECURRENCES)}, or not at all.")
    if len(c.prizes) > MAX_PRIZES:
        raise ContestError(f"Prizes: at most {MAX_PRIZES} characters.")
    return replace(c, name=c.name.strip(), prizes=c.prizes.strip())


def save(engine: Engine, c: Contest, creator_id: int | None, creator_scope: Scope) -> int:
    """Store a new contest created by `creator_id`; a manager's contest draws only from their subtree."""
    c = validate(c)
    if not creator_scope.is_everyone and not creator_scope.include_subtree:
        raise ContestError("Only managers and admins create contests.")
    root = None if creator_scope.is_everyone else creator_id
    ensure_tables(engine)
    with engine.begin() as conn:
        new_id = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(contest.c.id), 0) + 1)).scalar_one())
        conn.execute(
            contest.insert().values(
                id=new_id, name=c.name, starts=c.starts, ends=c.ends, level=c.level, board=c.board, target=c.target,
                eliminate=c.eliminate, every_days=c.every_days, prizes=c.prizes, recurring=c.recurring, scope_root=root, created_by=creator_id,
            )
        )  # fmt: skip
        conn.execute(contest_metric.insert(), [{"contest_id": new_id, **m.__dict__} for m in c.metrics])
        rules = [("team", str(v)) for v in sorted(c.teams)] + [("segment", str(v)) for v in sorted(c.segments)]
        rules += [("role", r) for r in sorted(c.roles)]
        conn.execute(contest_participant.insert(), [{"contest_id": new_id, "dimension": d, "value": v} for d, v in rules])
        if c.targets:
            conn.execute(
                contest_target.insert(), [{"contest_id": new_id, "person_id": p, "kpi": k, "target": t} for p, k, t in c.targets]
            )
    return new_id


def load(engine: Engine | sa.Connection) -> list[Contest]:
    """Every stored contest, newest start first."""
    if not exists(engine):
        return []
    heads = read_frame(engine, sa.select(contest).order_by(contest.c.starts.desc(), contest.c.id.desc()))
    metrics = read_frame(engine, sa.select(contest_metric))
    rules = read_frame(engine, sa.select(contest_participant))
    targets = read_frame(engine, sa.select(contest_target))

    def one(row: pd.Series) -> Contest:
        cid = int(row["id"])
        mine = rules[rules["contest_id"] == cid]
        pick = lambda d: mine.loc[mine["dimension"] == d, "value"]  # noqa: E731
        opt = lambda v, cast: None if pd.isna(v) else cast(v)  # noqa: E731
        t = targets[targets["contest_id"] == cid]
        return Contest(
            id=cid, name=row["name"], starts=pd.Timestamp(row["starts"]).date(), ends=pd.Timestamp(row["ends"]).date(),
            level=row["level"], board=row["board"],
            metrics=tuple(MetricRule(k, float(p), bool(b)) for k, p, b in metrics.loc[metrics["contest_id"] == cid, ["kpi", "points", "per_target"]].itertuples(index=False)),
            teams=frozenset(int(v) for v in pick("team")), segments=frozenset(int(v) for v in pick("segment")),
            roles=frozenset(pick("role")), target=opt(row["target"], float), eliminate=opt(row["eliminate"], int),
            every_days=opt(row["every_days"], int), prizes=row["prizes"] or "", recurring=opt(row["recurring"], str), scope_root=opt(row["scope_root"], int),
            created_by=opt(row["created_by"], int),
            targets=tuple((int(p), k, float(v)) for p, k, v in t[["person_id", "kpi", "target"]].itertuples(index=False)),
        )  # fmt: skip

    return [one(row) for _, row in heads.iterrows()]  # a handful of contests, each a few rows


def occurrence(c: Contest, day: date) -> Period:
    """The round of the contest that `day` falls in (the whole contest when it does not recur); a day before
    or after the contest falls in its first or last round."""
    d = min(max(day, c.starts), c.ends)
    if c.recurring is None:
        return Period(c.starts, c.ends)
    if c.recurring == "daily":
        first, last = d, d
    elif c.recurring == "weekly":
        first = d - timedelta(days=d.weekday())
        last = first + timedelta(days=6)
    else:
        month = Period.month(d)
        first, last = month.start, month.end
    return Period(max(first, c.starts), min(last, c.ends))


def participants_statement(c: Contest) -> sa.Select:
    """id, name, team_id of the active people taking part."""
    p = person.c
    conditions = [p.active, p.role.in_(sorted(c.roles))]
    if c.teams:
        conditions.append(p.team_id.in_(sorted(c.teams)))
    if c.segments:
        conditions.append(p.segment_id.in_(sorted(c.segments)))
    if c.scope_root is not None:
        conditions.append(p.id.in_(subtree_ids([c.scope_root], "contest_tree")))
    return sa.select(p.id, p.name, p.team_id).where(*conditions).order_by(p.name, p.id)


def participants(engine: Engine | sa.Connection, c: Contest) -> pd.DataFrame:
    return read_frame(engine, participants_statement(c))


def label(kpi: str) -> str:
    return CATALOGUE[kpi].label


def visible(
    engine: Engine | sa.Connection, contests: Sequence[Contest], scope: Scope, viewer_id: int | None, role: str
) -> list[Contest]:
    """The contests a viewer may see: admins, leaders and displays all; a manager those with a participant
    in their subtree; a rep those they take part in."""
    if role in ("admin", "leader", "display"):
        return list(contests)
    in_view = set(read_frame(engine, people_in_view(None, scope)).iloc[:, 0].astype(int)) if not scope.is_everyone else None
    shown = []
    for c in contests:  # a handful of contests
        ids = set(participants(engine, c)["id"].astype(int))
        if (role == "rep" and viewer_id in ids) or (role != "rep" and (in_view is None or ids & in_view)):
            shown.append(c)
    return shown
