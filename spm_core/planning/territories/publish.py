"""Publishing a territory design from an effective date: the planned territories (account.territory_id, as the
rules, key accounts and accepted moves left them) become history rows in force from that day.

Owner rule (the page states it): a moved account keeps its owner when they own the new territory or work under
its owner; otherwise it goes to the territory's owner, who can hand it on in their team. A territory with no
owner leaves the account's owner as it is. Deals: won and lost deals never change owner (past bookings stay
credited where they were); with open_deals="move", the account's open deals owned by its previous owner move
to the new owner when the publication takes effect (on publishing when the date has come, else by apply_due
once it has). Deals owned by someone else (an overlay, a partner rep) stay.

Refused, with nothing written: an account without a territory, an effective date inside a closed pay period
(approved, locked or paid: SPEC never rewrites those), a date on or before a moved account's last published
change (history is appended, never rewritten), or nothing to publish.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ...comp.cycle import CLOSED
from ...comp.schema import comp_period
from ...db import read_frame
from ...filters import Scope
from ...people import MAX_DEPTH
from ...schema import (
    account,
    opportunity,
    opportunity_split,
    person,
    territory,
    territory_history,
    territory_publication,
)
from ..rights import Planner, require_builder
from .history import has_history, in_view_only
from .model import TerritoryError
from .rules import ensure_tables

H, P = territory_history, territory_publication
OPEN_DEALS = {
    "move": "Open deals owned by the previous owner move to the new owner from the effective date",
    "keep": "Open deals stay with their owner",
}


@dataclass(frozen=True)
class Published:
    """What one publish did: its id, the accounts moved, and the open deals moved (None until it applies)."""

    id: int
    accounts_moved: int
    deals_moved: int | None


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _owner_tree() -> sa.CTE:
    """(root, id) for every territory owner and everyone below them, down to MAX_DEPTH levels: UNION ALL
    with a depth counter (as people.subtree_ids), which every warehouse accepts in a recursive CTE; the
    pairs a manager loop in bad data repeats only feed an EXISTS."""
    roots = sa.select(
        territory.c.owner_id.label("root"), territory.c.owner_id.label("id"), sa.literal(0, sa.Integer).label("depth")
    ).where(territory.c.owner_id.is_not(None)).distinct()  # an owner of several territories is one root
    tree = roots.cte("owner_tree", recursive=True)
    child = person.alias("tree_child")
    below = sa.select(tree.c.root, child.c.id, (tree.c.depth + 1).label("depth")).join(tree, child.c.manager_id == tree.c.id)
    return tree.union_all(below.where(tree.c.depth < MAX_DEPTH))


def _changes() -> sa.Select:
    """Per account whose planned territory or owner differs from its latest history row: from and to."""
    tree = _owner_tree()
    stays = sa.select(tree.c.id).where(tree.c.root == territory.c.owner_id, tree.c.id == H.c.owner_id).exists()
    to_owner = sa.case((territory.c.owner_id.is_(None), H.c.owner_id), (stays, H.c.owner_id), else_=territory.c.owner_id)
    return (
        sa.select(
            H.c.account_id,
            account.c.name,
            H.c.territory_id.label("from_territory_id"),
            account.c.territory_id.label("to_territory_id"),
            H.c.owner_id.label("from_owner_id"),
            to_owner.label("to_owner_id"),
            H.c.valid_from.label("since"),
        )
        .select_from(
            H.join(account, account.c.id == H.c.account_id).outerjoin(territory, territory.c.id == account.c.territory_id)
        )
        .where(H.c.valid_to.is_(None))
        .where(sa.or_(account.c.territory_id.is_distinct_from(H.c.territory_id), to_owner.is_distinct_from(H.c.owner_id)))
    )


def planned_changes(engine: Engine, scope: Scope) -> pd.DataFrame:
    """What publishing now would change, for the accounts in view, with territory and owner names."""
    if not has_history(engine):
        return pd.DataFrame(columns=["account_id", "name", "from_territory", "to_territory", "from_owner", "to_owner"])
    c = in_view_only(_changes(), H.c.account_id, scope).subquery("changes")
    t_from, t_to, p_from, p_to = territory.alias("tf"), territory.alias("tt"), person.alias("pf"), person.alias("pt")
    stmt = (
        sa.select(
            c.c.account_id,
            c.c.name,
            t_from.c.name.label("from_territory"),
            t_to.c.name.label("to_territory"),
            p_from.c.name.label("from_owner"),
            p_to.c.name.label("to_owner"),
        )
        .select_from(
            c.outerjoin(t_from, t_from.c.id == c.c.from_territory_id)
            .outerjoin(t_to, t_to.c.id == c.c.to_territory_id)
            .outerjoin(p_from, p_from.c.id == c.c.from_owner_id)
            .outerjoin(p_to, p_to.c.id == c.c.to_owner_id)
        )
        .order_by(c.c.account_id)
    )
    return read_frame(engine, stmt)


def _check(conn: sa.Connection, effective: date, open_deals: str) -> int:
    """Refuse what cannot be published (nothing written); returns how many accounts would move."""
    if open_deals not in OPEN_DEALS:
        raise TerritoryError(f"Open deals either {' or '.join(OPEN_DEALS)}, not {open_deals!r}.")
    homeless = conn.execute(sa.select(sa.func.count()).where(account.c.territory_id.is_(None))).scalar_one()
    if homeless:
        raise TerritoryError(
            f"{homeless} account(s) have no territory: apply the rules or name their territory first. Nothing was published."
        )
    if sa.inspect(conn).has_table(comp_period.name):
        p = comp_period.c
        closed = conn.execute(
            sa.select(p.period_start, p.period_end, p.state).where(
                p.period_start <= effective, p.period_end >= effective, p.state.in_(CLOSED)
            )
        ).first()
        if closed:
            raise TerritoryError(
                f"{effective} falls in the pay period {closed.period_start} to {closed.period_end}, which is {closed.state}: "
                "choose a date in an open period. Nothing was published."
            )
    changes = _changes().subquery("changes")
    count, latest = conn.execute(sa.select(sa.func.count(), sa.func.max(changes.c.since))).one()
    if not count:
        raise TerritoryError("Nothing to publish: every account's territory and owner are as published.")
    if latest is not None and latest >= effective:
        raise TerritoryError(
            f"Some accounts already have a change published from {latest}: history is never rewritten, so publish "
            f"from a later date. Nothing was published."
        )
    return int(count)


def publish(engine: Engine, effective: date, open_deals: str, by: Planner, as_of: date, note: str = "") -> Published:
    """Publish the planned territories from `effective`, all or nothing; applies at once when the date has come."""
    require_builder(by, "publish territories")
    with engine.begin() as conn:
        ensure_tables(conn)
        moved = _check(conn, effective, open_deals)
        pid = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(P.c.id), 0))).scalar_one()) + 1
        conn.execute(
            P.insert().values(
                id=pid,
                effective_date=effective,
                open_deals=open_deals,
                note=note.strip() or None,
                published_by=by.username,
                published_at=_now(),
                accounts_moved=moved,
            )
        )
        c = _changes().subquery("changes")
        opened = sa.select(c.c.account_id, c.c.to_territory_id, c.c.to_owner_id, sa.literal(effective), sa.literal(pid))
        columns = ["account_id", "territory_id", "owner_id", "valid_from", "publication_id"]
        conn.execute(H.insert().from_select(columns, opened))
        replaced = sa.select(H.c.account_id).where(H.c.publication_id == pid)
        conn.execute(
            H.update()
            .where(H.c.valid_to.is_(None), H.c.publication_id.is_distinct_from(pid), H.c.account_id.in_(replaced))
            .values(valid_to=effective)
        )
        deals = _apply(conn, pid) if effective <= as_of else None
    return Published(pid, moved, deals)


def _apply(conn: sa.Connection, pid: int) -> int:
    """Give the publication's accounts their new owner and, if chosen, their open deals; returns deals moved."""
    new, prev = H.alias("new"), H.alias("prev")
    pairs = (
        sa.select(new.c.account_id, new.c.owner_id.label("to_owner"), prev.c.owner_id.label("from_owner"))
        .join(prev, sa.and_(prev.c.account_id == new.c.account_id, prev.c.valid_to == new.c.valid_from))
        .where(new.c.publication_id == pid)
        .subquery("pairs")
    )
    conn.execute(
        account.update()
        .where(account.c.id == pairs.c.account_id, pairs.c.to_owner.is_not(None))
        .values(owner_id=pairs.c.to_owner)
    )
    moved = 0
    if conn.execute(sa.select(P.c.open_deals).where(P.c.id == pid)).scalar_one() == "move":
        o = opportunity.c
        _move_splits(
            conn,
            sa.select(o.id, pairs.c.from_owner, pairs.c.to_owner)
            .where(o.account_id == pairs.c.account_id, o.owner_id == pairs.c.from_owner, o.is_closed.is_(False))
            .where(pairs.c.to_owner.is_not(None), pairs.c.to_owner != pairs.c.from_owner)
            .subquery("moving"),
        )
        moved = conn.execute(
            opportunity.update()
            .where(o.account_id == pairs.c.account_id, o.owner_id == pairs.c.from_owner, o.is_closed.is_(False))
            .where(pairs.c.to_owner.is_not(None), pairs.c.to_owner != pairs.c.from_owner)
            .values(owner_id=pairs.c.to_owner)
        ).rowcount
    conn.execute(P.update().where(P.c.id == pid).values(applied_at=_now(), deals_moved=moved))
    return int(moved)


def _move_splits(conn: sa.Connection, moving: sa.Subquery) -> None:
    """The previous owner's credit share of each moving deal goes to the new owner (added to theirs if they
    already hold one), so a split deal's credit follows it as an unsplit one's does."""
    s, mine = opportunity_split, opportunity_split.alias("mine")
    theirs = sa.and_(s.c.opportunity_id == moving.c.id, s.c.person_id == moving.c.to_owner)
    old_share = (
        sa.select(mine.c.percent)
        .where(mine.c.opportunity_id == moving.c.id, mine.c.person_id == moving.c.from_owner)
        .scalar_subquery()
    )
    conn.execute(s.update().where(theirs, old_share.is_not(None)).values(percent=s.c.percent + old_share))
    held = sa.select(mine.c.opportunity_id).where(mine.c.opportunity_id == moving.c.id, mine.c.person_id == moving.c.to_owner)
    merged = sa.select(moving.c.id).where(moving.c.from_owner == s.c.person_id, held.exists())
    conn.execute(s.delete().where(s.c.opportunity_id.in_(merged)))
    conn.execute(
        s.update()
        .where(s.c.opportunity_id == moving.c.id, s.c.person_id == moving.c.from_owner)
        .values(person_id=moving.c.to_owner)
    )


def apply_due(engine: Engine, as_of: date) -> int:
    """Apply, oldest first, the publications whose effective date has come; returns how many."""
    with engine.begin() as conn:
        ensure_tables(conn)
        due = (
            conn.execute(
                sa.select(P.c.id)
                .where(P.c.applied_at.is_(None), P.c.effective_date <= as_of)
                .order_by(P.c.effective_date, P.c.id)
            )
            .scalars()
            .all()
        )
        for pid in due:
            _apply(conn, pid)
    return len(due)


def publications(engine: Engine, scope: Scope) -> pd.DataFrame:
    """The audit of publishing, newest first: who, when, from which date, what moved. A viewer who does not see
    every account sees the publications that touched an account in their view."""
    if not has_history(engine):
        return pd.DataFrame(columns=[c.name for c in P.c])
    touched = in_view_only(sa.select(H.c.publication_id), H.c.account_id, scope)
    stmt = sa.select(P).where(P.c.id.in_(touched)).order_by(P.c.id.desc())
    return read_frame(engine, stmt)
