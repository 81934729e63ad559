"""Quota attainment page under AppTest: every demo role, the empty and Maven warehouses, URL filters and
the group-by widget, each number checked against spm_core for the signed-in user's scope."""

from datetime import date
from functools import cache

import pytest
from apptest_support import AS_OF, run_page, users_path

from spm_core.attainment import attainment_by, reps_at_quota
from spm_core.db import get_info, make_engine
from spm_core.filters import Filters, Period, Scope
from spm_core.metrics import query
from spm_core.users import UserStore, viewer_scope
from ui import format as fmt
from ui.text import md

ROLES = ("admin", "leader", "manager", "teamlead", "rep")


@cache
def engine(url: str):
    return make_engine(url, read_only=True)


def scope_of(url: str, username: str) -> Scope:
    return viewer_scope(engine(url), UserStore(users_path(url)).get(username))


def expected_tiles(url: str, filters: Filters, scope: Scope) -> dict[str, str]:
    row = query(engine(url), ["bookings", "quota", "attainment", "pct_reps_at_quota"], filters, scope, as_of=AS_OF).iloc[0]
    attainment = "no quota" if row["quota"] == 0 else fmt.percent(row["attainment"])
    return {
        "Bookings": fmt.money(row["bookings"]),
        "Quota": fmt.money(row["quota"]),
        "Quota attainment": attainment,
        "% of reps at quota": fmt.percent(row["pct_reps_at_quota"]),
    }


def tiles(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def shown(at, expected: dict[str, str]) -> dict[str, str]:
    return {label: tiles(at)[label] for label in expected}


def infos(at) -> str:
    return " ".join(i.value for i in at.info)


@pytest.mark.parametrize("user", ROLES)
def test_each_role_sees_the_metrics_layers_attainment_for_their_scope(monkeypatch, app_url, user):
    at = run_page(monkeypatch, app_url, page="attainment", user=user)
    scope, filters = scope_of(app_url, user), Filters(Period.quarter(AS_OF))
    expected = expected_tiles(app_url, filters, scope)
    assert shown(at, expected) == expected
    assert not at.exception  # a rep's page has a single rated rep: the distribution must still band it
    assert not at.info  # quotas, bookings and a pace exist for every demo role this quarter
    # The distribution's caption counts the same reps as the "% of reps at quota" tile.
    at_quota, with_quota = reps_at_quota(attainment_by(engine(app_url), filters, scope, "rep", AS_OF))
    assert any(c.value.startswith(f"{at_quota:,} of {with_quota:,} reps with a quota") for c in at.caption)
    assert expected["% of reps at quota"] == fmt.percent(at_quota / with_quota)


def test_a_team_in_the_url_narrows_the_attainment(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, page="attainment", params={"team": "2"})
    assert not at.exception and not at.warning
    quarter = Period.quarter(AS_OF)
    expected = expected_tiles(demo_url, Filters(quarter, teams=frozenset({2})), Scope.everyone())
    assert shown(at, expected) == expected
    everyone = expected_tiles(demo_url, Filters(quarter), Scope.everyone())
    assert expected["Quota attainment"] != everyone["Quota attainment"]


def test_last_quarter_in_the_url_is_a_finished_period(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, page="attainment", params={"period": "last_quarter"})
    assert not at.exception and not at.warning
    last = Period.named("last_quarter", AS_OF)
    expected = expected_tiles(demo_url, Filters(last), Scope.everyone())
    assert shown(at, expected) == expected
    assert (
        expected["Quota attainment"]
        != expected_tiles(demo_url, Filters(Period.quarter(AS_OF)), Scope.everyone())["Quota attainment"]
    )
    assert "100% of the period elapsed" in at.caption[0].value
    assert any(f"closed at **{expected['Quota attainment']}** of quota" in m.value for m in at.markdown)


def test_grouping_by_team_lists_spm_cores_groups(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, page="attainment")
    filters = Filters(Period.quarter(AS_OF))
    per_rep = attainment_by(engine(demo_url), filters, Scope.everyone(), "rep", AS_OF)
    table = next(d.value for d in at.dataframe if "attainment" in d.value.columns)
    assert table["name"].tolist() == per_rep["name"].tolist()

    at.radio(key="attainment_level").set_value("team").run()
    assert not at.exception
    per_team = attainment_by(engine(demo_url), filters, Scope.everyone(), "team", AS_OF)
    table = next(d.value for d in at.dataframe if "attainment" in d.value.columns)
    assert table["name"].tolist() == per_team["name"].tolist() and len(per_team) == 2
    assert table["attainment"].round(6).tolist() == per_team["attainment"].round(6).tolist()
    assert table["bookings"].round(2).tolist() == per_team["bookings"].round(2).tolist()

    # Picking a team in the drill-down summarises that team's row.
    name = per_team["name"].iloc[0]
    at.selectbox(key="attainment_drill_team").set_value(name).run()
    assert not at.exception
    row = per_team.iloc[0]
    summary = f"**{md(name)}**: " + md(f"{fmt.money(row['bookings'])} booked of {fmt.money(row['quota'])} quota")
    assert any(m.value.startswith(summary) for m in at.markdown)


def test_an_empty_warehouse_says_it_has_no_quotas(monkeypatch, empty_url):
    at = run_page(monkeypatch, empty_url, page="attainment")
    assert not at.exception
    assert tiles(at)["Quota attainment"] == tiles(at)["Projected attainment"] == "no quota"
    assert tiles(at)["% of reps at quota"] == fmt.NO_VALUE
    text = infos(at)
    assert "No quotas in this warehouse" in text and "No bookings and no quota in this period" in text


def test_the_maven_dataset_shows_real_bookings_and_no_quota(monkeypatch, maven_url):
    at = run_page(monkeypatch, maven_url, page="attainment", user="admin")
    assert not at.exception
    as_of = date.fromisoformat(get_info(engine(maven_url))["as_of"])  # the dataset's own "today"
    bookings = query(engine(maven_url), ["bookings"], Filters(Period.quarter(as_of)), Scope.everyone(), as_of=as_of).iloc[0, 0]
    assert bookings > 0
    assert tiles(at)["Bookings"] == fmt.money(bookings)
    assert tiles(at)["Quota attainment"] == "no quota"
    assert "No quotas in this warehouse" in infos(at)
