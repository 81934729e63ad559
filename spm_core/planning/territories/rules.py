"""Territory rules and named assignments in the warehouse: store, resolve, check and apply them.

Resolution is one set-based query: an account's named assignment wins; otherwise the territories whose rules
claim it decide: one territory resolves it, none is a gap, two or more an overlap. Applying writes every
resolved account's territory_id in one UPDATE and refuses while overlaps remain (nothing written).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ...db import add_new_columns, insert_frame, read_frame
from ...schema import (
    account,
    metadata,
    territory,
    territory_assignment,
    territory_history,
    territory_publication,
    territory_rule,
)
from ..rights import Planner, require_builder
from .history import record_baseline
from .model import Rule, TerritoryError, size_band

TABLES = (territory_rule, territory_assignment, territory_publication, territory_history)
ASSIGNED, RULE, GAP, OVERLAP = "assigned", "rule", "gap", "overlap"


@dataclass(frozen=True)
class Assignment:
    """One account named into one territory, with the reason a reader will see (key account, balancing...)."""

    account_id: int
    territory_id: int
    reason: str


@dataclass(frozen=True)
class Check:
    """What stops the rules from giving every account exactly one territory."""

    gaps: pd.DataFrame  # accounts no rule claims and no assignment names
    overlaps: pd.DataFrame  # accounts claimed by rules of two or more territories (and not assigned)
    idle_rules: pd.DataFrame  # rules that claim no account

    @property
    def clean(self) -> bool:
        return self.gaps.empty and self.overlaps.empty


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_tables(conn: sa.Connection) -> None:
    """Warehouses created before territory planning get its tables and the account columns on the first write;
    accounts without history get their baseline row before the write changes them."""
    metadata.create_all(conn, tables=list(TABLES))
    add_new_columns(conn)
    record_baseline(conn)


def prepare(engine: Engine) -> None:
    """Add territory planning's tables and account columns to an older warehouse, changing no row."""
    with engine.begin() as conn:
        ensure_tables(conn)


def has_tables(engine: Engine | sa.Connection) -> bool:
    return sa.inspect(engine).has_table(territory_rule.name)


def claims(r: sa.Table | sa.Alias = territory_rule) -> sa.ColumnElement[bool]:
    """The join condition "rule r claims the account": every criterion r sets matches (NULL: any)."""

    def same(criterion: sa.ColumnElement, value: sa.ColumnElement) -> sa.ColumnElement[bool]:
        return sa.or_(criterion.is_(None), criterion == value)

    return sa.and_(
        same(r.c.country, account.c.country),
        same(r.c.state, account.c.state),
        same(r.c.industry, account.c.industry),
        same(r.c.size_band, size_band()),
        sa.or_(r.c.postcode_from.is_(None), account.c.postcode >= r.c.postcode_from),
        sa.or_(r.c.postcode_to.is_(None), account.c.postcode <= r.c.postcode_to),
    )


def _territory_exists(conn: sa.Connection, territory_id: int) -> None:
    found = conn.execute(sa.select(territory.c.id).where(territory.c.id == territory_id)).first()
    if found is None:
        raise TerritoryError(f"There is no territory {territory_id}.")


def add_rule(engine: Engine, rule: Rule, by: Planner) -> int:
    """Store a rule; returns its id. A rule that claims no account is refused (it is most likely a typo)."""
    require_builder(by, "add a territory rule")
    with engine.begin() as conn:
        ensure_tables(conn)
        _territory_exists(conn, rule.territory_id)
        rid = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(territory_rule.c.id), 0))).scalar_one()) + 1
        values = {k: getattr(rule, k) for k in Rule.__dataclass_fields__}
        conn.execute(territory_rule.insert().values(id=rid, created_by=by.username, created_at=_now(), **values))
        claimed = conn.execute(
            sa.select(sa.func.count()).select_from(account.join(territory_rule, claims())).where(territory_rule.c.id == rid)
        ).scalar_one()
        if not claimed:
            raise TerritoryError(f"The rule ({rule.describe()}) matches no account: check its values. Nothing was saved.")
    return rid


def delete_rule(engine: Engine, rule_id: int, by: Planner) -> None:
    require_builder(by, "delete a territory rule")
    with engine.begin() as conn:
        ensure_tables(conn)
        if not conn.execute(territory_rule.delete().where(territory_rule.c.id == rule_id)).rowcount:
            raise TerritoryError(f"There is no rule {rule_id}.")


def assign(engine: Engine, assignments: list[Assignment], by: Planner) -> None:
    """Name accounts into territories (they win over rules) and move them there now, all or nothing."""
    require_builder(by, "name accounts into territories")
    if not assignments:
        return
    accounts = [a.account_id for a in assignments]
    if len(set(accounts)) != len(accounts):
        raise TerritoryError("An account is named twice: each account has exactly one territory.")
    if any(not a.reason.strip() for a in assignments):
        raise TerritoryError("Each assignment needs a reason (e.g. key account).")
    with engine.begin() as conn:
        assign_in(conn, assignments, by.username)


def assign_in(conn: sa.Connection, assignments: list[Assignment], by: str) -> None:
    """assign, inside the caller's transaction (so a carving creates territories and fills them at once)."""
    accounts = [a.account_id for a in assignments]
    ensure_tables(conn)
    known = set(conn.execute(sa.select(account.c.id).where(account.c.id.in_(accounts))).scalars())
    if unknown := sorted(set(accounts) - known):
        raise TerritoryError(f"Unknown account(s): {', '.join(map(str, unknown[:10]))}. Nothing was changed.")
    wanted = {a.territory_id for a in assignments}
    have = set(conn.execute(sa.select(territory.c.id).where(territory.c.id.in_(wanted))).scalars())
    if missing := sorted(wanted - have):
        raise TerritoryError(f"Unknown territory(ies): {', '.join(map(str, missing))}. Nothing was changed.")
    conn.execute(territory_assignment.delete().where(territory_assignment.c.account_id.in_(accounts)))
    at = _now()
    rows = [(a.account_id, a.territory_id, a.reason.strip(), by, at) for a in assignments]
    insert_frame(conn, territory_assignment, pd.DataFrame(rows, columns=[c.name for c in territory_assignment.c]))
    t = territory_assignment
    named = t.c.account_id.in_(accounts)
    conn.execute(account.update().where(account.c.id == t.c.account_id, named).values(territory_id=t.c.territory_id))


def unassign(engine: Engine, account_id: int, by: Planner) -> None:
    """Drop an account's named assignment: rules decide it again at the next apply."""
    require_builder(by, "drop a named account")
    with engine.begin() as conn:
        ensure_tables(conn)
        if not conn.execute(territory_assignment.delete().where(territory_assignment.c.account_id == account_id)).rowcount:
            raise TerritoryError(f"Account {account_id} has no named assignment.")


def _resolution() -> sa.Select:
    """Per account: its territory now, its assignment, how many territories' rules claim it, and the result."""
    claimed = (
        sa.select(
            account.c.id.label("account_id"),
            sa.func.count(sa.distinct(territory_rule.c.territory_id)).label("claims"),
            sa.func.min(territory_rule.c.territory_id).label("claimed_by"),
            sa.func.max(territory_rule.c.territory_id).label("also_claimed_by"),
        )
        .select_from(account.join(territory_rule, claims()))
        .group_by(account.c.id)
        .subquery("claimed")
    )
    n = sa.func.coalesce(claimed.c.claims, 0)
    t = territory_assignment
    status = sa.case((t.c.territory_id.is_not(None), ASSIGNED), (n == 0, GAP), (n > 1, OVERLAP), else_=RULE)
    resolved = sa.case((t.c.territory_id.is_not(None), t.c.territory_id), (n == 1, claimed.c.claimed_by), else_=sa.null())
    return (
        sa.select(
            account.c.id.label("account_id"),
            account.c.name,
            account.c.territory_id.label("current_id"),
            t.c.territory_id.label("assigned_id"),
            t.c.reason,
            n.label("claims"),
            claimed.c.claimed_by,
            claimed.c.also_claimed_by,
            resolved.label("resolved_id"),
            status.label("status"),
        )
        .select_from(
            account.outerjoin(claimed, claimed.c.account_id == account.c.id).outerjoin(t, t.c.account_id == account.c.id)
        )
        .order_by(account.c.id)
    )


def resolve(engine: Engine) -> pd.DataFrame:
    """Every account with the territory its assignment or rules give it (NULL for gaps and overlaps)."""
    if not has_tables(engine):
        raise TerritoryError("No territory rules yet: add one first.")
    return read_frame(engine, _resolution())


def rules(engine: Engine) -> pd.DataFrame:
    """The stored rules with their territory's name and how many accounts each claims."""
    if not has_tables(engine):
        return pd.DataFrame(columns=["id", "territory_id", "territory", "claimed"])
    r = territory_rule
    claimed = sa.select(sa.func.count()).select_from(account).where(claims(r)).scalar_subquery()
    stmt = (
        sa.select(*r.c, territory.c.name.label("territory"), claimed.label("claimed"))
        .select_from(r.outerjoin(territory, territory.c.id == r.c.territory_id))
        .order_by(r.c.territory_id, r.c.id)
    )
    return read_frame(engine, stmt)


def check(engine: Engine) -> Check:
    """Gaps, overlaps and rules that claim nothing."""
    rows = resolve(engine)
    listed = rules(engine)
    columns = ["account_id", "name", "current_id", "claims", "claimed_by", "also_claimed_by"]
    return Check(
        gaps=rows.loc[rows["status"] == GAP, columns].reset_index(drop=True),
        overlaps=rows.loc[rows["status"] == OVERLAP, columns].reset_index(drop=True),
        idle_rules=listed[listed["claimed"] == 0].reset_index(drop=True),
    )


def apply_rules(engine: Engine) -> int:
    """Give every resolved account its territory in one UPDATE; gaps keep theirs. Returns accounts moved.

    Refused while any account is claimed by two territories: which one wins would be a guess."""
    with engine.begin() as conn:
        ensure_tables(conn)
        res = _resolution().subquery("res")
        overlaps = conn.execute(sa.select(sa.func.count()).where(res.c.status == OVERLAP)).scalar_one()
        if overlaps:
            raise TerritoryError(
                f"{overlaps} account(s) are claimed by rules of two or more territories: narrow a rule or name the "
                "account's territory (a key account). Nothing was changed."
            )
        moved = (
            account.update()
            .where(account.c.id == res.c.account_id)
            .where(res.c.resolved_id.is_not(None))
            .where(account.c.territory_id.is_distinct_from(res.c.resolved_id))
            .values(territory_id=res.c.resolved_id)
        )
        return conn.execute(moved).rowcount
