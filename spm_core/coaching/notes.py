"""1:1 notes and action items: a manager writes a dated note for a rep with action items; only the
author edits the note; the rep (or the author) ticks items done.

Who may do what is checked here, not only on the page: a note is written for a rep in the author's
scope, read by whoever has the rep in scope (the rep themselves, their managers up the tree, admins),
edited by its author only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..db import read_frame
from ..filters import Scope
from ..people import people_in_view
from ..schema import person
from .tables import action_item, coaching_note, ensure_tables, exists

MAX_NOTE = 10_000
MAX_ITEM = 500
n, a = coaching_note.c, action_item.c


class NoteError(ValueError):
    """A note or item that cannot be saved, with a message for the person writing it."""


def _in_scope(scope: Scope) -> sa.ColumnElement:
    ids = people_in_view(None, scope)
    return sa.true() if ids is None else n.rep_id.in_(ids)


def notes(engine: Engine | sa.Connection, scope: Scope, rep_id: int | None = None) -> pd.DataFrame:
    """Notes about reps in `scope` (one rep's when rep_id is given), newest meeting first: id, rep_id, rep,
    author_id, author, meeting_date, body, updated_at."""
    columns = ["id", "rep_id", "rep", "author_id", "author", "meeting_date", "body", "updated_at"]
    if not exists(engine, coaching_note):
        return pd.DataFrame(columns=columns)
    rep, author = person.alias("rep"), person.alias("author")
    stmt = (
        sa.select(
            n.id,
            n.rep_id,
            rep.c.name.label("rep"),
            n.author_id,
            author.c.name.label("author"),
            n.meeting_date,
            n.body,
            n.updated_at,
        )
        .select_from(coaching_note.join(rep, rep.c.id == n.rep_id).outerjoin(author, author.c.id == n.author_id))
        .where(_in_scope(scope), *([n.rep_id == rep_id] if rep_id is not None else []))
        .order_by(n.meeting_date.desc(), n.id.desc())
    )
    return read_frame(engine, stmt)[columns]


def items(engine: Engine | sa.Connection, note_ids: Sequence[int]) -> pd.DataFrame:
    """Action items of the given notes: id, note_id, text, due_date, done."""
    if not exists(engine, action_item) or not note_ids:
        return pd.DataFrame(columns=["id", "note_id", "text", "due_date", "done"])
    stmt = (
        sa.select(a.id, a.note_id, a.text, a.due_date, a.done)
        .where(a.note_id.in_(sorted(int(i) for i in note_ids)))
        .order_by(a.id)
    )
    return read_frame(engine, stmt)


def _check_text(body: str, limit: int, what: str) -> str:
    text = body.strip()
    if not text:
        raise NoteError(f"The {what} is empty.")
    if len(text) > limit:
        raise NoteError(f"The {what} is {len(text):,} characters long; at most {limit:,}.")
    return text


def _next_id(conn: sa.Connection, table: sa.Table) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0) + 1)).scalar_one())


def add_note(
    engine: Engine,
    author_id: int,
    author_scope: Scope,
    rep_id: int,
    meeting_date: date,
    body: str,
    item_texts: Sequence[str] = (),
) -> int:
    """Save a note (and its action items) by `author_id` for a rep in their scope; returns its id."""
    text = _check_text(body, MAX_NOTE, "note")
    texts = [_check_text(t, MAX_ITEM, "action item") for t in item_texts if t.strip()]
    ids = people_in_view(None, author_scope)
    allowed = sa.select(person.c.id).where(
        person.c.id == rep_id, person.c.role == "rep", *([person.c.id.in_(ids)] if ids is not None else [])
    )
    ensure_tables(engine)
    with engine.begin() as conn:
        if conn.execute(allowed).first() is None:
            raise NoteError("You can write notes only for reps in your team.")
        note_id = _next_id(conn, coaching_note)
        conn.execute(
            coaching_note.insert().values(
                id=note_id, rep_id=rep_id, author_id=author_id, meeting_date=meeting_date, body=text, updated_at=datetime.now()
            )
        )
        _insert_items(conn, note_id, texts)
    return note_id


def _insert_items(conn: sa.Connection, note_id: int, texts: Sequence[str]) -> None:
    if texts:
        first = _next_id(conn, action_item)
        rows = [{"id": first + i, "note_id": note_id, "text": t, "due_date": None, "done": False} for i, t in enumerate(texts)]
        conn.execute(action_item.insert(), rows)


def _note(conn: sa.Connection, note_id: int) -> sa.Row:
    row = conn.execute(sa.select(n.rep_id, n.author_id).where(n.id == note_id)).first()
    if row is None:
        raise NoteError("That note no longer exists.")
    return row


def edit_note(engine: Engine, note_id: int, editor_id: int, meeting_date: date, body: str, new_items: Sequence[str] = ()) -> None:
    """Change a note's date and text and add action items; only its author may."""
    text = _check_text(body, MAX_NOTE, "note")
    texts = [_check_text(t, MAX_ITEM, "action item") for t in new_items if t.strip()]
    with engine.begin() as conn:
        if _note(conn, note_id).author_id != editor_id:
            raise NoteError("Only the author of a note can edit it.")
        conn.execute(
            coaching_note.update().where(n.id == note_id).values(meeting_date=meeting_date, body=text, updated_at=datetime.now())
        )
        _insert_items(conn, note_id, texts)


def set_done(engine: Engine, item_id: int, person_id: int, done: bool) -> None:
    """Tick (or untick) an action item: the note's rep or its author may."""
    with engine.begin() as conn:
        found = conn.execute(sa.select(a.note_id).where(a.id == item_id)).first()
        if found is None:
            raise NoteError("That action item no longer exists.")
        note = _note(conn, found.note_id)
        if person_id not in (note.rep_id, note.author_id):
            raise NoteError("Only the rep of the note or its author can tick its action items.")
        conn.execute(action_item.update().where(a.id == item_id).values(done=done))
