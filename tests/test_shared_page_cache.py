"""Pages share cached results between people with the same scope and never across scopes: a second
manager account on the same person opening a dashboard after the first sends no statement to the
warehouse, while a rep under that manager opening it next gets their own numbers, the same as with every
cache empty (a rep never sees a manager's cached result)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
import streamlit as st
from apptest_support import run_page, sign_in, users_path
from sqlalchemy.engine import Engine

from spm_core.users import UserStore

DEPUTY, DEPUTY_PASSWORD = "deputy", "deputy-own-password"


@pytest.fixture
def users_file(tmp_path: Path, demo_url: str) -> Path:
    """The demo users plus a deputy: a second manager account on the demo manager's person (same scope)."""
    path = tmp_path / "users.yaml"
    shutil.copy(users_path(demo_url), path)
    store = UserStore(path)
    manager = store.get("manager")
    store.add(DEPUTY, "Deputy", "deputy@example.com", DEPUTY_PASSWORD, "manager", manager.person_id)
    return path


@pytest.fixture
def sent() -> list[str]:
    """The SQL of every statement any engine sends while the test runs."""
    statements: list[str] = []

    def record(conn, cursor, statement, *rest) -> None:
        statements.append(statement)

    sa.event.listen(Engine, "before_cursor_execute", record)
    yield statements
    sa.event.remove(Engine, "before_cursor_execute", record)


def forget_everything() -> None:
    """Empty Streamlit's caches and the warehouse engines' shared results (a fresh server)."""
    st.cache_data.clear()
    st.cache_resource.clear()  # the warehouse engine, and with it its result cache (result_cache.attach)


def page_as(monkeypatch, page: str, url: str, users: Path, username: str, password: str | None = None):
    at = run_page(monkeypatch, url, user=None, users_file=users)
    sign_in(at, username, password)
    at.switch_page(f"pages/{page}.py").run()
    assert not at.exception
    return at


def tiles(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("page", ["overview", "pipeline", "attainment", "leaderboard", "forecast"])
def test_the_same_scope_shares_and_another_scope_never_does(monkeypatch, demo_url, users_file, sent, page):
    forget_everything()
    manager = tiles(page_as(monkeypatch, page, demo_url, users_file, "manager"))
    assert sent  # the first viewer's numbers come from the warehouse

    sent.clear()
    deputy = tiles(page_as(monkeypatch, page, demo_url, users_file, DEPUTY, DEPUTY_PASSWORD))
    assert deputy == manager
    assert sent == []  # every number from the manager's cached results, not one statement sent

    rep_after_manager = tiles(page_as(monkeypatch, page, demo_url, users_file, "rep"))
    assert sent  # the rep's scope is another key: computed afresh
    forget_everything()
    rep_alone = tiles(page_as(monkeypatch, page, demo_url, users_file, "rep"))
    assert rep_after_manager == rep_alone != manager
