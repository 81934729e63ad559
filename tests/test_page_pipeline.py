"""Pipeline health page under AppTest: every demo role, the empty and Maven warehouses, URL filters and
the page's own widgets, each number checked against spm_core for the signed-in user's scope."""

from datetime import date
from functools import cache

import pytest
from apptest_support import AS_OF, run_page, users_path

from spm_core import history
from spm_core.db import get_info, make_engine
from spm_core.filters import Filters, Period, Scope
from spm_core.kpis import CATALOGUE
from spm_core.metrics import query
from spm_core.users import UserStore, viewer_scope
from ui import format as fmt

ROLES = ("admin", "leader", "manager", "teamlead", "rep")
TILE_KPIS = ("open_pipeline", "weighted_pipeline", "win_rate", "avg_deal_size", "sales_cycle_days")
NEEDS_HISTORY = "Needs opportunity history"


@cache
def engine(url: str):
    return make_engine(url, read_only=True)


def scope_of(url: str, username: str) -> Scope:
    return viewer_scope(engine(url), UserStore(users_path(url)).get(username))


def expected_tiles(url: str, filters: Filters, scope: Scope) -> dict[str, str]:
    row = query(engine(url), list(TILE_KPIS), filters, scope, as_of=AS_OF).iloc[0]
    return {CATALOGUE[n].label: fmt.by_unit(CATALOGUE[n].unit, row[n]) for n in TILE_KPIS}


def tiles(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def infos(at) -> str:
    return " ".join(i.value for i in at.info)


@pytest.mark.parametrize("user", ROLES)
def test_each_role_sees_the_metrics_layers_numbers_for_their_scope(monkeypatch, app_url, user):
    at = run_page(monkeypatch, app_url, page="pipeline", user=user)
    assert not at.exception
    assert at.title[0].value == "Pipeline health"
    scope = scope_of(app_url, user)
    expected = expected_tiles(app_url, Filters(Period.quarter(AS_OF)), scope)
    assert {label: tiles(at)[label] for label in expected} == expected
    assert NEEDS_HISTORY not in infos(at)  # the demo warehouse has history
    if user == "rep":  # a rep's numbers are their own, not the company's
        assert expected != expected_tiles(app_url, Filters(Period.quarter(AS_OF)), Scope.everyone())


def test_a_team_in_the_url_narrows_the_tiles(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, page="pipeline", params={"team": "1"})
    assert not at.exception and not at.warning
    quarter = Filters(Period.quarter(AS_OF))
    expected = expected_tiles(demo_url, Filters(quarter.period, teams=frozenset({1})), Scope.everyone())
    assert {label: tiles(at)[label] for label in expected} == expected
    everyone = expected_tiles(demo_url, quarter, Scope.everyone())
    assert expected["Open pipeline"] != everyone["Open pipeline"]


def test_last_quarter_in_the_url_moves_the_period(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, page="pipeline", params={"period": "last_quarter"})
    assert not at.exception and not at.warning
    last = Period.named("last_quarter", AS_OF)
    assert "01 Jul 2026 – 30 Sep 2026" in at.caption[0].value
    expected = expected_tiles(demo_url, Filters(last), Scope.everyone())
    assert {label: tiles(at)[label] for label in expected} == expected
    assert expected["Win rate"] != expected_tiles(demo_url, Filters(Period.quarter(AS_OF)), Scope.everyone())["Win rate"]


def test_the_waterfall_steps_and_the_rep_breakdown_come_from_spm_core(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, page="pipeline", user="teamlead")
    assert not at.exception
    scope, filters = scope_of(demo_url, "teamlead"), Filters(Period.quarter(AS_OF))

    steps = next(d.value for d in at.dataframe if list(d.value.columns) == ["step", "amount", "deals"])
    want = history.pipeline_change(engine(demo_url), filters, scope, AS_OF)
    assert steps["step"].tolist() == want["step"].tolist()
    assert steps["amount"].round(2).tolist() == want["amount"].round(2).tolist()
    assert steps["deals"].tolist() == want["deals"].tolist()

    at.radio(key="pipeline_breakdown_by").set_value("rep").run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "group" in d.value.columns)
    by_rep = query(engine(demo_url), ["open_pipeline", "open_deals"], filters, scope, by=["rep"], as_of=AS_OF)
    got = dict(zip(table["group"], table["open_pipeline"].round(2), strict=True))
    assert got == dict(zip(by_rep["rep"], by_rep["open_pipeline"].round(2), strict=True))
    assert len(got) == 6  # the first-line manager's six reps, nobody else's
    assert table["open_pipeline"].is_monotonic_decreasing


def test_an_empty_warehouse_explains_instead_of_showing_zeros(monkeypatch, empty_url):
    at = run_page(monkeypatch, empty_url, page="pipeline")
    assert not at.exception
    shown = tiles(at)
    assert shown["Win rate"] == shown["Average deal size"] == shown["Sales velocity"] == fmt.NO_VALUE
    text = infos(at)
    assert "No open pipeline closing in this period" in text
    assert "No quota set for these filters" in text
    assert NEEDS_HISTORY in text


def test_the_maven_dataset_says_it_needs_history(monkeypatch, maven_url):
    at = run_page(monkeypatch, maven_url, page="pipeline", user="admin")
    assert not at.exception
    as_of = date.fromisoformat(get_info(engine(maven_url))["as_of"])  # the dataset's own "today"
    expected = query(engine(maven_url), ["win_rate", "avg_deal_size"], Filters(Period.quarter(as_of)), Scope.everyone(), as_of=as_of).iloc[0]
    assert tiles(at)["Win rate"] == fmt.percent(expected["win_rate"])
    assert tiles(at)["Average deal size"] == fmt.money(expected["avg_deal_size"])
    text = infos(at)
    assert text.count(NEEDS_HISTORY) == 2  # conversion and waterfall: never zeros
    for needs in ("stalled", "slipped"):  # the deal lists that need history say so too
        at.radio(key="pipeline_attention").set_value(needs).run()
        assert infos(at).count(NEEDS_HISTORY) == 3
    assert "No open pipeline closing in this period" in text
