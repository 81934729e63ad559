"""Scenarios in the warehouse: create, override, copy, delete, list, read (scoped) and compare.

Every change computes the new allocation first and writes in one transaction only if it worked, so bad
input (PlanError) writes nothing. A published scenario is the record behind the quotas: it is never changed
or deleted (copy it to plan again).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..db import insert_frame, read_frame
from ..filters import Period, Scope
from ..people import people_in_view
from ..schema import (
    metadata,
    person,
    plan_allocation,
    plan_approval,
    plan_override,
    plan_ramp,
    plan_scenario,
    plan_seat,
    plan_submission,
    quota_change,
)
from . import rules_json
from .compute import ScenarioSpec, compute
from .model import Override, PlanError, PlannedSeat, PlanRules, Ramp, RampOverride
from .ramp import monthly_quotas, months_of
from .rights import Planner, require_builder

TABLES = (plan_scenario, plan_override, plan_allocation, plan_submission, plan_approval, quota_change, plan_seat, plan_ramp)
SEAT = "planned seat"
PUBLISHED = "This scenario is published: it is the record behind the quotas. Copy it to plan again."
ABOVE = "set by the level above"
STORED = [c.name for c in plan_allocation.c if c.name != "scenario_id"]


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_tables(conn: sa.Connection) -> None:
    """Warehouses created before planning existed get its tables on their first write."""
    metadata.create_all(conn, tables=list(TABLES))


def has_tables(engine: Engine | sa.Connection) -> bool:
    return sa.inspect(engine).has_table(plan_scenario.name)


def has_seat_tables(engine: Engine | sa.Connection) -> bool:
    """Planned seats and ramps of their own came after the first planning tables: older warehouses get them on a write."""
    return sa.inspect(engine).has_table(plan_seat.name)


def _next_id(conn: sa.Connection, column: sa.Column) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(column), 0))).scalar_one()) + 1


def _write_allocation(conn: sa.Connection, sid: int, rows: pd.DataFrame) -> None:
    conn.execute(plan_allocation.delete().where(plan_allocation.c.scenario_id == sid))
    frame = rows[STORED].assign(scenario_id=sid)
    frame["parent_id"] = frame["parent_id"].astype("Int64")
    insert_frame(conn, plan_allocation, frame)


def _write_overrides(conn: sa.Connection, sid: int, overrides: tuple[Override, ...], by: str) -> None:
    conn.execute(plan_override.delete().where(plan_override.c.scenario_id == sid))
    if overrides:
        conn.execute(
            plan_override.insert(),
            [
                {
                    "scenario_id": sid,
                    "person_id": o.person_id,
                    "cents": o.cents,
                    "reason": o.reason,
                    "set_by": by,
                    "set_at": now(),
                }
                for o in overrides
            ],
        )


def _write_seats(conn: sa.Connection, sid: int, seats: tuple[PlannedSeat, ...], by: str) -> None:
    """Replace the scenario's seats, keeping who filled a seat and when (`by`, now: for a seat filled now)."""
    s = plan_seat.c
    before = read_frame(conn, sa.select(s.seat_id, s.person_id, s.filled_by, s.filled_at).where(s.scenario_id == sid))
    stamps = {(int(i), int(p)): (b, t) for i, p, b, t in before.dropna(subset=["person_id"]).itertuples(index=False)}
    conn.execute(plan_seat.delete().where(s.scenario_id == sid))
    if seats:
        rows = []
        for seat in seats:
            filled = seat.person_id is not None
            who, at = stamps.get((seat.seat_id, seat.person_id), (by, now())) if filled else (None, None)
            rows.append(
                {
                    "scenario_id": sid,
                    "seat_id": seat.seat_id,
                    "name": seat.name,
                    "manager_id": seat.manager_id,
                    "segment_id": seat.segment_id,
                    "start_month": seat.start,
                    "person_id": seat.person_id,
                    "filled_by": who,
                    "filled_at": None if pd.isna(at) else at,
                }
            )
        conn.execute(plan_seat.insert(), rows)


def _write_ramps(conn: sa.Connection, sid: int, ramps: tuple[RampOverride, ...], by: str) -> None:
    conn.execute(plan_ramp.delete().where(plan_ramp.c.scenario_id == sid))
    if ramps:
        stamp = now()
        conn.execute(
            plan_ramp.insert(),
            [
                {"scenario_id": sid, "node": r.node, "ramp": r.ramp.text(), "reason": r.reason, "set_by": by, "set_at": stamp}
                for r in ramps
            ],
        )


def create_scenario(engine: Engine, spec: ScenarioSpec, by: Planner, as_of: date) -> int:
    """Allocate the spec and store it as a draft; returns the new scenario's id."""
    require_builder(by, "create a scenario")
    tree, rows, _ = compute(engine, spec, as_of)
    with engine.begin() as conn:
        ensure_tables(conn)
        sid = _next_id(conn, plan_scenario.c.id)
        conn.execute(
            plan_scenario.insert().values(
                id=sid,
                name=spec.name.strip(),
                period_start=spec.period.start,
                period_end=spec.period.end,
                root_id=tree.root,
                target_cents=spec.rules.target_cents,
                levels=rules_json.dumps(spec.rules.levels),
                ramp=spec.ramp.text(),
                status="draft",
                created_by=by.username,
                created_at=now(),
                as_of=as_of,
            )
        )
        _write_overrides(conn, sid, spec.rules.overrides, by.username)
        _write_seats(conn, sid, spec.seats, by.username)
        _write_ramps(conn, sid, spec.ramps, by.username)
        _write_allocation(conn, sid, rows)
    return sid


def scenario_row(conn: Engine | sa.Connection, sid: int) -> dict:
    found = read_frame(conn, sa.select(plan_scenario).where(plan_scenario.c.id == sid))
    if found.empty:
        raise PlanError(f"No scenario {sid}.")
    return found.iloc[0].to_dict()


def load_spec(conn: Engine | sa.Connection, sid: int) -> ScenarioSpec:
    row = scenario_row(conn, sid)
    o = read_frame(conn, sa.select(plan_override).where(plan_override.c.scenario_id == sid).order_by(plan_override.c.person_id))
    overrides = tuple(Override(int(p), int(c), str(r)) for p, c, r in o[["person_id", "cents", "reason"]].itertuples(index=False))
    rules = PlanRules(int(row["target_cents"]), rules_json.loads(row["levels"]), overrides)
    period = Period(pd.Timestamp(row["period_start"]).date(), pd.Timestamp(row["period_end"]).date())
    seats, ramps = _seats_and_ramps(conn, sid)
    return ScenarioSpec(str(row["name"]), period, rules, int(row["root_id"]), Ramp.parse(row["ramp"]), seats, ramps)


def _seats_and_ramps(conn: Engine | sa.Connection, sid: int) -> tuple[tuple[PlannedSeat, ...], tuple[RampOverride, ...]]:
    if not has_seat_tables(conn):
        return (), ()
    s = plan_seat.c
    found = read_frame(conn, sa.select(plan_seat).where(s.scenario_id == sid).order_by(s.seat_id))
    seats = tuple(
        PlannedSeat(
            int(r.seat_id),
            str(r.name),
            int(r.manager_id),
            pd.Timestamp(r.start_month).date(),
            None if pd.isna(r.segment_id) else int(r.segment_id),
            None if pd.isna(r.person_id) else int(r.person_id),
        )
        for r in found.itertuples(index=False)
    )
    r = plan_ramp.c
    own = read_frame(conn, sa.select(r.node, r.ramp, r.reason).where(r.scenario_id == sid).order_by(r.node))
    ramps = tuple(RampOverride(int(n), Ramp.parse(t), str(why)) for n, t, why in own.itertuples(index=False))
    return seats, ramps


def editable_spec(conn: Engine | sa.Connection, sid: int) -> ScenarioSpec:
    if scenario_row(conn, sid)["status"] == "published":
        raise PlanError(PUBLISHED)
    return load_spec(conn, sid)


def change_rules(engine: Engine, sid: int, rules: PlanRules, by: Planner, as_of: date) -> None:
    """New target, level rules or overrides for a draft: reallocated and stored, or nothing written."""
    change_spec(engine, sid, replace(editable_spec(engine, sid), rules=rules), by, as_of)


def change_spec(engine: Engine, sid: int, spec: ScenarioSpec, by: Planner, as_of: date) -> None:
    """Store a draft's new inputs (rules, overrides, seats, ramps) and its reallocation, or write nothing.
    Approvals of the scenario stay, and say they are stale where the subtree's values moved."""
    require_builder(by, "change a scenario")
    if scenario_row(engine, sid)["status"] == "published":
        raise PlanError(PUBLISHED)
    _, rows, _ = compute(engine, spec, as_of)
    rules = spec.rules
    with engine.begin() as conn:
        ensure_tables(conn)
        conn.execute(
            plan_scenario.update()
            .where(plan_scenario.c.id == sid)
            .values(target_cents=rules.target_cents, levels=rules_json.dumps(rules.levels), as_of=as_of)
        )
        _write_overrides(conn, sid, rules.overrides, by.username)
        _write_seats(conn, sid, spec.seats, by.username)
        _write_ramps(conn, sid, spec.ramps, by.username)
        _write_allocation(conn, sid, rows)


def set_override(engine: Engine, sid: int, override: Override, by: Planner, as_of: date) -> None:
    """Fix one person's value (with its reason); the rest of their level is redistributed by the method."""
    rules = editable_spec(engine, sid).rules
    kept = tuple(o for o in rules.overrides if o.person_id != override.person_id)
    change_rules(engine, sid, replace(rules, overrides=(*kept, override)), by, as_of)


def remove_override(engine: Engine, sid: int, person_id: int, by: Planner, as_of: date) -> None:
    rules = editable_spec(engine, sid).rules
    change_rules(engine, sid, replace(rules, overrides=tuple(o for o in rules.overrides if o.person_id != person_id)), by, as_of)


def copy_scenario(engine: Engine, sid: int, name: str, by: Planner) -> int:
    """A new draft with the same rules, overrides, allocation and bottom-up submissions (no approvals)."""
    require_builder(by, "copy a scenario")
    if not name.strip():
        raise PlanError("A scenario needs a name.")
    with engine.begin() as conn:
        ensure_tables(conn)
        row = scenario_row(conn, sid)
        new = _next_id(conn, plan_scenario.c.id)
        row.update(
            id=new,
            name=name.strip(),
            status="draft",
            copied_from=sid,
            created_by=by.username,
            created_at=now(),
            published_by=None,
            published_at=None,
        )
        conn.execute(plan_scenario.insert().values(**{k: (None if pd.isna(v) else v) for k, v in row.items()}))
        for table in (plan_override, plan_allocation, plan_submission, plan_seat, plan_ramp):
            columns = [c for c in table.c if c.name != "scenario_id"]
            source = sa.select(sa.literal(new).label("scenario_id"), *columns).where(table.c.scenario_id == sid)
            conn.execute(table.insert().from_select(["scenario_id", *(c.name for c in columns)], source))
    return new


def delete_scenario(engine: Engine, sid: int, by: Planner) -> None:
    require_builder(by, "delete a scenario")
    with engine.begin() as conn:
        editable_spec(conn, sid)
        ensure_tables(conn)
        for table in (plan_override, plan_allocation, plan_submission, plan_approval, plan_seat, plan_ramp):
            conn.execute(table.delete().where(table.c.scenario_id == sid))
        conn.execute(plan_scenario.delete().where(plan_scenario.c.id == sid))


def scenario_list(engine: Engine | sa.Connection) -> pd.DataFrame:
    """Every scenario, newest first (no per-person numbers: those are read with a scope)."""
    if not has_tables(engine):
        return pd.DataFrame(columns=[c.name for c in plan_scenario.c])
    return read_frame(engine, sa.select(plan_scenario).order_by(plan_scenario.c.id.desc()))


def allocation(engine: Engine | sa.Connection, sid: int, scope: Scope) -> pd.DataFrame:
    """The stored allocation rows the scope may see, with name, role, kind (team, rep or planned seat), amount
    (currency units) and, for reps and seats, start (hire date or the seat's start month), ramp (the schedule
    they ramp by) and ramped (their quota in the period after ramp; a team's is the sum of its own). The top
    rows of a limited scope say only that their value came from above. A planned seat is in view of whoever
    sees its manager's subtree, and of the person who filled it."""
    a, p = plan_allocation.c, person.c
    seats = has_seat_tables(engine)
    joined = plan_allocation.outerjoin(person, p.id == a.person_id)
    name, role, segment_id, start = p.name, p.role, p.segment_id, p.hire_date
    if seats:
        s = plan_seat.c
        joined = joined.outerjoin(plan_seat, sa.and_(s.scenario_id == a.scenario_id, -s.seat_id == a.person_id))
        name = sa.func.coalesce(p.name, s.name)
        role = sa.case((s.seat_id.is_not(None), SEAT), else_=p.role)
        segment_id = sa.func.coalesce(p.segment_id, s.segment_id)
        start = sa.func.coalesce(p.hire_date, s.start_month)
    stmt = (
        sa.select(plan_allocation, name.label("name"), role.label("role"), segment_id.label("segment_id"), start.label("start"))
        .select_from(joined)
        .where(a.scenario_id == sid, sa.or_(p.id.is_not(None), a.person_id < 0))
        .order_by(a.depth, a.parent_id, a.person_id)
    )
    ids = people_in_view(None, scope)
    if ids is not None:
        viewers = ids.cte("plan_viewers")
        seen = a.person_id.in_(sa.select(viewers.c.id))
        if seats:  # a filled seat is also the hire's own row (a published plan keeps the seat, not the person)
            seen = sa.or_(seen, plan_seat.c.person_id.in_(sa.select(viewers.c.id)))
        if seats and scope.include_subtree:
            seen = sa.or_(seen, plan_seat.c.manager_id.in_(sa.select(viewers.c.id)))
        stmt = stmt.where(seen)
    frame = read_frame(engine, stmt)
    if ids is not None:  # the trace of a row at the top of the scope quotes its parent's amount: not the viewer's to see
        frame.loc[~frame["parent_id"].isin(frame["person_id"]), "rule"] = ABOVE
    frame["amount"] = frame["cents"] / 100
    frame["kind"] = frame["role"].where(frame["role"].isin(["rep", SEAT]), "team")
    return _with_ramp(engine, sid, frame)


def _with_ramp(engine: Engine | sa.Connection, sid: int, frame: pd.DataFrame) -> pd.DataFrame:
    """Add ramp and ramped (see allocation): each rep's or seat's period of monthly quotas after ramp, summed
    up to the teams in view level by level (SPEC: quota × the ramp factor of the month of tenure)."""
    out = frame.assign(ramp="", ramped=0.0)
    carriers = out["kind"] != "team"
    if not len(out):
        return out
    spec = load_spec(engine, sid)
    own = spec.own_ramps()
    leaves = out.loc[carriers, ["person_id", "cents"]].assign(hire_date=out.loc[carriers, "start"])
    months = months_of(spec.period.start, spec.period.end)
    monthly = monthly_quotas(leaves, months, spec.ramp, own)
    texts, default = {node: r.text() for node, r in own.items()}, spec.ramp.text()
    out.loc[carriers, "ramp"] = [texts.get(int(n), default) for n in out.loc[carriers, "person_id"]]
    cents = monthly.groupby("person_id")["cents"].sum()
    out.loc[carriers, "ramped"] = out.loc[carriers, "person_id"].map(cents).astype(float) / 100
    for depth in sorted(out["depth"].unique(), reverse=True):
        below = out[out["depth"] == depth].groupby("parent_id")["ramped"].sum()
        teams = (out["depth"] == depth - 1) & ~carriers
        out.loc[teams, "ramped"] = out.loc[teams, "person_id"].map(below).fillna(0.0)
    return out


def compare(engine: Engine | sa.Connection, first: int, second: int, scope: Scope) -> pd.DataFrame:
    """Side by side per team (manager's subtree) and rep: both amounts and the difference (second − first);
    a person in only one scenario has no amount in the other."""
    left = allocation(engine, first, scope)[["person_id", "name", "kind", "depth", "cents"]]
    right = allocation(engine, second, scope)[["person_id", "name", "kind", "depth", "cents"]]
    both = left.merge(right, on=["person_id", "name", "kind", "depth"], how="outer", suffixes=("_first", "_second"))
    both["first"] = both["cents_first"] / 100
    both["second"] = both["cents_second"] / 100
    both["difference"] = (both["cents_second"].fillna(0) - both["cents_first"].fillna(0)) / 100
    return both.sort_values(["depth", "person_id"]).drop(columns=["cents_first", "cents_second"]).reset_index(drop=True)
