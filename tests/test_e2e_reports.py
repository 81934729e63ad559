"""Issue 16 in real Chromium, on a private copy of the demo warehouse: the period review downloads as XLSX and
PDF holding spm_core's numbers; a saved view's link opens for another user within their scope and not
beyond it; a rep sees the company eNPS on the pulse page and nothing by team."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from apptest_support import AS_OF, private_copy, users_path
from e2e_support import (
    SLOW_MS,
    download,
    needs_chromium,
    no_error_on,
    open_page,
    server_env,
    settle,
    shot,
    signed_in,
    streamlit_server,
    tile,
)

from spm_core.db import make_engine, read_frame
from spm_core.filters import Filters, Period, Scope
from spm_core.pulse import enps
from spm_core.reports.review import build_review
from spm_core.schema import person
from spm_core.users import UserStore, viewer_scope

pytestmark = [needs_chromium, pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")]
QUARTER = Period.quarter(AS_OF)


@pytest.fixture(scope="module")
def reports_copy(demo_url: str, tmp_path_factory) -> str:
    return private_copy(demo_url, tmp_path_factory.mktemp("e2e_reports"))


@pytest.fixture(scope="module")
def reports_server(reports_copy: str) -> Iterator[str]:
    with streamlit_server(server_env(reports_copy, users_path(reports_copy))) as base:
        yield base


def outside_rep(url: str) -> int:
    """A rep the demo team lead may not see."""
    engine = make_engine(url, read_only=True)
    lead = UserStore(users_path(url)).get("teamlead")
    seen = viewer_scope(engine, lead)
    everyone = read_frame(engine, sa.select(person.c.id, person.c.manager_id).where(person.c.role == "rep"))
    engine.dispose()
    return int(everyone[~everyone["manager_id"].isin(seen.person_ids)]["id"].iloc[0])


def headline_bookings(xlsx: Path) -> float:
    """The Bookings value of the headline table in the first sheet holding one."""
    for sheet in openpyxl.load_workbook(xlsx, read_only=True).worksheets:
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        for i, row in enumerate(rows):
            if "Bookings" in row and any("value" in (r or []) for r in rows[:i]):
                header = next(r for r in reversed(rows[:i]) if "value" in r)
                return float(row[header.index("value")])
    raise AssertionError("no headline Bookings in the workbook")


def test_the_review_downloads_and_a_saved_view_opens_within_the_other_users_scope(browser, reports_server, reports_copy, tmp_path):
    base, users = reports_server, users_path(reports_copy)
    other = outside_rep(reports_copy)
    leader = signed_in(browser, base, users, "leader")
    open_page(leader, f"{base}/?rep={other}", "Period review")
    no_error_on(leader)
    xlsx = download(leader, "Download XLSX", tmp_path / "review.xlsx")
    pdf = subprocess.run(["pdftotext", "-layout", str(download(leader, "Download PDF", tmp_path / "review.pdf")), "-"],
                         check=True, capture_output=True, text=True).stdout

    leader.locator('[data-testid="stExpander"]').filter(has_text="Saved views").get_by_text("Saved views").click()
    leader.get_by_label("Name this view").fill("E2E one rep's review")
    leader.get_by_label("Name this view").press("Enter")
    settle(leader)
    leader.get_by_role("button", name="Save current view").click()
    settle(leader)
    leader.get_by_role("button", name="E2E one rep's review").wait_for(timeout=SLOW_MS)
    leader.get_by_role("button", name="Link").first.click()
    link = leader.locator('[data-testid="stCode"]').filter(has_text="open=").first
    link.wait_for(timeout=SLOW_MS)
    shared = link.inner_text().strip()
    assert shared.startswith(base) and "open=reports" in shared and f"rep={other}" in shared

    lead = signed_in(browser, base, users, "teamlead")
    lead.goto(shared)
    settle(lead)
    lead.get_by_role("heading", name="Period review").first.wait_for(timeout=SLOW_MS)
    settle(lead)
    no_error_on(lead)
    assert lead.get_by_text("not found or not visible to you").first.is_visible()  # not beyond their scope
    shot(lead, "reports_shared_view_teamlead")

    rep = signed_in(browser, base, users, "rep")
    open_page(rep, base, "Employee pulse")
    no_error_on(rep)
    shown_enps = tile(rep, "Company eNPS")
    assert rep.get_by_text("Reps see the company figure only").is_visible()

    engine = make_engine(reports_copy, read_only=True)
    review = build_review(engine, Filters(QUARTER, reps=frozenset({other})), Scope.everyone(), AS_OF)
    company = enps.company(engine, QUARTER)
    engine.dispose()
    headline = review.sections[0].frame.set_index("kpi")
    assert headline_bookings(xlsx) == pytest.approx(float(headline.loc["Bookings", "value"]))
    assert "Headline KPIs" in pdf and "Bookings" in pdf
    assert shown_enps == (f"{company.iloc[0]['enps']:+.0f}" if not company.empty else "—")
