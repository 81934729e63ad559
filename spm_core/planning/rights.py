"""Who may change a plan, checked here and not only by what a page shows: a notebook, the CLI or a crafted
request gets the same answer as the page.

Separation of duties, as Varicent and Xactly run the plan cycle: planners, leaders and admins build quota
scenarios and territory designs; only leaders and admins make a quota plan live (publishing it, or filling
a seat of a published plan, writes the quotas that attainment and pay read). Managers submit and approve
numbers for their own subtree only.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..db import read_frame
from ..filters import Scope
from ..people import people_in_view
from ..schema import person
from .model import PlanError

BUILDERS = frozenset({"admin", "leader", "planner"})
PUBLISHERS = frozenset({"admin", "leader"})
APPROVERS = frozenset({"admin", "leader", "manager"})


@dataclass(frozen=True)
class Planner:
    """Who changes a plan: the sign-in name written beside each change, the role for what they may do and
    the scope for whose numbers."""

    username: str
    role: str
    scope: Scope


def require_builder(by: Planner, what: str) -> None:
    if by.role not in BUILDERS:
        raise PlanError(f"Only a planner, a leader or an admin may {what}.")


def require_publisher(by: Planner, what: str) -> None:
    if by.role not in PUBLISHERS:
        raise PlanError(f"Only a leader or an admin may {what}: planners build plans, leaders make them live.")


def sees(conn: Engine | sa.Connection, by: Planner, person_id: int) -> bool:
    """Whether the person is in the actor's view (everyone, their subtree, or themselves)."""
    ids = people_in_view(None, by.scope)
    found = sa.select(person.c.id).where(person.c.id == person_id, *([] if ids is None else [person.c.id.in_(ids)]))
    return not read_frame(conn, found).empty


def require_approver(conn: Engine | sa.Connection, by: Planner, manager_id: int, what: str) -> None:
    """A manager acts for their own subtree; a leader or an admin for anyone's."""
    if by.role not in APPROVERS or not sees(conn, by, manager_id):
        raise PlanError(f"You can {what} only for your own part of the plan.")
