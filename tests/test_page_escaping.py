"""Pages under AppTest with hostile outside text: a deal named like a spreadsheet formula downloads as text."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from apptest_support import run_page, users_path
from streamlit.runtime.media_file_manager import MediaFileManager

from spm_core.db import make_engine
from spm_core.schema import account, opportunity, person, product, team

FORMULA = '=HYPERLINK("http://evil.example","x")'
HOSTILE = "Hostile"
REP, TEAM, PRODUCT = f"Rep {HOSTILE}", f"Team {HOSTILE}", f"Product {HOSTILE}"


@pytest.fixture
def hostile_url(tmp_path: Path, demo_url: str) -> str:
    """A private copy of the demo warehouse where this quarter's largest won deal is named like a formula, on
    an account named like one, and its rep, the rep's team and the deal's product carry hostile names."""
    source = Path(demo_url.removeprefix("duckdb:///"))
    target = tmp_path / "hostile" / "demo.duckdb"
    target.parent.mkdir()
    shutil.copy(source, target)
    url = f"duckdb:///{target}"
    shutil.copy(users_path(demo_url), users_path(url))
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            deal = conn.execute(
                sa.select(opportunity.c.id, opportunity.c.owner_id, opportunity.c.account_id, opportunity.c.product_id)
                .where(opportunity.c.is_won, opportunity.c.close_date.between("2026-10-01", "2026-11-23"))
                .order_by(opportunity.c.amount.desc())
                .limit(1)
            ).one()
            team_id = conn.execute(sa.select(person.c.team_id).where(person.c.id == deal.owner_id)).scalar_one()
            conn.execute(sa.update(opportunity).where(opportunity.c.id == deal.id).values(name=FORMULA))
            conn.execute(sa.update(account).where(account.c.id == deal.account_id).values(name="@SUM(1+1)"))
            conn.execute(sa.update(person).where(person.c.id == deal.owner_id).values(name=REP))
            conn.execute(sa.update(team).where(team.c.id == team_id).values(name=TEAM))
            conn.execute(sa.update(product).where(product.c.id == deal.product_id).values(name=PRODUCT))
    finally:
        engine.dispose()
    return url


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The bytes of every static download the app registers while the test runs."""
    files: list[bytes] = []
    add = MediaFileManager.add

    def record(self, path_or_data, *args, **kwargs):
        if kwargs.get("is_for_static_download"):
            files.append(path_or_data)
        return add(self, path_or_data, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add", record)
    return files


def test_a_deal_named_like_a_formula_downloads_as_text(monkeypatch, hostile_url, downloads):
    at = run_page(monkeypatch, hostile_url, "overview")
    at.toggle(key="overview_bookings_deals").set_value(True).run()
    assert not at.exception
    assert downloads, "the deal list has a CSV download"
    frame = pd.read_csv(io.BytesIO(downloads[-1]), dtype=str)
    assert "'" + FORMULA in frame["name"].tolist() and FORMULA not in frame["name"].tolist()
    assert "'@SUM(1+1)" in frame["account"].tolist()
    assert (pd.to_numeric(frame["amount"]) > 0).all()  # amounts stay plain numbers
