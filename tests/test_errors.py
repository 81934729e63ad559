"""Errors never reach users as tracebacks (issue 8, item 10): the three crashes seen, the config that
hides exception details, and the error boundary around every page (a reference for the user, the
traceback in the server log)."""

from __future__ import annotations

import logging
import re
import tomllib
from datetime import date

import pytest
from apptest_support import AS_OF, ROOT, run_page, sign_in
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from spm_core import forecast, history
from spm_core.db import make_engine
from spm_core.filters import Filters, Period, Scope
from ui.filters import parse_id

REFERENCE = re.compile(r"Reference: \*\*([A-Z2-9]{6})\*\*")
QUARTER = Period.quarter(AS_OF)


def notices(at: AppTest) -> str:
    return " ".join(at.session_state["f_notices"])


@pytest.mark.parametrize(
    "text",
    ["²", "٣", "１", "-1", "+1", " 1", "1_0", "0x1", "9" * 19, "9" * 5000, ""],
    ids=["superscript", "arabic-indic", "fullwidth", "negative", "plus", "space", "underscore", "hex", "19 digits", "5000 digits", "empty"],
)
def test_only_plain_decimal_digits_are_ids(text):
    assert parse_id(text) is None


def test_plain_digits_are_ids():
    assert parse_id("0042") == 42 and parse_id("9" * 18) == int("9" * 18)


@pytest.mark.parametrize("username", ["leader", "rep"])
def test_a_superscript_digit_in_the_link_is_a_notice_not_a_traceback(monkeypatch, demo_url, username):
    at = run_page(monkeypatch, demo_url, params={"rep": "²", "team": "٣"}, user=username)
    assert not at.exception and not at.error
    assert "Ignored rep ²" in notices(at) and "Ignored team ٣" in notices(at)


def test_dates_at_the_calendars_ends_are_a_notice_and_this_quarter(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, params={"from": "0001-01-01", "to": "9999-12-31"})
    assert not at.exception and not at.error
    assert "Ignored the date range in the link (0001-01-01 to 9999-12-31)" in notices(at).replace("\\", "")  # shown escaped
    assert at.sidebar.selectbox(key="f_period").value == "this_quarter"
    # the bounds themselves are fine, however far from today
    at = run_page(monkeypatch, demo_url, params={"from": "1900-01-01", "to": "2200-12-31"})
    assert not at.exception and not at.error and not at.session_state["f_notices"]
    assert at.sidebar.date_input[0].value == (date(1900, 1, 1), date(2200, 12, 31))
    at.switch_page("pages/leaderboard.py").run()  # a board compares with the period before 1900-01-01
    assert not at.exception and not at.error


@pytest.mark.parametrize(
    ("start", "end"),
    [(date.min, date.max), (date.min, date.min), (date(1, 1, 3), date(1, 1, 9)), (date(1, 2, 1), date(1, 3, 31))],
)
def test_every_period_has_a_previous_one_even_at_the_calendars_start(start, end):
    before = Period(start, end).previous()
    assert before.start == date.min and before.end <= max(start, date.min)


def test_the_previous_period_keeps_its_meaning_away_from_the_edges():
    assert Period(date(2026, 4, 1), date(2026, 6, 30)).previous() == Period(date(2026, 1, 1), date(2026, 3, 31))
    assert Period(date(2026, 1, 10), date(2026, 1, 19)).previous() == Period(date(2025, 12, 31), date(2026, 1, 9))
    assert Period.quarter(date(9999, 12, 31)) == Period(date(9999, 10, 1), date(9999, 12, 31))


@pytest.mark.parametrize(
    "view",
    [
        (Filters(QUARTER), Scope.nobody()),
        (Filters(QUARTER, reps=frozenset({10**9})), Scope.everyone()),  # nobody passes the filter
    ],
    ids=["empty scope", "nobody in view"],
)
def test_stalled_deals_with_nobody_in_view_is_an_empty_list(demo_url, view):
    filters, scope = view
    stalled = history.stalled_deals(make_engine(demo_url, read_only=True), filters, scope, AS_OF)
    assert stalled.empty and "stalled_after_days" in stalled.columns


def test_users_never_see_exception_details_nor_the_deploy_button():
    client = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["client"]
    assert client["showErrorDetails"] == st_config.ShowErrorDetailsConfigOptions.NONE.value
    assert client["toolbarMode"] == "minimal"


def _failing_page() -> None:
    import streamlit as st

    from ui.errors import error_boundary

    st.title("Before")
    with error_boundary("the test page"):
        raise RuntimeError("SELECT secret FROM /srv/app/data")
    st.caption("after")  # the frame goes on: the sidebar and navigation stay usable


def test_a_failing_page_shows_a_reference_and_logs_the_traceback_under_it(caplog):
    with caplog.at_level(logging.ERROR, logger="spm.errors"):
        at = AppTest.from_function(_failing_page).run()
    assert not at.exception
    [shown] = [e.value for e in at.error]
    assert "Something went wrong" in shown and "secret" not in shown and "/srv" not in shown
    reference = REFERENCE.search(shown).group(1)
    [record] = [r for r in caplog.records if r.name == "spm.errors"]
    assert reference in record.getMessage() and record.exc_info[0] is RuntimeError
    assert at.caption[0].value == "after"
    caplog.clear()  # expected here; conftest fails any other test whose page hit the boundary


def _control_flow_page() -> None:
    import streamlit as st

    from ui.errors import error_boundary

    st.session_state.setdefault("runs", 0)
    st.session_state["runs"] += 1
    with error_boundary():
        if st.session_state["runs"] == 1:
            st.rerun()
        st.write("stopping")
        st.stop()
    st.write("never drawn")


def test_st_rerun_and_st_stop_pass_through_the_boundary():
    at = AppTest.from_function(_control_flow_page).run()
    assert not at.exception and not at.error
    assert at.session_state["runs"] == 2
    assert [m.value for m in at.markdown] == ["stopping"]


@pytest.mark.parametrize(
    ("start", "want"),
    [(date(2024, 2, 29), date(2023, 2, 28)), (date(2026, 10, 1), date(2025, 10, 1)), (date(1, 5, 5), date.min)],
)
def test_a_trend_reaches_back_a_year_from_any_start_day(start, want):
    """The Overview's twelve-month trend from a range starting on 29 February (found by test_url_fuzz)."""
    assert Period(start, date(2026, 12, 31)).with_year_before() == Period(want, date(2026, 12, 31))


@pytest.mark.parametrize(
    ("start", "end"),
    [(date(1900, 1, 1), date(2200, 12, 31)), (date(2200, 12, 31), date(2200, 12, 31))],
    ids=["the widest range a link may ask", "one day at its end"],
)
def test_the_statistical_forecast_of_a_range_far_ahead_has_no_comparable_past_and_no_error(demo_url, start, end):
    """Found by test_url_fuzz: past periods reached back past date.min; none comparable broke a merge."""
    got = forecast.statistical_forecast(make_engine(demo_url, read_only=True), Filters(Period(start, end)), Scope.everyone(), AS_OF)
    assert got.periods == () and got.expected >= got.bookings


@pytest.mark.parametrize(
    ("target", "where"),
    [("spm_core.auth.signin.with_password", "the sign-in page"), ("ui.filters._load_from_url", "the filter bar")],
)
def test_a_failure_in_the_frame_also_shows_a_reference(monkeypatch, demo_url, caplog, target, where):
    def broken(*args, **kwargs):
        raise RuntimeError("SELECT secret FROM /srv/app/data")

    with caplog.at_level(logging.ERROR, logger="spm.errors"):
        at = run_page(monkeypatch, demo_url, user=None)
        monkeypatch.setattr(target, broken)
        sign_in(at, "leader")
    assert not at.exception
    shown = " ".join(e.value for e in at.error)
    assert f"Something went wrong while showing {where}" in shown and "secret" not in shown
    assert REFERENCE.search(shown).group(1) in caplog.records[0].getMessage()
    caplog.clear()
