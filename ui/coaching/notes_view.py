"""Drawing 1:1 notes: the new-note form, each note with its action items, and the author's edit form."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from spm_core.coaching.notes import add_note, edit_note, set_done
from spm_core.filters import Scope
from ui.text import md

from .writes import write


def as_markdown(text: str) -> str:
    """Outside text with its line breaks kept: each line escaped, joined by hard breaks."""
    return "  \n".join(md(line) for line in text.splitlines() if line.strip())


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def new_note_form(author_id: int, scope: Scope, rep_id: int, rep_name: str, today: date) -> None:
    with st.form("note_new", clear_on_submit=True):
        st.markdown(f"**New 1:1 note for {md(rep_name)}**")
        day = st.date_input("Meeting date", today, key="note_new_date")
        body = st.text_area("Note", key="note_new_body", max_chars=10_000)
        todo = st.text_area("Action items (one per line)", key="note_new_items")
        if st.form_submit_button("Save note"):
            write(
                lambda engine: add_note(engine, author_id, scope, rep_id, day, body, _lines(todo)), f"Note saved for {rep_name}."
            )


def _edit_form(note: tuple, editor_id: int) -> None:
    with st.expander("Edit this note"), st.form(f"note_edit_{note.id}"):
        day = st.date_input("Meeting date", note.meeting_date, key=f"note_edit_date_{note.id}")
        body = st.text_area("Note", note.body, key=f"note_edit_body_{note.id}", max_chars=10_000)
        todo = st.text_area("More action items (one per line)", key=f"note_edit_items_{note.id}")
        if st.form_submit_button("Save changes"):
            write(lambda engine: edit_note(engine, int(note.id), editor_id, day, body, _lines(todo)), "Note updated.")


def note_card(note: tuple, todo: pd.DataFrame, viewer_id: int | None) -> None:
    """One note (a row of notes(), from itertuples): date, rep, author, text, action items (tickable by the rep and the author), edit for the author."""
    with st.container(border=True):
        st.markdown(f"**{note.meeting_date:%d %b %Y}** · {md(note.rep)} · by {md(note.author)}")
        st.markdown(as_markdown(note.body))
        may_tick = viewer_id in (note.rep_id, note.author_id)
        for item in todo.itertuples():  # a note's few items, each its own widget
            ticked = st.checkbox(md(item.text), bool(item.done), key=f"item_{item.id}", disabled=not may_tick)
            if ticked != bool(item.done):
                write(lambda engine, i=int(item.id), t=ticked: set_done(engine, i, viewer_id, t), "Action item updated.")
        if viewer_id is not None and viewer_id == note.author_id:
            _edit_form(note, viewer_id)
