"""TV mode: the display role sees contest boards only (no sidebar, no other page), in turn on every run,
with URL parameters checked; names stay text; a rep's TV shows only their contests."""

from datetime import date

import pytest
from apptest_support import private_copy, run_page, sign_in, users_path

from spm_core.contests.model import Contest, MetricRule, save
from spm_core.db import make_engine
from spm_core.filters import Scope
from spm_core.users import UserStore
from ui import warehouse
from ui.contests.tv import DEFAULT_EVERY, parse

SCREEN_PASSWORD = "sales-floor-screen"
NOV = (date(2026, 11, 1), date(2026, 11, 30))


def contest(name: str, **extra) -> Contest:
    return Contest(name, *NOV, "individual", extra.pop("board", "ranked"), (MetricRule("deals_won", 1),), **extra)


@pytest.fixture
def url(demo_url, tmp_path):
    """The demo with a display account and three contests: the company's, a race, and a team lead's."""
    copied = private_copy(demo_url, tmp_path)
    store = UserStore(users_path(copied))
    store.add("screen", "Sales floor", "screen@example.com", SCREEN_PASSWORD, "display", None)
    engine = make_engine(copied)
    save(engine, contest("November | [win](https://evil.example)"), 1, Scope.everyone())
    save(engine, contest("Race", board="race", target=5.0), 1, Scope.everyone())
    lead = store.get("teamlead").person_id
    save(engine, contest("Team lead only", teams=frozenset()), lead, Scope.subtree(lead))
    engine.dispose()
    return copied


def screen(monkeypatch, url, params=None):
    at = sign_in(run_page(monkeypatch, url, user=None, params=params), "screen", SCREEN_PASSWORD)
    assert not at.exception
    return at


def titles(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("# ")]


def test_the_display_rotates_through_every_board_and_sees_nothing_else(monkeypatch, url):
    at = screen(monkeypatch, url)
    assert not at.sidebar.children  # no sidebar: no filter bar, no pages
    seen = [titles(at)[0]]
    for _ in range(3):
        at.run()
        seen.append(titles(at)[0])
    # newest first (all start together: the last created first); the name's link and pipe are text
    november = "# November \\| \\[win\\]\\(https\\:\\/\\/evil\\.example\\)"
    assert seen == ["# Team lead only", "# Race", november, "# Team lead only"]
    # The frame registers no other page for a display (checked in a browser: AppTest runs a switched-to page
    # alone); and the scope every page gets is nobody's, so no deal, quota or activity could show anyway.
    assert at.session_state["page_context"].scope == Scope.nobody()
    assert not any("table" in m.value.casefold() and "amount" in m.value.casefold() for m in at.markdown)


def test_boards_and_every_choose_and_bad_values_are_noticed(monkeypatch, url):
    at = screen(monkeypatch, url, params={"boards": "2,99,x", "every": "1"})
    assert [w.value for w in at.warning] == [
        "Ignored boards 99, x: no contest with that id that this screen may show.",
        f"Ignored every=1: seconds per board, from 5 to 3600; showing each for {DEFAULT_EVERY}.",
    ]
    assert titles(at) == ["# Race"]
    at.run()
    assert titles(at) == ["# Race"]  # the only board chosen


def test_a_race_board_shows_progress(monkeypatch, url):
    at = screen(monkeypatch, url, params={"boards": "2"})
    table = next(m.value for m in at.markdown if m.value.startswith("| # |"))
    assert table.splitlines()[0] == "| # | Name | Points | To target |"


def test_a_reps_tv_shows_only_the_contests_they_are_in(monkeypatch, url, demo_url):
    at = run_page(monkeypatch, url, page="tv", user="rep")  # the rep is in the team lead's team
    names = set()
    for _ in range(3):
        names.add(titles(at)[0])
        at.run()
    assert "# Team lead only" in names and len(names) == 3
    other = run_page(monkeypatch, url, page="tv", user="leader")
    assert not other.exception


def test_parse_defaults():
    got, every, notices = parse({}, [contest("A")])
    assert [c.name for c in got] == ["A"] and every == DEFAULT_EVERY and notices == []


def test_a_contest_created_while_the_screen_runs_joins_the_rotation(monkeypatch, url):
    at = screen(monkeypatch, url, params={"boards": ""})
    with warehouse.writable() as engine:  # as the Contests page writes, beside the screen's read-only engine
        save(engine, contest("Late entry"), 1, Scope.everyone())
    seen = set()
    for _ in range(4):
        at.run()
        seen.add(titles(at)[0])
    assert "# Late entry" in seen
