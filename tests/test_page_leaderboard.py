"""Leaderboards page under AppTest: every demo role, the empty and Maven warehouses, URL filters and the
board's selectors; boards checked against spm_core.leaderboard, and what a rep may see of their peers."""

import io
from datetime import date
from functools import cache

import pandas as pd
import pytest
from apptest_support import AS_OF, run_page, users_path

from spm_core import leaderboard as lb
from spm_core.db import get_info, make_engine
from spm_core.filters import Filters, Period, Scope
from spm_core.settings import Settings
from spm_core.users import UserStore, viewer_scope

ROLES = ("admin", "leader", "manager", "teamlead", "rep")
QUARTER = Filters(Period.quarter(AS_OF))
FULL = lb.Audience.full()  # what leaders and managers see
BOARD_COLUMNS = ["Rank", "Name", "Bookings", "Change", "Badges"]  # rank, name, the metric; no pay, no deals


@cache
def engine(url: str):
    return make_engine(url, read_only=True)


def user_of(url: str, username: str):
    return UserStore(users_path(url)).get(username)


def board(
    url: str,
    metric: str = "bookings",
    filters: Filters = QUARTER,
    level: str = "rep",
    as_of: date = AS_OF,
    audience: lb.Audience = FULL,
):
    return lb.board(engine(url), metric, filters, Scope.everyone(), level, as_of, audience=audience)


def table(at):
    return at.dataframe[0].value


def my_rank(at):
    return next(m for m in at.metric if m.label.startswith("My rank"))


def expected_rank(expected, entry: int) -> str:
    return f"#{expected.at[entry, 'rank']} of {len(expected)}"


@pytest.mark.parametrize("username", ROLES)
def test_each_role_sees_the_whole_board_and_deals_only_within_their_scope(monkeypatch, app_url, username):
    at = run_page(monkeypatch, app_url, page="leaderboard", user=username)
    assert not at.exception
    expected, user = board(app_url), user_of(app_url, username)
    shown = table(at)
    assert list(shown.columns) == BOARD_COLUMNS
    assert shown.index.tolist() == expected.index.tolist()
    assert shown["Rank"].tolist() == expected["rank"].tolist()
    assert shown["Bookings"].round(2).tolist() == expected["value"].round(2).tolist()
    assert len(shown) == 12  # every rep of the company is ranked, whoever looks

    # The deal list can be opened only for the reps the viewer may see.
    visible = lb.entries_in_scope(engine(app_url), "rep", viewer_scope(engine(app_url), user))
    offered = at.selectbox(key="leaderboard_deals_of").options
    mine = [i for i in expected.index if visible is None or i in visible]
    assert offered == [f"#{expected.at[i, 'rank']} {expected.at[i, 'name']}" for i in mine]
    assert len(mine) == {"manager": 6, "teamlead": 6, "rep": 1}.get(username, 12)
    if user.person_id in expected.index:  # the viewer is a rep: their rank and their highlighted row
        assert my_rank(at).value == expected_rank(expected, user.person_id)
        assert my_rank(at).delta == str(expected.at[user.person_id, "change"])
        assert shown.at[user.person_id, "Name"].endswith(f"{user.name} (you)")
        assert sum(shown["Name"].str.endswith("(you)")) == 1
    else:
        assert my_rank(at).value == "—"
        assert not any(shown["Name"].str.endswith("(you)"))


@pytest.mark.parametrize("username", ROLES)
def test_each_role_downloads_the_whole_board_as_its_audience_sees_it(monkeypatch, demo_url, named_downloads, username):
    """The CSV holds every ranked rep (the table shows the first 100), with the values this viewer may see:
    spm_core's board for the viewer's audience, hand-checked for a rep on attainment (only their own value)."""
    at = run_page(monkeypatch, demo_url, page="leaderboard", user=username)
    at.segmented_control(key="leaderboard_metric").set_value("attainment").run()
    assert not at.exception
    user = user_of(demo_url, username)
    audience = lb.Audience.of(user.role, user.person_id, Settings())
    expected = board(demo_url, metric="attainment", audience=audience)
    got = pd.read_csv(io.BytesIO(named_downloads["leaderboard-rep-attainment.csv"]))
    assert list(got.columns) == ["rank", "name", "Quota attainment", "change_in_places", "badges"]
    assert got["name"].tolist() == expected["name"].tolist() and got["rank"].tolist() == expected["rank"].tolist()
    shown = got.set_index(expected.index)["Quota attainment"]
    pd.testing.assert_series_equal(shown, expected["value"].astype("float64"), check_names=False)
    if username == "rep":
        assert shown.dropna().index.tolist() == [user.person_id]
    else:
        assert shown.notna().all()


def test_a_rep_sees_only_their_own_deals_and_no_team_deals(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, page="leaderboard", user="rep")
    rep = user_of(demo_url, "rep")
    assert [t.key for t in at.toggle] == ["leaderboard_deals"]  # one deal list: the rep's own
    at.toggle(key="leaderboard_deals").set_value(True).run()
    assert not at.exception
    deals = at.dataframe[1].value
    assert set(deals["owner"]) == {rep.name}
    assert round(deals["amount"].sum(), 2) == round(board(demo_url).at[rep.person_id, "value"], 2)

    at.segmented_control(key="leaderboard_level").set_value("team").run()
    assert not at.exception
    teams = board(demo_url, level="team")
    shown = table(at)
    assert list(shown.columns) == BOARD_COLUMNS
    assert shown["Bookings"].round(2).tolist() == teams["value"].round(2).tolist()
    assert my_rank(at).value == expected_rank(teams, 1)  # Isla Ito's team is team 1
    assert shown.at[1, "Name"].endswith("(you)")
    assert not at.selectbox and not at.toggle  # no list of the team's (other reps') deals
    assert any("Deal lists are limited to the people in your view" in c.value for c in at.caption)


def test_another_metric_reranks_the_board(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, page="leaderboard", user="rep")
    at.segmented_control(key="leaderboard_metric").set_value("deals_won").run()
    assert not at.exception
    rep = user_of(demo_url, "rep")
    expected = board(demo_url, "deals_won", audience=lb.Audience.of("rep", rep.person_id, Settings()))
    shown = table(at)
    assert list(shown.columns) == ["Rank", "Name", "Deals won", "Change", "Badges"]
    assert shown.index.tolist() == expected.index.tolist() == board(demo_url, "deals_won").index.tolist()
    assert shown["Deals won"].dropna().tolist() == [expected.at[rep.person_id, "value"]]  # the others': bookings only
    assert my_rank(at).value == expected_rank(expected, rep.person_id)
    assert expected.index.tolist() != board(demo_url).index.tolist()


def test_last_quarter_in_the_url_moves_the_reps_rank(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, page="leaderboard", params={"period": "last_quarter"}, user="rep")
    assert not at.exception and not at.warning
    rep = user_of(demo_url, "rep")
    last = board(demo_url, filters=Filters(Period.named("last_quarter", AS_OF)))
    assert my_rank(at).value == expected_rank(last, rep.person_id) != expected_rank(board(demo_url), rep.person_id)
    assert table(at)["Bookings"].round(2).tolist() == last["value"].round(2).tolist()


def test_a_team_in_the_url_ranks_that_teams_reps_only(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, page="leaderboard", params={"team": "2"})
    assert not at.exception and not at.warning
    expected = board(demo_url, filters=Filters(QUARTER.period, teams=frozenset({2})))
    assert table(at).index.tolist() == expected.index.tolist()
    assert set(expected.index) == {15, 16, 17, 18, 19, 20}  # the Mid-Market team's six reps
    assert table(at)["Rank"].tolist() == expected["rank"].tolist()


def test_an_empty_warehouse_explains_why_there_is_no_board(monkeypatch, empty_url):
    at = run_page(monkeypatch, empty_url, page="leaderboard")
    assert not at.exception
    assert not at.dataframe and not at.metric
    assert any("No data for these filters" in i.value for i in at.info)


def test_the_maven_dataset_ranks_its_reps_and_explains_attainment(monkeypatch, maven_url):
    at = run_page(monkeypatch, maven_url, page="leaderboard", user="admin")
    assert not at.exception
    as_of = date.fromisoformat(get_info(engine(maven_url))["as_of"])
    expected = board(maven_url, filters=Filters(Period.quarter(as_of)), as_of=as_of)
    assert table(at)["Bookings"].round(2).tolist() == expected["value"].round(2).tolist()
    assert len(expected) == 35
    assert my_rank(at).value == "—"
    assert any("not linked to a person" in c.value for c in at.caption)  # the admin is signed in

    at.segmented_control(key="leaderboard_metric").set_value("attainment").run()
    assert not at.exception and not at.dataframe
    assert any("this warehouse has no quotas" in i.value for i in at.info)
