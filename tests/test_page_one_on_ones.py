"""1:1 notes page under AppTest: a team lead writes a note with action items, the rep sees it and ticks
an item, another rep sees nothing of it, and only the author may edit."""

import pytest
from apptest_support import private_copy, run_page, sign_in, users_path

from spm_core.coaching.notes import items, notes
from spm_core.coaching.roster import reps
from spm_core.db import make_engine
from spm_core.filters import Scope
from spm_core.users import UserStore

OTHER_PASSWORD = "other-rep-password"


@pytest.fixture
def url(demo_url, tmp_path):
    """A copy of the demo with a second rep account, on a team the team lead does not manage."""
    copied = private_copy(demo_url, tmp_path)
    engine = make_engine(copied, read_only=True)
    store = UserStore(users_path(copied))
    teamlead = store.get("teamlead").person_id
    others = reps(engine, None, Scope.everyone())
    mine = set(reps(engine, None, Scope.subtree(teamlead))["rep_id"])
    other = others[~others["rep_id"].isin(mine)].iloc[0]
    engine.dispose()
    store.add("otherrep", str(other["rep"]), "other@example.com", OTHER_PASSWORD, "rep", int(other["rep_id"]))
    return copied


def button(at, label):
    return next(b for b in at.button if b.label == label)


def test_a_note_travels_from_the_team_lead_to_the_rep_and_nowhere_else(monkeypatch, url):
    rep = UserStore(users_path(url)).get("rep")
    lead = run_page(monkeypatch, url, page="one_on_ones", user="teamlead")
    assert not lead.exception
    lead.selectbox(key="notes_rep").set_value(rep.person_id)
    lead.text_area(key="note_new_body").input("Good quarter so far.\n[Click](https://evil.example) for more")
    lead.text_area(key="note_new_items").input("Call Acme\nSend the deck")
    button(lead, "Save note").click().run()
    assert not lead.exception
    assert any("Note saved" in s.value for s in lead.success)

    mine = run_page(monkeypatch, url, page="one_on_ones", user="rep")
    assert not mine.exception
    shown = [m.value for m in mine.markdown]
    assert "Good quarter so far\\.  \n\\[Click\\]\\(https\\:\\/\\/evil\\.example\\) for more" in shown  # lines kept, link as text
    assert [c.label for c in mine.checkbox] == ["Call Acme", "Send the deck"]
    assert not any(b.label == "Save note" for b in mine.button)  # a rep writes no notes
    assert not mine.get("expander")  # nor edits the manager's
    mine.checkbox(key=mine.checkbox[0].key).check().run()
    assert not mine.exception
    engine = make_engine(url, read_only=True)
    note = notes(engine, Scope.only(rep.person_id))
    assert items(engine, note["id"].tolist())["done"].tolist() == [True, False]
    engine.dispose()

    other = sign_in(run_page(monkeypatch, url, user=None), "otherrep", OTHER_PASSWORD)
    other.switch_page("pages/one_on_ones.py").run()
    assert not other.exception
    assert any("No notes yet" in i.value for i in other.info)
    assert not any("Good quarter" in m.value for m in other.markdown)


def test_the_author_edits_and_another_manager_cannot(monkeypatch, url):
    rep = UserStore(users_path(url)).get("rep")
    lead = run_page(monkeypatch, url, page="one_on_ones", user="teamlead")
    lead.selectbox(key="notes_rep").set_value(rep.person_id)
    lead.text_area(key="note_new_body").input("First draft")
    button(lead, "Save note").click().run()
    reader = make_engine(url, read_only=True)
    note_id = int(notes(reader, Scope.everyone())["id"].iloc[0])
    reader.dispose()  # an open read-only connection in this process would make DuckDB refuse the page's writer
    lead.text_area(key=f"note_edit_body_{note_id}").input("Second draft")
    button(lead, "Save changes").click().run()
    assert not lead.exception and any("Note updated" in s.value for s in lead.success)

    vp = run_page(monkeypatch, url, page="one_on_ones", user="manager")  # above the team lead: reads, does not edit
    vp.selectbox(key="notes_rep").set_value(rep.person_id).run()
    assert any("Second draft" in m.value for m in vp.markdown)
    assert not any(b.label == "Save changes" for b in vp.button)


@pytest.mark.parametrize("username", ["admin", "leader", "manager", "teamlead", "rep"])
def test_each_role_opens_the_page_with_the_reps_of_their_scope(monkeypatch, demo_url, username):
    at = run_page(monkeypatch, demo_url, page="one_on_ones", user=username)
    assert not at.exception
    if username == "rep":
        assert not at.selectbox and any("No notes yet" in i.value for i in at.info)
    else:
        expected = {"manager": 6, "teamlead": 6}.get(username, 12)
        assert len(at.selectbox(key="notes_rep").options) == expected
