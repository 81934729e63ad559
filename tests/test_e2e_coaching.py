"""Issue 15 in real Chromium, on a private copy of the demo warehouse: a manager creates a contest and writes
a 1:1 note that the rep then reads; a sales-floor screen (the display role) shows the contest boards
full screen, rotates them, and picks up a contest created while it runs."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from apptest_support import private_copy, users_path
from e2e_support import (
    SLOW_MS,
    choose,
    click_and_settle,
    needs_chromium,
    no_error_on,
    open_page,
    select_box,
    server_env,
    settle,
    shot,
    signed_in,
    streamlit_server,
)

from spm_core.users import UserStore

pytestmark = needs_chromium
DISPLAY, DISPLAY_PASSWORD = "e2e-floor", "e2e-floor-password-2026"


@pytest.fixture(scope="module")
def coaching_server(demo_url: str, tmp_path_factory) -> Iterator[tuple[str, object]]:
    """A server on a private demo copy with a display account; its URL and users file."""
    url = private_copy(demo_url, tmp_path_factory.mktemp("e2e_coaching"))
    users = users_path(url)
    UserStore(users).add(DISPLAY, "Sales floor screen", "", DISPLAY_PASSWORD, "display", None)
    with streamlit_server(server_env(url, users)) as base:
        yield base, users


def success(page, text: str) -> None:
    page.locator('[data-testid="stAlertContentSuccess"]').filter(has_text=text).first.wait_for(timeout=SLOW_MS)


def create_contest(page, base: str, name: str) -> None:
    open_page(page, base, "Contests")
    expander = page.locator('[data-testid="stExpander"]').filter(has_text="Create a contest")
    if not expander.get_by_label("Name", exact=True).is_visible():
        expander.get_by_text("Create a contest").click()
    expander.get_by_label("Name", exact=True).fill(name)
    click_and_settle(page, "Create contest")
    success(page, f"Contest {name} created.")


def test_a_managers_contest_and_note_reach_the_rep_and_the_floor_screen(browser, coaching_server):
    base, users = coaching_server
    rep_name = UserStore(users).get("rep").name
    lead = signed_in(browser, base, users, "teamlead")
    create_contest(lead, base, "E2E sprint one")
    no_error_on(lead)

    open_page(lead, base, "1:1 notes")
    choose(lead, select_box(lead, "Rep"), rep_name)
    settle(lead)
    form = lead.locator('[data-testid="stForm"]').filter(has_text="New 1:1 note")
    form.get_by_label("Note", exact=True).fill("Great discovery calls this week; keep the mutual plans.")
    form.get_by_label("Action items (one per line)").fill("Send the Acme mutual plan")
    form.get_by_role("button", name="Save note").click()
    settle(lead)
    success(lead, f"Note saved for {rep_name}.")

    rep = signed_in(browser, base, users, "rep")
    open_page(rep, base, "1:1 notes")
    assert rep.get_by_text("Great discovery calls this week; keep the mutual plans.").is_visible()
    assert rep.get_by_text("Send the Acme mutual plan").is_visible()
    shot(rep, "coaching_rep_note")

    screen = signed_in(browser, base, users, DISPLAY, DISPLAY_PASSWORD)
    screen.goto(f"{base}/?every=5")
    settle(screen)
    assert screen.locator('[data-testid="stSidebarNav"]').count() == 0  # full screen: the boards, nothing else
    caption = screen.get_by_text(re.compile(r"Board \d+ of \d+")).first
    caption.wait_for(timeout=SLOW_MS)
    shot(screen, "coaching_tv_first")
    assert "next in 5 s" in caption.inner_text(), caption.inner_text()
    create_contest(lead, base, "E2E sprint two")  # while the screen runs
    title = screen.locator('[data-testid="stMain"] h1')
    title.filter(has_text="E2E sprint two").wait_for(timeout=SLOW_MS)  # refreshed: the new board joined
    title.filter(has_not_text="E2E sprint two").wait_for(timeout=SLOW_MS)  # and the rotation moves on
    no_error_on(screen)
    shot(screen, "coaching_tv")
