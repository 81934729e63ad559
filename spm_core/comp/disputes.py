"""Disputes: a person asks about one of their own lines; a comp admin resolves it with an adjustment
line (rule dispute, naming the line, with the reason) or rejects it with a reason; the person reads
the outcome. Every step is in the audit log."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..filters import Period, Scope
from ..people import people_in_view
from ..schema import person
from .adjustments import add_adjustment
from .audit import Actor, CompError, next_id, record
from .periods import period_label
from .schema import comp_dispute, comp_line
from .trace import read_rows

MAX_TEXT = 2000


def _text(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise CompError(f"A {what} is required.")
    if len(value) > MAX_TEXT:
        raise CompError(f"A {what} is at most {MAX_TEXT} characters (this one has {len(value)}).")
    return value


def raise_dispute(conn: sa.Connection, actor: Actor, line_id: int, comment: str) -> int:
    """Open an inquiry on one of the actor's own lines; its id."""
    comment = _text(comment, "comment")
    c = comp_line.c
    found = conn.execute(sa.select(c.person_id, c.period_start, c.period_end).where(c.id == line_id)).first()
    if found is None or actor.person_id is None or found.person_id != actor.person_id:
        raise CompError(f"Line {line_id} is not one of your lines.")
    d = comp_dispute.c
    if conn.execute(sa.select(d.id).where(d.line_id == line_id, d.status == "open")).first() is not None:
        raise CompError(f"Line {line_id} already has an open dispute.")
    dispute_id = next_id(conn, comp_dispute)
    conn.execute(comp_dispute.insert(), {
        "id": dispute_id, "line_id": line_id, "person_id": found.person_id, "period_start": found.period_start,
        "period_end": found.period_end, "comment": comment, "raised_by": actor.username, "raised_at": datetime.now(), "status": "open",
    })
    period = Period(found.period_start, found.period_end)
    record(conn, actor.username, "dispute raised", f"#{dispute_id} on line {line_id} ({period_label(period)}): {comment}", period,
           found.person_id)
    return dispute_id


def _open_dispute(conn: sa.Connection, actor: Actor, dispute_id: int) -> sa.Row:
    if not actor.is_comp_admin:
        raise CompError("Only a comp admin decides disputes.")
    d = comp_dispute.c
    found = conn.execute(sa.select(comp_dispute).where(d.id == dispute_id)).first()
    if found is None:
        raise CompError(f"No dispute #{dispute_id}.")
    if found.status != "open":
        raise CompError(f"Dispute #{dispute_id} is already {found.status}.")
    return found


def _close(conn: sa.Connection, actor: Actor, found: sa.Row, status: str, outcome: str, line_id: int | None) -> None:
    conn.execute(comp_dispute.update().where(comp_dispute.c.id == found.id).values(
        status=status, outcome=outcome, adjustment_line_id=line_id, decided_by=actor.username, decided_at=datetime.now()))
    record(conn, actor.username, f"dispute {status}", f"#{found.id} on line {found.line_id}: {outcome}",
           Period(found.period_start, found.period_end), found.person_id)


def resolve(conn: sa.Connection, actor: Actor, dispute_id: int, amount: Decimal, reason: str) -> int:
    """Resolve with an adjustment line (in the line's period, or the next open one if it is closed); its id."""
    found = _open_dispute(conn, actor, dispute_id)
    reason = _text(reason, "reason")
    line_id = add_adjustment(conn, actor, found.person_id, Period(found.period_start, found.period_end), amount,
                             f"dispute #{dispute_id}: {reason}", rule="dispute", origin_line_id=found.line_id)
    _close(conn, actor, found, "resolved", reason, line_id)
    return line_id


def reject(conn: sa.Connection, actor: Actor, dispute_id: int, reason: str) -> None:
    found = _open_dispute(conn, actor, dispute_id)
    _close(conn, actor, found, "rejected", _text(reason, "reason"), None)


def disputes(engine: Engine, scope: Scope, status: str | None = None, person_id: int | None = None) -> pd.DataFrame:
    """Disputes about people in view (newest first), with the adjustment's amount when resolved; with
    person_id, only that person's (a manager's own, on their My commissions page)."""
    d, c = comp_dispute.c, comp_line.alias("adjustment").c
    stmt = (
        sa.select(d.id, d.line_id, d.person_id, person.c.name.label("person"), d.period_start, d.period_end, d.comment, d.raised_by,
                  d.raised_at, d.status, d.outcome, c.amount.label("adjustment"), d.decided_by, d.decided_at)
        .join_from(comp_dispute, person, person.c.id == d.person_id, isouter=True)
        .outerjoin(c.id.table, c.id == d.adjustment_line_id)
        .order_by(d.id.desc())
    )
    ids = people_in_view(None, scope)
    if ids is not None:
        stmt = stmt.where(d.person_id.in_(ids))
    if person_id is not None:
        stmt = stmt.where(d.person_id == person_id)
    return read_rows(engine, stmt if status is None else stmt.where(d.status == status))
