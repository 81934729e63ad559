"""Quota planning page under AppTest: what each role sees (leader everything, manager their subtree, rep their
own quota), what each download holds per role, and the page's writes (create, override, publish)."""

from __future__ import annotations

import io
import shutil
from contextlib import contextmanager
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa
from apptest_support import AS_OF, OWN_PASSWORDS, on_engine, private_copy, run_page, users_path
from planning_support import planner

from spm_core import metrics
from spm_core.db import make_engine, read_frame
from spm_core.demo import DemoSpec, build_demo
from spm_core.filters import Filters, Period, Scope
from spm_core.planning import scenarios as sc
from spm_core.planning.compute import ScenarioSpec
from spm_core.planning.model import PlannedSeat, PlanRules
from spm_core.planning.publish import approvals, approve, publish
from spm_core.planning.seats import candidates
from spm_core.schema import person
from spm_core.users import UserStore, create_demo_users, viewer_scope
from ui import format as fmt

YEAR = Period(date(2027, 1, 1), date(2027, 12, 31))
Q1 = Period(date(2027, 1, 1), date(2027, 3, 31))
ROLES = ("leader", "manager", "teamlead", "rep")


@contextmanager
def opened(url: str, read_only: bool = True):
    engine = make_engine(url, read_only=read_only)
    try:
        yield engine
    finally:
        engine.dispose()


def approve_top(engine, sid: int) -> None:
    rows = sc.allocation(engine, sid, Scope.everyone())
    for manager in rows.loc[(rows["depth"] == 1) & (rows["kind"] == "team"), "person_id"]:
        approve(engine, sid, int(manager), planner("vp", "manager", Scope.everyone()))


@pytest.fixture(scope="module")
def plan_url(tmp_path_factory) -> str:
    """A small demo with a published 2027 plan (40M) and a newer draft (60M)."""
    url = f"duckdb:///{tmp_path_factory.mktemp('planning')}/plan.duckdb"
    with opened(url, read_only=False) as engine:
        build_demo(engine, DemoSpec(opportunities=2000, activities=2000, seed=3, as_of=AS_OF))
        create_demo_users(engine, users_path(url))
        published = sc.create_scenario(engine, ScenarioSpec("Published 2027", YEAR, PlanRules(40_000_000_00)), planner("leader"), AS_OF)
        approve_top(engine, published)
        publish(engine, published, planner("leader"), AS_OF)
        sc.create_scenario(engine, ScenarioSpec("Draft 2027", YEAR, PlanRules(60_000_000_00)), planner("leader"), AS_OF)
    return url


@pytest.fixture(scope="module")
def plan_app_url(plan_url, engine_kind, new_warehouse_url) -> str:
    """plan_url on the engine under test (DuckDB, or a PostgreSQL copy with the same users)."""
    return on_engine(plan_url, engine_kind, new_warehouse_url)


@pytest.fixture
def own_url(plan_url, tmp_path) -> str:
    """A copy of the planning warehouse (and its users) for a test that writes."""
    source = plan_url.removeprefix("duckdb:///")
    url = f"duckdb:///{tmp_path / 'plan.duckdb'}"
    shutil.copy(source, tmp_path / "plan.duckdb")
    shutil.copy(users_path(plan_url), users_path(url))
    return url


def expected(url: str, user: str) -> tuple[int, set[int]]:
    """(scenario the page shows first for the user, ids of the allocation rows in the user's scope)."""
    with opened(url) as engine:
        scope = viewer_scope(engine, UserStore(users_path(url)).get(user))
        listing = sc.scenario_list(engine)
        if user == "rep":
            listing = listing[listing["status"] == "published"]
        sid = int(listing["id"].iloc[0])
        return sid, set(sc.allocation(engine, sid, scope)["person_id"].astype(int))


def names_of(url: str, ids: set[int]) -> set[str]:
    with opened(url) as engine:
        frame = sc.allocation(engine, 1, Scope.everyone())
    return set(frame.loc[frame["person_id"].isin(ids), "name"])


@pytest.mark.parametrize("user", ROLES)
def test_each_role_sees_only_their_part_of_the_plan(monkeypatch, plan_app_url, user):
    at = run_page(monkeypatch, plan_app_url, page="planning", user=user)
    assert not at.exception
    sid, ids = expected(plan_app_url, user)
    shown = set(at.dataframe[0].value["name"])
    assert shown == names_of(plan_app_url, ids) and shown
    if user == "rep":
        assert len(ids) == 1 and "Scenario" in [s.label for s in at.selectbox]
        assert [s.options for s in at.selectbox if s.label == "Scenario"][0] == ["Published 2027 (published, Jan 2027–Dec 2027)"]
    with opened(plan_app_url) as engine:
        everyone = set(sc.allocation(engine, sid, Scope.everyone())["person_id"])
    assert (ids == everyone) == (user == "leader")


@pytest.mark.parametrize("user", ROLES)
def test_every_download_holds_only_the_users_rows(monkeypatch, plan_url, downloads, user):
    run_page(monkeypatch, plan_url, page="planning", user=user)
    _, ids = expected(plan_url, user)
    assert len(downloads) == 2  # CSV and XLSX
    csv = pd.read_csv(io.BytesIO(downloads[0]))
    xlsx = pd.read_excel(io.BytesIO(downloads[1]))
    assert set(csv["Person ID"]) == ids and set(xlsx["Person ID"]) == ids
    # Nobody but a leader reads the amount above their part (it is quoted in the top row's trace).
    assert (csv["Rule"] == sc.ABOVE).sum() == (0 if user == "leader" else 1)


def test_a_leader_creates_a_scenario(monkeypatch, own_url):
    at = run_page(monkeypatch, own_url, page="planning", user="leader")
    at.text_input(key="plan_new_name").input("Stretch 2027")
    at.number_input(key="plan_new_target").set_value(70_000_000.0)
    at.button(key="plan_create").click().run()
    assert not at.exception and not at.error
    assert "Scenario Stretch 2027 created." in " ".join(s.value for s in at.success).replace("\\", "")
    with opened(own_url) as engine:
        assert sc.scenario_list(engine)["name"].iloc[0] == "Stretch 2027"


def test_an_override_needs_a_reason_then_reallocates(monkeypatch, own_url):
    at = run_page(monkeypatch, own_url, page="planning", user="leader")
    at.number_input(key="plan_override_amount").set_value(1_000_000.0)
    at.button(key="plan_override").click().run()
    assert "needs a reason" in at.error[0].value
    at.text_input(key="plan_override_reason").input("New region")
    at.button(key="plan_override").click().run()
    assert not at.error
    with opened(own_url) as engine:
        assert sc.load_spec(engine, 2).rules.overrides[0].reason == "New region"


def q1_quota(url: str) -> float:
    with opened(url) as engine:
        return float(metrics.query(engine, ["quota"], Filters(Q1), Scope.everyone())["quota"].iloc[0])


def test_publishing_from_the_page_changes_quota_attainment(monkeypatch, own_url):
    with opened(own_url, read_only=False) as engine:
        approve_top(engine, 2)
    before = q1_quota(own_url)  # the published 40M plan: about 10M in Q1 (new hires ramp)
    at = run_page(monkeypatch, own_url, page="planning", user="leader")
    at.button(key="plan_publish").click().run()
    assert not at.error, [e.value for e in at.error]
    after = q1_quota(own_url)  # the 60M draft now
    assert after == pytest.approx(before * 1.5, rel=0.01) and after != before
    page = run_page(monkeypatch, own_url, page="attainment", params={"from": "2027-01-01", "to": "2027-03-31"}, user="leader")
    assert {m.label: m.value for m in page.metric}["Quota"] == fmt.money(after)


def test_a_manager_sees_their_part_not_the_company_target(monkeypatch, plan_url):
    at = run_page(monkeypatch, plan_url, page="planning", user="manager")
    captions = " ".join(c.value for c in at.caption)
    assert "Your part of the plan" in captions and "60,000,000" not in captions.replace("\\", "")
    leaders_only = (
        "plan_publish",
        "plan_create",
        "plan_override",
        "plan_delete",
        "plan_seat_add",
        "plan_seat_fill",
        "plan_ramp_set",
    )
    assert not [b for b in at.button if b.key in leaders_only]


def test_a_team_manager_approves_their_part_from_the_page(monkeypatch, own_url):
    at = run_page(monkeypatch, own_url, page="planning", user="teamlead")
    at.button(key="plan_approve").click().run()
    assert not at.error and "Approved." in " ".join(s.value for s in at.success).replace("\\", "")
    with opened(own_url) as engine:
        teamlead = UserStore(users_path(own_url)).get("teamlead").person_id
        table = approvals(engine, 2, Scope.everyone()).set_index("manager_id")
    assert table.loc[teamlead, "status"] == "approved" and table.loc[teamlead, "approved_by"] == "teamlead"


def test_an_empty_warehouse_says_why_no_plan_can_be_built(monkeypatch, empty_url):
    at = run_page(monkeypatch, empty_url, page="planning", user="leader")
    assert not at.exception and "No plan yet." in [i.value for i in at.info]
    at.button(key="plan_create").click().run()
    assert "No leader in the warehouse" in at.error[0].value


def test_a_planner_sees_and_builds_everything(monkeypatch, own_url):
    store = UserStore(users_path(own_url))
    store.add("pat", "Pat Planner", "pat@example.com", "planner-password", "planner", None)
    with opened(own_url) as engine:
        assert viewer_scope(engine, store.get("pat")) == Scope.everyone()
        everyone = set(sc.allocation(engine, 2, Scope.everyone())["name"])
    monkeypatch.setitem(OWN_PASSWORDS, "pat", "planner-password")
    at = run_page(monkeypatch, own_url, page="planning", user="pat")
    assert not at.exception and set(at.dataframe[0].value["name"]) == everyone
    keys = {b.key for b in at.button}
    assert {"plan_create", "plan_override", "plan_seat_add", "plan_ramp_set"} <= keys
    assert "plan_publish" not in keys and any("a leader publishes it" in c.value for c in at.caption)


# Planned seats per role: a published 2027 plan with two seats, one under the rep's team lead and one under a
# team manager outside the second-line manager's subtree. Who sees a seat: whoever sees its manager's subtree.
SEAT_START = date(2027, 4, 1)


def in_subtree(engine, top: int) -> set[int]:
    """`top` and everyone below them in the person table (an independent walk, not the scoped readers)."""
    people = read_frame(engine, sa.select(person.c.id, person.c.manager_id))
    found, frontier = {top}, {top}
    while frontier:
        frontier = set(people.loc[people["manager_id"].isin(frontier), "id"].astype(int)) - found
        found |= frontier
    return found


@pytest.fixture(scope="module")
def seat_url(plan_url, tmp_path_factory) -> str:
    url = private_copy(plan_url, tmp_path_factory.mktemp("seats"))
    store = UserStore(users_path(url))
    lead, vp = store.get("teamlead").person_id, store.get("manager").person_id
    with opened(url, read_only=False) as engine:
        rows = sc.allocation(engine, 1, Scope.everyone())
        outside = sorted(
            set(rows.loc[rows["kind"] == "team", "person_id"]) - in_subtree(engine, vp) - {int(rows["person_id"].iloc[0])}
        )
        seats = (PlannedSeat(1, "TBH Lead", lead, SEAT_START, 1), PlannedSeat(2, "TBH Far", int(outside[-1]), SEAT_START, 2))
        sid = sc.create_scenario(engine, ScenarioSpec("Seats 2027", YEAR, PlanRules(50_000_000_00), seats=seats), planner("leader"), AS_OF)
        approve_top(engine, sid)
        publish(engine, sid, planner("leader"), AS_OF)
    return url


def seats_seen(url: str, user: str) -> set[str]:
    store = UserStore(users_path(url))
    me = store.get(user).person_id
    with opened(url) as engine:
        spec = sc.load_spec(engine, 3)
        mine = set() if user == "rep" else (in_subtree(engine, me) if user != "leader" else None)
    return {s.name for s in spec.seats if mine is None or s.manager_id in mine}


@pytest.mark.parametrize("user", ROLES)
def test_each_role_sees_the_planned_seats_of_their_part_only(monkeypatch, seat_url, downloads, user):
    at = run_page(monkeypatch, seat_url, page="planning", user=user)
    assert not at.exception
    want = seats_seen(seat_url, user)
    assert (user == "leader") == (want == {"TBH Lead", "TBH Far"}) and ("TBH Lead" in want) == (user != "rep")
    shown = set(at.dataframe[0].value["name"])
    assert {n for n in shown if n.startswith("TBH")} == want
    csv, xlsx = pd.read_csv(io.BytesIO(downloads[0])), pd.read_excel(io.BytesIO(downloads[1]))
    for frame in (csv, xlsx):
        assert {n for n in frame["Name"] if n.startswith("TBH")} == want
        assert set(frame.loc[frame["Person ID"] < 0, "Kind"]) <= {sc.SEAT}
    if user != "rep":  # the seats tab lists the same seats, labelled open
        listed = at.dataframe[1].value
        assert set(listed["name"]) == want and set(listed["status"]) <= {"open"}


@pytest.mark.parametrize(
    ("user", "asked", "opened_label", "ignored"),
    [
        ("leader", "2", "Draft 2027", False),
        ("rep", "2", "Seats 2027", True),  # a draft is not the rep's to open: the newest published plan instead
        ("rep", "1", "Published 2027", False),
        ("teamlead", "99", "Seats 2027", True),
        ("manager", "![x](http://127.0.0.1:9/p.png)", "Seats 2027", True),
        ("leader", "²", "Seats 2027", True),
        ("leader", "9" * 5000, "Seats 2027", True),
    ],
    ids=[
        "leader-draft",
        "rep-draft",
        "rep-published",
        "teamlead-unknown",
        "manager-markdown",
        "leader-superscript",
        "leader-long",
    ],
)
def test_a_scenario_link_opens_only_a_scenario_the_viewer_may_see(monkeypatch, seat_url, user, asked, opened_label, ignored):
    at = run_page(monkeypatch, seat_url, page="planning", user=user, params={"scenario": asked})
    assert not at.exception
    picked = at.selectbox(key="plan_scenario")
    assert picked.format_func(picked.value).startswith(opened_label)
    warnings = [w.value for w in at.warning]
    assert any(w.startswith("Ignored scenario=") for w in warnings) == ignored
    assert not any("![" in w or "](http" in w for w in warnings)  # the link's text is escaped, never an image


def test_a_leader_adds_a_seat_gives_a_ramp_and_fills_the_seat_from_the_page(monkeypatch, own_url):
    at = run_page(monkeypatch, own_url, page="planning", user="leader")
    at.button(key="plan_seat_add").click().run()
    assert not at.error, [e.value for e in at.error]
    with opened(own_url) as engine:
        seat = sc.load_spec(engine, 2).seats[0]
        rows = sc.allocation(engine, 2, Scope.everyone()).set_index("person_id")
    assert seat.name == "TBH 1" and rows.loc[-1, "kind"] == sc.SEAT and rows.loc[-1, "parent_id"] == seat.manager_id
    at.selectbox(key="plan_ramp_person").set_value(-1)
    at.text_input(key="plan_ramp_text").input("50")
    at.button(key="plan_ramp_set").click().run()
    assert "needs a reason" in at.error[0].value
    at.text_input(key="plan_ramp_reason").input("Hired from a partner")
    at.button(key="plan_ramp_set").click().run()
    assert not at.error, [e.value for e in at.error]
    with opened(own_url) as engine:
        assert sc.load_spec(engine, 2).ramps[0].reason == "Hired from a partner"
        newest = int(candidates(engine, 2, Scope.everyone())["id"].iloc[0])
    at.selectbox(key="plan_seat_hire").set_value(newest).run()
    at.button(key="plan_seat_fill").click().run()
    assert not at.error, [e.value for e in at.error]
    with opened(own_url) as engine:
        assert sc.load_spec(engine, 2).seats[0].person_id == newest
        rows = sc.allocation(engine, 2, Scope.everyone()).set_index("person_id")
    assert -1 not in rows.index and rows.loc[newest, "ramp"] == "50"  # the seat's ramp went with it


@pytest.mark.parametrize("user", ("manager", "teamlead", "rep"))
def test_no_table_on_the_page_names_anyone_outside_the_viewers_part(monkeypatch, seat_url, user):
    """Every table of every tab (allocation, seats, bottom-up, approvals, compare, capacity, history): no cell
    holds the name of a person or seat the viewer may not see (an independent walk of the person table)."""
    at = run_page(monkeypatch, seat_url, page="planning", user=user)
    me = UserStore(users_path(seat_url)).get(user).person_id
    with opened(seat_url) as engine:
        mine = {me} if user == "rep" else in_subtree(engine, me)
        names = read_frame(engine, sa.select(person.c.id, person.c.name))
        seats = {s.name for s in sc.load_spec(engine, 3).seats}
    allowed = set(names.loc[names["id"].isin(mine), "name"]) | seats_seen(seat_url, user)
    others = (set(names["name"]) | seats) - allowed
    assert others and len(at.dataframe) >= (2 if user == "rep" else 6)
    for table in at.dataframe:
        cells = {v for column in table.value.columns for v in table.value[column] if isinstance(v, str)}
        assert not cells & others, (user, sorted(cells & others)[:5])


def test_only_a_leader_fills_a_published_seat_a_planner_sees_it(monkeypatch, seat_url, tmp_path):
    url = private_copy(seat_url, tmp_path / "w")
    UserStore(users_path(url)).add("pat", "Pat Planner", "pat@example.com", "planner-password", "planner", None)
    monkeypatch.setitem(OWN_PASSWORDS, "pat", "planner-password")
    planner = run_page(monkeypatch, url, page="planning", user="pat")
    assert set(planner.dataframe[1].value["name"]) == {"TBH Lead", "TBH Far"}  # the published plan's open seats
    assert "plan_seat_fill" not in {b.key for b in planner.button}
    leader = run_page(monkeypatch, url, page="planning", user="leader")
    assert "plan_seat_fill" in {b.key for b in leader.button} and "plan_seat_remove" not in {b.key for b in leader.button}
