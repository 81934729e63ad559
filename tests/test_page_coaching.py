"""Coaching flags page under AppTest: each role sees the flags of the reps in their scope only (a rep
their own, a manager their subtree), the strongest performers only with others in view."""

from functools import cache

import pytest
from apptest_support import AS_OF, run_page, users_path

from spm_core.coaching.flags import flags
from spm_core.db import make_engine
from spm_core.filters import Filters, Period
from spm_core.users import UserStore, viewer_scope

ROLES = ("admin", "leader", "manager", "teamlead", "rep")


@cache
def engine(url: str):
    return make_engine(url, read_only=True)


@pytest.mark.parametrize("username", ROLES)
def test_each_role_sees_the_flags_in_their_scope(monkeypatch, app_url, username):
    at = run_page(monkeypatch, app_url, page="coaching", user=username)
    assert not at.exception
    user = UserStore(users_path(app_url)).get(username)
    want = scoped_flags(app_url, username)
    shown = at.dataframe[0].value if not want.empty else None
    if want.empty:
        assert any("No flags" in s.value for s in at.success)
    else:
        assert shown["reason"].tolist() == want["reason"].tolist()
        assert shown["rep"].tolist() == want["rep"].tolist()
    if username == "rep":
        assert want.empty or set(shown["rep"]) == {user.name}
        assert len(at.dataframe) == (0 if want.empty else 1)  # no strongest performers: no one else's numbers
        assert not any(s.value == "Strongest performers" for s in at.subheader)
    else:
        assert any(s.value == "Strongest performers" for s in at.subheader)


def scoped_flags(url: str, username: str):
    user = UserStore(users_path(url)).get(username)
    return flags(engine(url), Filters(Period.quarter(AS_OF)), viewer_scope(engine(url), user), AS_OF)


def test_a_manager_never_sees_flags_outside_their_subtree(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, page="coaching", user="teamlead")
    everyone, mine = scoped_flags(demo_url, "leader"), scoped_flags(demo_url, "teamlead")
    assert set(everyone["rep"]) - set(mine["rep"])  # there are flags elsewhere...
    assert set(at.dataframe[0].value["rep"]) == set(mine["rep"])  # ...and the team lead does not see them
    assert set(at.dataframe[1].value["rep"]) <= set(mine["rep"])  # nor strongest performers from elsewhere


def test_maven_without_history_says_what_is_not_checked(monkeypatch, maven_url):
    at = run_page(monkeypatch, maven_url, page="coaching", user="admin")
    assert not at.exception
    assert any("no opportunity history" in i.value for i in at.info)


@pytest.mark.parametrize("page", ["activities", "scorecard", "coaching", "one_on_ones", "contests", "tv"])
@pytest.mark.parametrize("warehouse", ["empty_url", "maven_url"])
def test_every_coaching_page_opens_on_an_empty_and_a_real_warehouse(monkeypatch, request, page, warehouse):
    at = run_page(monkeypatch, request.getfixturevalue(warehouse), page=page, user="admin")
    assert not at.exception, page
