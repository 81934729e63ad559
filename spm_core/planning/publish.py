"""Approval and publishing: managers approve their subtree's numbers; a leader publishes the scenario,
which writes its monthly quotas into the quota table (what Quota attainment and compensation read).

Publishing is one transaction: every replaced quota row is kept in quota_change (the value before and
after, by whom, when, from which scenario), so the previous quotas stay queryable; bad input writes
nothing. An approval records a fingerprint of the subtree's values: a later change makes it stale.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..db import insert_frame, read_frame, set_info
from ..filters import Period, Scope
from ..people import people_in_view
from ..schema import person, plan_allocation, plan_approval, plan_scenario, quota, quota_change
from .bottom_up import children_of
from .compute import check_open
from .model import PlanError
from .ramp import monthly_quotas, months_of
from .rights import Planner, require_approver, require_publisher
from .scenarios import load_spec, now, scenario_row

QUOTA_TYPE = "bookings"


def _rows(conn: Engine | sa.Connection, sid: int) -> pd.DataFrame:
    a = plan_allocation.c
    return read_frame(conn, sa.select(a.person_id, a.parent_id, a.cents).where(a.scenario_id == sid).order_by(a.person_id))


def _planned(sid: int) -> sa.Select:
    """The people of a scenario, as a subquery (no bound list: a plan may hold thousands)."""
    return sa.select(plan_allocation.c.person_id).where(plan_allocation.c.scenario_id == sid)


def fingerprints(rows: pd.DataFrame) -> dict[int, str]:
    """Per node, a digest of its subtree's values (its own and, recursively, its children's, in id order):
    equal exactly when no value in the subtree changed. Level by level, leaves first."""
    below = children_of(rows)
    cents = dict(zip(rows["person_id"].astype(int), rows["cents"].astype(int), strict=True))
    digest: dict[int, str] = {}
    pending = [int(p) for p in rows["person_id"]]
    while pending:  # a node is ready once its children are digested; the tree has no loops (allocate built it)
        later = []
        for node in pending:
            kids = sorted(below.get(node, ()))
            if all(k in digest for k in kids):
                text = f"{node}:{cents[node]}|" + ",".join(digest[k] for k in kids)
                digest[node] = hashlib.sha256(text.encode()).hexdigest()
            else:
                later.append(node)
        pending = later
    return digest


def approve(engine: Engine, sid: int, manager_id: int, by: Planner) -> None:
    """`manager_id` approves the current values of their subtree (they, or someone above them, approve)."""
    with engine.begin() as conn:
        if scenario_row(conn, sid)["status"] == "published":
            raise PlanError("This scenario is already published.")
        require_approver(conn, by, manager_id, "approve")
        rows = _rows(conn, sid)
        if manager_id not in set(rows["parent_id"].dropna().astype(int)):
            raise PlanError(f"Person {manager_id} has no team in this plan: there is nothing to approve.")
        a = plan_approval.c
        conn.execute(plan_approval.delete().where(a.scenario_id == sid, a.manager_id == manager_id))
        conn.execute(
            plan_approval.insert().values(
                scenario_id=sid,
                manager_id=manager_id,
                approved_by=by.username,
                approved_at=now(),
                fingerprint=fingerprints(rows)[manager_id],
            )
        )


def approvals(engine: Engine | sa.Connection, sid: int, scope: Scope) -> pd.DataFrame:
    """Every manager of the plan in scope: name, approved_by, approved_at, status (approved, stale, waiting)."""
    rows = _rows(engine, sid)
    a = plan_approval.c
    done = read_frame(engine, sa.select(a.manager_id, a.approved_by, a.approved_at, a.fingerprint).where(a.scenario_id == sid))
    parents = sa.select(plan_allocation.c.parent_id).where(plan_allocation.c.scenario_id == sid)
    stmt = sa.select(person.c.id.label("manager_id"), person.c.name).where(person.c.id.in_(parents))
    ids = people_in_view(None, scope)
    if ids is not None:
        stmt = stmt.where(person.c.id.in_(ids))
    out = read_frame(engine, stmt).merge(done, on="manager_id", how="left")
    current = fingerprints(rows)
    out["status"] = [
        "waiting" if pd.isna(f) else ("approved" if f == current[m] else "stale: changed since approved")
        for m, f in zip(out["manager_id"], out["fingerprint"], strict=True)
    ]
    return out.drop(columns=["fingerprint"]).sort_values("manager_id").reset_index(drop=True)


def _check(conn: sa.Connection, sid: int, as_of: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(allocation rows, monthly quotas) of a scenario that may be published; PlanError says why not."""
    row = scenario_row(conn, sid)
    if row["status"] == "published":
        raise PlanError("This scenario is already published.")
    spec = load_spec(conn, sid)
    check_open(spec.period, as_of)
    rows = _rows(conn, sid)
    if (rows["cents"] < 0).any():
        raise PlanError("A quota cannot be negative.")
    sums = rows.dropna(subset=["parent_id"]).groupby(rows["parent_id"].dropna().astype(int))["cents"].sum()
    own = rows.set_index("person_id")["cents"]
    over = [int(p) for p, total in sums.items() if total != own[p]]
    if over:
        raise PlanError(f"Children do not add up to their parent under person(s) {', '.join(map(str, over))}.")
    known = read_frame(conn, sa.select(person.c.id, person.c.hire_date).where(person.c.id.in_(_planned(sid))))
    unknown = sorted(set(rows.loc[rows["person_id"] > 0, "person_id"].astype(int)) - set(known["id"].astype(int)))
    if unknown:
        raise PlanError(f"Unknown person(s) in the plan: {', '.join(map(str, unknown))}.")
    root_children = rows.loc[rows["parent_id"] == row["root_id"], "person_id"].astype(int)
    managers = [m for m in root_children if m in set(rows["parent_id"].dropna().astype(int))]
    waiting = approvals(conn, sid, Scope.everyone())
    ok = set(waiting.loc[waiting["status"] == "approved", "manager_id"].astype(int))
    missing = [m for m in managers if m not in ok]
    if missing:
        names = waiting.set_index("manager_id")["name"]
        raise PlanError(
            f"Waiting for approval (or approved before a change) by: {', '.join(str(names.get(m, m)) for m in missing)}."
        )
    leaves = rows[~rows["person_id"].isin(rows["parent_id"].dropna().astype(int))]  # open seats: no person, no quota row
    leaves = leaves.merge(known.rename(columns={"id": "person_id"}), on="person_id")
    monthly = monthly_quotas(leaves, months_of(spec.period.start, spec.period.end), spec.ramp, spec.own_ramps())
    return rows, monthly[monthly["tenure"] >= 1]


def publish(engine: Engine, sid: int, by: Planner, as_of: date) -> int:
    """Write the scenario's monthly quotas (replacing those of its people and months, history kept) and mark
    it published; returns the number of quota rows written. Open planned seats are published as seats: they
    stay in the plan (no person, no sign-in, no quota row) until filled (seats.fill_seat)."""
    require_publisher(by, "publish a plan")
    with engine.begin() as conn:
        _, monthly = _check(conn, sid, as_of)
        spec = load_spec(conn, sid)
        written, stamp = replace_quotas(conn, monthly, _planned(sid), spec.period, sid, by.username)
        conn.execute(
            plan_scenario.update()
            .where(plan_scenario.c.id == sid)
            .values(status="published", published_by=by.username, published_at=stamp)
        )
    return written


def replace_quotas(
    conn: sa.Connection, monthly: pd.DataFrame, who: sa.Select | list[int], period: Period, sid: int, by: str
) -> tuple[int, datetime]:
    """Replace the bookings quotas of `who` in the period's months by `monthly` (person_id, month, cents,
    is_ramped), logging every replaced or new row in quota_change; returns (rows written, the stamp)."""
    q = quota.c
    where = sa.and_(q.person_id.in_(who), q.month.between(period.start, period.end), q.quota_type == QUOTA_TYPE)
    before = read_frame(conn, sa.select(q.person_id, q.month, q.amount).where(where))
    before["month"] = pd.to_datetime(before["month"]).dt.date
    new = monthly.assign(amount=monthly["cents"] / 100)[["person_id", "month", "amount", "is_ramped"]]
    changes = new.merge(before.rename(columns={"amount": "previous_amount"}), on=["person_id", "month"], how="outer")
    changes = changes.fillna({"amount": 0.0, "is_ramped": False})
    stamp = now()
    first_change = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(quota_change.c.id), 0))).scalar_one()) + 1
    log = changes.assign(
        id=range(first_change, first_change + len(changes)),
        quota_type=QUOTA_TYPE,
        scenario_id=sid,
        changed_by=by,
        changed_at=stamp,
    )
    conn.execute(quota.delete().where(where))
    first_quota = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(q.id), 0))).scalar_one()) + 1
    rows = new.assign(id=range(first_quota, first_quota + len(new)), quota_type=QUOTA_TYPE)
    if len(rows):
        insert_frame(conn, quota, _dated(rows))
    if len(log):
        insert_frame(conn, quota_change, _dated(log))
    set_info(conn, {"has_quotas": "true"})
    return len(rows), stamp


def _dated(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["month"] = pd.to_datetime(out["month"])
    return out


def quota_changes(engine: Engine | sa.Connection, scope: Scope) -> pd.DataFrame:
    """Every quota change publishing made for people in scope, newest first: the previous and new amount,
    who and when, and the scenario."""
    c = quota_change.c
    stmt = (
        sa.select(c.person_id, person.c.name, c.month, c.previous_amount, c.amount, c.changed_by, c.changed_at, c.scenario_id)
        .join(person, person.c.id == c.person_id)
        .order_by(c.changed_at.desc(), c.person_id, c.month)
    )
    ids = people_in_view(None, scope)
    return read_frame(engine, stmt if ids is None else stmt.where(c.person_id.in_(ids)))
