"""What a draft plan would have paid: the engine run on a period inside a transaction that is rolled
back, so an admin sees the payout per person before saving, and nothing is written.

The draft applies to the whole period for its assignees: the people its assignments name, or, when it
names none, the people on a stored plan of the same name during the period (a new version's preview).
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..filters import Period, Scope
from ..people import people_in_view
from ..schema import person
from .engine import calculate_in
from .lines import FAR
from .plans import Assignment, Plan
from .schema import comp_assignment, comp_line, comp_plan, comp_plan_version, ensure_schema
from .store import save_plan_in

PREVIEW_SUFFIX = " (preview)"


def _assignees(conn: sa.Connection, plan: Plan, period: Period) -> list[int]:
    if plan.assignments:
        return sorted({a.person_id for a in plan.assignments})
    a, v, p = comp_assignment.c, comp_plan_version.c, comp_plan.c
    return sorted(conn.execute(
        sa.select(a.person_id).distinct()
        .join_from(comp_assignment, comp_plan_version, v.id == a.plan_version_id)
        .join(comp_plan, p.id == v.plan_id)
        .where(p.name == plan.name, a.effective_from <= period.end, sa.func.coalesce(a.effective_to, FAR) >= period.start)
    ).scalars())


def _totals(conn: sa.Connection, period: Period, people: list[int]) -> dict[int, object]:
    c = comp_line.c
    rows = conn.execute(
        sa.select(c.person_id, sa.func.sum(c.amount))
        .where(c.period_start == period.start, c.period_end == period.end, c.person_id.in_(people))
        .group_by(c.person_id)
    )
    return dict(rows.all())


def preview(engine: Engine, plan: Plan, period: Period, scope: Scope) -> pd.DataFrame:
    """Per assignee in the viewer's scope: person_id, person, now (the period's stored total, if it was
    calculated) and draft (the total under the draft). Writes nothing."""
    ensure_schema(engine)
    with engine.connect() as conn:
        try:  # everything below runs in the connection's one transaction, rolled back at the end
            visible = people_in_view(None, scope)
            people = _assignees(conn, plan, period)
            if visible is not None and people:
                people = sorted(set(people) & set(conn.execute(visible).scalars()))
            if not people:
                return pd.DataFrame(columns=["person_id", "person", "now", "draft"])
            names = dict(conn.execute(sa.select(person.c.id, person.c.name).where(person.c.id.in_(people))).all())
            now = _totals(conn, period, people)
            conn.execute(comp_assignment.delete().where(comp_assignment.c.person_id.in_(people)))
            draft = replace(
                plan, name=plan.name + PREVIEW_SUFFIX, version=1, effective_from=period.start, effective_to=None,
                assignments=tuple(Assignment(pid, period.start) for pid in people),
            )
            save_plan_in(conn, draft)
            calculate_in(conn, period, run_by="preview", what_if=True)
            drafted = _totals(conn, period, people)
        finally:
            conn.rollback()
    return pd.DataFrame(
        {"person_id": people, "person": [names.get(p) for p in people], "now": [now.get(p) for p in people],
         "draft": [drafted.get(p, 0) for p in people]}
    )
