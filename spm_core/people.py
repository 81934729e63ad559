"""Who is in view: the viewer's scope and the people filters, as one SQL predicate on person ids.

Every fact (deals, quotas, activities) belongs to a person, so this single predicate is what makes
row-level security and the team/segment/region/manager/rep filters apply to every query.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from .filters import Filters, Scope
from .schema import person

MAX_DEPTH = 64  # levels below a root: deeper manager chains are taken as a loop in bad data


def subtree_ids(roots: Iterable[int], name: str = "subtree") -> sa.Select:
    """Ids of the roots and everyone below them, down to MAX_DEPTH levels. UNION ALL with a depth
    counter, not UNION: Spark, Snowflake, BigQuery and Trino accept only UNION ALL in a recursive CTE,
    and the counter still stops a manager loop in bad data (a loop repeats ids, which IN ignores)."""
    root = person.alias(f"{name}_root")
    anchor = sa.select(root.c.id, sa.literal(0, sa.Integer).label("depth")).where(root.c.id.in_(sorted(roots)))
    tree = anchor.cte(name, recursive=True)
    child = person.alias(f"{name}_child")
    below = sa.select(child.c.id, (tree.c.depth + 1).label("depth")).join(tree, child.c.manager_id == tree.c.id)
    tree = tree.union_all(below.where(tree.c.depth < MAX_DEPTH))
    return sa.select(tree.c.id)


def people_in_view(filters: Filters | None, scope: Scope) -> sa.Select | None:
    """A select of the ids of the people in scope and passing the people filters, or None when nothing
    limits them (everyone in view, no people filter). Build it once per statement: its CTEs must
    not be duplicated. The scope is never optional: a caller who forgot it must not get everyone."""
    if not isinstance(scope, Scope):
        raise TypeError(f"scope must be a Scope (Scope.everyone() for everyone), not {scope!r}")
    if scope.is_everyone and (filters is None or not filters.people_filtered):
        return None
    p = person.alias("in_view")  # an alias, so the subquery never correlates with an outer person
    conditions: list[sa.ColumnElement] = []
    if not scope.is_everyone:
        ids = sorted(scope.person_ids or ())
        conditions.append(p.c.id.in_(subtree_ids(ids, "scope_tree")) if scope.include_subtree else p.c.id.in_(ids))
    if filters is not None:
        conditions += [
            column.in_(sorted(values))
            for column, values in (
                (p.c.team_id, filters.teams),
                (p.c.segment_id, filters.segments),
                (p.c.region_id, filters.regions),
                (p.c.id, filters.reps),
            )
            if values
        ]
        if filters.managers:
            conditions.append(p.c.id.in_(subtree_ids(filters.managers, "manager_tree")))
    return sa.select(p.c.id).where(*conditions)


def visible_people(filters: Filters | None, scope: Scope) -> sa.Select:
    """The person rows in view (id, name, role, team, manager, segment, region, hire date)."""
    ids = people_in_view(filters, scope)
    stmt = sa.select(person).order_by(person.c.name)
    return stmt if ids is None else stmt.where(person.c.id.in_(ids))
