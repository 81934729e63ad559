"""What a rep's leaderboard gives away (issue 8, item 14), enforced in spm_core.leaderboard: the others'
values only on the one metric an admin allows, never under rank_only, only for whole calendar months;
the rep's own row in full; leaders and managers unaffected. Plus the settings file and the admin page."""

from __future__ import annotations

import stat
from datetime import date
from functools import cache
from pathlib import Path

import pandas as pd
import pytest
from apptest_support import AS_OF, run_page, users_path

from spm_core import leaderboard as lb
from spm_core.db import make_engine
from spm_core.filters import Filters, Period, Scope
from spm_core.settings import Settings, SettingsError, load_settings, save_settings, settings_file
from spm_core.users import UserStore

QUARTER = Filters(Period.quarter(AS_OF))
FULL = lb.Audience.full()
DEFAULTS = Settings()


@cache
def engine(url: str):
    return make_engine(url, read_only=True)


@cache
def board(url: str, metric: str, filters: Filters, audience: lb.Audience, level: str = "rep") -> pd.DataFrame:
    return lb.board(engine(url), metric, filters, Scope.everyone(), level, AS_OF, audience=audience)


@cache
def rep_id(url: str) -> int:
    return UserStore(users_path(url)).get("rep").person_id


def as_rep(url: str, settings: Settings = DEFAULTS) -> lb.Audience:
    return lb.Audience.of("rep", rep_id(url), settings)


def peers_shown(frame: pd.DataFrame, own: int | None) -> bool:
    return bool(frame["value"][frame.index != own].notna().any())


@pytest.mark.parametrize("peer_metric", lb.METRICS)
def test_a_rep_sees_the_others_values_on_one_metric_only(demo_url, peer_metric):
    """Whatever metric the admin allows, no two metrics of a peer are ever shown (bookings and attainment
    would give their quota)."""
    audience, own = as_rep(demo_url, Settings("rank_and_metric", peer_metric)), rep_id(demo_url)
    shown_on = []
    for metric in lb.METRICS:
        full, seen = board(demo_url, metric, QUARTER, FULL), board(demo_url, metric, QUARTER, audience)
        assert seen.index.tolist() == full.index.tolist() and seen["rank"].tolist() == full["rank"].tolist()
        assert seen.at[own, "value"] == full.at[own, "value"] or pd.isna(full.at[own, "value"])  # their own row
        if peers_shown(seen, own):
            shown_on.append(metric)
            pd.testing.assert_series_equal(seen["value"], full["value"])
    assert shown_on == [peer_metric]


def test_rank_only_shows_a_rep_no_number_of_the_others(demo_url):
    audience, own = as_rep(demo_url, Settings("rank_only")), rep_id(demo_url)
    for metric in lb.METRICS:
        seen = board(demo_url, metric, QUARTER, audience)
        assert not peers_shown(seen, own) and seen.attrs["peer_values_hidden"]
        assert seen.at[own, "value"] == board(demo_url, metric, QUARTER, FULL).at[own, "value"]


@pytest.mark.parametrize(
    ("start", "end", "shown"),
    [
        (date(2026, 11, 20), date(2026, 11, 20), False),  # one day: a peer's value would be single deals
        (date(2026, 11, 1), date(2026, 11, 15), False),
        (date(2026, 10, 2), date(2026, 11, 30), False),  # differs from Oct 1 - Nov 30 by one day's deals
        (date(2026, 10, 1), date(2026, 11, 30), True),
        (date(2026, 11, 1), date(2026, 11, 30), True),
    ],
)
def test_the_others_values_need_whole_calendar_months(demo_url, start, end, shown):
    seen = board(demo_url, "bookings", Filters(Period(start, end)), as_rep(demo_url))
    assert peers_shown(seen, rep_id(demo_url)) is shown


def test_on_team_boards_every_team_is_the_others_the_reps_own_included(demo_url):
    assert peers_shown(board(demo_url, "bookings", QUARTER, as_rep(demo_url), "team"), None)
    hidden = board(demo_url, "attainment", QUARTER, as_rep(demo_url), "team")
    assert hidden["value"].isna().all() and len(hidden) == len(board(demo_url, "attainment", QUARTER, FULL, "team"))


@pytest.mark.parametrize("role", ["admin", "leader", "manager"])
def test_leaders_and_managers_see_every_value_whatever_the_setting(demo_url, role):
    audience = lb.Audience.of(role, rep_id(demo_url), Settings("rank_only"))
    assert not audience.limited
    for metric in ("bookings", "attainment"):
        seen = lb.board(engine(demo_url), metric, QUARTER, Scope.everyone(), "rep", AS_OF, audience=audience)
        pd.testing.assert_frame_equal(seen, board(demo_url, metric, QUARTER, FULL))
        assert seen.attrs["peer_values_hidden"] is None


def test_settings_round_trip_in_a_private_file(tmp_path):
    path = tmp_path / "data" / "settings.yaml"
    assert load_settings(path) == Settings("rank_and_metric", "bookings")  # the defaults before any save
    save_settings(Settings("rank_only", "deals_won"), path)
    assert load_settings(path) == Settings("rank_only", "deals_won")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["settings.yaml"]  # no temporary file left


def test_settings_live_beside_the_users_file(monkeypatch, tmp_path):
    monkeypatch.delenv("SPM_USERS_FILE", raising=False)
    assert settings_file(f"duckdb:///{tmp_path}/w.duckdb") == tmp_path / "settings.yaml"
    monkeypatch.setenv("SPM_USERS_FILE", str(tmp_path / "elsewhere" / "users.yaml"))
    assert settings_file(f"duckdb:///{tmp_path}/w.duckdb") == tmp_path / "elsewhere" / "settings.yaml"


@pytest.mark.parametrize(
    "text", ["peer_visibility: everything\n", "peer_metric: quota\n", "pay: all\n", "[1, 2]\n", "peer_visibility: [\n"]
)
def test_a_settings_file_that_cannot_be_used_is_an_error_not_a_default(tmp_path, text):
    path = tmp_path / "settings.yaml"
    path.write_text(text)
    with pytest.raises(SettingsError):
        load_settings(path)


@pytest.fixture
def saved_settings(demo_url):
    """The demo warehouse's settings file, removed afterwards (other tests expect the defaults)."""
    path = settings_file(f"duckdb:///{users_path(demo_url).parent}/x.duckdb")
    assert path == Path(users_path(demo_url)).with_name("settings.yaml")
    yield path
    path.unlink(missing_ok=True)


def values_shown(at) -> pd.Series:
    return at.dataframe[0].value.iloc[:, 2]


def test_the_leaderboard_page_shows_a_rep_what_spm_core_allows(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, page="leaderboard", user="rep")
    assert not at.exception and values_shown(at).notna().all()  # default: bookings of the others
    at.segmented_control(key="leaderboard_metric").set_value("attainment").run()
    assert not at.exception
    assert values_shown(at).dropna().index.tolist() == [rep_id(demo_url)]
    assert any("Reps see the others' bookings only" in i.value for i in at.info)


def test_an_admin_sets_rank_only_and_reps_see_no_number_of_the_others(monkeypatch, demo_url, saved_settings):
    admin = run_page(monkeypatch, demo_url, page="admin_settings", user="admin")
    assert not admin.exception and admin.title[0].value == "Settings"
    admin.radio(key="settings_peer_visibility").set_value("rank_only")
    next(b for b in admin.button if b.label == "Save").click().run()
    assert not admin.exception and load_settings(saved_settings) == Settings("rank_only", "bookings")

    rep = run_page(monkeypatch, demo_url, page="leaderboard", user="rep")
    assert not rep.exception
    assert values_shown(rep).dropna().index.tolist() == [rep_id(demo_url)]
    leader = run_page(monkeypatch, demo_url, page="leaderboard", user="leader")
    assert not leader.exception and values_shown(leader).notna().all()


def test_only_admins_reach_the_settings_page(monkeypatch, demo_url):
    manager = run_page(monkeypatch, demo_url, user="manager")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        manager.switch_page("pages/admin_settings.py")
