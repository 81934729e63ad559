"""The admin Users page: adding users with bad passwords, locks and sign-out everywhere, per role."""

from __future__ import annotations

import pytest
from apptest_support import run_page, users_path

from spm_core.users import UserStore


@pytest.fixture
def users(tmp_path, demo_url):
    """This test's own copy of the demo users: the page changes it."""
    path = tmp_path / "users.yaml"
    path.write_bytes(users_path(demo_url).read_bytes())
    return path


def admin_page(monkeypatch, demo_url, users):
    at = run_page(monkeypatch, demo_url, "admin_users", user="admin", users_file=users)
    assert not at.exception and at.title[0].value == "Users"
    return at


def test_a_password_over_72_bytes_is_a_message_not_a_traceback(monkeypatch, demo_url, users):
    at = admin_page(monkeypatch, demo_url, users)
    inputs = {t.label: t for t in at.text_input}
    inputs["Username"].input("longpw")
    inputs["Password"].input("p" * 100)
    next(s for s in at.selectbox if s.label == "Role").select("leader")
    next(b for b in at.button if b.label == "Add user").click()
    at.run()
    assert not at.exception
    assert any("at most 72 bytes" in e.value for e in at.error)
    assert UserStore(users).get("longpw") is None


def test_lock_unlock_and_sign_out_everywhere(monkeypatch, demo_url, users):
    at = admin_page(monkeypatch, demo_url, users)
    store = UserStore(users)
    before = store.entry("rep")["session_version"]
    at.selectbox(key="admin_sessions_user").select("rep")
    next(b for b in at.button if b.label == "Lock").click()
    at.run()
    assert not at.exception and store.entry("rep")["locked"] and store.entry("rep")["session_version"] == before + 1
    next(b for b in at.button if b.label == "Unlock").click()
    at.run()
    assert not store.entry("rep")["locked"]
    next(b for b in at.button if b.label == "Sign out everywhere").click()
    at.run()
    assert store.entry("rep")["session_version"] == before + 2


def test_an_admin_cannot_lock_themselves_out(monkeypatch, demo_url, users):
    at = admin_page(monkeypatch, demo_url, users)
    at.selectbox(key="admin_sessions_user").select("admin")
    next(b for b in at.button if b.label == "Lock").click()
    at.run()
    assert any("cannot lock your own" in e.value for e in at.error)
    assert not UserStore(users).entry("admin")["locked"]


@pytest.mark.parametrize("role", ["leader", "manager", "teamlead", "rep"])
def test_only_admins_reach_the_page(monkeypatch, demo_url, users, role):
    at = run_page(monkeypatch, demo_url, user=role, users_file=users)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/admin_users.py")
