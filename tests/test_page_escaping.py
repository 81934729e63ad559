"""Pages under AppTest with hostile outside text: URL parameters and imported names show as text (never live
Markdown), and a deal named like a spreadsheet formula downloads as text (items 7 and 8 of issue 8)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
import yaml
from apptest_support import ROOT, run_page, users_path
from markdown_support import HOSTILE, IMAGE, LINK, live_markup, markdown_texts

from spm_core.db import make_engine
from spm_core.schema import account, opportunity, person, product, team
from ui.filters import SHOWN_CHARACTERS
from ui.text import md

FORMULA = '=HYPERLINK("http://evil.example","x")'
REP, TEAM, PRODUCT, LEADER = f"Rep {HOSTILE}", f"Team {HOSTILE}", f"Product {HOSTILE}", f"Leader {HOSTILE}"


@pytest.fixture
def hostile_url(tmp_path: Path, demo_url: str) -> str:
    """A private copy of the demo warehouse where this quarter's largest won deal is named like a formula, on
    an account named like one, and its rep, the rep's team, the deal's product and the `leader` user carry
    hostile names."""
    source = Path(demo_url.removeprefix("duckdb:///"))
    target = tmp_path / "hostile" / "demo.duckdb"
    target.parent.mkdir()
    shutil.copy(source, target)
    url = f"duckdb:///{target}"
    users = yaml.safe_load(users_path(demo_url).read_text())
    users["credentials"]["usernames"]["leader"]["name"] = LEADER
    users_path(url).write_text(yaml.safe_dump(users))
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


def assert_no_live_markup(texts: list[str]) -> None:
    live = {text: found for text in texts if (found := live_markup(text))}
    assert not live, live


def test_a_deal_named_like_a_formula_downloads_as_text(monkeypatch, hostile_url, downloads):
    at = run_page(monkeypatch, hostile_url, "overview")
    at.toggle(key="overview_bookings_deals").set_value(True).run()
    assert not at.exception
    assert downloads, "the deal list has a CSV download"
    frame = pd.read_csv(io.BytesIO(downloads[-1]), dtype=str)
    assert "'" + FORMULA in frame["name"].tolist() and FORMULA not in frame["name"].tolist()
    assert "'@SUM(1+1)" in frame["account"].tolist()
    assert (pd.to_numeric(frame["amount"]) > 0).all()  # amounts stay plain numbers


@pytest.mark.parametrize(
    "params",
    [
        {"rep": LINK, "period": IMAGE, HOSTILE: "1"},  # an unknown parameter's name is echoed too
        {"from": IMAGE, "to": LINK, "team": f"3,{HOSTILE}"},
    ],
)
def test_ignored_url_parameters_are_echoed_as_text(monkeypatch, demo_url, params):
    at = run_page(monkeypatch, demo_url, params=params)
    assert not at.exception
    notices = [w.value for w in at.warning]
    assert notices and all("Ignored" in n for n in notices)
    assert_no_live_markup(markdown_texts(at))
    shown = " ".join(notices)
    for echoed in (LINK, IMAGE, HOSTILE):
        assert md(echoed[:SHOWN_CHARACTERS - 1]) in shown  # still shown (cut short), as text


def test_attainment_shows_hostile_rep_names_as_text(monkeypatch, hostile_url):
    at = run_page(monkeypatch, hostile_url, "attainment")
    at.selectbox(key="attainment_drill_rep").set_value(REP).run()
    assert not at.exception
    texts = markdown_texts(at)
    assert_no_live_markup(texts)
    assert any(md(REP) in t for t in at.markdown.values)  # the summary line names the rep
    assert any(md(REP) in t.label for t in at.toggle)  # and so does "View deals"


def test_the_sidebar_shows_a_hostile_user_name_as_text(monkeypatch, hostile_url):
    at = run_page(monkeypatch, hostile_url)  # the frame's own run (after switch_page AppTest runs the page alone)
    assert not at.exception
    assert_no_live_markup(markdown_texts(at))
    assert any(f"Signed in as **{md(LEADER)}**" in c for c in at.caption.values)


def test_forecast_amounts_do_not_turn_into_math(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, "forecast")
    assert not at.exception
    assert at.metric and any("–" in m.value for m in at.metric)  # the range tile: two amounts
    assert_no_live_markup(markdown_texts(at))


def pick(at, key: str, name: str):
    """Choose the option of a selectbox whose label contains `name`, and rerun."""
    box = at.selectbox(key=key)
    return box.select_index(next(i for i, label in enumerate(box.options) if name in label)).run()


def test_pipeline_shows_hostile_team_and_product_names_as_text(monkeypatch, hostile_url):
    at = pick(run_page(monkeypatch, hostile_url, "pipeline"), "pipeline_breakdown_team_group", TEAM)
    assert not at.exception
    assert_no_live_markup(markdown_texts(at))
    assert any(md(TEAM) in t.label for t in at.toggle)
    at.radio(key="pipeline_breakdown_by").set_value("product").run()
    at = pick(at, "pipeline_breakdown_product_group", PRODUCT)
    assert not at.exception
    assert_no_live_markup(markdown_texts(at))
    assert any(md(PRODUCT) in t.label for t in at.toggle)


def test_leaderboard_shows_hostile_rep_names_as_text(monkeypatch, hostile_url):
    at = pick(run_page(monkeypatch, hostile_url, "leaderboard"), "leaderboard_deals_of", REP)
    assert not at.exception
    assert_no_live_markup(markdown_texts(at))
    assert any(md(REP) in t.label for t in at.toggle)


def test_a_rep_named_like_a_formula_downloads_as_text_on_the_leaderboards_csv(monkeypatch, hostile_url, named_downloads):
    engine = make_engine(hostile_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.update(person).where(person.c.name == REP).values(name=FORMULA))
    finally:
        engine.dispose()
    at = run_page(monkeypatch, hostile_url, "leaderboard")
    assert not at.exception
    frame = pd.read_csv(io.BytesIO(named_downloads["leaderboard-rep-bookings.csv"]), dtype=str)
    assert "'" + FORMULA in frame["name"].tolist() and FORMULA not in frame["name"].tolist()
    assert (pd.to_numeric(frame["Bookings"]) >= 0).all()  # values stay plain numbers


SALESFORCE = (ROOT / "tests" / "fixtures" / "import" / "salesforce_opportunities.csv").read_text(encoding="utf-8")


def check_upload(monkeypatch, url: str, text: str):
    """Upload `text` as a Salesforce export on the Import page (as admin) and press Check (which writes nothing)."""
    at = run_page(monkeypatch, url, "admin_import", user="admin")
    at.file_uploader(key="import_upload").set_value([("export.csv", text.encode("utf-8"), "text/csv")]).run()
    at.button(key="import_check").click().run()
    assert not at.exception
    return at


def test_the_import_page_lists_hostile_new_people_as_text(monkeypatch, demo_url):
    at = check_upload(monkeypatch, demo_url, SALESFORCE.replace('"Jane Doe"', f'"{REP}"'))
    assert_no_live_markup(markdown_texts(at))
    assert any("new people" in t and md(REP) in t for t in at.markdown.values)


def test_the_import_page_names_hostile_stages_as_text(monkeypatch, demo_url):
    at = check_upload(monkeypatch, demo_url, SALESFORCE.replace('"Prospecting"', f'"{HOSTILE}"'))
    assert_no_live_markup(markdown_texts(at))
    assert any("Choose an app stage" in w.value and md(HOSTILE) in w.value for w in at.warning)


def test_import_errors_download_as_text(monkeypatch, demo_url, downloads):
    check_upload(monkeypatch, demo_url, SALESFORCE.replace('"$1,234.56"', '"=1+2"'))
    errors = pd.read_csv(io.BytesIO(downloads[-1]), dtype=str)
    assert "'=1+2" in errors["value"].tolist() and "=1+2" not in errors["value"].tolist()
