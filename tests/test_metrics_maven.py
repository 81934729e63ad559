"""KPIs through the metrics layer on the real Maven CRM dataset, against pandas on the raw CSVs: once
loaded by the Maven loader (which replaces the warehouse) and once through the CSV importer, each on
DuckDB and on a live PostgreSQL."""

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from spm_core.db import make_engine
from spm_core.filters import Filters, Period, Scope
from spm_core.history import NeedsHistory, pipeline_change
from spm_core.importing import apply_import, preview
from spm_core.loaders.maven import load_maven
from spm_core.metrics import query

MAVEN = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "maven_crm"
pytestmark = pytest.mark.skipif(not MAVEN.exists(), reason="the shared Maven dataset is not beside this checkout")
YEAR_2017 = Filters(Period(date(2017, 1, 1), date(2017, 12, 31)))
AS_OF = date(2017, 12, 31)


MAVEN_FILES = ("sales_pipeline.csv", "accounts.csv", "products.csv", "sales_teams.csv")


@pytest.fixture(scope="module", params=["loader", "importer"])
def engine(request, new_warehouse_url):
    engine = make_engine(new_warehouse_url())
    if request.param == "loader":
        load_maven(engine, MAVEN)
    else:
        plan = preview(engine, "maven", {name: (MAVEN / name).read_bytes() for name in MAVEN_FILES})
        assert plan.ok, plan.errors[:5]
        apply_import(engine, plan)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def raw():
    pipeline = pd.read_csv(MAVEN / "sales_pipeline.csv")
    teams = pd.read_csv(MAVEN / "sales_teams.csv")
    return pipeline.merge(teams, on="sales_agent", how="left")


def test_won_revenue_and_win_rate_for_the_year(engine, raw):
    got = query(engine, ["bookings", "deals_won", "deals_lost", "win_rate"], YEAR_2017, Scope.everyone(), as_of=AS_OF).iloc[0]
    won, lost = raw[raw.deal_stage == "Won"], raw[raw.deal_stage == "Lost"]
    assert got["bookings"] == pytest.approx(won.close_value.sum())
    assert got["deals_won"] == len(won) and got["deals_lost"] == len(lost)
    assert got["win_rate"] == pytest.approx(len(won) / (len(won) + len(lost)))


def test_revenue_per_agent(engine, raw):
    got = query(engine, ["bookings", "deals_won"], YEAR_2017, Scope.everyone(), by=["rep"], as_of=AS_OF).set_index("rep")
    expected = raw[raw.deal_stage == "Won"].groupby("sales_agent").close_value.sum()
    assert len(expected) == 30
    pd.testing.assert_series_equal(got.loc[expected.index, "bookings"], expected.astype(float), check_names=False)


def test_revenue_per_manager_through_the_manager_dimension(engine, raw):
    got = query(engine, ["bookings"], YEAR_2017, Scope.everyone(), by=["manager"], as_of=AS_OF).set_index("manager")["bookings"]
    expected = raw[raw.deal_stage == "Won"].groupby("manager").close_value.sum().astype(float)
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)


def test_revenue_and_win_rate_per_regional_office(engine, raw):
    got = query(engine, ["bookings", "win_rate"], YEAR_2017, Scope.everyone(), by=["region"], as_of=AS_OF).set_index("region")
    closed = raw[raw.deal_stage.isin(["Won", "Lost"])]
    expected = closed.groupby("regional_office").apply(
        lambda g: pd.Series({"bookings": g.loc[g.deal_stage == "Won", "close_value"].sum(), "win_rate": (g.deal_stage == "Won").mean()})
    )
    for office, row in expected.iterrows():
        assert got.loc[office, "bookings"] == pytest.approx(row["bookings"])
        assert got.loc[office, "win_rate"] == pytest.approx(row["win_rate"])


def test_revenue_per_product_merges_the_gtxpro_variant(engine, raw):
    got = query(engine, ["bookings"], YEAR_2017, Scope.everyone(), by=["product"], as_of=AS_OF).set_index("product")["bookings"]
    won = raw[raw.deal_stage == "Won"].assign(product=lambda f: f["product"].replace({"GTXPro": "GTX Pro"}))
    expected = won.groupby("product").close_value.sum().astype(float)
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)


def test_bookings_by_quarter(engine, raw):
    got = query(engine, ["bookings"], YEAR_2017, Scope.everyone(), by=["quarter"], as_of=AS_OF)
    won = raw[raw.deal_stage == "Won"]
    expected = won.groupby(pd.PeriodIndex(won.close_date, freq="Q").start_time).close_value.sum()
    assert got["bookings"].tolist() == pytest.approx(expected.tolist())
    assert [d.isoformat() for d in pd.to_datetime(got["quarter"]).dt.date] == [d.date().isoformat() for d in expected.index]


def test_sales_cycle_from_engage_to_close(engine, raw):
    got = query(engine, ["sales_cycle_days", "sales_cycle_median_days"], YEAR_2017, Scope.everyone(), as_of=AS_OF).iloc[0]
    won = raw[raw.deal_stage == "Won"]
    cycle = (pd.to_datetime(won.close_date) - pd.to_datetime(won.engage_date)).dt.days
    assert got["sales_cycle_days"] == pytest.approx(cycle.mean())
    assert got["sales_cycle_median_days"] == pytest.approx(cycle.median())


def test_a_managers_scope_sees_only_their_agents(engine, raw):
    people = query(engine, ["bookings"], YEAR_2017, Scope.everyone(), by=["manager"], as_of=AS_OF)
    manager_id = int(people.loc[people["manager"] == "Melvin Marxen", "manager_id"].iloc[0])
    got = query(engine, ["bookings"], YEAR_2017, Scope.subtree(manager_id), as_of=AS_OF).iloc[0]["bookings"]
    expected = raw[(raw.deal_stage == "Won") & (raw.manager == "Melvin Marxen")].close_value.sum()
    assert got == pytest.approx(expected)


def test_no_quota_gives_no_attainment_not_zero_or_infinity(engine):
    got = query(engine, ["quota", "attainment"], YEAR_2017, Scope.everyone(), as_of=AS_OF).iloc[0]
    assert got["quota"] == 0 and pd.isna(got["attainment"])


def test_history_views_say_they_need_history(engine):
    with pytest.raises(NeedsHistory):
        pipeline_change(engine, YEAR_2017, Scope.everyone(), as_of=AS_OF)
