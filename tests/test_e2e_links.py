"""Links survive sign-in, in real headless Chromium against `streamlit run`: a link to a page with
filters, opened signed out, shows the form at that address and then that page with those filters; the
same link in a new tab signs in from the cookie and opens it; a link to a page the role may not open
lands on Overview with a notice, never an error. Signing out deletes the cookie in the browser."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from apptest_support import users_path
from e2e_support import (
    SLOW_MS,
    log_in,
    needs_chromium,
    no_error_on,
    server_env,
    settle,
    shot,
    streamlit_server,
    wait_for_auth_cookie,
)

pytestmark = needs_chromium
LINK = "pipeline?period=last_quarter"


@pytest.fixture(scope="module")
def server(demo_url: str, tmp_path_factory) -> Iterator[str]:
    """A server on the demo warehouse with its own copy of the users (signing out writes to it)."""
    users = tmp_path_factory.mktemp("e2e_links") / "users.yaml"
    users.write_bytes(users_path(demo_url).read_bytes())
    with streamlit_server(server_env(demo_url, users)) as base:
        yield base


def chosen_period(page) -> str:
    """The option shown in the filter bar's Period box."""
    return page.locator('[data-testid="stSidebar"]').get_by_role("combobox", name="Period").input_value()


def on_linked_page(page) -> None:
    """The page linked, with the link's filters: Pipeline health, Last quarter chosen, the URL kept."""
    page.get_by_role("heading", name="Pipeline health").first.wait_for(timeout=SLOW_MS)
    settle(page)
    assert page.get_by_role("heading", name="Pipeline health").first.is_visible()
    assert chosen_period(page) == "Last quarter"
    assert page.get_by_text("01 Jul 2026 – 30 Sep 2026").first.is_visible()  # the demo's as-of is 2026-11-23
    assert "/pipeline" in page.url and "period=last_quarter" in page.url
    no_error_on(page)


def test_a_link_opened_signed_out_opens_after_sign_in_with_its_filters(server, browser_page):
    page = browser_page
    page.goto(f"{server}/{LINK}")
    settle(page)
    assert page.get_by_role("button", name="Login").is_visible()
    assert "/pipeline" in page.url and "period=last_quarter" in page.url, "the form keeps the link's address"
    assert page.get_by_text("Page not found").count() == 0
    log_in(page, "leader")
    on_linked_page(page)
    shot(page, "link_after_sign_in")

    wait_for_auth_cookie(page)
    tab = page.context.new_page()  # a new tab: signs in from the cookie, then opens the page linked
    tab.goto(f"{server}/{LINK}")
    settle(tab)
    on_linked_page(tab)
    assert tab.get_by_role("button", name="Login").count() == 0


def test_a_fresh_servers_first_visit_to_a_page_signs_in_first(demo_url, tmp_path, browser_page):
    """Until st.navigation first runs in a server process, Streamlit runs a pages/ file named in the URL
    by itself (its old multipage mode), without app.py: no sign-in, and an error."""
    users = tmp_path / "users.yaml"
    users.write_bytes(users_path(demo_url).read_bytes())
    with streamlit_server(server_env(demo_url, users)) as fresh:
        page = browser_page
        page.goto(f"{fresh}/{LINK}")
        page.get_by_role("button", name="Login").wait_for(timeout=SLOW_MS)  # under load the first run is slow
        settle(page)
        no_error_on(page)
        assert page.locator('[data-testid="stSidebarNav"]').count() == 0, "the pages/ files are listed"
        log_in(page, "leader")
        on_linked_page(page)


def test_a_link_to_a_page_the_role_may_not_open_lands_on_overview_saying_why(server, browser_page):
    page = browser_page
    page.goto(f"{server}/admin_users?period=last_quarter")
    settle(page)
    log_in(page, "rep")
    page.get_by_role("heading", name="Overview").first.wait_for(timeout=SLOW_MS)
    settle(page)
    page.get_by_text("The page linked, Users, is not open to your role (rep), so here is Overview.").wait_for(timeout=SLOW_MS)
    assert page.get_by_role("heading", name="Users").count() == 0
    assert chosen_period(page) == "Last quarter"  # the link's filters still apply
    no_error_on(page)
    shot(page, "link_not_for_this_role")


def test_a_link_to_the_root_still_opens_overview(server, browser_page):
    page = browser_page
    page.goto(f"{server}/?period=last_quarter")
    settle(page)
    log_in(page, "leader")
    page.get_by_role("heading", name="Overview").first.wait_for(timeout=SLOW_MS)
    settle(page)
    assert page.get_by_text("is not open to your role").count() == 0
    assert chosen_period(page) == "Last quarter"
    no_error_on(page)


def test_signing_out_deletes_the_cookie_in_the_browser(server, browser_page):
    page = browser_page
    page.goto(server)
    settle(page)
    log_in(page, "leader")
    wait_for_auth_cookie(page)
    page.get_by_role("button", name="Sign out").click()
    settle(page)
    assert page.get_by_role("button", name="Login").is_visible()
    page.wait_for_timeout(3_000)  # the cookie component's time to act, if it was drawn at all
    assert not [c for c in page.context.cookies() if c["name"] == "spm_auth"], "the cookie outlives the sign-out"
    page.reload()
    settle(page)
    assert page.get_by_role("button", name="Login").is_visible()
    assert page.get_by_role("alert").count() == 0, "a fresh page after signing out shows no error"
