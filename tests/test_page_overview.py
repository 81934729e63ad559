"""Overview page under AppTest: demo, empty and Maven warehouses, filters from the URL."""

import shutil

import pytest
import sqlalchemy as sa
from apptest_support import AS_OF, run_page, users_path

from spm_core.db import make_engine
from spm_core.filters import Filters, Period, Scope
from spm_core.metrics import query
from spm_core.schema import person
from ui.format import money


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_overview_shows_this_quarters_bookings_from_the_metrics_layer(monkeypatch, app_url):
    at = run_page(monkeypatch, app_url)
    assert not at.exception
    expected = query(make_engine(app_url, read_only=True), ["bookings"], Filters(Period.quarter(AS_OF)), Scope.everyone(), as_of=AS_OF).iloc[0, 0]
    assert metric(at, "Bookings") == money(expected)


def test_a_team_filter_in_the_url_narrows_the_numbers(monkeypatch, demo_url):
    everyone = metric(run_page(monkeypatch, demo_url), "Bookings")
    at = run_page(monkeypatch, demo_url, params={"team": "1"})
    assert not at.exception and not at.warning
    engine = make_engine(demo_url, read_only=True)
    expected = query(engine, ["bookings"], Filters(Period.quarter(AS_OF), teams=frozenset({1})), Scope.everyone(), as_of=AS_OF).iloc[0, 0]
    assert metric(at, "Bookings") == money(expected) != everyone


def test_bad_url_parameters_are_ignored_with_a_notice(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, params={"team": "x,999", "period": "someday", "from": "2026-13-01"})
    assert not at.exception
    notices = " ".join(w.value for w in at.warning)
    assert "team x, 999" in notices and "date range" in notices


def test_the_deals_behind_bookings_add_up_to_the_tile(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url)
    at.toggle(key="overview_bookings_deals").set_value(True).run()
    assert not at.exception
    deals = at.dataframe[0].value
    engine = make_engine(demo_url, read_only=True)
    expected = query(engine, ["bookings", "deals_won"], Filters(Period.quarter(AS_OF)), Scope.everyone(), as_of=AS_OF).iloc[0]
    assert len(deals) == expected["deals_won"] and abs(deals["amount"].sum() - expected["bookings"]) < 0.01


def test_an_empty_warehouse_renders_with_explanations(monkeypatch, empty_url):
    at = run_page(monkeypatch, empty_url)
    assert not at.exception
    assert metric(at, "Quota attainment") == "no quota"
    assert any("No bookings" in i.value for i in at.info)


def test_the_maven_dataset_says_it_has_no_quotas(monkeypatch, maven_url):
    at = run_page(monkeypatch, maven_url)
    assert not at.exception
    assert any("no quotas" in i.value for i in at.info)
    assert metric(at, "Pipeline coverage") == "no quota"  # not "covered": there is nothing to cover


@pytest.fixture(scope="module")
def no_teams_url(demo_url, tmp_path_factory) -> str:
    """The demo warehouse with nobody in a team (as an import without a team column leaves it)."""
    folder = tmp_path_factory.mktemp("no_teams")
    url = f"duckdb:///{folder}/noteams.duckdb"
    shutil.copy(demo_url.removeprefix("duckdb:///"), folder / "noteams.duckdb")
    shutil.copy(users_path(demo_url), users_path(url))
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.update(person).values(team_id=None))
    engine.dispose()
    return url


def test_without_teams_the_chart_shows_bookings_by_rep_not_no_bookings(monkeypatch, no_teams_url):
    at = run_page(monkeypatch, no_teams_url)
    assert not at.exception
    assert not any("No bookings" in i.value for i in at.info)  # the Bookings tile shows some
    assert "Bookings by rep" in [h.value for h in at.subheader]
    assert any("No teams in this warehouse" in c.value for c in at.caption)


def test_a_warehouse_without_quotas_shows_no_quota_and_no_change_on_the_quota_tile(monkeypatch, maven_url):
    at = run_page(monkeypatch, maven_url)
    assert not at.exception
    quota = next(m for m in at.metric if m.label == "Quota")
    assert quota.value == "no quota" and not quota.delta  # not "$0" with "+$0"
