"""Territories page under AppTest: what each role sees (leader everything, managers their subtree's accounts
and territories read-only, a rep only their own accounts), what each download holds, the map drawn offline,
and the leader's writes (accept moves, a rule that matches nothing)."""

from __future__ import annotations

import io
import shutil
from contextlib import contextmanager
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa
from apptest_support import AS_OF, OWN_PASSWORDS, run_page, users_path
from planning_support import planner

from spm_core.db import make_engine, read_frame
from spm_core.demo import DemoSpec, build_demo
from spm_core.filters import Period, Scope
from spm_core.planning.territories.history import account_history, credited_bookings
from spm_core.planning.territories.measures import account_measures, spreads, territories, territory_summary
from spm_core.planning.territories.publish import publish
from spm_core.planning.territories.rules import Assignment, assign
from spm_core.schema import account, territory, territory_history, territory_publication, territory_rule
from spm_core.users import UserStore, create_demo_users, viewer_scope
from ui import territory_view

ROLES = ("leader", "manager", "teamlead", "rep")
WRITES = {
    "terr_propose",
    "terr_accept",
    "terr_accept_all",
    "terr_rule_add",
    "terr_key_add",
    "terr_apply",
    "terr_carve",
    "terr_publish",
}
PUBLISHED = date(2026, 11, 1)


@contextmanager
def opened(url: str, read_only: bool = True):
    engine = make_engine(url, read_only=read_only)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def terr_url(tmp_path_factory) -> str:
    url = f"duckdb:///{tmp_path_factory.mktemp('territories')}/terr.duckdb"
    with opened(url, read_only=False) as engine:
        build_demo(engine, DemoSpec(opportunities=2000, activities=2000, seed=5, as_of=AS_OF))
        create_demo_users(engine, users_path(url))
        publish_three_moves(engine)
    return url


def publish_three_moves(engine) -> list[int]:
    """Move the first three accounts of the busiest territory into the next one and publish from PUBLISHED, so
    every role's page has history to show; returns the moved accounts."""
    rows = read_frame(engine, sa.select(account.c.id, account.c.territory_id).order_by(account.c.id))
    busiest = int(rows["territory_id"].mode()[0])
    other = int(rows.loc[rows["territory_id"] != busiest, "territory_id"].iloc[0])
    moved = rows.loc[rows["territory_id"] == busiest, "id"].head(3).astype(int).tolist()
    assign(engine, [Assignment(a, other, "test move") for a in moved], planner("leader"))
    publish(engine, PUBLISHED, "move", planner("leader"), AS_OF)
    return moved


@pytest.fixture
def own_url(terr_url, tmp_path) -> str:
    url = f"duckdb:///{tmp_path / 'terr.duckdb'}"
    shutil.copy(terr_url.removeprefix("duckdb:///"), tmp_path / "terr.duckdb")
    shutil.copy(users_path(terr_url), users_path(url))
    return url


def in_view(url: str, user: str) -> tuple[Scope, pd.DataFrame]:
    with opened(url) as engine:
        person = UserStore(users_path(url)).get(user)
        scope = viewer_scope(engine, person)
        return scope, account_measures(engine, AS_OF, scope).assign(viewer=person.person_id)


def accounts_table(at) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "account_id" in d.value.columns)


@pytest.mark.parametrize("user", ROLES)
def test_each_role_sees_only_the_accounts_in_their_view(monkeypatch, terr_url, user):
    at = run_page(monkeypatch, terr_url, page="territories", user=user)
    assert not at.exception and not at.error
    scope, expected = in_view(terr_url, user)
    shown = accounts_table(at)
    assert set(shown["account_id"]) == set(expected["account_id"]) and len(shown)
    with opened(terr_url) as engine:
        every = read_frame(engine, sa.select(account.c.id, account.c.owner_id))
    assert (len(shown) == len(every)) == (user == "leader")
    if user == "rep":  # a rep's view: only the accounts they own, nobody else's
        owners = every.set_index("id").loc[shown["account_id"], "owner_id"]
        assert set(owners) == {expected["viewer"].iloc[0]}
    assert bool(WRITES & {b.key for b in at.button}) == (user == "leader")


@pytest.mark.parametrize("user", ROLES)
def test_every_download_holds_only_the_users_accounts(monkeypatch, terr_url, downloads, user):
    run_page(monkeypatch, terr_url, page="territories", user=user)
    scope, expected = in_view(terr_url, user)
    assert len(downloads) == 2  # the accounts and their history
    accounts_csv, history_csv = (pd.read_csv(io.BytesIO(d)) for d in downloads)
    assert set(accounts_csv["account_id"]) == set(expected["account_id"])
    with opened(terr_url) as engine:
        assert len(history_csv) == len(account_history(engine, scope))
    assert set(history_csv["account_id"]) == set(expected["account_id"])


def test_the_accounts_tab_narrows_by_territory_and_name_and_caps_the_rows_shown(monkeypatch, terr_url, named_downloads):
    """Hand check against the leader's accounts: a territory and a name fragment (any case) narrow both the
    table and its CSV; above the cap the table shows the first rows by id and says how many match."""
    monkeypatch.setattr(territory_view, "SHOWN_ACCOUNTS", 5)
    at = run_page(monkeypatch, terr_url, page="territories", user="leader")
    _, every = in_view(terr_url, "leader")
    shown = accounts_table(at)
    assert shown["account_id"].tolist() == sorted(every["account_id"])[:5]
    assert any(f"The first 5 of {len(every):,} accounts by account id" in c.value for c in at.caption)
    at.selectbox(key="terr_accounts_order").select("potential").run()
    largest = every.sort_values(["potential", "account_id"], ascending=[False, True])["account_id"].head(5).tolist()
    assert accounts_table(at)["account_id"].tolist() == largest  # the largest of all, not of the first five by id
    at.selectbox(key="terr_accounts_order").select("account_id").run()
    busiest = every["territory"].mode()[0]
    fragment = every.loc[every["territory"] == busiest, "name"].iloc[0][-4:].upper()
    expected = every[(every["territory"] == busiest) & every["name"].str.lower().str.contains(fragment.lower(), regex=False)]
    at.selectbox(key="terr_accounts_territory").select(busiest).run()
    at.text_input(key="terr_accounts_search").input(fragment).run()
    assert not at.exception
    got = pd.read_csv(io.BytesIO(named_downloads["territory_accounts.csv"]))
    assert sorted(got["account_id"]) == sorted(expected["account_id"]) and len(got)
    assert accounts_table(at)["account_id"].tolist() == sorted(expected["account_id"])[:5]


def test_a_search_that_matches_nothing_shows_an_empty_table_not_an_error(monkeypatch, terr_url):
    at = run_page(monkeypatch, terr_url, page="territories", user="leader")
    at.text_input(key="terr_accounts_search").input("=no such account [x](y)").run()
    assert not at.exception and not at.error
    assert accounts_table(at).empty


@pytest.mark.parametrize("user", ROLES)
def test_each_role_sees_the_history_of_their_own_accounts_only(monkeypatch, terr_url, user):
    at = run_page(monkeypatch, terr_url, page="territories", user=user)
    scope, expected = in_view(terr_url, user)
    shown = next(d.value for d in at.dataframe if "valid_from" in d.value.columns)
    assert set(shown["account_id"]) == set(expected["account_id"])
    audits = [d.value for d in at.dataframe if "published_by" in d.value.columns and "accounts_moved" in d.value.columns]
    assert bool(audits) == (user == "leader")  # who published: the planners' audit only
    credited = next(d.value for d in at.dataframe if "bookings" in d.value.columns)
    with opened(terr_url) as engine:
        expected_credit = credited_bookings(engine, Period.quarter(AS_OF), scope)  # the page's default period
    pd.testing.assert_frame_equal(credited.reset_index(drop=True), expected_credit, check_dtype=False)
    assert user != "leader" or credited["deals"].sum() > 0


@pytest.mark.parametrize("user", ("rep", "teamlead", "manager"))
def test_link_parameters_naming_other_people_do_not_widen_the_view(monkeypatch, terr_url, downloads, user):
    _, expected = in_view(terr_url, user)
    with opened(terr_url) as engine:
        everyone = read_frame(engine, sa.select(account.c.owner_id)).dropna()["owner_id"].astype(int)
    others = ",".join(str(i) for i in sorted(set(everyone) - set(expected["owner_id"]))[:5])
    assert others  # someone outside the view to name in the link
    params = {"rep": others, "manager": others, "territory": "1", "account": "![x](http://example.com/x.png)"}
    at = run_page(monkeypatch, terr_url, page="territories", user=user, params=params)
    assert not at.exception
    assert set(accounts_table(at)["account_id"]) == set(expected["account_id"])
    assert all(set(pd.read_csv(io.BytesIO(d))["account_id"]) <= set(expected["account_id"]) for d in downloads)
    shown = " ".join(e.value for e in (*at.markdown, *at.warning, *at.info, *at.caption))
    assert "![x](http://example.com" not in shown  # the link's text is escaped wherever it is echoed


def test_a_rep_sees_totals_of_their_own_accounts_only(monkeypatch, terr_url):
    at = run_page(monkeypatch, terr_url, page="territories", user="rep")
    _, expected = in_view(terr_url, "rep")
    summary = next(d.value for d in at.dataframe if "workload" in d.value.columns)
    assert summary["potential"].sum() == pytest.approx(expected["potential"].sum())
    assert summary["accounts"].sum() == len(expected)


def test_the_map_is_drawn_from_bundled_shapes_not_tiles(monkeypatch, terr_url):
    at = run_page(monkeypatch, terr_url, page="territories", user="leader")
    charts = at.get("vega_lite_chart")
    assert charts
    spec = charts[0].proto.spec
    assert '"sphere"' in spec and "graticule" in spec and "tile" not in spec.lower()


def test_a_leader_proposes_and_accepts_all_moves_and_the_spread_falls(monkeypatch, own_url):
    def potential_spread() -> float:
        with opened(own_url) as engine:
            rows = account_measures(engine, AS_OF, Scope.everyone())
            return spreads(territory_summary(rows, territories(engine, Scope.everyone())))["potential"]

    before = potential_spread()
    at = run_page(monkeypatch, own_url, page="territories", user="leader")
    at.button(key="terr_propose").click().run()
    moves = next(d.value for d in at.dataframe if "accept" in d.value.columns)
    assert len(moves) > 0
    at.button(key="terr_accept_all").click().run()
    assert not at.error, [e.value for e in at.error]
    assert f"All {len(moves)} move(s) accepted." in " ".join(s.value for s in at.success).replace("\\", "")
    assert potential_spread() < before


def test_a_rule_that_matches_nothing_is_refused_on_the_page(monkeypatch, own_url):
    at = run_page(monkeypatch, own_url, page="territories", user="leader")
    at.text_input(key="terr_rule_country").input("Atlantis")
    at.button(key="terr_rule_add").click().run()
    assert "matches no account" in at.error[0].value
    with opened(own_url) as engine:
        assert not sa.inspect(engine).has_table("territory_rule") or read_frame(engine, sa.select(territory_rule)).empty


def test_a_planner_balances_too(monkeypatch, own_url):
    store = UserStore(users_path(own_url))
    store.add("pat", "Pat Planner", "pat@example.com", "planner-password", "planner", None)
    monkeypatch.setitem(OWN_PASSWORDS, "pat", "planner-password")
    at = run_page(monkeypatch, own_url, page="territories", user="pat")
    assert not at.exception and {"terr_propose", "terr_rule_add"} <= {b.key for b in at.button}


def test_an_older_warehouse_gets_the_columns_when_the_app_opens_it(monkeypatch, own_url):
    """spm_core.upgrade adds what this version needs on open, so nobody has to prepare the file by hand."""
    with opened(own_url, read_only=False) as engine, engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE account DROP COLUMN potential"))
    at = run_page(monkeypatch, own_url, page="territories", user="leader")
    assert not at.exception and not at.error
    assert "terr_prepare" not in {b.key for b in at.button}
    assert accounts_table(at)["potential"].eq(0).all()  # the column is back, empty (counted as 0)


def test_accepting_with_nothing_ticked_rejects_every_move(monkeypatch, own_url):
    with opened(own_url) as engine:
        before = read_frame(engine, sa.select(account.c.id, account.c.territory_id))
    at = run_page(monkeypatch, own_url, page="territories", user="leader")
    at.button(key="terr_propose").click().run()
    at.button(key="terr_accept").click().run()
    assert "0 move(s) accepted; the others rejected." in " ".join(s.value for s in at.success).replace("\\", "")
    assert not [d for d in at.dataframe if "accept" in d.value.columns]  # the proposal is gone
    with opened(own_url) as engine:
        pd.testing.assert_frame_equal(read_frame(engine, sa.select(account.c.id, account.c.territory_id)), before)


def moved_territory_ids(url: str) -> dict[int, int]:
    with opened(url) as engine:
        return dict(read_frame(engine, sa.select(account.c.id, account.c.territory_id)).itertuples(index=False))


def test_a_leader_accepts_moves_publishes_them_and_the_owners_change(monkeypatch, own_url):
    at = run_page(monkeypatch, own_url, page="territories", user="leader")
    at.button(key="terr_propose").click().run()
    moves = next(d.value for d in at.dataframe if "accept" in d.value.columns)
    at.button(key="terr_accept_all").click().run()
    changes = next(d.value for d in at.dataframe if "to_owner" in d.value.columns)
    assert set(changes["account_id"]) == set(moves["account_id"])
    at.date_input(key="terr_publish_date").set_value(date(2026, 11, 20))
    at.radio(key="terr_publish_deals").set_value("move")
    at.button(key="terr_publish").click().run()
    assert not at.error, [e.value for e in at.error]
    assert f"Published {len(changes)} account(s) from 2026-11-20." in " ".join(s.value for s in at.success).replace("\\", "")
    with opened(own_url) as engine:
        audit = read_frame(engine, sa.select(territory_publication).order_by(territory_publication.c.id)).iloc[-1]
        owners = read_frame(engine, sa.select(account.c.id, account.c.owner_id)).set_index("id")["owner_id"]
        rows = read_frame(engine, sa.select(territory_history).where(territory_history.c.publication_id == int(audit["id"])))
    assert (audit["published_by"], audit["accounts_moved"]) == ("leader", len(changes))
    new_owner = rows.set_index("account_id")["owner_id"]
    assert (owners[new_owner.index] == new_owner).all()  # the accounts' owners are the published ones
    shown = accounts_table(at).set_index("account_id")
    assert shown.loc[changes["account_id"], "owner"].tolist() == changes["to_owner"].tolist()
    assert not next(d.value for d in at.dataframe if "valid_from" in d.value.columns).empty


def test_publishing_into_a_paid_period_is_refused_on_the_page(monkeypatch, own_url):
    at = run_page(monkeypatch, own_url, page="territories", user="leader")
    at.button(key="terr_propose").click().run()
    at.button(key="terr_accept_all").click().run()
    with opened(own_url) as engine:
        before = len(read_frame(engine, sa.select(territory_history)))
    at.date_input(key="terr_publish_date").set_value(date(2026, 8, 1))  # the demo's Q3 is paid
    at.button(key="terr_publish").click().run()
    assert "which is paid" in at.error[0].value
    with opened(own_url) as engine:
        assert len(read_frame(engine, sa.select(territory_history))) == before
        assert len(read_frame(engine, sa.select(territory_publication))) == 1  # the fixture's only


def test_a_leader_carves_a_territory_into_two_keeping_one_block(monkeypatch, own_url):
    before = moved_territory_ids(own_url)
    source = pd.Series(before).mode()[0]
    at = run_page(monkeypatch, own_url, page="territories", user="leader")
    at.multiselect(key="terr_carve_from").set_value([int(source)]).run()
    at.checkbox(key="terr_carve_keep").check()
    at.button(key="terr_carve").click().run()
    assert "change territory" in " ".join(m.value for m in at.markdown)
    (name,) = [t for t in at.text_input if t.key.startswith("terr_carve_name_")]  # the block the territory keeps has none
    name.input("North <b>new</b>")
    at.button(key="terr_carve_accept").click().run()
    assert not at.error, [e.value for e in at.error]
    with opened(own_url) as engine:
        made = read_frame(engine, sa.select(territory).where(territory.c.name == "North <b>new</b>"))
    after = moved_territory_ids(own_url)
    assert len(made) == 1
    into = {a for a, t in after.items() if t == int(made["id"].iloc[0])}
    assert into and all(before[a] == source for a in into) and sum(before[a] != after[a] for a in after) == len(into)


def test_a_rep_and_a_manager_cannot_carve_or_publish(monkeypatch, terr_url):
    for user in ("rep", "manager"):
        at = run_page(monkeypatch, terr_url, page="territories", user=user)
        assert not {"terr_carve", "terr_publish", "terr_carve_accept", "terr_apply_due"} & {b.key for b in at.button}
        assert not [t for t in at.tabs if t.label in ("Publish", "New territories")]


def test_naming_an_unknown_account_is_refused_on_the_page_and_writes_nothing(monkeypatch, own_url):
    with opened(own_url) as engine:
        before = read_frame(engine, sa.select(account.c.id, account.c.territory_id))
    at = run_page(monkeypatch, own_url, page="territories", user="leader")
    at.number_input(key="terr_key_account").set_value(999_999)
    at.button(key="terr_key_add").click().run()
    assert "Unknown account(s): 999999" in at.error[0].value.replace("\\", "")
    with opened(own_url) as engine:
        pd.testing.assert_frame_equal(read_frame(engine, sa.select(account.c.id, account.c.territory_id)), before)
        assert read_frame(engine, sa.select(territory_publication)).shape[0] == 1  # the fixture's only


def test_an_admin_sees_every_account_and_plans(monkeypatch, terr_url):
    at = run_page(monkeypatch, terr_url, page="territories", user="admin")
    assert not at.exception and not at.error
    with opened(terr_url) as engine:
        every = read_frame(engine, sa.select(account.c.id))
    assert set(accounts_table(at)["account_id"]) == set(every["id"])
    assert {"terr_propose", "terr_carve", "terr_publish"} <= {b.key for b in at.button}


def test_the_history_tab_counts_who_held_the_accounts_on_a_chosen_day(monkeypatch, terr_url):
    with opened(terr_url) as engine:
        before = read_frame(engine, sa.select(territory_history).where(territory_history.c.publication_id == 1))
    moved = before["account_id"].astype(int).tolist()
    at = run_page(monkeypatch, terr_url, page="territories", user="leader")

    def held() -> dict[str, int]:
        table = next(d.value for d in at.dataframe if list(d.value.columns) == ["territory", "accounts"])
        return dict(zip(table["territory"], table["accounts"], strict=True))

    after = held()  # as of today: the three published moves are in force
    at.date_input(key="terr_history_day").set_value(date(2026, 10, 31)).run()  # the day before they took effect
    day_before = held()
    assert sum(after.values()) == sum(day_before.values()) and len(moved) == 3
    gained = {t: after.get(t, 0) - day_before.get(t, 0) for t in after.keys() | day_before.keys()}
    assert sorted(v for v in gained.values() if v) == [-3, 3]
