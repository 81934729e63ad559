"""Issue 12 in real Chromium: a month of compensation from the rep's question to payroll, on a private copy
of the demo warehouse (the demo's 2026-Q4 awaits approval; two disputes exist).

The rep opens their statement and a line's trace and raises a dispute; the comp admin resolves it with an
adjustment; the rep's team lead approves; the comp admin approves, locks and exports payroll; the rep's
statement PDF holds its lines and total; a deal that arrives late into the locked quarter is paid as an
adjustment in the next quarter. The other statements are approved by their managers through spm_core
beforehand (the browser walks one statement through the cycle, not eighteen).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from apptest_support import AS_OF, private_copy, users_path
from e2e_support import (
    SLOW_MS,
    choose,
    click_and_settle,
    download,
    needs_chromium,
    no_error_on,
    open_page,
    select_box,
    server_env,
    settle,
    shot,
    signed_in,
    streamlit_server,
    tile,
)

from spm_core.comp.audit import Actor
from spm_core.comp.cycle import approve_many, state, statuses
from spm_core.comp.disputes import disputes
from spm_core.comp.engine import calculate
from spm_core.comp.periods import period_label
from spm_core.comp.statements import statement
from spm_core.comp.trace import money_text
from spm_core.db import make_engine
from spm_core.filters import Period, Scope
from spm_core.schema import opportunity
from spm_core.users import UserStore, viewer_scope

pytestmark = [needs_chromium, pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")]
Q4 = Period.quarter(AS_OF)
NEXT = Period.quarter(Q4.end + timedelta(days=1))
LATE_AMOUNT = 40_000


@pytest.fixture(scope="module")
def comp_copy(demo_url: str, tmp_path_factory) -> str:
    """A private demo copy where every 2026-Q4 statement but the rep's is approved by its manager."""
    url = private_copy(demo_url, tmp_path_factory.mktemp("e2e_comp"))
    store = UserStore(users_path(url))
    engine = make_engine(url)
    leader, rep = store.get("leader"), store.get("rep")
    with engine.begin() as conn:
        others = [pid for pid in statuses(conn, Q4) if pid != rep.person_id]
        approve_many(conn, Actor("leader", "leader", viewer_scope(engine, leader), leader.person_id), Q4, others)
    engine.dispose()
    return url


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def trace_text(page) -> str:
    """The formula of the line whose trace is open."""
    settle(page)
    text = page.locator('[data-testid="stText"]').first
    text.wait_for(timeout=SLOW_MS)
    return text.inner_text().strip()


def notice(page, pattern: str) -> re.Match:
    """The success notice a write leaves on the page, matched against a regular expression."""
    box = page.locator('[data-testid="stAlertContentSuccess"]').filter(has_text=re.compile(pattern)).first
    box.wait_for(timeout=SLOW_MS)
    return re.search(pattern, box.inner_text())


def add_late_deal(url: str, owner: int) -> int:
    """A won deal closed in the locked quarter, arriving after the lock; then the quarter is calculated."""
    engine = make_engine(url)
    with engine.begin() as conn:
        new_id = conn.execute(sa.select(sa.func.max(opportunity.c.id))).scalar_one() + 1
        conn.execute(opportunity.insert(), {
            "id": new_id, "name": "Late deal", "owner_id": owner, "amount": LATE_AMOUNT, "stage": "Closed Won",
            "probability": 100, "forecast_category": "Closed", "created_date": date(2026, 9, 1),
            "close_date": date(2026, 11, 2), "is_closed": True, "is_won": True,
        })
    calculate(engine, Q4, run_by="e2e")
    engine.dispose()
    return new_id


def test_a_dispute_an_approval_a_lock_payroll_a_pdf_and_a_late_deal(browser, comp_copy, tmp_path):
    users = users_path(comp_copy)
    rep_id = UserStore(users).get("rep").person_id
    env = server_env(comp_copy, users)
    quarter = period_label(Q4)
    engine = make_engine(comp_copy, read_only=True)
    before = statement(engine, Scope.everyone(), rep_id, Q4).lines
    engine.dispose()
    traced = before[before["rule"] == "marginal"].iloc[0]
    with streamlit_server(env) as base:
        rep = signed_in(browser, base, users, "rep")
        open_page(rep, base, "My commissions")
        no_error_on(rep)
        choose(rep, select_box(rep, "Open a line's trace"), f"line {traced['id']}")
        assert trace_text(rep) == traced["formula"]
        rep.get_by_label("What is wrong with this line?").fill("The deal was split with a partner: check the credit.")
        click_and_settle(rep, "Raise a dispute")
        raised = int(notice(rep, r"Dispute #(\d+) raised on line (\d+)").group(1))
        shot(rep, "comp_rep_dispute")

        admin = signed_in(browser, base, users, "comp_admin")
        open_page(admin, base, "Compensation admin")
        admin.get_by_role("tab", name="Disputes").click()
        form = admin.locator('[data-testid="stForm"]').filter(has_text="Open dispute")
        choose(admin, form.locator('[data-testid="stSelectbox"]'), f"#{raised}")
        form.get_by_label("Adjustment amount (to resolve)").fill("125.50")
        form.get_by_label("Reason").fill("Partner split confirmed")
        form.get_by_role("button", name="Resolve with an adjustment").click()
        notice(admin, rf"Dispute #{raised} resolved")

        lead = signed_in(browser, base, users, "teamlead")
        open_page(lead, base, "Team commissions")
        click_and_settle(lead, "Approve selected")
        notice(lead, r"Approved 1 statement\(s\)")

        open_page(admin, base, "Compensation admin")
        click_and_settle(admin, "Approve all awaiting me")
        notice(admin, r"Approved \d+ statement\(s\)")
        click_and_settle(admin, f"Lock {quarter}")
        notice(admin, f"{quarter} locked")
        admin.get_by_role("tab", name="Payroll").click()
        payroll = pd.read_csv(download(admin, "Payroll (CSV)", tmp_path / "payroll.csv"), dtype=str)
        shot(admin, "comp_admin_locked")

        open_page(rep, base, "My commissions")
        shown_total = tile(rep, "Total")
        pdf = pdf_text(download(rep, "Statement (PDF)", tmp_path / "statement.pdf"))

    engine = make_engine(comp_copy, read_only=True)
    s = statement(engine, Scope.everyone(), rep_id, Q4)
    with engine.connect() as conn:
        assert state(conn, Q4) == "locked"
    resolved = disputes(engine, Scope.everyone()).set_index("id").loc[raised]
    engine.dispose()
    assert resolved["status"] == "resolved" and Decimal(str(resolved["adjustment"])) == Decimal("125.50")
    assert shown_total == money_text(s.total)
    mine = payroll[payroll["person"] == s.person]
    assert len(mine) == 1 and Decimal(mine["amount"].iloc[0]) == s.total
    assert money_text(s.total) in pdf and s.person in pdf
    for amount in s.lines["amount"]:
        assert money_text(Decimal(str(amount))) in pdf
    assert money_text(Decimal("125.50")) in pdf  # the dispute's adjustment line

    late = add_late_deal(comp_copy, rep_id)
    engine = make_engine(comp_copy, read_only=True)
    later = statement(engine, Scope.everyone(), rep_id, NEXT)
    engine.dispose()
    assert later is not None and late in set(later.lines["opportunity_id"].dropna().astype(int))
    with streamlit_server(env) as base:
        rep = signed_in(browser, base, users, "rep")
        open_page(rep, base, "My commissions")
        choose(rep, select_box(rep, "Period"), period_label(NEXT))
        settle(rep)
        no_error_on(rep)
        assert rep.get_by_text(f"{UserStore(users).get('rep').name} · {period_label(NEXT)}").first.is_visible()
        assert tile(rep, "Total") == money_text(later.total) and tile(rep, "Adjustments") == money_text(later.adjustments)
        posted = later.lines[later.lines["opportunity_id"] == late].iloc[0]
        choose(rep, select_box(rep, "Open a line's trace"), f"line {posted['id']}")
        assert trace_text(rep) == posted["formula"]
        shot(rep, "comp_rep_late_deal")
