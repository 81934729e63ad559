"""Planned seats (open headcount, "TBH") and ramps of their own, as Anaplan and Xactly plan them: a seat is a
rep-to-be under a manager with a start month and a segment. It takes a share of its manager's number like a
rep (in weighted levels as the average rep of its segment), ramps from its start month, counts in capacity,
and is carried to the real person when hired:

- in a draft, the person takes the seat's place: the seat's override and ramp become theirs;
- in a published plan, the seat's quota is written for the person (ramped from their hire date, SPEC), with
  history, and the seat says who filled it. Until then a published seat stays a seat: no person, no sign-in,
  no quota row (Quota attainment counts the quotas of people only).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..db import read_frame
from ..filters import Scope
from ..people import people_in_view
from ..schema import person, plan_seat, segment
from .compute import check_open
from .model import PlanError, PlannedSeat, RampOverride
from .publish import replace_quotas
from .ramp import monthly_quotas, months_of
from .rights import Planner, require_publisher
from .scenarios import allocation, change_spec, editable_spec, has_seat_tables, load_spec, scenario_row
from .tree import build_tree, leaves, people


def add_seat(
    engine: Engine, sid: int, name: str, manager_id: int, start: date, segment_id: int | None, by: Planner, as_of: date
) -> int:
    """Add a planned seat to a draft (blank name: "TBH n"); returns its number. Reallocates, or writes nothing."""
    spec = editable_spec(engine, sid)
    number = max((s.seat_id for s in spec.seats), default=0) + 1
    seat = PlannedSeat(number, name.strip() or f"TBH {number}", manager_id, start, segment_id)
    if seat.start > spec.period.end:
        raise PlanError(f"{seat.name} starts after the plan's last month: it would carry no quota in this plan.")
    change_spec(engine, sid, replace(spec, seats=(*spec.seats, seat)), by, as_of)
    return number


def remove_seat(engine: Engine, sid: int, seat_id: int, by: Planner, as_of: date) -> None:
    """Take an open seat out of a draft, with its override and ramp."""
    spec = editable_spec(engine, sid)
    seat = _seat(spec.seats, seat_id)
    if seat.person_id is not None:
        raise PlanError(f"{seat.name} is filled: the person in it is a rep of the plan now.")
    rules = replace(spec.rules, overrides=tuple(o for o in spec.rules.overrides if o.person_id != seat.node))
    change_spec(
        engine,
        sid,
        replace(
            spec,
            rules=rules,
            seats=tuple(s for s in spec.seats if s.seat_id != seat_id),
            ramps=tuple(r for r in spec.ramps if r.node != seat.node),
        ),
        by,
        as_of,
    )


def set_ramp(engine: Engine, sid: int, own: RampOverride, by: Planner, as_of: date) -> None:
    """Give one rep or seat of a draft a schedule of their own (replacing an earlier one)."""
    spec = editable_spec(engine, sid)
    kept = tuple(r for r in spec.ramps if r.node != own.node)
    change_spec(engine, sid, replace(spec, ramps=(*kept, own)), by, as_of)


def remove_ramp(engine: Engine, sid: int, node: int, by: Planner, as_of: date) -> None:
    spec = editable_spec(engine, sid)
    change_spec(engine, sid, replace(spec, ramps=tuple(r for r in spec.ramps if r.node != node)), by, as_of)


def fill_seat(engine: Engine, sid: int, seat_id: int, person_id: int, by: Planner, as_of: date) -> str:
    """Carry a seat to the person hired for it (see the module's rule); returns what was done, for the page.
    The person must be an active rep reporting up to the top of the plan, in no other seat of it."""
    spec = load_spec(engine, sid)
    seat = _seat(spec.seats, seat_id)
    if seat.person_id is not None:
        raise PlanError(f"{seat.name} is already filled.")
    frame = people(engine)
    others = tuple(s for s in spec.open_seats if s.seat_id != seat_id)
    if person_id not in leaves(build_tree(frame, int(spec.root_id), others)):
        raise PlanError(f"Person {person_id} is not an active rep under the top of this plan: import the hire first.")
    filled = replace(spec, seats=tuple(replace(s, person_id=person_id) if s.seat_id == seat_id else s for s in spec.seats))
    name = frame.set_index("id")["name"].get(person_id, str(person_id))
    if scenario_row(engine, sid)["status"] != "published":
        change_spec(engine, sid, filled, by, as_of)
        return f"{name} fills {seat.name}: the seat's place, override and ramp are theirs now."
    require_publisher(by, "fill a seat of a published plan (it writes quotas)")
    check_open(spec.period, as_of)
    rows = allocation(engine, sid, Scope.everyone())
    if person_id in set(rows["person_id"].astype(int)):
        raise PlanError(f"{name} already has a quota from this plan.")
    hire = frame.set_index("id")["hire_date"].get(person_id)
    leaf = pd.DataFrame(
        {
            "person_id": [person_id],
            "cents": [int(rows.loc[rows["person_id"] == seat.node, "cents"].iloc[0])],
            "hire_date": [seat.start if pd.isna(hire) else pd.Timestamp(hire).date()],
        }
    )
    ramp = spec.own_ramps().get(seat.node, spec.ramp)
    monthly = monthly_quotas(leaf, months_of(spec.period.start, spec.period.end), ramp)
    with engine.begin() as conn:
        written, stamp = replace_quotas(conn, monthly[monthly["tenure"] >= 1], [person_id], spec.period, sid, by.username)
        s = plan_seat.c
        conn.execute(
            plan_seat.update()
            .where(s.scenario_id == sid, s.seat_id == seat_id)
            .values(person_id=person_id, filled_by=by.username, filled_at=stamp)
        )
    return f"{name} fills {seat.name}: {written} monthly quotas written from the published plan."


def _seat(seats: tuple[PlannedSeat, ...], seat_id: int) -> PlannedSeat:
    found = [s for s in seats if s.seat_id == seat_id]
    if not found:
        raise PlanError(f"No planned seat {seat_id} in this scenario.")
    return found[0]


def seat_list(engine: Engine | sa.Connection, sid: int, scope: Scope) -> pd.DataFrame:
    """The scenario's planned seats the scope may see (those under a manager whose subtree it sees): seat_id,
    node, name, manager, segment, start, ramp, amount and ramped (the seat's, or once filled in a draft the
    person's), status (open, or filled by whom)."""
    columns = [
        "seat_id",
        "node",
        "name",
        "manager",
        "segment",
        "start",
        "ramp",
        "amount",
        "ramped",
        "status",
        "filled_by",
        "filled_at",
    ]
    if not has_seat_tables(engine) or not (scope.is_everyone or scope.include_subtree):
        return pd.DataFrame(columns=columns)
    s, manager, filler = plan_seat.c, person.alias("manager"), person.alias("filler")
    stmt = (
        sa.select(
            s.seat_id,
            s.name,
            manager.c.name.label("manager"),
            segment.c.name.label("segment"),
            s.start_month.label("start"),
            s.person_id,
            filler.c.name.label("filler"),
            s.filled_by,
            s.filled_at,
        )
        .select_from(
            plan_seat.outerjoin(manager, manager.c.id == s.manager_id)
            .outerjoin(segment, segment.c.id == s.segment_id)
            .outerjoin(filler, filler.c.id == s.person_id)
        )
        .where(s.scenario_id == sid)
        .order_by(s.seat_id)
    )
    ids = people_in_view(None, scope)
    if ids is not None:
        stmt = stmt.where(s.manager_id.in_(ids))
    seats = read_frame(engine, stmt)
    rows = allocation(engine, sid, scope).set_index("person_id")
    seats["node"] = -seats["seat_id"].astype(int)
    held = [n if n in rows.index else p for n, p in zip(seats["node"], seats["person_id"], strict=True)]
    for column in ("ramp", "amount", "ramped"):
        seats[column] = [rows[column].get(k) if not pd.isna(k) else None for k in held]
    seats["status"] = [
        "open" if pd.isna(p) else f"filled by {f}" for p, f in zip(seats["person_id"], seats["filler"], strict=True)
    ]
    return seats[columns]


def candidates(engine: Engine | sa.Connection, sid: int, scope: Scope) -> pd.DataFrame:
    """Who the scope may put in a seat: active reps under the top of the plan, in view, in no seat of it and,
    once published, without a quota from it; newest hires first (id, name, hire_date)."""
    spec = load_spec(engine, sid)
    frame = people(engine)
    reps = set(leaves(build_tree(frame, int(spec.root_id)))) - {s.person_id for s in spec.seats}
    if scenario_row(engine, sid)["status"] == "published":
        reps -= set(allocation(engine, sid, Scope.everyone())["person_id"].astype(int))
    ids = people_in_view(None, scope)
    if ids is not None:
        reps &= set(read_frame(engine, ids)["id"].astype(int))
    out = frame[frame["id"].isin(reps)].sort_values(["hire_date", "id"], ascending=[False, True], na_position="last")
    return out[["id", "name", "hire_date"]].reset_index(drop=True)
