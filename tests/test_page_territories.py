"""Territories page under AppTest: what each role sees (leader everything, managers their subtree's accounts
and territories read-only, a rep only their own accounts), what each download holds, the map drawn offline,
and the leader's writes (accept moves, a rule that matches nothing)."""

from __future__ import annotations

import io
import shutil
from contextlib import contextmanager

import pandas as pd
import pytest
import sqlalchemy as sa
from apptest_support import AS_OF, OWN_PASSWORDS, run_page, users_path

from spm_core.db import make_engine, read_frame
from spm_core.demo import DemoSpec, build_demo
from spm_core.filters import Scope
from spm_core.planning.territories.measures import account_measures, spreads, territories, territory_summary
from spm_core.schema import account, territory_rule
from spm_core.users import UserStore, create_demo_users, viewer_scope

ROLES = ("leader", "manager", "teamlead", "rep")
WRITES = {"terr_propose", "terr_accept", "terr_accept_all", "terr_rule_add", "terr_key_add", "terr_apply"}


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
    return url


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
    _, expected = in_view(terr_url, user)
    assert len(downloads) == 1
    csv = pd.read_csv(io.BytesIO(downloads[0]))
    assert set(csv["account_id"]) == set(expected["account_id"])


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


def test_an_older_warehouse_says_why_and_a_leader_adds_the_columns(monkeypatch, own_url):
    with opened(own_url, read_only=False) as engine, engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE account DROP COLUMN potential"))
    rep = run_page(monkeypatch, own_url, page="territories", user="rep")
    assert not rep.exception and "created before accounts had a location" in rep.info[0].value
    assert "terr_prepare" not in {b.key for b in rep.button}
    at = run_page(monkeypatch, own_url, page="territories", user="leader")
    at.button(key="terr_prepare").click().run()
    assert not at.error and accounts_table(at)["potential"].eq(0).all()  # the column is back, empty (counted as 0)


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
