"""The planning tree and the measures weighted levels split by, read from the warehouse set-based:
one select of people, one grouped scan of deals; the rest is arithmetic on frames."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..db import has_new_columns, read_frame
from ..filters import Period
from ..schema import account, opportunity, person
from .allocate import Tree
from .model import PlanError, PlannedSeat, node_order


def people(engine: Engine | sa.Connection) -> pd.DataFrame:
    """Active people: id, name, role, manager_id, segment_id, hire_date."""
    p = person.c
    stmt = sa.select(p.id, p.name, p.role, p.manager_id, p.segment_id, p.hire_date).where(p.active).order_by(p.id)
    return read_frame(engine, stmt)


def default_root(frame: pd.DataFrame) -> int:
    """The leader at the top of the tree (the first leader by id)."""
    leaders = frame[frame["role"] == "leader"]
    if leaders.empty:
        raise PlanError("No leader in the warehouse to plan from: choose the person at the top of the plan.")
    return int(leaders["id"].iloc[0])


def build_tree(frame: pd.DataFrame, root: int, seats: Sequence[PlannedSeat] = ()) -> Tree:
    """The root's subtree of active people, keeping only branches that end in reps (quota carriers); open
    planned seats are reps-to-be under their manager (node id − seat number)."""
    if root not in set(frame["id"]):
        raise PlanError(f"Unknown person {root}: not an active person in the warehouse.")
    below: dict[int, list[int]] = defaultdict(list)
    for pid, manager in frame[["id", "manager_id"]].itertuples(index=False):
        if not pd.isna(manager) and int(manager) != int(pid):
            below[int(manager)].append(int(pid))
    roles = dict(zip(frame["id"].astype(int), frame["role"], strict=True))
    for seat in seats:
        if roles.get(seat.manager_id, "rep") == "rep":
            raise PlanError(
                f"{seat.name}: a planned seat reports to an active manager or leader, not to person {seat.manager_id}."
            )
        below[seat.manager_id].append(seat.node)
    reps = set(frame.loc[frame["role"] == "rep", "id"].astype(int)) | {s.node for s in seats}
    children: dict[int, tuple[int, ...]] = {}
    seen: set[int] = set()

    def carries(node: int) -> bool:
        if node in seen:  # a manager loop in bad data: stop
            return False
        seen.add(node)
        kids = tuple(sorted((k for k in below.get(node, ()) if carries(k)), key=node_order))
        if kids:
            children[node] = kids
        return bool(kids) or node in reps

    if not carries(root) or root not in children:
        raise PlanError("Nobody under this person carries a quota: there is no rep to plan for.")
    outside = [s.name for s in seats if s.node not in seen]
    if outside:
        raise PlanError(f"Not under the top of this plan: the manager of {', '.join(outside)}.")
    names = dict(zip(frame["id"].astype(int), frame["name"], strict=True)) | {s.node: s.name for s in seats}
    return Tree(root, children, names)


def leaves(tree: Tree) -> list[int]:
    return [node for node, _, _ in tree.nodes() if node not in tree.children]


def rep_measures(engine: Engine | sa.Connection, period: Period, as_of: date) -> pd.DataFrame:
    """Per person, in cents: prior_year_bookings (the period a year earlier), trailing_12_months (won in the
    12 months up to today), open_pipeline (open now, any expected close date), territory_potential (the
    potential of the accounts they own)."""
    o = opportunity.c
    year_before = period.year_before()
    trailing_start = Period(as_of, as_of).year_before().start + timedelta(days=1)
    won = o.is_won

    def total(condition: sa.ColumnElement) -> sa.ColumnElement:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, o.amount))), 0)

    stmt = sa.select(
        o.owner_id.label("person_id"),
        total(sa.and_(won, o.close_date.between(year_before.start, year_before.end))).label("prior_year_bookings"),
        total(sa.and_(won, o.close_date.between(trailing_start, as_of))).label("trailing_12_months"),
        total(sa.not_(o.is_closed)).label("open_pipeline"),
    ).group_by(o.owner_id)
    frame = read_frame(engine, stmt).merge(_potential(engine), on="person_id", how="outer")
    for column in ("prior_year_bookings", "trailing_12_months", "open_pipeline", "territory_potential"):
        frame[column] = (frame[column].astype(float).fillna(0.0) * 100).round().astype("int64")
    return frame


def _potential(engine: Engine | sa.Connection) -> pd.DataFrame:
    """Per account owner, the accounts' potential (none in a warehouse from before the column existed)."""
    if isinstance(engine, Engine) and not has_new_columns(engine):
        return pd.DataFrame({"person_id": pd.Series(dtype="int64"), "territory_potential": pd.Series(dtype=float)})
    a = account.c
    stmt = (
        sa.select(a.owner_id.label("person_id"), sa.func.coalesce(sa.func.sum(a.potential), 0).label("territory_potential"))
        .where(a.owner_id.is_not(None))
        .group_by(a.owner_id)
    )
    return read_frame(engine, stmt)


def with_seats(tree: Tree, per_rep: pd.DataFrame, frame: pd.DataFrame, seats: Sequence[PlannedSeat]) -> pd.DataFrame:
    """per_rep plus a row per open seat: a seat has no history, so it weighs as the average rep of its segment
    in this plan (the mean over the plan's reps of that segment, half-up to the cent; over all its reps when
    the segment has none). Without this a weighted level would give open headcount nothing."""
    if not seats:
        return per_rep
    reps = [n for n in leaves(tree) if n > 0]
    values = pd.DataFrame({"person_id": reps}).merge(per_rep, on="person_id", how="left").fillna(0)
    segment_of = dict(zip(frame["id"].astype(int), frame["segment_id"], strict=True))
    values["segment_id"] = values["person_id"].map(segment_of)
    columns = [c for c in per_rep.columns if c != "person_id"]
    by_segment = values.groupby("segment_id")[columns].agg(lambda v: _mean_cents(v))
    overall = {c: _mean_cents(values[c]) for c in columns}
    rows = [
        {
            "person_id": seat.node,
            **(by_segment.loc[seat.segment_id].to_dict() if seat.segment_id in by_segment.index else overall),
        }
        for seat in seats
    ]
    return pd.concat([per_rep, pd.DataFrame(rows, columns=per_rep.columns)], ignore_index=True)


def _mean_cents(values: pd.Series) -> int:
    total, n = int(values.astype("int64").sum()), len(values)
    return (2 * total + n) // (2 * n) if n else 0


def subtree_measures(tree: Tree, per_rep: pd.DataFrame) -> dict[str, dict[int, int]]:
    """Each measure per node: a rep's own value, a manager's the sum over their subtree."""
    out: dict[str, dict[int, int]] = {}
    order = tree.nodes()
    for column in per_rep.columns.drop("person_id"):
        value = defaultdict(int, {int(k): int(v) for k, v in zip(per_rep["person_id"], per_rep[column], strict=True)})
        totals = {node: (value[node] if node not in tree.children else 0) for node, _, _ in order}
        for node, parent, _ in reversed(order):
            if parent is not None:
                totals[parent] += totals[node]
        out[column] = totals
    return out
