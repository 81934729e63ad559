"""End to end in real headless Chromium against `streamlit run`: sign in through the real form,
every page opens, a filter applies, a drill-down opens and its CSV downloads, sign out and in again.
Screenshots go to test-artifacts/."""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pandas as pd
import pytest
import sqlalchemy as sa
from apptest_support import users_path
from e2e_support import (
    COOKIE_KEY,
    choose,
    log_in,
    needs_chromium,
    no_error_on,
    open_page,
    server_env,
    settle,
    shot,
    streamlit_server,
    tile,
    wait_for_auth_cookie,
)

from spm_core.auth import tokens
from spm_core.db import make_engine, read_frame
from spm_core.schema import person
from spm_core.users import UserStore

PAGES = {
    "Overview": "",
    "Pipeline health": "pipeline",
    "Quota attainment": "attainment",
    "Leaderboards": "leaderboard",
    "Forecast": "forecast",
}
pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server_users(demo_url: str, tmp_path_factory) -> Path:
    """The server's own copy of the demo users: tests here add, lock and sign out accounts."""
    path = tmp_path_factory.mktemp("e2e_users") / "users.yaml"
    path.write_bytes(users_path(demo_url).read_bytes())
    return path


@pytest.fixture(scope="module")
def server(demo_url: str, server_users: Path) -> Iterator[str]:
    with streamlit_server(server_env(demo_url, server_users)) as base:
        yield base


@pytest.fixture
def page(server, browser_page):
    """A page signed in as the demo leader."""
    browser_page.goto(server)
    settle(browser_page)
    log_in(browser_page, "leader")
    wait_for_auth_cookie(browser_page)
    return browser_page


@pytest.mark.parametrize("title", list(PAGES))
def test_each_page_opens_without_an_error(server, page, title):
    open_page(page, server, title)
    assert page.url.rstrip("/").endswith(PAGES[title])
    no_error_on(page)
    assert page.get_by_role("heading", name=title).first.is_visible()
    shot(page, f"page_{PAGES[title] or 'overview'}")


def test_a_filter_changes_the_numbers_and_the_url(server, page):
    open_page(page, server, "Overview")
    before = tile(page, "Bookings")
    choose(page, page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Period"), "Last quarter")
    settle(page)
    assert "period=last_quarter" in page.url
    assert tile(page, "Bookings") != before
    shot(page, "overview_last_quarter")


def test_pages_the_filters_do_not_apply_to_have_no_filter_bar_and_the_filters_wait(server, browser_page):
    """The filter bar filters nothing on the admin pages, Quota planning and Employee pulse (its own period
    picker), so they do not show it; the period chosen before is still chosen on coming back."""
    browser_page.goto(server)
    settle(browser_page)
    log_in(browser_page, "admin")
    wait_for_auth_cookie(browser_page)
    open_page(browser_page, server, "Overview")
    period = browser_page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Period")
    choose(browser_page, period, "Last quarter")
    settle(browser_page)
    for title in ("Users", "Import data", "Settings", "Quota planning", "Employee pulse"):
        browser_page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title).click()
        browser_page.get_by_role("heading", name=title).first.wait_for(timeout=30_000)
        settle(browser_page)
        assert period.count() == 0, f"filter bar on {title}"
    browser_page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Overview").click()
    browser_page.get_by_role("heading", name="Overview").first.wait_for(timeout=30_000)
    settle(browser_page)
    assert period.count() == 1 and "period=last_quarter" in browser_page.url


def test_a_link_with_filters_reproduces_the_view(server, page):
    open_page(page, f"{server}/?period=last_quarter&team=1", "Overview")
    linked = tile(page, "Bookings")
    open_page(page, f"{server}/?period=last_quarter", "Overview")
    assert tile(page, "Bookings") != linked
    open_page(page, f"{server}/?team=nonsense", "Overview")
    assert page.get_by_text("Ignored team nonsense").is_visible()


def test_drill_down_lists_deals_and_downloads_a_csv(server, page, tmp_path):
    open_page(page, server, "Overview")
    page.get_by_text("View deals: Bookings").click()
    settle(page)
    assert page.locator('[data-testid="stDataFrame"]').first.is_visible()
    with page.expect_download() as download:
        page.get_by_test_id("stDownloadButton").get_by_role("button").first.click()
    target = tmp_path / "deals.csv"
    download.value.save_as(target)
    lines = target.read_text().splitlines()
    assert lines[0].startswith("id,name,account,owner") and len(lines) > 1
    shot(page, "overview_drilldown")


def test_sign_in_survives_a_refresh_and_sign_out_ends_it(server, browser_page):
    page = browser_page
    page.goto(server)
    settle(page)
    log_in(page, "rep", "not the password")
    assert page.get_by_text("Wrong username or password.").is_visible()
    log_in(page, "rep")
    assert page.get_by_text("Signed in as").is_visible()
    assert page.get_by_role("heading", name="Overview").first.is_visible()
    shot(page, "signed_in_rep")
    wait_for_auth_cookie(page)

    open_page(page, server)  # a new session: the cookie keeps the rep signed in
    open_page(page, server, "Leaderboards")
    assert page.get_by_role("heading", name="Leaderboards").first.is_visible()
    assert page.locator('[data-testid="stException"]').count() == 0

    page.get_by_role("button", name="Sign out").click()
    settle(page)
    assert page.get_by_role("button", name="Login").is_visible()
    page.reload()
    settle(page)
    assert page.get_by_role("button", name="Login").is_visible(), "signing out must clear the cookie"
    log_in(page, "rep")
    assert page.get_by_text("Signed in as").is_visible()


def test_a_reps_csv_download_holds_only_their_own_deals(server, browser_page, tmp_path, demo_url):
    page = browser_page
    page.goto(server)
    settle(page)
    log_in(page, "rep")
    wait_for_auth_cookie(page)
    open_page(page, f"{server}/?period=this_year&rep={other_rep_id(demo_url)}")
    assert page.get_by_text("not found or not visible to you").first.is_visible()
    page.get_by_text("View deals: Bookings").click()
    settle(page)
    with page.expect_download() as download:
        page.get_by_test_id("stDownloadButton").get_by_role("button").first.click()
    target = tmp_path / "mine.csv"
    download.value.save_as(target)
    owners = set(pd.read_csv(target)["owner"])
    assert owners == {UserStore(users_path(demo_url)).get("rep").name}
    shot(page, "rep_drilldown")


def other_rep_id(url: str) -> int:
    """Some rep other than the demo rep: the link asks for their deals and must not get them."""
    engine = make_engine(url, read_only=True)
    mine = UserStore(users_path(url)).get("rep").person_id
    ids = read_frame(engine, sa.select(person.c.id).where(person.c.role == "rep", person.c.id != mine))["id"]
    engine.dispose()
    return int(ids.iloc[0])


def b64(part: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


LATER = time.time() + 3600
BAD_TOKENS = {
    "expired": tokens.issue("leader", 1, COOKIE_KEY, now=time.time() - 8 * 86400),
    "forged": tokens.issue("leader", 1, "some-other-key-of-at-least-32-bytes"),
    "alg-none": b64({"alg": "none", "typ": "JWT"}) + "." + b64({"sub": "leader", "ver": 1, "exp": LATER}) + ".",
    "hs512": jwt.encode({"sub": "leader", "ver": 1, "exp": LATER}, COOKIE_KEY + "-" * 30, algorithm="HS512"),
    "old-format": jwt.encode({"username": "leader", "exp_date": LATER}, COOKIE_KEY, algorithm="HS256"),
    "garbage": "not-a-token",
    "unknown-user": tokens.issue("nobody", 1, COOKIE_KEY),
}


@pytest.mark.parametrize("name", list(BAD_TOKENS))
def test_a_bad_cookie_shows_the_login_form_not_an_error(server, browser_page, name):
    page = browser_page
    page.context.add_cookies([{"name": "spm_auth", "value": BAD_TOKENS[name], "url": server}])
    page.goto(server)
    settle(page)
    page.wait_for_timeout(1_500)  # give a (wrongly) accepted cookie time to sign in
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_text("Signed in as").count() == 0
    assert page.get_by_text("Traceback").count() == 0
    if name == "unknown-user":  # its signature was good: say why, drop it, the form is back on reload
        assert page.get_by_text("This account no longer exists.").is_visible()
        page.reload()
        settle(page)
    assert page.get_by_role("button", name="Login").is_visible()


def signed_in_cookie(server: str, browser, username: str, password: str) -> tuple:
    """Sign in through the form in a new browser; return that browser page and a copy of its cookie."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.goto(server)
    settle(page)
    log_in(page, username, password)
    wait_for_auth_cookie(page)
    return page, next(c for c in context.cookies() if c["name"] == "spm_auth")


def replays(server: str, browser, cookie: dict) -> bool:
    """Whether a copy of the cookie, in another browser, signs in."""
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    try:
        page = context.new_page()
        context.add_cookies([cookie])
        page.goto(server)
        settle(page)
        page.wait_for_timeout(1_000)
        settle(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        return page.get_by_text("Signed in as").count() > 0
    finally:
        context.close()


@pytest.mark.parametrize("revoke", ["sign-out", "reset-password", "lock", "sign-out-everywhere"])
def test_a_captured_cookie_stops_working_once_the_session_is_revoked(server, browser, server_users, revoke):
    store = UserStore(server_users)
    username, password = f"e2e-{revoke}", "e2e-password-2026"
    store.add(username, "Cookie Test", "", password, "leader", None)
    page, cookie = signed_in_cookie(server, browser, username, password)
    try:
        assert replays(server, browser, cookie)  # a copy works while the session is good
        if revoke == "sign-out":
            page.get_by_role("button", name="Sign out").click()
            settle(page)
        elif revoke == "reset-password":
            store.reset_password(username, "another-password-2026")
        elif revoke == "lock":
            store.lock(username)
        else:
            store.end_sessions(username)
        assert not replays(server, browser, cookie)
        if revoke != "sign-out":  # the browser that was signed in is out at its next click
            page.reload()
            settle(page)
            assert page.get_by_role("button", name="Login").is_visible()
    finally:
        page.context.close()
        store.remove(username)


def test_five_wrong_passwords_slow_down_but_do_not_lock_the_account(server, browser_page, server_users):
    store = UserStore(server_users)
    store.add("e2e-slow", "Slow Test", "", "e2e-password-2026", "leader", None)
    page = browser_page
    page.goto(server)
    settle(page)
    for _ in range(5):
        log_in(page, "e2e-slow", "wrong password")
    assert page.get_by_text("Try again in").first.is_visible()
    log_in(page, "e2e-nobody", "wrong password")
    assert page.get_by_text("Wrong username or password.").first.is_visible()
    assert store.entry("e2e-slow").get("locked") is False
    store.remove("e2e-slow")


def test_first_start_shows_progress_and_not_the_pages_folder(browser_page, tmp_path):
    """A fresh data folder: the first visit builds the demo warehouse (100,000 deals) while the page says
    so, and the sidebar does not list the files of pages/ (admin pages included) meanwhile; then the
    sign-in form shows. (Streamlit lists pages/ until app.py reaches st.navigation: on a new server's
    first session that is the half second of imports before the progress page is registered.)"""
    env = {k: v for k, v in os.environ.items() if k not in ("SPM_USERS_FILE", "SPM_WAREHOUSE_URL")}
    env |= {"SPM_WAREHOUSE_URL": f"duckdb:///{tmp_path}/data/spm.duckdb", "SPM_COOKIE_KEY": COOKIE_KEY}
    started = time.monotonic()
    with streamlit_server(env) as base:
        browser_page.goto(base)
        progress_seen, listed_during_progress = 0, []
        form = browser_page.get_by_label("Username", exact=True)
        while not form.count():
            assert time.monotonic() - started < 240, "no sign-in form within 240 s"
            if browser_page.get_by_text("First start: building").count():
                progress_seen += 1
                listed_during_progress += browser_page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()
            browser_page.wait_for_timeout(100)
        print(f"first start: sign-in form {time.monotonic() - started:.1f} s after `streamlit run`")
        shot(browser_page, "first-start-form")
    assert progress_seen >= 3 and listed_during_progress == []
