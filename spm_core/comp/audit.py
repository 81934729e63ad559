"""The compensation audit log: who changed what, when. Every function of spm_core.comp that changes
plans, periods, approvals, lines or disputes writes its entry in the same transaction as the change,
so the log cannot miss a change nor record one that was rolled back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..filters import Period, Scope
from ..people import people_in_view
from .schema import comp_audit

COMP_ADMIN_ROLES = ("comp_admin", "admin")


@dataclass(frozen=True)
class Actor:
    """Who acts: the sign-in name for the log, the role for what they may do, the scope for whom."""

    username: str
    role: str
    scope: Scope
    person_id: int | None = None

    @property
    def is_comp_admin(self) -> bool:
        return self.role in COMP_ADMIN_ROLES


class CompError(ValueError):
    """A change that is not allowed (wrong state, wrong role, bad input); the message says why."""


def next_id(conn: sa.Connection, table: sa.Table) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one()) + 1


def record(conn: sa.Connection, actor: str, action: str, detail: str, period: Period | None = None,
           person_id: int | None = None) -> None:
    """One entry, in the caller's transaction."""
    conn.execute(comp_audit.insert(), {
        "id": next_id(conn, comp_audit), "logged_at": datetime.now(), "actor": actor, "action": action,
        "period_start": period.start if period else None, "period_end": period.end if period else None,
        "person_id": person_id, "detail": detail,
    })


def audit_log(engine: Engine, scope: Scope, period: Period | None = None) -> pd.DataFrame:
    """Entries the viewer may see, newest first: about people in scope; entries about no one (plans,
    whole periods) only for a viewer who sees everyone. With a period, only the entries about it."""
    a = comp_audit.c
    stmt = sa.select(a.logged_at, a.actor, a.action, a.period_start, a.period_end, a.person_id, a.detail).order_by(a.id.desc())
    if period is not None:
        stmt = stmt.where(a.period_start == period.start, a.period_end == period.end)
    ids = people_in_view(None, scope)
    if ids is not None:
        stmt = stmt.where(a.person_id.in_(ids))
    with engine.connect() as conn:
        result = conn.execute(stmt)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()), dtype=object)
