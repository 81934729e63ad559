"""Saved views: stored per user beside the users file (spm_core.reports.saved_views), listed in the sidebar,
opened by their owner, and shared as a link that opens under the other user's own scope."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
import sqlalchemy as sa
from apptest_support import run_page, users_path
from streamlit.testing.v1 import AppTest

from spm_core.db import make_engine, read_frame
from spm_core.reports.saved_views import MAX_NAME, ViewStore
from spm_core.schema import person, team
from spm_core.users import UserError, UserStore
from ui.text import md


@pytest.fixture
def users_copy(tmp_path: Path, demo_url: str) -> Path:
    """A private users file, so the views.yaml written beside it is this test's alone."""
    target = tmp_path / "users.yaml"
    shutil.copy(users_path(demo_url), target)
    return target


def test_views_are_kept_per_user_replaced_by_name_and_removed(tmp_path):
    store = ViewStore(tmp_path / "users.yaml")
    store.save("ana", "EMEA  pipeline", "pipeline", {"team": "3,4"})
    store.save("ana", "EMEA pipeline", "pipeline", {"team": "5"})
    store.save("bob", "Mine", "", {})
    assert [(v.name, v.page, v.params) for v in store.views("ana")] == [("EMEA pipeline", "pipeline", (("team", "5"),))]
    assert dict(parse_qsl(store.views("ana")[0].link()[1:])) == {"open": "pipeline", "team": "5"}
    store.remove("ana", "EMEA pipeline")
    assert store.views("ana") == [] and len(store.views("bob")) == 1
    for name, page in (("", "pipeline"), ("x" * (MAX_NAME + 1), "pipeline"), ("ok", "../etc")):
        with pytest.raises(UserError):
            store.save("ana", name, page, {})
    assert (tmp_path / "views.yaml").stat().st_mode & 0o777 == 0o600


def _teams(url: str, username: str) -> tuple[int, int]:
    """The user's team and another one."""
    engine = make_engine(url, read_only=True)
    person_id = UserStore(users_path(url)).get(username).person_id
    own = int(read_frame(engine, sa.select(person.c.team_id).where(person.c.id == person_id)).iloc[0, 0])
    other = int(read_frame(engine, sa.select(team.c.id).where(team.c.id != own).order_by(team.c.id)).iloc[0, 0])
    engine.dispose()
    return own, other


def harness() -> None:
    """The sidebar component alone, in a two-page app (AppTest reruns only the page of the real frame after an
    interaction, so the frame's sidebar cannot be clicked there; see PITFALLS.md)."""
    from types import SimpleNamespace

    import streamlit as st

    from spm_core.users import User
    from ui.saved_views import saved_views

    def first() -> None:
        st.title("First")

    def second() -> None:
        st.title("Second")

    pages = [st.Page(first, title="First", default=True), st.Page(second, title="Second", url_path="second")]
    page = st.navigation(pages)
    with st.sidebar:
        saved_views(SimpleNamespace(url="duckdb:///unused.duckdb"), User("ana", "Ana", "", "leader", None), page, pages)
    st.session_state["seen_params"] = st.query_params.to_dict()
    page.run()


def test_the_current_view_is_saved_listed_and_reopened(monkeypatch, tmp_path):
    monkeypatch.setenv("SPM_USERS_FILE", str(tmp_path / "users.yaml"))
    at = AppTest.from_function(harness)
    at.query_params["team"] = "3"
    at.run()
    at.text_input(key="view_name").input("[Team](http://evil.example) three").run()
    at.button(key="view_save").click().run()
    assert not at.exception, at.exception
    (saved,) = ViewStore(tmp_path / "users.yaml").views("ana")
    assert (saved.name, saved.page, dict(saved.params)) == ("[Team](http://evil.example) three", "", {"team": "3"})
    assert at.button(key="view_open_0").label == md(saved.name)  # a name is outside text: escaped
    ViewStore(tmp_path / "users.yaml").save("ana", "A second", "second", {"period": "last_quarter"})
    at.run()
    next(b for b in at.button if b.label == md("A second")).click().run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Second"] and at.session_state["seen_params"] == {"period": "last_quarter"}
    at.button(key="view_delete_0").click().run()  # sorted by name: "[Team]..." first
    assert [v.name for v in ViewStore(tmp_path / "users.yaml").views("ana")] == ["A second"]


def test_saved_views_are_in_the_apps_sidebar(monkeypatch, demo_url, users_copy):
    ViewStore(users_copy).save("leader", "Pipeline, last quarter", "pipeline", {"period": "last_quarter"})
    at = run_page(monkeypatch, demo_url, users_file=users_copy)
    assert not at.exception, at.exception
    assert "Saved views" in [e.label for e in at.sidebar.expander]
    assert at.button(key="view_open_0").label == md("Pipeline, last quarter")


def test_a_shared_link_opens_under_the_other_users_own_scope(monkeypatch, demo_url, users_copy):
    rep_team, other_team = _teams(demo_url, "rep")
    params = {"open": "pipeline", "period": "last_quarter", "team": f"{rep_team},{other_team}"}
    at = run_page(monkeypatch, demo_url, params=params, user="rep", users_file=users_copy)
    assert not at.exception, at.exception
    assert "Pipeline health" in [t.value for t in at.title]
    assert at.session_state["f_period"] == "last_quarter" and at.session_state["f_team"] == [rep_team]
    notices = " ".join(at.session_state["f_notices"])
    assert f"team {other_team}" in notices  # not visible to a rep: dropped, with a notice
    assert "open" not in at.query_params


def test_a_link_to_a_page_the_user_cannot_open_says_so(monkeypatch, demo_url, users_copy):
    at = run_page(monkeypatch, demo_url, params={"open": "admin_users"}, user="rep", users_file=users_copy)
    assert not at.exception, at.exception
    assert any("not one you can open" in w.value for w in at.warning)
