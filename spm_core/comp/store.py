"""Saving and loading plan versions, with the checks that need the warehouse.

A saved version's rules are never edited (results cite it): a change is a new version with its own
dates. A higher version starting inside the latest one supersedes it: the old version and its running
assignments end the day before, and, when the new version names no assignments, its people carry over.
A person has one plan at a time, across all plans, so assignments are checked against every stored one.
"""

from __future__ import annotations

import getpass
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..schema import person, product, segment
from .audit import record
from .lines import FAR
from .plans import Assignment, Band, Component, DealCriteria, Plan, PlanError, Qualifier, span_text, validate
from .schema import comp_assignment, comp_component, comp_plan, comp_plan_version, comp_rate_band, ensure_schema


def _next_id(conn: sa.Connection, table: sa.Table) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one()) + 1


def _version_problems(conn: sa.Connection, plan: Plan) -> tuple[list[str], list[int]]:
    """Problems with the plan's other versions, and the ids of the versions the new one supersedes: a
    higher version starting inside the latest one ends it the day before (effective dating)."""
    v, p = comp_plan_version.c, comp_plan.c
    versions = conn.execute(
        sa.select(v.id, v.version, v.effective_from, v.effective_to).join_from(comp_plan_version, comp_plan, p.id == v.plan_id)
        .where(p.name == plan.name).order_by(v.version)
    ).all()
    problems, superseded = [], []
    for row in versions:
        if row.version == plan.version:
            problems.append(f"{plan.name!r} version {row.version} is already saved; a change is a new version")
        elif row.effective_from <= (plan.effective_to or FAR) and plan.effective_from <= (row.effective_to or FAR):
            if row is versions[-1] and plan.version > row.version and plan.effective_from > row.effective_from:
                superseded.append(row.id)
            else:
                problems.append(
                    f"{plan.name!r} version {row.version} ({span_text(row.effective_from, row.effective_to)}) overlaps this "
                    f"version ({span_text(plan.effective_from, plan.effective_to)}); start it after {row.effective_from}"
                )
    return problems, superseded


def _supersede(conn: sa.Connection, version_id: int, start: date) -> tuple[Assignment, ...]:
    """End the version and its assignments the day before `start`; the people it carried, from `start`."""
    day_before = start - timedelta(days=1)
    a = comp_assignment.c
    running = conn.execute(
        sa.select(a.id, a.person_id, a.effective_to)
        .where(a.plan_version_id == version_id, sa.func.coalesce(a.effective_to, FAR) >= start, a.effective_from < start)
    ).all()
    conn.execute(comp_plan_version.update().where(comp_plan_version.c.id == version_id).values(effective_to=day_before))
    if running:
        conn.execute(comp_assignment.update().where(a.id.in_([r.id for r in running])).values(effective_to=day_before))
    return tuple(Assignment(r.person_id, start, r.effective_to) for r in running)


def _reference_problems(conn: sa.Connection, plan: Plan) -> list[str]:
    """A SPIFF's product and segment must name ones the warehouse has (a typo would match no deal)."""
    problems = []
    for c in plan.components:
        for label, table, value in (("product", product, c.deals and c.deals.product), ("segment", segment, c.deals and c.deals.segment)):
            if value and conn.execute(sa.select(table.c.id).where(table.c.name == value)).first() is None:
                known = conn.execute(sa.select(table.c.name).order_by(table.c.name)).scalars().all()
                problems.append(f"component {c.name!r}: no {label} named {value!r}; known: {', '.join(known) or 'none'}")
    return problems


def _assignment_problems(conn: sa.Connection, plan: Plan) -> list[str]:
    """Unknown people, and people already on a plan for part of an assignment's dates (one query each)."""
    ids = sorted({a.person_id for a in plan.assignments})
    if not ids:
        return []
    known = set(conn.execute(sa.select(person.c.id).where(person.c.id.in_(ids))).scalars())
    problems = [f"assignment: person {pid} does not exist" for pid in ids if pid not in known]
    a, v, p = comp_assignment.c, comp_plan_version.c, comp_plan.c
    stored: dict[int, list] = {}
    for row in conn.execute(
        sa.select(a.person_id, a.effective_from, a.effective_to, p.name, v.version)
        .join_from(comp_assignment, comp_plan_version, v.id == a.plan_version_id)
        .join(comp_plan, p.id == v.plan_id)
        .where(a.person_id.in_(ids))
        .order_by(a.person_id, a.effective_from)
    ):
        stored.setdefault(row.person_id, []).append(row)
    for new in plan.assignments:
        clash = next((r for r in stored.get(new.person_id, []) if r.effective_from <= (new.end or FAR) and (r.effective_to or FAR) >= new.start), None)
        if clash:
            problems.append(
                f"person {new.person_id} already has {clash.name!r} v{clash.version} "
                f"{span_text(clash.effective_from, clash.effective_to)}, overlapping {span_text(new.start, new.end)}"
            )
    return problems


def save_plan(engine: Engine, plan: Plan, saved_by: str | None = None) -> int:
    """Check and store one plan version with its components, bands and assignments; its id."""
    problems = validate(plan)
    if problems:
        raise PlanError(problems)
    ensure_schema(engine)
    with engine.begin() as conn:
        return save_plan_in(conn, plan, saved_by)


def save_plan_in(conn: sa.Connection, plan: Plan, saved_by: str | None = None) -> int:
    """save_plan() inside the caller's transaction, after validate(plan) passed, with its audit entries
    (the version, and each assignment). Raising leaves the transaction to be rolled back by the caller
    (save_plan's engine.begin() does)."""
    problems, superseded = _version_problems(conn, plan)
    carried: tuple[Assignment, ...] = ()
    for version_id in [] if problems else superseded:
        carried += _supersede(conn, version_id, plan.effective_from)
    if carried and not plan.assignments:
        end = plan.effective_to
        plan = replace(plan, assignments=tuple(
            Assignment(a.person_id, a.start, a.end if end is None or (a.end is not None and a.end < end) else end)
            for a in carried if end is None or a.start <= end
        ))
    problems += _assignment_problems(conn, plan) + _reference_problems(conn, plan)
    if problems:
        raise PlanError(problems)
    plan_id = conn.execute(sa.select(comp_plan.c.id).where(comp_plan.c.name == plan.name)).scalar()
    if plan_id is None:
        plan_id = _next_id(conn, comp_plan)
        conn.execute(comp_plan.insert(), {"id": plan_id, "name": plan.name})
    version_id = _next_id(conn, comp_plan_version)
    conn.execute(
        comp_plan_version.insert(),
        {"id": version_id, "plan_id": plan_id, "version": plan.version, "effective_from": plan.effective_from,
         "effective_to": plan.effective_to, "description": plan.description, "saved_at": datetime.now(),
         "year_start_month": plan.year_start_month},
    )
    component_id = _next_id(conn, comp_component)
    for position, c in enumerate(plan.components, 1):
        conn.execute(comp_component.insert(), _component_row(component_id, version_id, position, c))
        if c.bands:
            conn.execute(
                comp_rate_band.insert(),
                [{"component_id": component_id, "position": i, "lower": b.lower, "upper": b.upper, "rate": b.rate}
                 for i, b in enumerate(sorted(c.bands, key=lambda b: b.lower), 1)],
            )
        component_id += 1
    if plan.assignments:
        first = _next_id(conn, comp_assignment)
        conn.execute(
            comp_assignment.insert(),
            [{"id": first + i, "person_id": a.person_id, "plan_version_id": version_id, "effective_from": a.start,
              "effective_to": a.end} for i, a in enumerate(plan.assignments)],
        )
    actor = saved_by or getpass.getuser()
    record(conn, actor, "plan saved", f"{plan.name} v{plan.version} ({span_text(plan.effective_from, plan.effective_to)}), "
           f"{len(plan.components)} component(s)")
    for a in plan.assignments:
        record(conn, actor, "assignment", f"{plan.name} v{plan.version} {span_text(a.start, a.end)}", person_id=a.person_id)
    return version_id


def _component_row(component_id: int, version_id: int, position: int, c: Component) -> dict:
    return {
        "id": component_id, "plan_version_id": version_id, "position": position, "name": c.name, "kind": c.kind,
        "measure": c.measure, "mode": c.mode, "gate": c.gate,
        "qualifier_kpi": c.qualifier.kpi if c.qualifier else None, "qualifier_min": c.qualifier.at_least if c.qualifier else None,
        "cap_deal": c.cap_deal, "cap_period": c.cap_period, "cap_year": c.cap_year, "bonus_at": c.bonus_at,
        "amount": c.amount, "rate": c.rate, "clawback_days": c.clawback_days,
        "draw_monthly": c.draw_monthly, "recoverable": c.recoverable if c.kind == "draw" else None,
        "window_from": c.window_from, "window_to": c.window_to,
        "deal_product": c.deals.product if c.deals else None, "deal_segment": c.deals.segment if c.deals else None,
        "deal_type": c.deals.type if c.deals else None, "deal_min_amount": c.deals.min_amount if c.deals else None,
        "target": c.target, "capped": c.capped, "bonus_per": c.per if c.kind == "bonus" else None,
    }


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(value).normalize()


def load_plans(engine: Engine, name: str | None = None) -> list[Plan]:
    """Stored plan versions (all, or one plan's), ordered by name and version, as saved."""
    v, p, c, b, a = comp_plan_version, comp_plan, comp_component, comp_rate_band, comp_assignment
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table(v.name):
            return []
        stmt = sa.select(v, p.c.name).join(p, p.c.id == v.c.plan_id).order_by(p.c.name, v.c.version)
        versions = conn.execute(stmt.where(p.c.name == name) if name else stmt).all()
        plans = []
        for ver in versions:
            comps = conn.execute(sa.select(c).where(c.c.plan_version_id == ver.id).order_by(c.c.position)).all()
            components = []
            for row in comps:
                bands = conn.execute(sa.select(b).where(b.c.component_id == row.id).order_by(b.c.position)).all()
                components.append(Component(
                    name=row.name, kind=row.kind, measure=row.measure, mode=row.mode,
                    bands=tuple(Band(_dec(x.lower), _dec(x.upper), _dec(x.rate)) for x in bands),
                    gate=_dec(row.gate),
                    qualifier=Qualifier(row.qualifier_kpi, _dec(row.qualifier_min)) if row.qualifier_kpi else None,
                    cap_deal=_dec(row.cap_deal), cap_period=_dec(row.cap_period), cap_year=_dec(row.cap_year),
                    bonus_at=_dec(row.bonus_at), amount=_dec(row.amount), rate=_dec(row.rate),
                    clawback_days=row.clawback_days, draw_monthly=_dec(row.draw_monthly),
                    recoverable=True if row.recoverable is None else row.recoverable,
                    window_from=row.window_from, window_to=row.window_to, target=_dec(row.target), capped=bool(row.capped),
                    per=row.bonus_per or "period",
                    deals=DealCriteria(row.deal_product, row.deal_segment, row.deal_type, _dec(row.deal_min_amount))
                    if any(x is not None for x in (row.deal_product, row.deal_segment, row.deal_type,
                                                                           row.deal_min_amount)) else None,
                ))
            assigned = conn.execute(sa.select(a).where(a.c.plan_version_id == ver.id).order_by(a.c.id)).all()
            plans.append(Plan(
                name=ver.name, version=ver.version, effective_from=ver.effective_from, effective_to=ver.effective_to,
                description=ver.description or "", year_start_month=ver.year_start_month or 1, components=tuple(components),
                assignments=tuple(Assignment(x.person_id, x.effective_from, x.effective_to) for x in assigned),
            ))
    return plans
