"""Issue 13 in real Chromium, on a private copy of the demo warehouse: the leader builds a 2027 scenario,
overrides one person with a reason, copies it and compares the two, then publishes it once the top managers
have approved (through spm_core, between two servers: the demo has one manager account for several
VPs); Quota attainment for 2027 then shows the plan's quota."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
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
    tile,
)
from planning_support import planner

from spm_core.db import make_engine
from spm_core.filters import Scope
from spm_core.planning import scenarios as sc
from spm_core.planning.publish import approve
from spm_core.schema import quota

pytestmark = needs_chromium
NAME, TARGET = "E2E plan 2027", 10_000_000
YEAR_LINK = "?from=2027-01-01&to=2027-12-31"


@pytest.fixture(scope="module")
def plan_copy(demo_url: str, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    url = private_copy(demo_url, tmp_path_factory.mktemp("e2e_planning"))
    yield url, users_path(url)


def success(page, text: str) -> None:
    page.locator('[data-testid="stAlertContentSuccess"]').filter(has_text=text).first.wait_for(timeout=SLOW_MS)


def approve_top_managers(url: str) -> None:
    engine = make_engine(url)
    sid = int(sc.scenario_list(engine).query("name == @NAME")["id"].iloc[0])
    rows = sc.allocation(engine, sid, Scope.everyone())
    for manager in rows.loc[(rows["depth"] == 1) & (rows["kind"] == "team"), "person_id"]:
        approve(engine, sid, int(manager), planner("e2e", "manager", Scope.everyone()))
    engine.dispose()


def test_build_override_compare_publish_and_attainment_uses_the_plan(browser, plan_copy):
    url, users = plan_copy
    env = server_env(url, users)
    with streamlit_server(env) as base:
        leader = signed_in(browser, base, users, "leader")
        open_page(leader, f"{base}/{YEAR_LINK}", "Quota attainment")
        quota_before = tile(leader, "Quota")
        open_page(leader, base, "Quota planning")
        leader.get_by_label("Scenario name").fill(NAME)
        click_and_settle(leader, "Create the scenario")
        success(leader, f"Scenario {NAME} created.")
        for label, text in (("Quota", "1000000"), ("Reason (required)", "Carved out the new enterprise accounts")):
            leader.get_by_label(label, exact=True).fill(text)
            leader.get_by_label(label, exact=True).press("Enter")  # each input commits (and reruns) on its own
            settle(leader)
        click_and_settle(leader, "Override and reallocate the rest")
        success(leader, "set to 1,000,000.00.")
        click_and_settle(leader, "Copy")
        success(leader, f"Copied as {NAME} (copy).")
        leader.get_by_role("tab", name="Compare").click()
        assert select_box(leader, "Compare with").is_visible()
        no_error_on(leader)
        shot(leader, "planning_compare")
    approve_top_managers(url)
    with streamlit_server(env) as base:
        leader = signed_in(browser, base, users, "leader")
        open_page(leader, base, "Quota planning")
        choose(leader, select_box(leader, "Scenario"), f"{NAME} (draft, Jan 2027–Dec 2027)")
        leader.get_by_role("tab", name="Approval").click()
        click_and_settle(leader, "Publish")
        success(leader, f"Published: Quota attainment now uses {NAME}'s quotas.")
        open_page(leader, f"{base}/{YEAR_LINK}", "Quota attainment")
        quota_after = tile(leader, "Quota")
        no_error_on(leader)
        shot(leader, "planning_attainment_2027")
    engine = make_engine(url, read_only=True)
    with engine.connect() as conn:
        written = conn.execute(sa.select(sa.func.sum(quota.c.amount)).where(
            quota.c.month.between(date(2027, 1, 1), date(2027, 12, 1)))).scalar_one()
    engine.dispose()
    assert quota_after != quota_before
    assert 0 < float(written) <= TARGET  # ramped new hires take less than their full share
