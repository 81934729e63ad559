"""1:1 notes and action items: who may write, read, edit and tick."""

from __future__ import annotations

from datetime import date

import pytest
from coaching_support import MANAGER, NINA, OLGA, PEOPLE, RITA, ROB, SAM, TEAMS

from spm_core.coaching.notes import NoteError, add_note, edit_note, items, notes, set_done
from spm_core.filters import Scope

DAY = date(2026, 3, 2)


@pytest.fixture
def engine(tiny_engine):
    return tiny_engine(person=PEOPLE, team=TEAMS)


def test_a_note_with_items_is_read_by_the_rep_and_managers_above_only(engine):
    note = add_note(engine, MANAGER, Scope.subtree(MANAGER), RITA, DAY, "  Pipeline review  ", ["Call Acme", " ", "Send deck"])
    assert notes(engine, Scope.only(RITA))["body"].tolist() == ["Pipeline review"]
    assert notes(engine, Scope.subtree(MANAGER))["author"].tolist() == ["Manny Manager"]
    assert notes(engine, Scope.everyone())["rep"].tolist() == ["Rita Rep"]
    assert notes(engine, Scope.only(ROB)).empty  # another rep of the same team
    assert notes(engine, Scope.subtree(OLGA)).empty  # another manager's team
    assert items(engine, [note])["text"].tolist() == ["Call Acme", "Send deck"]  # blank lines are no items


def test_nothing_saved_yet_reads_as_no_notes(engine):
    assert notes(engine, Scope.everyone()).empty and items(engine, [1]).empty


def test_a_manager_writes_only_for_reps_in_their_subtree(engine):
    with pytest.raises(NoteError, match="only for reps in your team"):
        add_note(engine, MANAGER, Scope.subtree(MANAGER), SAM, DAY, "Hello")
    with pytest.raises(NoteError, match="only for reps in your team"):
        add_note(engine, MANAGER, Scope.subtree(MANAGER), OLGA, DAY, "A manager is no rep")
    with pytest.raises(NoteError, match="empty"):
        add_note(engine, MANAGER, Scope.subtree(MANAGER), RITA, DAY, "   ")
    with pytest.raises(NoteError, match="at most 10,000"):
        add_note(engine, MANAGER, Scope.subtree(MANAGER), RITA, DAY, "x" * 10_001)


def test_only_the_author_edits(engine):
    note = add_note(engine, MANAGER, Scope.subtree(MANAGER), NINA, DAY, "First week")
    with pytest.raises(NoteError, match="Only the author"):
        edit_note(engine, note, OLGA, DAY, "Rewritten")
    edit_note(engine, note, MANAGER, date(2026, 3, 3), "First week: shadowing", ["Book demo training"])
    got = notes(engine, Scope.only(NINA))
    assert got["body"].tolist() == ["First week: shadowing"] and got["meeting_date"].astype(str).tolist() == ["2026-03-03"]
    assert items(engine, [note])["text"].tolist() == ["Book demo training"]


def test_the_rep_or_the_author_ticks_items(engine):
    note = add_note(engine, MANAGER, Scope.subtree(MANAGER), RITA, DAY, "Review", ["Call Acme"])
    item = int(items(engine, [note])["id"].iloc[0])
    with pytest.raises(NoteError, match="Only the rep of the note or its author"):
        set_done(engine, item, ROB, True)
    set_done(engine, item, RITA, True)
    assert items(engine, [note])["done"].tolist() == [True]
    set_done(engine, item, MANAGER, False)
    assert items(engine, [note])["done"].tolist() == [False]
