"""Row-level security end to end through the app (AppTest) and spm_core: a rep never reaches another
rep's deals through any page, filter, drill-down, CSV or crafted URL; a manager sees exactly their
subtree; sign-in failures are sentences, not tracebacks."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import sqlalchemy as sa
from apptest_support import APP, AS_OF, run_page, sign_in, users_path
from streamlit.testing.v1 import AppTest

from spm_core import deals, metrics
from spm_core.auth.throttle import attempts_file
from spm_core.db import make_engine, read_frame
from spm_core.dimensions import filter_options
from spm_core.filters import Filters, Period, Scope
from spm_core.schema import person
from spm_core.users import DEMO_PASSWORDS, UserStore, viewer_scope
from ui.auth import SESSION_KEY
from ui.format import money

PAGES = ("overview", "pipeline", "attainment", "leaderboard", "forecast", "reports", "pulse")
QUARTER = Filters(Period.quarter(AS_OF))


@pytest.fixture(scope="module")
def people(demo_url) -> pd.DataFrame:
    return read_frame(make_engine(demo_url, read_only=True), sa.select(person))


def user(url: str, username: str):
    return UserStore(users_path(url)).get(username)


def subtree(people: pd.DataFrame, root: int) -> set[int]:
    """Plain pandas walk down the manager tree (the oracle for Scope.subtree)."""
    found, frontier = {root}, {root}
    while frontier:
        frontier = set(people.loc[people["manager_id"].isin(frontier), "id"].astype(int)) - found
        found |= frontier
    return found


def every_attention_list(at):
    """On the pipeline page, show each list of deals needing attention in turn; the owners on screen
    across all of them."""
    owners: set[str] = set()
    for shown in at.radio(key="pipeline_attention").options:
        at.radio(key="pipeline_attention").set_value(shown).run()
        owners |= owners_on_screen(at)
    return owners


def open_every_drilldown(at):
    """Switch on every 'View deals' toggle the page has, one run each (new toggles may appear)."""
    seen: set[str] = set()
    while True:
        toggles = [t for t in at.toggle if t.label.startswith("View deals") and t.key not in seen]
        if not toggles:
            return at
        seen.add(toggles[0].key)
        toggles[0].set_value(True)
        at.run()
        assert not at.exception, at.exception


def owners_on_screen(at) -> set[str]:
    return {str(o) for d in at.dataframe if "owner" in d.value.columns for o in d.value["owner"]}


@pytest.mark.parametrize("page", PAGES)
def test_a_rep_sees_only_their_own_deals_on_every_page_and_drilldown(monkeypatch, demo_url, page):
    rep = user(demo_url, "rep")
    at = open_every_drilldown(run_page(monkeypatch, demo_url, page, user="rep"))
    assert owners_on_screen(at) <= {rep.name}
    if page == "pipeline":
        assert every_attention_list(at) <= {rep.name}


@pytest.mark.parametrize("page", PAGES)
def test_crafted_url_parameters_cannot_widen_a_reps_view(monkeypatch, demo_url, people, page):
    rep = user(demo_url, "rep")
    others = people[(people["role"] == "rep") & (people["id"] != rep.person_id)]
    other_rep, other_team = int(others["id"].iloc[0]), int(others["team_id"].iloc[-1])
    manager = int(people.loc[people["role"] == "manager", "id"].iloc[0])
    params = {"rep": str(other_rep), "team": str(other_team), "manager": str(manager)}
    at = open_every_drilldown(run_page(monkeypatch, demo_url, page, params=params, user="rep"))
    notices = " ".join(at.session_state["f_notices"])
    assert f"rep {other_rep}" in notices and f"manager {manager}" in notices and f"team {other_team}" in notices
    assert owners_on_screen(at) <= {rep.name}


def test_the_ignored_link_parameters_are_shown_to_the_rep(monkeypatch, demo_url, people):
    rep = user(demo_url, "rep")
    other = int(people.loc[(people["role"] == "rep") & (people["id"] != rep.person_id), "id"].iloc[0])
    at = run_page(monkeypatch, demo_url, params={"rep": str(other)}, user="rep")
    assert f"Ignored rep {other} from the link: not found or not visible to you." in [w.value for w in at.warning]


def test_a_reps_bookings_tile_is_their_own_whatever_the_url_says(monkeypatch, demo_url, people):
    rep = user(demo_url, "rep")
    engine = make_engine(demo_url, read_only=True)
    own = metrics.query(engine, ["bookings"], QUARTER, Scope.only(rep.person_id), as_of=AS_OF).iloc[0, 0]
    other = int(people.loc[(people["role"] == "rep") & (people["id"] != rep.person_id), "id"].iloc[0])
    at = run_page(monkeypatch, demo_url, params={"rep": str(other)}, user="rep")
    assert next(m.value for m in at.metric if m.label == "Bookings") == money(own)


def test_the_scope_is_enforced_in_spm_core_not_only_in_the_filter_bar(demo_url, people):
    """Even a caller that asks spm_core for another rep's numbers and deals gets nothing back."""
    engine = make_engine(demo_url, read_only=True)
    rep = user(demo_url, "rep")
    scope = viewer_scope(engine, rep)
    other = int(people.loc[(people["role"] == "rep") & (people["id"] != rep.person_id), "id"].iloc[0])
    asking = Filters(QUARTER.period, reps=frozenset({other}))
    assert deals.deals(engine, "open_pipeline", asking, scope).empty
    assert deals.deals(engine, "bookings", asking, scope).empty
    assert metrics.query(engine, ["open_pipeline", "bookings"], asking, scope, as_of=AS_OF).fillna(0).iloc[0].sum() == 0
    by_rep = metrics.query(engine, ["open_pipeline"], QUARTER, scope, by=["rep"], as_of=AS_OF)
    assert set(by_rep["rep_id"].dropna().astype(int)) <= {rep.person_id}
    assert set(filter_options(engine, scope).reps) == {rep.person_id}


@pytest.mark.parametrize("username", ["manager", "teamlead"])
def test_a_manager_sees_exactly_their_subtree(demo_url, people, username):
    engine = make_engine(demo_url, read_only=True)
    manager = user(demo_url, username)
    expected = subtree(people, manager.person_id)
    scope = viewer_scope(engine, manager)
    assert set(filter_options(engine, scope).reps) == {i for i in expected if people.set_index("id").at[i, "role"] == "rep"}
    owners = set(deals.deals(engine, "open_pipeline", QUARTER, scope)["owner"])
    names = set(people.loc[people["id"].isin(expected), "name"])
    assert owners and owners <= names
    everyone = set(deals.deals(engine, "open_pipeline", QUARTER, Scope.everyone())["owner"])
    assert everyone & names == owners  # nothing of theirs is missing either


def test_a_managers_overview_equals_the_metrics_layer_for_their_subtree(monkeypatch, demo_url):
    engine = make_engine(demo_url, read_only=True)
    manager = user(demo_url, "teamlead")
    at = run_page(monkeypatch, demo_url, user="teamlead")
    want = metrics.query(engine, ["bookings", "open_pipeline"], QUARTER, viewer_scope(engine, manager), as_of=AS_OF).iloc[0]
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Bookings"] == money(want["bookings"]) and tiles["Open pipeline"] == money(want["open_pipeline"])
    leader = run_page(monkeypatch, demo_url, user="leader")
    assert {m.label: m.value for m in leader.metric}["Bookings"] != tiles["Bookings"]


def test_only_admins_get_the_users_page(monkeypatch, demo_url):
    rep = run_page(monkeypatch, demo_url, user="rep")
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # not in a rep's navigation
        rep.switch_page("pages/admin_users.py")
    admin = run_page(monkeypatch, demo_url, "admin_users", user="admin")
    assert not admin.exception and admin.title[0].value == "Users"


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("rep", "not the password", "Wrong username or password."),
        ("nobody-here", "whatever-123", "Wrong username or password."),
    ],
)
def test_wrong_password_and_unknown_user_get_one_clear_message(monkeypatch, demo_url, username, password, message):
    at = run_page(monkeypatch, demo_url, user=None)
    sign_in(at, username, password)
    assert not at.exception
    assert [e.value for e in at.error] == [message]
    assert not at.metric  # nothing behind the form


def login_form(monkeypatch, url: str, users) -> AppTest:
    """The app at its login form, with this test's own users file (so a lock-out stays here)."""
    monkeypatch.setenv("SPM_WAREHOUSE_URL", url)
    monkeypatch.setenv("SPM_USERS_FILE", str(users))
    monkeypatch.setenv("SPM_COOKIE_KEY", "test-cookie-key-of-at-least-32-bytes!")
    return AppTest.from_file(APP, default_timeout=60).run()


def own_users_file(tmp_path, demo_url):
    """A copy of the demo users, so this test's failures and revocations stay here."""
    users = tmp_path / "users.yaml"
    users.write_bytes(users_path(demo_url).read_bytes())
    return users


def test_failed_sign_ins_slow_down_and_never_lock_the_account_for_good(monkeypatch, tmp_path, demo_url):
    users = own_users_file(tmp_path, demo_url)
    at = login_form(monkeypatch, demo_url, users)
    for _ in range(5):
        sign_in(at, "rep", "wrong password")
    assert "Try again in 15 seconds" in at.error[0].value
    fresh = login_form(monkeypatch, demo_url, users)  # another session waits as well: the count is on disk
    sign_in(fresh, "rep")
    assert "Try again in" in fresh.error[0].value and not fresh.metric
    counts_file = attempts_file(users)
    counts = json.loads(counts_file.read_text())
    counts["user:rep"]["last"] -= 20  # the 15 s have passed
    counts_file.write_text(json.dumps(counts))
    fresh = login_form(monkeypatch, demo_url, users)
    sign_in(fresh, "rep")
    assert not fresh.exception and fresh.metric and not fresh.error


def open_session(monkeypatch, url: str, users, username: str, version: int) -> AppTest:
    """A browser session already signed in as `username` at session `version`, at its next page run.
    (AppTest reruns only the page after the first run; the real server runs the frame every time, and
    the Chromium tests check that.)"""
    at = AppTest.from_file(APP, default_timeout=60)
    monkeypatch.setenv("SPM_WAREHOUSE_URL", url)
    monkeypatch.setenv("SPM_USERS_FILE", str(users))
    monkeypatch.setenv("SPM_COOKIE_KEY", "test-cookie-key-of-at-least-32-bytes!")
    at.session_state[SESSION_KEY] = (username, version)
    return at.run()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda store: store.end_sessions("rep"), "Your session has ended"),
        (lambda store: store.reset_password("rep", "a-new-password-2026"), "Your session has ended"),
        (lambda store: store.set_role("rep", "manager", store.get("rep").person_id), "Your session has ended"),
        (lambda store: store.lock("rep"), "Your session has ended"),
        (lambda store: store.remove("rep"), "This account no longer exists"),
    ],
    ids=["signed-out-elsewhere", "password-reset", "role-change", "locked", "removed"],
)
def test_an_open_session_ends_at_its_next_run_when_the_account_changes(monkeypatch, tmp_path, demo_url, change, message):
    users = own_users_file(tmp_path, demo_url)
    version = UserStore(users).entry("rep")["session_version"]
    assert open_session(monkeypatch, demo_url, users, "rep", version).metric
    change(UserStore(users))
    at = open_session(monkeypatch, demo_url, users, "rep", version)
    assert not at.exception and not at.metric
    assert message in at.error[0].value
    assert [b.label for b in at.button] == ["Login"]


def test_an_admin_lock_holds_until_unlocked(monkeypatch, tmp_path, demo_url):
    users = own_users_file(tmp_path, demo_url)
    UserStore(users).lock("rep")
    at = login_form(monkeypatch, demo_url, users)
    sign_in(at, "rep", "wrong password")
    assert at.error[0].value == "Wrong username or password."  # a lock is no hint to a guesser
    sign_in(at, "rep")
    assert "locked by an admin" in at.error[0].value and not at.metric
    UserStore(users).unlock("rep")
    sign_in(at, "rep")
    assert at.metric


def test_demo_passwords_are_refused_on_a_warehouse_that_is_not_the_demo(monkeypatch, tmp_path, maven_url):
    users = tmp_path / "users.yaml"
    UserStore(users).add("admin", "Admin", "", DEMO_PASSWORDS["admin"], "admin", None, demo=True)
    at = login_form(monkeypatch, maven_url, users)
    assert "Demo sign-ins" not in [e.label for e in at.expander]
    sign_in(at, "admin")
    assert not at.metric and "users reset-password admin" in at.error[0].value


def test_a_user_whose_person_left_the_warehouse_gets_a_message(monkeypatch, tmp_path, demo_url):
    users = tmp_path / "users.yaml"
    store = UserStore(users)
    store.add("gone", "Gone Rep", "gone@example.com", "gone-demo-2026", "rep", 987654321)
    at = login_form(monkeypatch, demo_url, users)
    sign_in(at, "gone", "gone-demo-2026")
    assert not at.exception
    assert "not in the warehouse any more" in at.error[0].value
    assert not at.metric
