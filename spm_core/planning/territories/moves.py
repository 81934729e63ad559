"""Accepting balancing moves and carvings: each accepted move names its account into the new territory (so
re-applying the rules keeps it there) and moves it at once; a move made stale by a change since the proposal
is refused. Publishing (publish.py) later makes the moves effective from a date."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ...schema import account, person, territory
from ..rights import Planner, require_builder
from .carve import Carving
from .model import TerritoryError
from .rules import Assignment, assign, assign_in, ensure_tables


@dataclass(frozen=True)
class NewTerritory:
    """A territory a carving creates: its name and owner (None: no owner yet; its accounts keep theirs on publish)."""

    name: str
    owner_id: int | None


def _refuse_stale(conn: sa.Connection, wanted: dict[int, int]) -> None:
    """Refuse when an account is no longer in the territory the proposal saw."""
    now = dict(conn.execute(sa.select(account.c.id, account.c.territory_id).where(account.c.id.in_(list(wanted)))).all())
    stale = sorted(a for a, t in wanted.items() if now.get(a) != t)
    if stale:
        raise TerritoryError(
            f"Account(s) {', '.join(map(str, stale[:10]))} changed territory since the proposal: propose again. Nothing was moved."
        )


def accept_moves(engine: Engine, moves: pd.DataFrame, criterion: str, by: Planner) -> int:
    """Carry out the accepted moves (account_id, from_id, to_id), all or nothing; returns how many."""
    require_builder(by, "move accounts between territories")
    if moves.empty:
        return 0
    with engine.connect() as conn:
        _refuse_stale(conn, dict(zip(moves["account_id"].astype(int), moves["from_id"].astype(int), strict=True)))
    reason = f"balancing by {criterion}"
    assign(engine, [Assignment(int(a), int(t), reason) for a, t in zip(moves["account_id"], moves["to_id"], strict=True)], by)
    return len(moves)


def _check_new(conn: sa.Connection, new: list[NewTerritory], wanted: int) -> None:
    if len(new) != wanted:
        raise TerritoryError(f"Name {wanted} new territor{'y' if wanted == 1 else 'ies'}, not {len(new)}.")
    names = [t.name.strip() for t in new]
    if any(not n for n in names) or len({n.casefold() for n in names}) != len(names):
        raise TerritoryError("Each new territory needs its own name.")
    taken = {str(n).casefold() for n in conn.execute(sa.select(territory.c.name)).scalars()}
    if clash := [n for n in names if n.casefold() in taken]:
        raise TerritoryError(f"A territory named {clash[0]!r} exists already: choose another name.")
    owners = {t.owner_id for t in new if t.owner_id is not None}
    known = set(conn.execute(sa.select(person.c.id).where(person.c.id.in_(owners))).scalars()) if owners else set()
    if unknown := sorted(owners - known):
        raise TerritoryError(f"Unknown owner(s): {', '.join(map(str, unknown))}.")


def accept_carving(engine: Engine, carving: Carving, new: list[NewTerritory], by: Planner) -> dict[int, int]:
    """Create a territory per piece (the kept piece stays in carving.keep) and name every account whose territory
    changes into its piece's territory, all or nothing. Returns the territory id of each piece. The new
    territories take the segment and region of the territory most of the carved accounts come from."""
    require_builder(by, "create territories")
    frame = carving.accounts
    pieces = [p for p in range(len(carving.loads)) if p != carving.kept_piece]
    with engine.begin() as conn:
        ensure_tables(conn)
        _check_new(conn, new, len(pieces))
        _refuse_stale(conn, dict(zip(frame["account_id"].astype(int), frame["from_id"].astype(int), strict=True)))
        source = int(frame["from_id"].value_counts().sort_index().idxmax())
        home = conn.execute(sa.select(territory).where(territory.c.id == source)).one()
        first = int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(territory.c.id), 0))).scalar_one()) + 1
        ids = {p: first + i for i, p in enumerate(pieces)}
        conn.execute(
            territory.insert(),
            [
                {
                    "id": ids[p],
                    "name": t.name.strip(),
                    "owner_id": t.owner_id,
                    "segment_id": home.segment_id,
                    "region_id": home.region_id,
                }
                for p, t in zip(pieces, new, strict=True)
            ],
        )
        if carving.kept_piece is not None:
            ids[carving.kept_piece] = int(carving.keep)
        target = frame["piece"].map(ids)
        changing = frame[target != frame["from_id"]]
        reason = f"carved from {home.name} by {carving.criterion}"
        assign_in(
            conn,
            [Assignment(int(a), int(ids[p]), reason) for a, p in zip(changing["account_id"], changing["piece"], strict=True)],
            by.username,
        )
    return ids
