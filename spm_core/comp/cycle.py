"""A period's pay cycle: open -> calculated -> approved -> locked -> paid, and the two-level approval of
each person's statement (their manager, then a comp admin) that moves a period to approved.

SPEC: an approved, locked or paid period is never rewritten (CLOSED); a calculation of it posts the
differences in the next open period instead (adjustments.py). A statement's status is its latest
decision: none -> awaiting manager (their manager, or a leader); manager approved -> awaiting comp admin; comp admin approved ->
approved; sent back (either level) -> sent back, and the approvals start again at the manager.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from ..filters import Period
from ..people import people_in_view
from ..schema import person
from .audit import Actor, CompError, next_id, record
from .draws import months
from .lines import ADJUSTMENT_RULES
from .periods import period_label
from .schema import comp_approval, comp_line, comp_period, comp_setting

STATES = ("open", "calculated", "approved", "locked", "paid")
CLOSED = ("approved", "locked", "paid")
LEVELS = ("manager", "comp_admin")
MANAGER_LEVEL_ROLES = ("manager", "leader")  # a leader stands above everyone: the approver of the VPs below them
AUTO = "auto-approve"
AUTO_APPROVE_KEY = "auto_approve_below"


def state(conn: sa.Connection, period: Period) -> str:
    p = comp_period.c
    found = conn.execute(sa.select(p.state).where(p.period_start == period.start, p.period_end == period.end)).scalar()
    return found or "open"


def _set_state(conn: sa.Connection, period: Period, new: str, actor: str) -> None:
    p = comp_period.c
    conn.execute(comp_period.delete().where(p.period_start == period.start, p.period_end == period.end))
    conn.execute(comp_period.insert(), {"period_start": period.start, "period_end": period.end, "state": new,
                                        "changed_at": datetime.now(), "changed_by": actor})


def add_months(day: date, count: int) -> date:
    index = day.year * 12 + day.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def next_open(conn: sa.Connection, period: Period) -> Period:
    """The first period of the same length after `period` that is not closed."""
    span = months(period)
    current = period
    while True:
        start = current.end + timedelta(days=1)
        current = Period(start, add_months(start, span) - timedelta(days=1))
        if state(conn, current) not in CLOSED:
            return current


def auto_approve_below(conn: sa.Connection) -> Decimal | None:
    value = conn.execute(sa.select(comp_setting.c.value).where(comp_setting.c.key == AUTO_APPROVE_KEY)).scalar()
    return None if value is None else Decimal(value)


def set_auto_approve_below(conn: sa.Connection, actor: Actor, amount: Decimal | None) -> None:
    """Statements whose total is under `amount` skip both levels at calculation (None: never)."""
    _require_comp_admin(actor, "set the auto-approval threshold")
    if amount is not None and amount < 0:
        raise CompError("The auto-approval threshold is an amount of 0 or more.")
    conn.execute(comp_setting.delete().where(comp_setting.c.key == AUTO_APPROVE_KEY))
    if amount is not None:
        conn.execute(comp_setting.insert(), {"key": AUTO_APPROVE_KEY, "value": str(amount)})
    record(conn, actor.username, "setting", f"auto-approve statements under {amount}" if amount is not None else "auto-approve off")


def _require_comp_admin(actor: Actor, what: str) -> None:
    if not actor.is_comp_admin:
        raise CompError(f"Only a comp admin may {what}.")


def _period_people(conn: sa.Connection, period: Period) -> sa.Select:
    c = comp_line.c
    return sa.select(c.person_id).where(c.period_start == period.start, c.period_end == period.end).distinct()


def _latest() -> sa.Subquery:
    """Per period and person, the latest decision."""
    a = comp_approval.c
    ranked = sa.select(
        a.period_start, a.period_end, a.person_id, a.level, a.decision, a.comment, a.decided_by, a.decided_at,
        sa.func.row_number().over(partition_by=(a.period_start, a.period_end, a.person_id), order_by=a.id.desc()).label("n"),
    ).subquery("ranked")
    return sa.select(ranked).where(ranked.c.n == 1).subquery("latest")


def status_expr(latest: sa.Subquery) -> sa.ColumnElement:
    return sa.case(
        (latest.c.decision == "sent_back", "sent back"),
        (latest.c.level == "comp_admin", "approved"),
        (latest.c.level == "manager", "awaiting comp admin"),
        else_="awaiting manager",
    )


def statuses(conn: sa.Connection, period: Period) -> dict[int, tuple[str, str | None]]:
    """person id -> (status, the latest comment) for everyone with lines in the period."""
    latest = _latest()
    people = _period_people(conn, period).subquery("people")
    rows = conn.execute(
        sa.select(people.c.person_id, status_expr(latest), latest.c.comment)
        .select_from(people)
        .outerjoin(latest, sa.and_(latest.c.person_id == people.c.person_id, latest.c.period_start == period.start,
                                   latest.c.period_end == period.end))
    )
    return {pid: (status, comment) for pid, status, comment in rows}


def clear_approvals(conn: sa.Connection, period: Period, person_id: int | None, actor: str, why: str) -> None:
    """A statement that changed needs approving again (and a closed period is never changed)."""
    a = comp_approval.c
    stmt = comp_approval.delete().where(a.period_start == period.start, a.period_end == period.end)
    if conn.execute(stmt.where(a.person_id == person_id) if person_id is not None else stmt).rowcount:
        record(conn, actor, "approvals reset", why, period, person_id)


def after_run(conn: sa.Connection, period: Period, person_id: int | None, actor: str) -> None:
    """A calculation of an open or calculated period: approvals start again, then auto-approval."""
    clear_approvals(conn, period, person_id, actor, "recalculated")
    _set_state(conn, period, "calculated", actor)
    threshold = auto_approve_below(conn)
    if threshold is not None:
        c = comp_line.c
        small = (
            sa.select(c.person_id).where(c.period_start == period.start, c.period_end == period.end)
            .group_by(c.person_id).having(sa.func.abs(sa.func.sum(c.amount)) < threshold)
        )
        if person_id is not None:
            small = small.where(c.person_id == person_id)
        for pid in conn.execute(small).scalars().all():
            for level in LEVELS:
                _decide(conn, period, pid, level, "approved", f"total under {threshold}", AUTO)
    _promote(conn, period, actor)


def _decide(conn: sa.Connection, period: Period, person_id: int, level: str, decision: str, comment: str | None, by: str) -> None:
    conn.execute(comp_approval.insert(), {
        "id": next_id(conn, comp_approval), "period_start": period.start, "period_end": period.end, "person_id": person_id,
        "level": level, "decision": decision, "comment": comment, "decided_by": by, "decided_at": datetime.now(),
    })
    verb = "approved" if decision == "approved" else "sent back"
    record(conn, by, f"{level} {verb}", f"{period_label(period)} statement {verb}" + (f": {comment}" if comment else ""), period, person_id)


def _promote(conn: sa.Connection, period: Period, actor: str) -> None:
    """The period is approved once every statement in it is."""
    found = statuses(conn, period)
    if found and all(status == "approved" for status, _ in found.values()) and state(conn, period) == "calculated":
        _set_state(conn, period, "approved", actor)
        record(conn, actor, "period approved", f"{period_label(period)}: all {len(found)} statements approved", period)


def _in_scope(conn: sa.Connection, actor: Actor, person_id: int) -> bool:
    ids = people_in_view(None, actor.scope)
    return ids is None or conn.execute(sa.select(person.c.id).where(person.c.id == person_id, person.c.id.in_(ids))).first() is not None


def approve_many(conn: sa.Connection, actor: Actor, period: Period, person_ids: list[int]) -> int:
    """Approve, at the actor's level, each of these statements that awaits it; how many were approved."""
    if not actor.is_comp_admin and actor.role not in MANAGER_LEVEL_ROLES:
        raise CompError("Only a manager, a leader or a comp admin approves statements.")
    if state(conn, period) != "calculated":
        raise CompError(f"{period_label(period)} is {state(conn, period)}: only a calculated period's statements are approved.")
    found = statuses(conn, period)
    waiting = ("awaiting comp admin",) if actor.is_comp_admin else ("awaiting manager", "sent back")
    count = 0
    for pid in sorted(set(person_ids)):
        if pid in found and found[pid][0] in waiting:
            decide(conn, actor, period, pid, approve=True, promote=False)
            count += 1
    _promote(conn, period, actor.username)
    return count


def decide(conn: sa.Connection, actor: Actor, period: Period, person_id: int, approve: bool, comment: str = "",
           promote: bool = True) -> str:
    """Approve or send back one statement at the actor's level; the statement's new status."""
    comment = comment.strip()
    if state(conn, period) != "calculated":
        raise CompError(f"{period_label(period)} is {state(conn, period)}: only a calculated period's statements are approved.")
    found = statuses(conn, period)
    if person_id not in found:
        raise CompError(f"No statement for person {person_id} in {period_label(period)}.")
    if not approve and not comment:
        raise CompError("Say why the statement goes back (a comment is required).")
    current = found[person_id][0]
    if actor.is_comp_admin:
        level = "comp_admin"
        if approve and current != "awaiting comp admin":
            raise CompError(f"This statement is {current}: the manager approves first.")
    elif actor.role in MANAGER_LEVEL_ROLES:
        level = "manager"
        if person_id == actor.person_id or not _in_scope(conn, actor, person_id):
            raise CompError("A manager approves the statements of the people below them only.")
        if current not in ("awaiting manager", "sent back"):
            raise CompError(f"This statement is {current}.")
    else:
        raise CompError("Only a manager, a leader or a comp admin approves statements.")
    _decide(conn, period, person_id, level, "approved" if approve else "sent_back", comment or None, actor.username)
    if promote:
        _promote(conn, period, actor.username)
    return "approved" if level == "comp_admin" and approve else "awaiting comp admin" if approve else "sent back"


def lock(conn: sa.Connection, actor: Actor, period: Period) -> None:
    _require_comp_admin(actor, "lock a period")
    if state(conn, period) in ("locked", "paid"):
        raise CompError(f"{period_label(period)} is already {state(conn, period)}.")
    if state(conn, period) != "approved":
        raise CompError(f"{period_label(period)} is {state(conn, period)}: lock it once every statement is approved.")
    _set_state(conn, period, "locked", actor.username)
    record(conn, actor.username, "period locked", period_label(period), period)


def mark_paid(conn: sa.Connection, actor: Actor, period: Period) -> None:
    _require_comp_admin(actor, "mark a period paid")
    if state(conn, period) == "paid":
        raise CompError(f"{period_label(period)} is already paid.")
    if state(conn, period) != "locked":
        raise CompError(f"{period_label(period)} is {state(conn, period)}: lock it before marking it paid.")
    _set_state(conn, period, "paid", actor.username)
    record(conn, actor.username, "period paid", period_label(period), period)


def engine_lines_of(period: Period) -> sa.ColumnElement:
    """The lines a run of `period` replaces: the engine's own, never the adjustments posted into it."""
    c = comp_line.c
    return sa.and_(c.period_start == period.start, c.period_end == period.end, c.rule.not_in(ADJUSTMENT_RULES))
