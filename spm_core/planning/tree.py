"""The planning tree and the measures weighted levels split by, read from the warehouse set-based:
one select of people, one grouped scan of deals; the rest is arithmetic on frames."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..db import read_frame
from ..filters import Period
from ..schema import opportunity, person
from .allocate import Tree
from .model import PlanError


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


def build_tree(frame: pd.DataFrame, root: int) -> Tree:
    """The root's subtree of active people, keeping only branches that end in reps (quota carriers)."""
    if root not in set(frame["id"]):
        raise PlanError(f"Unknown person {root}: not an active person in the warehouse.")
    below: dict[int, list[int]] = defaultdict(list)
    for pid, manager in frame[["id", "manager_id"]].itertuples(index=False):
        if not pd.isna(manager) and int(manager) != int(pid):
            below[int(manager)].append(int(pid))
    reps = set(frame.loc[frame["role"] == "rep", "id"].astype(int))
    children: dict[int, tuple[int, ...]] = {}
    seen: set[int] = set()

    def carries(node: int) -> bool:
        if node in seen:  # a manager loop in bad data: stop
            return False
        seen.add(node)
        kids = tuple(sorted(k for k in below.get(node, ()) if carries(k)))
        if kids:
            children[node] = kids
        return bool(kids) or node in reps

    if not carries(root) or root not in children:
        raise PlanError("Nobody under this person carries a quota: there is no rep to plan for.")
    names = dict(zip(frame["id"].astype(int), frame["name"], strict=True))
    return Tree(root, children, names)


def leaves(tree: Tree) -> list[int]:
    return [node for node, _, _ in tree.nodes() if node not in tree.children]


def rep_measures(engine: Engine | sa.Connection, period: Period, as_of: date) -> pd.DataFrame:
    """Per deal owner, in cents: prior_year_bookings (the period a year earlier), trailing_12_months
    (won in the 12 months up to today), open_pipeline (open now, any expected close date)."""
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
    frame = read_frame(engine, stmt)
    for column in ("prior_year_bookings", "trailing_12_months", "open_pipeline"):
        frame[column] = (frame[column].astype(float) * 100).round().astype("int64")
    return frame


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
