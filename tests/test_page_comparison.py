"""Tile deltas and the "no close date" bucket on the pages (AppTest): each delta is the value minus the
like-for-like baseline of spm_core.comparison for the viewer's scope, each tile's help says what it
compares with, and the Maven dataset (no history, open deals without close dates) says why."""

from __future__ import annotations

import pytest
from apptest_support import AS_OF, run_page, users_path

from spm_core.comparison import compare
from spm_core.db import make_engine
from spm_core.filters import Filters, Period, Scope
from spm_core.metrics import query
from spm_core.users import UserStore, viewer_scope
from ui.tiles import delta_text

QUARTER = Filters(Period.quarter(AS_OF))


def tile(at, label: str):
    return next(m for m in at.metric if m.label == label)


def expected_delta(url: str, name: str, scope: Scope, against: str = "previous") -> str | None:
    engine = make_engine(url, read_only=True)
    now = query(engine, [name], QUARTER, scope, as_of=AS_OF).iloc[0, 0]
    return delta_text(name, now, compare(engine, [name], QUARTER, scope, AS_OF, against).values[name])


@pytest.mark.parametrize("username", ["leader", "manager", "rep"])
def test_pipeline_deltas_are_like_for_like_within_the_viewers_scope(monkeypatch, demo_url, username):
    at = run_page(monkeypatch, demo_url, "pipeline", user=username)
    assert not at.exception
    scope = viewer_scope(make_engine(demo_url, read_only=True), UserStore(users_path(demo_url)).get(username))
    for label, name in (("Open pipeline", "open_pipeline"), ("Win rate", "win_rate"), ("Pipeline coverage", "coverage")):
        assert tile(at, label).delta == expected_delta(demo_url, name, scope), label
    # Day 54 of Q4 against day 54 of Q3 (23 Aug), the open pipeline as it stood then.
    assert "as it stood at the end of 23 Aug 2026, day 54 of it" in tile(at, "Open pipeline").help
    assert "counted up to 23 Aug 2026" in tile(at, "Win rate").help


def test_the_pipeline_page_compares_with_seven_days_ago_on_request(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, "pipeline")
    at.segmented_control(key="pipeline_against").set_value("week").run()
    assert not at.exception
    assert tile(at, "Open pipeline").delta == expected_delta(demo_url, "open_pipeline", Scope.everyone(), "week")
    assert "16 Nov 2026, 7 days ago" in tile(at, "Open pipeline").help


def test_overview_tiles_name_what_they_compare_with(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url)
    assert not at.exception
    assert all("Change: against" in m.help for m in at.metric)
    assert tile(at, "Bookings").delta == expected_delta(demo_url, "bookings", Scope.everyone())
    at.segmented_control(key="overview_against").set_value("year").run()
    assert "01 Oct 2025 – 31 Dec 2025" in tile(at, "Bookings").help


def test_maven_has_no_history_so_snapshot_tiles_show_no_change_and_say_why(monkeypatch, maven_url):
    at = run_page(monkeypatch, maven_url, "pipeline")
    assert not at.exception
    assert not tile(at, "Open pipeline").delta
    assert "No change shown" in tile(at, "Open pipeline").help and "opportunity history" in tile(at, "Open pipeline").help
    assert tile(at, "Win rate").delta  # a flow needs no history


@pytest.mark.parametrize("page", [None, "pipeline"])
def test_maven_shows_its_open_deals_in_a_no_close_date_bucket(monkeypatch, maven_url, page):
    at = run_page(monkeypatch, maven_url, page)
    assert not at.exception
    assert any("No close date: 2,089 open deals, $5.0M" in w.value for w in at.warning)
    key = f"{page or 'overview'}_undated_deals"
    at.toggle(key=key).set_value(True).run()
    listed = next(df.value for df in at.dataframe if "close_date" in df.value.columns and len(df.value) == 2089)
    assert listed["close_date"].isna().all() and round(listed["amount"].sum()) == 4_966_215
    assert any("2,089 deals, $4,966,215 in amount" in c.value for c in at.caption)


def test_the_demo_has_no_bucket_to_show(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, "pipeline")
    assert not at.warning
