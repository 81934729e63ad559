"""Steps 7-8: bonuses and manager overrides, from the plan in force on the period's last day.

Both are added after the caps and are not subject to them (SPEC; rules.py counts a `capped: true` bonus
inside the commission's caps). A bonus pays a fixed amount when the person's attainment (all their
credited bookings over their quota) reaches its level: the period's, or for `per: year` the plan year's
so far (its first day to the period's last) over the whole plan year's quota, paid once in the plan year,
in the first period that reaches it. An override pays the manager a rate on the credited bookings of
each person below them, one line per person.
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from ..filters import Period
from ..people import MAX_DEPTH
from ..schema import person
from .crediting import cents, credits, edge, percent_of, quotas
from .lines import FAR, Run, line, ratio
from .schema import comp_assignment, comp_component, comp_line, comp_plan_version


def in_force(run: Run, kind: str) -> sa.Subquery:
    """(person_id, plan_version_id, component) of the given kind in force on the period's last day."""
    a, k = comp_assignment.c, comp_component.c
    day = run.period.end
    stmt = (
        sa.select(a.person_id, a.plan_version_id, k.id.label("component_id"), k.name.label("component"),
                  k.bonus_at, k.amount, k.rate, k.draw_monthly, k.recoverable, sa.func.coalesce(k.bonus_per, "period").label("per"),
                  sa.func.coalesce(comp_plan_version.c.year_start_month, 1).label("year_start_month"))
        .join_from(comp_assignment, comp_component, k.plan_version_id == a.plan_version_id)
        .join(comp_plan_version, comp_plan_version.c.id == a.plan_version_id)
        .where(k.kind == kind, a.effective_from <= day, sa.func.coalesce(a.effective_to, FAR) >= day)
    )
    return (stmt if run.person_id is None else stmt.where(a.person_id == run.person_id)).subquery(kind)


def _booked(run: Run, period: Period | None = None) -> sa.Subquery:
    c = credits(period or run.period).subquery("credit")
    return sa.select(c.c.person_id, sa.func.sum(c.c.credited).label("total")).group_by(c.c.person_id).subquery("booked")


def plan_year(day: date, start_month: int) -> Period:
    """The plan year (starting on the 1st of `start_month`) that contains `day`."""
    first = date(day.year if day.month >= start_month else day.year - 1, start_month, 1)
    return Period(first, first.replace(year=first.year + 1) - timedelta(days=1))


def bonus_lines(run: Run) -> sa.Select:
    """Bonuses on the period's attainment."""
    b, t, q = in_force(run, "bonus"), _booked(run), quotas(run.period).subquery("person_quota")
    return _bonus(run, b, t, q).where(b.c.per == "period")


def year_bonus_lines(run: Run, start_month: int) -> sa.Select:
    """Annual bonuses of plans whose year starts in `start_month`: the plan year's bookings so far over
    its whole quota, paid once (not if an earlier period of the plan year paid it)."""
    year = plan_year(run.period.start, start_month)
    b, t, q = in_force(run, "bonus"), _booked(run, Period(year.start, run.period.end)), quotas(year).subquery("year_quota")
    c = comp_line.c
    paid = sa.exists().where(c.rule == "bonus", c.person_id == b.c.person_id, c.component == b.c.component,
                             c.period_start >= year.start, c.period_end < run.period.start)
    return _bonus(run, b, t, q).where(b.c.per == "year", b.c.year_start_month == start_month, ~paid)


def _bonus(run: Run, b: sa.Subquery, t: sa.Subquery, q: sa.Subquery) -> sa.Select:
    return (
        sa.select(*line(
            run, "bonus",
            person_id=b.c.person_id, plan_version_id=b.c.plan_version_id, component_id=b.c.component_id,
            component=b.c.component, credited=t.c.total, quota=q.c.quota, attainment_after=ratio(t.c.total, q.c.quota),
            threshold=b.c.bonus_at, amount=b.c.amount,
        ))
        .select_from(b)
        .join(t, t.c.person_id == b.c.person_id)
        .join(q, q.c.person_id == b.c.person_id)
        .where(q.c.quota > 0, t.c.total >= edge(q.c.quota, b.c.bonus_at))
    )


def _below(managers: sa.Subquery) -> sa.Subquery:
    """(manager, person) for every person anywhere below each manager, once each. UNION ALL with a depth
    counter (as people.subtree_ids), which every warehouse accepts in a recursive CTE and which stops a
    loop in bad data; DISTINCT drops the pairs such a loop repeats, so no override is paid twice."""
    child = person.alias("child")
    tree = (
        sa.select(managers.c.person_id.label("manager_id"), child.c.id.label("member_id"), sa.literal(1, sa.Integer).label("depth"))
        .join_from(managers, child, child.c.manager_id == managers.c.person_id)
        .cte("below_tree", recursive=True)
    )
    deeper = person.alias("deeper")
    tree = tree.union_all(
        sa.select(tree.c.manager_id, deeper.c.id, (tree.c.depth + 1).label("depth"))
        .join_from(tree, deeper, deeper.c.manager_id == tree.c.member_id)
        .where(tree.c.depth < MAX_DEPTH)
    )
    return sa.select(tree.c.manager_id, tree.c.member_id).distinct().subquery("below")


def override_lines(run: Run) -> sa.Select:
    o, t = in_force(run, "override"), _booked(run)
    below = _below(o)
    return (
        sa.select(*line(
            run, "override",
            person_id=o.c.person_id, plan_version_id=o.c.plan_version_id, component_id=o.c.component_id,
            component=o.c.component, from_person_id=below.c.member_id, credited=t.c.total, base=t.c.total,
            rate=o.c.rate, amount=cents(percent_of(t.c.total, o.c.rate)),
        ))
        .select_from(o)
        .join(below, below.c.manager_id == o.c.person_id)
        .join(t, t.c.person_id == below.c.member_id)
        .where(below.c.member_id != o.c.person_id)
    )
