"""Rep scorecards page under AppTest: each role sees the reps in their scope only; the admin (only)
changes the scorecard and a personal target, and the scores follow."""

from functools import cache

import pytest
from apptest_support import AS_OF, private_copy, run_page, users_path

from spm_core.coaching.scorecard import scorecard
from spm_core.db import make_engine
from spm_core.filters import Filters, Period
from spm_core.users import UserStore, viewer_scope

ROLES = ("admin", "leader", "manager", "teamlead", "rep")


@cache
def engine(url: str):
    return make_engine(url, read_only=True)


def expected(url: str, username: str):
    user = UserStore(users_path(url)).get(username)
    return scorecard(engine(url), Filters(Period.quarter(AS_OF)), viewer_scope(engine(url), user), AS_OF)


@pytest.mark.parametrize("username", ROLES)
def test_each_role_sees_the_cards_in_their_scope(monkeypatch, demo_url, username):
    at = run_page(monkeypatch, demo_url, page="scorecard", user=username)
    assert not at.exception
    want, shown = expected(demo_url, username), at.dataframe[0].value
    assert shown["rep"].tolist() == want["rep"].tolist()
    assert shown["score"].round(6).tolist() == want["score"].round(6).tolist()
    assert len(shown) == {"manager": 6, "teamlead": 6, "rep": 1}.get(username, 12)
    assert {"calls_points", "bookings_target"} <= set(shown.columns)  # the components are visible
    assert bool(at.get("form")) == (username == "admin")  # only the admin sets the scorecard


def test_the_admin_changes_weights_and_a_personal_target(monkeypatch, demo_url, tmp_path):
    url = private_copy(demo_url, tmp_path)
    at = run_page(monkeypatch, url, page="scorecard", user="admin")
    for kpi, weight in (("calls", 0.0), ("meetings", 0.0), ("deals_created", 0.0), ("deals_won", 0.0), ("bookings", 0.0)):
        at.number_input(key=f"sc_w_{kpi}").set_value(weight)
    at.number_input(key="sc_w_demos").set_value(100.0)
    at.number_input(key="sc_t_demos").set_value(2.0)
    next(b for b in at.button if b.label == "Save scorecard").click().run()
    assert not at.exception
    assert any("Scorecard saved" in s.value for s in at.success)
    shown = at.dataframe[0].value
    assert "demos_points" in shown.columns and "calls_points" not in shown.columns
    assert (shown["demos_target"] == 6.0).all()  # 2 a month over the quarter, every demo rep present throughout

    rep_id = at.selectbox(key="sc_p_rep").value
    at.number_input(key="sc_p_target").set_value(1.0)
    next(b for b in at.button if b.label == "Save personal target").click().run()
    assert not at.exception
    after = expected(url, "admin").set_index("rep_id")
    assert after.at[rep_id, "demos_target"] == 3.0


def test_weights_not_adding_up_are_refused_with_the_reason(monkeypatch, demo_url, tmp_path):
    url = private_copy(demo_url, tmp_path)
    at = run_page(monkeypatch, url, page="scorecard", user="admin")
    at.number_input(key="sc_w_calls").set_value(50.0)
    next(b for b in at.button if b.label == "Save scorecard").click().run()
    assert not at.exception
    assert any("add up to 100" in e.value for e in at.error)
