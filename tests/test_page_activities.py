"""Activities page under AppTest: every role, what each may see (a rep only themselves, a manager their
subtree), values against spm_core.coaching, and the empty warehouse."""

from functools import cache

import pytest
from apptest_support import AS_OF, run_page, users_path

from spm_core.coaching.activities import rep_activity
from spm_core.db import make_engine
from spm_core.filters import Filters, Period
from spm_core.users import UserStore, viewer_scope

ROLES = ("admin", "leader", "manager", "teamlead", "rep")


@cache
def engine(url: str):
    return make_engine(url, read_only=True)


def expected(url: str, username: str):
    user = UserStore(users_path(url)).get(username)
    return user, rep_activity(engine(url), Filters(Period.quarter(AS_OF)), viewer_scope(engine(url), user), AS_OF)


@pytest.mark.parametrize("username", ROLES)
def test_each_role_sees_the_reps_in_their_scope_only(monkeypatch, demo_url, username):
    at = run_page(monkeypatch, demo_url, page="activities", user=username)
    assert not at.exception
    user, want = expected(demo_url, username)
    shown = at.dataframe[0].value
    assert shown["rep"].tolist() == want["rep"].tolist()
    assert shown["activities"].tolist() == want["activities"].tolist()
    assert len(shown) == {"manager": 6, "teamlead": 6, "rep": 1}.get(username, 12)
    options = at.selectbox(key="activities_rep").options
    assert options == want["rep"].tolist()
    listed = at.dataframe[2].value
    assert set(listed["rep"]) <= set(want["rep"])
    if username == "rep":
        assert set(listed["rep"]) == {user.name}
        assert [b.label for b in at.get("download_button")][0].startswith(f"Download {len(listed):,} activities")


def test_choosing_another_rep_lists_their_activities(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, page="activities", user="teamlead")
    _, want = expected(demo_url, "teamlead")
    last = want.iloc[-1]
    at.selectbox(key="activities_rep").set_value(int(last["rep_id"])).run()
    assert not at.exception
    assert set(at.dataframe[2].value["rep"]) == {last["rep"]}


def test_the_empty_warehouse_says_there_is_no_one(monkeypatch, empty_url):
    at = run_page(monkeypatch, empty_url, page="activities", user="admin")
    assert not at.exception
    assert any("No reps in view" in i.value for i in at.info)
