"""Forecast page under AppTest: every role, an empty warehouse, data without history; the numbers are
spm_core.forecast's under the signed-in user's scope."""

import json

import pytest
from apptest_support import AS_OF, run_page, users_path

from spm_core import forecast
from spm_core.db import make_engine
from spm_core.filters import Filters, Period, Scope
from spm_core.users import UserStore, viewer_scope
from ui.format import money
from ui.text import md

ROLES = ("admin", "leader", "manager", "teamlead", "rep")


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def deal_list(at):
    """The drill-down table: the one frame on the page listing deals (with owners)."""
    return next(d.value for d in at.dataframe if "owner" in d.value.columns)


def texts(at) -> str:
    return " ".join(e.value for e in [*at.info, *at.warning, *at.caption, *at.markdown])


@pytest.mark.parametrize("username", ROLES)
def test_each_role_sees_its_own_roll_up_and_statistical_forecast(monkeypatch, app_url, username):
    at = run_page(monkeypatch, app_url, "forecast", user=username)
    assert not at.exception, at.exception
    engine = make_engine(app_url, read_only=True)
    user = UserStore(users_path(app_url)).get(username)
    scope = viewer_scope(engine, user)
    filters = Filters(Period.quarter(AS_OF))
    tree = forecast.rollup(engine, filters, scope, AS_OF)
    roots = tree[tree["manager_id"].isna()]
    assert metric(at, "Forecast (call)") == money(roots["call"].sum())
    sf = forecast.statistical_forecast(engine, filters, scope, AS_OF)
    assert metric(at, "Expected bookings") == money(sf.expected)
    assert metric(at, "Range (10th–90th pct.)") == md(f"{money(sf.low)} – {money(sf.high)}")  # Markdown: "$" escaped
    assert f"The whole tree ({len(tree):,} people)" in [e.label for e in at.expander]


def test_a_rep_sees_only_their_own_row_and_deals(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, "forecast", user="rep")
    rep = UserStore(users_path(demo_url)).get("rep")
    at.toggle(key="forecast_category_deals").set_value(True).run()
    assert not at.exception
    assert list(at.selectbox(key="forecast_root").options) == ["Everyone in view", rep.name]
    engine = make_engine(demo_url, read_only=True)
    filters, scope = Filters(Period.quarter(AS_OF)), viewer_scope(engine, rep)
    category = next(c for c in forecast.CATEGORIES if not forecast.category_deals(engine, filters, scope, c).empty)
    at.selectbox(key="forecast_category").set_value(category).run()
    shown = deal_list(at)
    assert len(shown) and set(shown["owner"]) == {rep.name}
    everyone = forecast.category_deals(engine, filters, Scope.everyone(), category)
    assert len(everyone) > len(shown)  # others have such deals: the rep's list leaves them out


def test_the_commit_drill_down_of_a_manager_sums_to_their_commit(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, "forecast", user="manager")
    at.toggle(key="forecast_category_deals").set_value(True).run()
    engine = make_engine(demo_url, read_only=True)
    user = UserStore(users_path(demo_url)).get("manager")
    tree = forecast.rollup(engine, Filters(Period.quarter(AS_OF)), viewer_scope(engine, user), AS_OF)
    top = tree.iloc[0]
    at.selectbox(key="forecast_root").set_value(int(top["person_id"])).run()
    assert not at.exception
    shown = deal_list(at)
    assert shown["amount"].sum() == pytest.approx(top["commit"])


def test_a_team_filter_narrows_the_call(monkeypatch, demo_url):
    everyone = metric(run_page(monkeypatch, demo_url, "forecast"), "Forecast (call)")
    at = run_page(monkeypatch, demo_url, "forecast", params={"team": "1"})
    engine = make_engine(demo_url, read_only=True)
    tree = forecast.rollup(
        engine,
        Filters(Period.quarter(AS_OF), teams=frozenset({1})),
        viewer_scope(engine, UserStore(users_path(demo_url)).get("leader")),
        AS_OF,
    )
    assert metric(at, "Forecast (call)") == money(tree.loc[tree["manager_id"].isna(), "call"].sum()) != everyone


def test_a_past_period_has_nothing_left_to_forecast(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, "forecast", params={"period": "last_quarter"})
    assert not at.exception
    assert "The period is over" in texts(at)


@pytest.mark.parametrize("fixture", ["empty_url", "maven_url"])
def test_warehouses_without_history_say_so(monkeypatch, request, fixture):
    at = run_page(monkeypatch, request.getfixturevalue(fixture), "forecast")
    assert not at.exception, at.exception
    assert "History not available" in texts(at)


def test_forecast_by_manager_gives_each_manager_a_readable_bar_largest_call_first(monkeypatch, demo_url):
    """One band of its own per person (no squeezing into Streamlit's default fit-to-height), sorted by call."""
    at = run_page(monkeypatch, demo_url, "forecast", user="leader")
    assert not at.exception
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    spec = next(s for s in specs if "Person (with their team)" in json.dumps(s))
    engine = make_engine(demo_url, read_only=True)
    tree = forecast.rollup(engine, Filters(Period.quarter(AS_OF)), Scope.everyone(), AS_OF)
    rows = forecast.children(tree, int(tree.loc[tree["manager_id"].isna(), "person_id"].iloc[0]))
    assert len(rows) >= 2
    assert spec["autosize"]["type"] == "fit-x" and spec["height"] >= 30 * len(rows)
    expected = list(rows.sort_values(["call", "name"], ascending=[False, True])["name"])
    assert [layer["encoding"]["y"]["sort"] for layer in spec["layer"]] == [expected, expected]
