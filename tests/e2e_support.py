"""Shared pieces of the real-browser tests: `streamlit run app.py` on a free port (on a private warehouse
copy when a test writes), headless Debian Chromium through Playwright, signing in, waiting for Streamlit.

conftest.py registers the fixtures (browser, browser_page); a test module sets `pytestmark = needs_chromium`
and starts one server per module. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from apptest_support import ROOT, password_for

from spm_core.users import DEMO_PASSWORDS

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
COOKIE_KEY = "e2e-cookie-key-of-at-least-32-bytes!!"
# Under load (2 cores shared with other test runs) the first page load of a new server, and the cookie
# component's first reply, take tens of seconds.
SLOW_MS = 60_000

try:  # imported by conftest.py for every test: no Playwright only skips the browser tests
    from playwright import sync_api as playwright_api
except ImportError:
    playwright_api = None
needs_chromium = pytest.mark.skipif(
    playwright_api is None or not Path(CHROMIUM).exists(),
    reason="Playwright or Debian's chromium is not installed (scripts/test.sh installs them)",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(url: str, users: Path) -> dict[str, str]:
    """The environment of a server on this warehouse and users file."""
    return {**os.environ, "SPM_WAREHOUSE_URL": url, "SPM_USERS_FILE": str(users), "SPM_COOKIE_KEY": COOKIE_KEY}


@contextlib.contextmanager
def streamlit_server(env: dict[str, str], wait_s: float = 60) -> Iterator[str]:
    """`streamlit run app.py` on a free port with these environment variables; its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            try:
                if urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError(f"streamlit did not start within {wait_s:.0f} s")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:  # a browser still connected can hold a busy server's shutdown up
            proc.kill()
            proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def browser_page(browser):
    """A fresh browser context (no cookie): the login form shows first."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    yield pg
    context.close()


def log_in(page, username: str, password: str | None = None) -> None:
    """Fill and send the sign-in form (a demo account's password unless one is given)."""
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORDS[username] if password is None else password)
    page.get_by_role("button", name="Login").click()
    settle(page)


def wait_for_auth_cookie(page, timeout_s: float = SLOW_MS / 1000) -> None:
    """The auth cookie is written by a browser-side component just after sign-in; a new page load
    before that would (rightly) show the login form again."""
    deadline = time.monotonic() + timeout_s
    while not any(c["name"] == "spm_auth" for c in page.context.cookies()):
        if time.monotonic() > deadline:
            raise AssertionError("no auth cookie after signing in")
        page.wait_for_timeout(200)


def settle(page, timeout: float = SLOW_MS) -> None:
    """Wait until Streamlit has run the script: the running icon shows up (if we are not too late to
    see it), then goes away, and the page has its title."""
    running = '[data-testid="stStatusWidgetRunningIcon"]'
    with contextlib.suppress(playwright_api.TimeoutError):
        page.wait_for_selector(running, timeout=3_000)
    page.wait_for_selector(running, state="detached", timeout=timeout)
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=timeout)
    page.wait_for_timeout(200)


def signed_in(browser, server: str, users: Path, username: str, password: str | None = None):
    """A new browser context signed in as this user (demo password, or the test's own) through the form,
    its cookie written: later page loads sign in from the cookie. The caller closes page.context."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(server)
    settle(page)
    log_in(page, username, password or password_for(users, username))
    wait_for_auth_cookie(page)
    return page


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def go(page, url: str, heading: str) -> None:
    """Load a URL in a signed-in browser and wait for the page's own heading (a new page load signs in
    again from the cookie a rerun later, so any h1 is not enough)."""
    page.goto(url)
    settle(page)
    page.get_by_role("heading", name=heading).first.wait_for(timeout=SLOW_MS)
    settle(page)


def open_page(page, url: str, title: str = "Overview") -> None:
    """Load the app (query string kept) in a signed-in browser and go to a page through the sidebar."""
    go(page, url, "Overview")
    if title != "Overview":
        page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title).click()
        page.get_by_role("heading", name=title).first.wait_for(timeout=SLOW_MS)
    settle(page)


def choose(page, select, option: str) -> None:
    """Pick an option of a select box. In the long sidebar a click may only focus the box: the arrow key
    opens its list then."""
    select.click()
    wanted = page.get_by_role("option", name=option, exact=True).first
    if not wanted.is_visible():
        page.keyboard.press("ArrowDown")
    wanted.click()


def select_box(page, label: str):
    """The select box with this label (in the main area or the sidebar)."""
    return page.locator('[data-testid="stSelectbox"]').filter(has=page.get_by_text(label, exact=True)).first


def button(page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def click_and_settle(page, name: str) -> None:
    button(page, name).click()
    settle(page)


def download(page, label: str, target: Path) -> Path:
    """Click a download button and save the file it sends."""
    with page.expect_download(timeout=SLOW_MS) as started:
        page.get_by_test_id("stDownloadButton").filter(has_text=label).get_by_role("button").click()
    started.value.save_as(target)
    return target


def tile(page, label: str) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has=page.get_by_text(label, exact=True)).first
    return metric.locator('[data-testid="stMetricValue"]').inner_text()


def no_error_on(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_text("Something went wrong").count() == 0  # the error boundary's message

