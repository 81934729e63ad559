"""Contests page under AppTest: a team lead creates a contest for their subtree, their rep sees it ranked
like spm_core.contests, a rep elsewhere does not; URL parameters are checked; a finished contest shows
its winners; names and prizes stay text."""

from datetime import date

import pytest
from apptest_support import AS_OF, private_copy, run_page, sign_in, users_path

from spm_core.coaching.roster import reps
from spm_core.contests.model import Contest, MetricRule, load, save
from spm_core.contests.scoring import board
from spm_core.db import make_engine
from spm_core.filters import Scope
from spm_core.users import UserStore
from ui.contests.boards import badge_text

OTHER_PASSWORD = "other-rep-password"


@pytest.fixture
def url(demo_url, tmp_path):
    """A copy of the demo with a second rep account on a team the team lead does not manage."""
    copied = private_copy(demo_url, tmp_path)
    engine = make_engine(copied, read_only=True)
    store = UserStore(users_path(copied))
    mine = set(reps(engine, None, Scope.subtree(store.get("teamlead").person_id))["rep_id"])
    everyone = reps(engine, None, Scope.everyone())
    other = everyone[~everyone["rep_id"].isin(mine)].iloc[0]
    engine.dispose()
    store.add("otherrep", str(other["rep"]), "other@example.com", OTHER_PASSWORD, "rep", int(other["rep_id"]))
    return copied


def test_a_team_leads_contest_is_seen_by_their_rep_only(monkeypatch, url):
    lead = run_page(monkeypatch, url, page="contests", user="teamlead")
    assert not lead.exception
    lead.text_input(key="contest_name").input("Close it out")
    lead.selectbox(key="contest_recurring").set_value("weekly")
    lead.multiselect(key="contest_metrics").set_value(["deals_won", "bookings"])
    lead.run()
    lead.number_input(key="contest_points_deals_won").set_value(10.0)
    lead.number_input(key="contest_points_bookings").set_value(0.001)
    lead.text_area(key="contest_prizes").input("![x](https://evil.example/p.png) dinner")
    lead.button(key="contest_create").click().run()
    assert not lead.exception
    assert any("Contest Close it out created" in s.value for s in lead.success)

    engine = make_engine(url, read_only=True)
    (contest,) = load(engine)
    assert contest.recurring == "weekly" and contest.scope_root == UserStore(users_path(url)).get("teamlead").person_id
    expected = board(engine, contest, AS_OF)
    engine.dispose()
    mine = run_page(monkeypatch, url, page="contests", user="rep")
    assert not mine.exception
    shown = mine.dataframe[0].value
    assert shown["name"].tolist() == expected["name"].tolist() and shown["rank"].tolist() == expected["rank"].tolist()
    assert len(shown) == 6  # the team lead's reps
    assert shown["badges"].tolist() == expected["badges"].map(badge_text).tolist()
    assert "repeats weekly, this round 23 Nov – 29 Nov" in mine.caption[0].value
    assert "Prizes: \\!\\[x\\]\\(https\\:\\/\\/evil\\.example\\/p\\.png\\) dinner" in mine.caption[0].value
    assert not mine.get("expander")  # a rep creates no contest

    other = sign_in(run_page(monkeypatch, url, user=None), "otherrep", OTHER_PASSWORD)
    other.switch_page("pages/contests.py").run()
    assert not other.exception and any("No contests for you yet" in i.value for i in other.info)


def test_a_finished_contest_shows_its_winners_and_bad_ids_are_noticed(monkeypatch, url):
    engine = make_engine(url)
    done = save(engine, Contest("October", date(2026, 10, 1), date(2026, 10, 31), "individual", "ranked",
                                (MetricRule("deals_won", 1),), prizes="Trophy"), 1, Scope.everyone())  # fmt: skip
    expected = board(engine, load(engine)[0], AS_OF)
    engine.dispose()
    at = run_page(monkeypatch, url, page="contests", user="admin", params={"contest": str(done)})
    assert not at.exception
    assert any("Final result of October" in s.value for s in at.success)
    top = expected[expected["rank"] == 1]["name"].tolist()
    assert [m.label for m in at.metric][: len(top)] == [f"🥇 {n}" for n in top]

    bad = run_page(monkeypatch, url, page="contests", user="admin", params={"contest": "7; drop"})
    assert [w.value for w in bad.warning] == ["Ignored contest=7\\; drop: no contest with that id that you may see."]


@pytest.mark.parametrize("username", ["admin", "leader", "manager", "teamlead", "rep"])
def test_each_role_opens_the_page(monkeypatch, demo_url, username):
    at = run_page(monkeypatch, demo_url, page="contests", user=username)
    assert not at.exception
    assert bool(at.get("expander")) == (username in ("admin", "manager", "teamlead"))


def test_a_contest_without_a_name_is_refused_with_the_reason(monkeypatch, url):
    at = run_page(monkeypatch, url, page="contests", user="teamlead")
    at.button(key="contest_create").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == ["A contest needs a name of 1 to 100 characters\\."]
