"""Several `streamlit run` processes behind one address (the README's "Many users at once"), in real headless
Chromium: two processes on one read-only DuckDB warehouse, the same users file and cookie key. A browser
signed in on one is signed in on the other and on a process started after the first one stopped (a
restart); signing out on one ends the session on every process at its next page load."""

from __future__ import annotations

from apptest_support import users_path
from e2e_support import SLOW_MS, log_in, needs_chromium, no_error_on, server_env, settle, streamlit_server, wait_for_auth_cookie

pytestmark = needs_chromium


def opens_signed_in(page, base: str) -> None:
    page.goto(base)
    page.get_by_role("heading", name="Overview").first.wait_for(timeout=SLOW_MS)
    settle(page)
    assert page.get_by_role("button", name="Login").count() == 0
    no_error_on(page)


def test_a_session_holds_across_processes_and_a_restart_and_ends_everywhere(demo_url, tmp_path, browser_page):
    users = tmp_path / "users.yaml"
    users.write_bytes(users_path(demo_url).read_bytes())
    env = server_env(demo_url, users)
    page = browser_page
    with streamlit_server(env) as second:  # the other process behind the proxy, up all along
        with streamlit_server(env) as first:
            page.goto(first)
            settle(page)
            log_in(page, "manager")
            wait_for_auth_cookie(page)
            opens_signed_in(page, first)
            opens_signed_in(page, second)  # cookies are per host, not per port: the proxy's address in production
        with streamlit_server(env) as restarted:  # the first process is gone; a new one takes its place
            opens_signed_in(page, restarted)
            page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").click()
            settle(page)
        page.goto(second)
        page.get_by_role("button", name="Login").wait_for(timeout=SLOW_MS)
        no_error_on(page)
