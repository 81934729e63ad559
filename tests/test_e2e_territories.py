"""Issue 14 in real Chromium, on a private copy of the demo warehouse: the leader proposes a balance by
potential, ticks two of the proposed moves and accepts them (the others rejected), publishes them from the
data's date, sees the offline map drawn, and downloads the accounts table, whose owners are the published
ones; the warehouse (read through spm_core after the server stops) agrees."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from apptest_support import AS_OF, private_copy, users_path
from e2e_support import (
    SLOW_MS,
    click_and_settle,
    download,
    needs_chromium,
    no_error_on,
    open_page,
    server_env,
    settle,
    shot,
    signed_in,
    streamlit_server,
)

from spm_core.db import make_engine, read_frame
from spm_core.filters import Scope
from spm_core.planning.territories.measures import account_measures
from spm_core.schema import territory_history, territory_publication

pytestmark = needs_chromium
TICKED = 2
ROW_PX = 35  # Streamlit's data grid: header and rows are 35 px high
ACCEPT_X = 46  # the middle of the Accept column (its checkbox), the grid's first column


@pytest.fixture(scope="module")
def terr_copy(demo_url: str, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    url = private_copy(demo_url, tmp_path_factory.mktemp("e2e_territories"))
    yield url, users_path(url)


def success(page, text: str) -> None:
    page.locator('[data-testid="stAlertContentSuccess"]').filter(has_text=text).first.wait_for(timeout=SLOW_MS)


def owners(url: str) -> pd.DataFrame:
    engine = make_engine(url, read_only=True)
    try:
        return account_measures(engine, AS_OF, Scope.everyone()).set_index("account_id")[["territory_id", "owner"]]
    finally:
        engine.dispose()


def tick_first_moves(page, n: int) -> None:
    """Tick the Accept box of the first n proposed moves (the grid is a canvas: click inside the cells)."""
    grid = page.get_by_role("tabpanel", name="Balance").locator('[data-testid="stDataFrame"]').first
    grid.wait_for(timeout=SLOW_MS)
    for row in range(n):
        grid.click(position={"x": ACCEPT_X, "y": ROW_PX * (row + 1) + ROW_PX / 2})
        page.wait_for_timeout(300)


def published(url: str) -> pd.DataFrame:
    engine = make_engine(url, read_only=True)
    try:
        last = sa.select(sa.func.max(territory_publication.c.id)).scalar_subquery()
        return read_frame(engine, sa.select(territory_history).where(territory_history.c.publication_id == last))
    finally:
        engine.dispose()


def test_propose_tick_two_moves_publish_and_the_owners_change(browser, terr_copy, tmp_path):
    url, users = terr_copy
    before = owners(url)
    with streamlit_server(server_env(url, users)) as base:
        leader = signed_in(browser, base, users, "leader")
        open_page(leader, base, "Territories")
        leader.get_by_role("tab", name="Balance").click()
        click_and_settle(leader, "Propose moves")
        tick_first_moves(leader, TICKED)
        shot(leader, "territories_proposal")
        click_and_settle(leader, "Accept the ticked moves")
        success(leader, f"{TICKED} move(s) accepted; the others rejected.")
        leader.get_by_role("tab", name="Publish").click()
        leader.get_by_text(f"{TICKED} account(s) would change territory or owner.").wait_for(timeout=SLOW_MS)
        click_and_settle(leader, "Publish")
        success(leader, f"Published {TICKED} account(s) from {AS_OF}.")
        leader.get_by_role("tab", name="Map").click()
        chart = leader.locator('[data-testid="stVegaLiteChart"]').first
        chart.locator("canvas, svg").first.wait_for(timeout=SLOW_MS)
        assert chart.bounding_box()["height"] > 300
        shot(leader, "territories_map_after_publish")
        leader.get_by_role("tab", name="Accounts").click()
        shown = pd.read_csv(download(leader, "Download these accounts (CSV)", tmp_path / "accounts.csv"))
        no_error_on(leader)
        settle(leader)
    after, rows = owners(url), published(url)
    moved = sorted(rows["account_id"].astype(int))
    assert len(moved) == TICKED
    assert (after.loc[moved, "territory_id"] != before.loc[moved, "territory_id"]).all()
    assert (after.loc[moved, "owner"] != before.loc[moved, "owner"]).any()  # publishing handed accounts on
    table = shown.set_index("account_id")
    assert table.loc[moved, "owner"].tolist() == after.loc[moved, "owner"].tolist()  # the page shows the new owners
    untouched = before.index.difference(moved)
    assert (after.loc[untouched, "owner"] == before.loc[untouched, "owner"]).all()
