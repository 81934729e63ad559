"""Bottom-up: managers submit their own numbers for their subtree; the gap against the top-down
allocation is shown at every level.

A node's bottom-up number is what was submitted for it, else the sum of its children's when every child
has one (a partial sum would understate the level), else none.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..db import read_frame
from ..filters import Scope
from ..schema import plan_allocation, plan_submission
from .model import PlanError
from .rights import Planner, require_approver
from .scenarios import allocation, now, scenario_row


def children_of(rows: pd.DataFrame) -> dict[int, list[int]]:
    """Each parent's children in a scenario's allocation rows (person_id, parent_id)."""
    below: dict[int, list[int]] = {}
    for child, parent in zip(rows["person_id"], rows["parent_id"], strict=True):
        if not pd.isna(parent):
            below.setdefault(int(parent), []).append(int(child))
    return below


def subtree(rows: pd.DataFrame, top: int) -> set[int]:
    """`top` and everyone below them in a scenario's allocation rows (person_id, parent_id)."""
    below = children_of(rows)
    found, stack = {top}, [top]
    while stack:
        for child in below.get(stack.pop(), ()):
            if child not in found:
                found.add(int(child))
                stack.append(int(child))
    return found


def _tree_rows(conn: Engine | sa.Connection, sid: int) -> pd.DataFrame:
    a = plan_allocation.c
    return read_frame(conn, sa.select(a.person_id, a.parent_id, a.cents).where(a.scenario_id == sid))


def submit(engine: Engine, sid: int, manager_id: int, numbers: Mapping[int, int], by: Planner) -> None:
    """Store a manager's numbers (cents) for people in their subtree, replacing earlier ones for them."""
    with engine.begin() as conn:
        if scenario_row(conn, sid)["status"] == "published":
            raise PlanError("This scenario is published: submissions are closed.")
        require_approver(conn, by, manager_id, "submit numbers")
        rows = _tree_rows(conn, sid)
        if manager_id not in set(rows["person_id"]):
            raise PlanError(f"Person {manager_id} is not in this plan.")
        mine = subtree(rows, manager_id)
        outside = sorted(set(numbers) - mine)
        if outside:
            raise PlanError(f"Not in your part of the plan: {', '.join(map(str, outside))}.")
        negative = sorted(p for p, c in numbers.items() if c < 0)
        if negative:
            raise PlanError(f"A quota cannot be negative (person {', '.join(map(str, negative))}).")
        s = plan_submission.c
        conn.execute(plan_submission.delete().where(s.scenario_id == sid, s.person_id.in_(sorted(numbers))))
        if numbers:
            stamp = now()
            conn.execute(
                plan_submission.insert(),
                [
                    {"scenario_id": sid, "person_id": p, "cents": c, "submitted_by": by.username, "submitted_at": stamp}
                    for p, c in numbers.items()
                ],
            )


def bottom_up(rows: pd.DataFrame, submitted: Mapping[int, int]) -> dict[int, int | None]:
    """Each node's bottom-up cents from the submissions (see the module's rule); None where there is none."""
    below = children_of(rows)
    parent = dict(zip(rows["person_id"], rows["parent_id"], strict=True))
    depth: dict[int, int] = {}
    for node in rows["person_id"]:
        d, up = 0, parent.get(node)
        while up is not None and not pd.isna(up):
            d, up = d + 1, parent.get(int(up))
        depth[int(node)] = d
    out: dict[int, int | None] = {}
    for node in sorted(depth, key=depth.get, reverse=True):  # deepest first: children before parents
        kids = below.get(node, [])
        if node in submitted:
            out[node] = submitted[node]
        elif kids and all(out.get(int(k)) is not None for k in kids):
            out[node] = sum(out[int(k)] for k in kids)
        else:
            out[node] = None
    return out


def gaps(engine: Engine | sa.Connection, sid: int, scope: Scope) -> pd.DataFrame:
    """Per node the scope may see: name, kind, top_down, bottom_up, gap (top-down − bottom-up), source."""
    rows = _tree_rows(engine, sid)
    s = plan_submission.c
    sub = read_frame(engine, sa.select(s.person_id, s.cents).where(s.scenario_id == sid))
    submitted = dict(zip(sub["person_id"].astype(int), sub["cents"].astype(int), strict=True))
    bu = bottom_up(rows, submitted)
    shown = allocation(engine, sid, scope)[["person_id", "parent_id", "depth", "name", "kind", "cents"]]
    shown["top_down"] = shown["cents"] / 100
    cents = shown["person_id"].map(lambda p: bu.get(int(p)))
    shown["bottom_up"] = pd.to_numeric(cents, errors="coerce") / 100
    shown["gap"] = shown["top_down"] - shown["bottom_up"]
    shown["source"] = shown["person_id"].map(
        lambda p: "submitted" if int(p) in submitted else ("sum of the level below" if bu.get(int(p)) is not None else "none yet")
    )
    return shown.drop(columns=["cents"])
