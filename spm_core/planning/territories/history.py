"""Each account's territory and owner over time (territory_history), read as of any day.

Rows are never overwritten: publishing closes the row it replaces (valid_to = the effective date) and adds a
new one, so on any day exactly one row is in force per account: valid_from <= day < valid_to, NULL valid_from
being "since before history began". The baseline row of an account is its territory and owner as they stood
before territory planning first changed anything (written by the first territory write, see rules.ensure_tables).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ...db import read_frame
from ...filters import Period, Scope
from ...people import people_in_view
from ...schema import account, opportunity, person, territory, territory_history, territory_publication

H = territory_history


def has_history(engine: Engine | sa.Connection) -> bool:
    return sa.inspect(engine).has_table(H.name)


def record_baseline(conn: sa.Connection) -> None:
    """Give every account without history a row holding its territory and owner now (one INSERT ... SELECT).
    Runs before each territory write, so the baseline is the state before planning touched the account."""
    known = sa.select(H.c.account_id).where(H.c.account_id == account.c.id).exists()
    rows = sa.select(account.c.id, account.c.territory_id, account.c.owner_id).where(~known)
    conn.execute(H.insert().from_select(["account_id", "territory_id", "owner_id"], rows))


def in_force(day: date) -> sa.ColumnElement[bool]:
    """The condition "this history row is in force on `day`"."""
    return sa.and_(sa.or_(H.c.valid_from.is_(None), H.c.valid_from <= day), sa.or_(H.c.valid_to.is_(None), H.c.valid_to > day))


def account_in_view(scope: Scope) -> sa.ColumnElement[bool] | None:
    """The accounts a viewer sees (its owner or its territory's owner is in scope), as a condition on account
    joined to territory; None when the viewer sees every account."""
    in_view = people_in_view(None, scope)
    if in_view is None:
        return None
    ids = in_view.cte("territory_viewers")
    return sa.or_(account.c.owner_id.in_(sa.select(ids.c.id)), territory.c.owner_id.in_(sa.select(ids.c.id)))


def visible_accounts(scope: Scope) -> sa.Select | None:
    """The ids of the accounts in the viewer's view now, or None when they see every account. Build it once per
    statement: its CTE must not be duplicated."""
    condition = account_in_view(scope)
    if condition is None:
        return None
    seen = sa.select(account.c.id).select_from(account.outerjoin(territory, territory.c.id == account.c.territory_id))
    return seen.where(condition)


def in_view_only(stmt: sa.Select, account_id: sa.ColumnElement[int], scope: Scope) -> sa.Select:
    """Limit a statement to the accounts (by `account_id`) in the viewer's view now."""
    seen = visible_accounts(scope)
    return stmt if seen is None else stmt.where(account_id.in_(seen))


def assignments_as_of(engine: Engine, day: date, scope: Scope) -> pd.DataFrame:
    """account_id, territory_id, owner_id in force on `day`, for the accounts in view. Accounts with no history
    (nothing planned since they arrived) count with their territory and owner as stored: the only state known."""
    a = account.alias("stored")
    stmt = sa.select(a.c.id.label("account_id"), a.c.territory_id, a.c.owner_id)
    seen = visible_accounts(scope)
    if has_history(engine):
        held = sa.select(H.c.account_id, H.c.territory_id, H.c.owner_id).where(in_force(day))
        stmt = stmt.where(~sa.select(H.c.account_id).where(H.c.account_id == a.c.id).exists())
        if seen is not None:
            held, stmt = held.where(H.c.account_id.in_(seen)), stmt.where(a.c.id.in_(seen))
        return read_frame(engine, sa.union_all(held, stmt)).sort_values("account_id").reset_index(drop=True)
    if seen is not None:
        stmt = stmt.where(a.c.id.in_(seen))
    return read_frame(engine, stmt.order_by(a.c.id))


def account_history(engine: Engine, scope: Scope) -> pd.DataFrame:
    """Every history row of the accounts in view, with territory and owner names and the publication that
    opened it (who and when): the page's history table, newest first per account."""
    if not has_history(engine):
        return pd.DataFrame(columns=["account_id", "account", "territory", "owner", "valid_from", "valid_to", "published_by"])
    p, t = territory_publication, territory.alias("ht")
    owner = person.alias("owner")
    stmt = (
        sa.select(
            H.c.account_id,
            account.c.name.label("account"),
            t.c.name.label("territory"),
            owner.c.name.label("owner"),
            H.c.valid_from,
            H.c.valid_to,
            H.c.publication_id,
            p.c.published_by,
        )
        .select_from(
            H.join(account, account.c.id == H.c.account_id)
            .outerjoin(t, t.c.id == H.c.territory_id)
            .outerjoin(owner, owner.c.id == H.c.owner_id)
            .outerjoin(p, p.c.id == H.c.publication_id)
        )
        .order_by(H.c.account_id, H.c.valid_from.desc().nulls_last())
    )
    return read_frame(engine, in_view_only(stmt, H.c.account_id, scope))


def credited_bookings(engine: Engine, period: Period, scope: Scope) -> pd.DataFrame:
    """Won deals closed in `period` per territory, each credited to the territory in force on its close date
    (so a deal won before its account moved stays with the old territory), for the accounts in view. Deals of
    accounts without history count in the account's territory as stored. territory_id, territory, deals, bookings."""
    o = opportunity.c
    won = sa.select(o.account_id, o.amount, o.close_date).where(
        o.is_won.is_(True), o.close_date >= period.start, o.close_date <= period.end
    )
    seen = visible_accounts(scope)
    if seen is not None:
        won = won.where(o.account_id.in_(seen))
    w = won.subquery("won")
    on_close_day = sa.and_(
        H.c.account_id == w.c.account_id,
        sa.or_(H.c.valid_from.is_(None), H.c.valid_from <= w.c.close_date),
        sa.or_(H.c.valid_to.is_(None), H.c.valid_to > w.c.close_date),
    )
    if has_history(engine):
        held = sa.select(H.c.territory_id, w.c.amount).select_from(w.join(H, on_close_day))
        untracked = ~sa.select(H.c.account_id).where(H.c.account_id == w.c.account_id).exists()
        stored = sa.select(account.c.territory_id, w.c.amount).select_from(w.join(account, account.c.id == w.c.account_id))
        credited = sa.union_all(held, stored.where(untracked)).subquery("credited")
    else:
        credited = (
            sa.select(account.c.territory_id, w.c.amount)
            .select_from(w.join(account, account.c.id == w.c.account_id))
            .subquery("credited")
        )
    stmt = (
        sa.select(
            credited.c.territory_id,
            territory.c.name.label("territory"),
            sa.func.count().label("deals"),
            sa.func.sum(credited.c.amount).label("bookings"),
        )
        .select_from(credited.outerjoin(territory, territory.c.id == credited.c.territory_id))
        .group_by(credited.c.territory_id, territory.c.name)
        .order_by(credited.c.territory_id)
    )
    return read_frame(engine, stmt)
