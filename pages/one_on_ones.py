"""1:1 notes: a manager writes dated notes with action items for a rep; the rep reads theirs and ticks
items done. Who may write, read, edit and tick is enforced in spm_core.coaching.notes."""

import streamlit as st

from spm_core.coaching.notes import items, notes
from spm_core.coaching.roster import reps
from ui.coaching.notes_view import new_note_form, note_card
from ui.coaching.writes import saved_notice
from ui.context import context

ctx = context()
engine = ctx.wh.engine
st.title("1:1 notes")
saved_notice()

people = reps(engine, None, ctx.scope)
if people.empty:
    st.info("No reps in your view.")
    st.stop()
names = dict(zip(people["rep_id"], people["rep"], strict=True))
is_rep = ctx.user is not None and ctx.user.role == "rep"
if is_rep:
    rep_id = ctx.viewer_id
    st.caption("Notes your manager wrote after your 1:1s. Tick an action item once it is done.")
else:
    ids = list(names)
    rep_id = st.selectbox("Rep", ids, format_func=names.__getitem__, key="notes_rep")
    if ctx.viewer_id is None:
        st.caption("Your account is not linked to a person in the warehouse, so you can read notes but not write them.")
    else:
        new_note_form(ctx.viewer_id, ctx.scope, rep_id, names[rep_id], ctx.wh.as_of)

found = notes(engine, ctx.scope, rep_id)
if found.empty:
    st.info("No notes yet.")
    st.stop()
todo = items(engine, found["id"].tolist())
for note in found.itertuples(index=False):  # one card per note of one rep
    note_card(note, todo[todo["note_id"] == note.id], ctx.viewer_id)
