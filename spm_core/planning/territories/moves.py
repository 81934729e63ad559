"""Accepting balancing moves: each accepted move names its account into the new territory (so re-applying
the rules keeps it there) and moves it at once; a move made stale by a change since the proposal is refused."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ...schema import account
from .model import TerritoryError
from .rules import Assignment, assign


def accept_moves(engine: Engine, moves: pd.DataFrame, criterion: str, by: str) -> int:
    """Carry out the accepted moves (account_id, from_id, to_id), all or nothing; returns how many."""
    if moves.empty:
        return 0
    wanted = dict(zip(moves["account_id"].astype(int), moves["from_id"].astype(int), strict=True))
    with engine.connect() as conn:
        now = dict(conn.execute(sa.select(account.c.id, account.c.territory_id).where(account.c.id.in_(list(wanted)))).all())
    stale = sorted(a for a, t in wanted.items() if now.get(a) != t)
    if stale:
        raise TerritoryError(
            f"Account(s) {', '.join(map(str, stale[:10]))} changed territory since the proposal: propose again. Nothing was moved."
        )
    reason = f"balancing by {criterion}"
    assign(engine, [Assignment(int(a), int(t), reason) for a, t in zip(moves["account_id"], moves["to_id"], strict=True)], by)
    return len(moves)
