"""The Maven CRM loader against plain pandas computations over the raw CSVs it loads."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from spm_core import schema
from spm_core.db import get_info, make_engine, read_frame
from spm_core.loaders.maven import MavenLoadReport, load_maven

DATASET = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "maven_crm"
FILES = ("accounts.csv", "products.csv", "sales_teams.csv", "sales_pipeline.csv")

pytestmark = pytest.mark.skipif(
    not all((DATASET / f).exists() for f in FILES), reason=f"Maven CRM dataset not found in {DATASET}"
)


@pytest.fixture(scope="module")
def raw() -> dict[str, pd.DataFrame]:
    """The CSVs as pandas reads them by default, independent of the loader's own parsing."""
    return {f.removesuffix(".csv"): pd.read_csv(DATASET / f) for f in FILES}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[sa.Engine, MavenLoadReport]]:
    engine = make_engine(f"duckdb:///{tmp_path_factory.mktemp('maven')}/w.duckdb")
    report = load_maven(engine, DATASET)
    yield engine, report
    engine.dispose()


@pytest.fixture(scope="module")
def deals(loaded) -> pd.DataFrame:
    """Each deal with its owner's name, manager's name and region name, joined in the warehouse."""
    engine, _ = loaded
    o, rep, mgr, reg, prod, acc = (
        schema.opportunity, schema.person.alias("rep"), schema.person.alias("mgr"), schema.region,
        schema.product, schema.account,
    )
    stmt = (
        sa.select(
            o.c.source_id, o.c.amount, o.c.stage, o.c.is_won, o.c.is_closed, o.c.account_id, o.c.close_date,
            o.c.created_date, o.c.name, o.c.probability, o.c.forecast_category,
            rep.c.name.label("agent"), mgr.c.name.label("manager"), reg.c.name.label("office"),
            prod.c.name.label("product"), prod.c.list_price, acc.c.name.label("account"),
        )
        .join(rep, rep.c.id == o.c.owner_id)
        .join(mgr, mgr.c.id == rep.c.manager_id)
        .join(reg, reg.c.id == rep.c.region_id)
        .join(prod, prod.c.id == o.c.product_id)
        .outerjoin(acc, acc.c.id == o.c.account_id)
        .order_by(o.c.id)
    )
    return read_frame(engine, stmt)


def _count(engine: sa.Engine, table: sa.Table, *where) -> int:
    return int(read_frame(engine, sa.select(sa.func.count().label("n")).select_from(table).where(*where))["n"].iloc[0])


def _won(raw: dict[str, pd.DataFrame]) -> pd.DataFrame:
    pipeline = raw["sales_pipeline"]
    return pipeline[pipeline["deal_stage"] == "Won"].merge(raw["sales_teams"], on="sales_agent", validate="many_to_one")


def test_row_counts(loaded, raw) -> None:
    engine, report = loaded
    person = schema.person
    assert len(raw["sales_pipeline"]) == 8_800
    assert _count(engine, schema.opportunity) == report.opportunities == 8_800
    assert _count(engine, person, person.c.role == "rep") == report.reps == raw["sales_teams"]["sales_agent"].nunique() == 35
    assert _count(engine, person, person.c.role == "manager") == report.managers == raw["sales_teams"]["manager"].nunique() == 6
    assert _count(engine, schema.region) == report.regions == raw["sales_teams"]["regional_office"].nunique() == 3
    assert _count(engine, schema.team) == report.teams == 6
    assert _count(engine, schema.account) == report.accounts == len(raw["accounts"]) == 85
    assert _count(engine, schema.product) == report.products == len(raw["products"]) == 7
    assert _count(engine, schema.stage) == report.stages == 7
    for table in (schema.opportunity_history, schema.quota, schema.activity, schema.forecast_submission, schema.segment):
        assert _count(engine, table) == 0, table.name


def test_warehouse_info(loaded, raw) -> None:
    engine, _ = loaded
    pipeline = raw["sales_pipeline"]
    info = get_info(engine)
    assert info["source"] == "maven"  # the importer's format: one path, one name
    assert info["has_history"] == "false"
    assert info["has_quotas"] == "false"
    assert info["as_of"] == pipeline["close_date"].max() == "2017-12-31"
    assert info["start"] == pipeline["engage_date"].min() == "2016-10-20"


def test_people_and_teams(loaded, raw) -> None:
    engine, _ = loaded
    people = read_frame(engine, sa.select(schema.person)).set_index("name")
    teams = read_frame(engine, sa.select(schema.team))
    regions = read_frame(engine, sa.select(schema.region)).set_index("id")["name"]
    for agent, manager, office in raw["sales_teams"].itertuples(index=False):
        rep, boss = people.loc[agent], people.loc[manager]
        assert (rep["role"], rep["manager_id"], rep["team_id"]) == ("rep", boss["id"], boss["team_id"])
        assert regions[rep["region_id"]] == regions[boss["region_id"]] == office
        assert pd.isna(boss["manager_id"])
    assert people["active"].all() and (people["ramp_months"] == 0).all()
    assert people["segment_id"].isna().all() and people["hire_date"].isna().all() and people["email"].isna().all()
    assert (people.index == people["source_id"]).all()
    managers = people[people["role"] == "manager"]
    by_manager = teams.set_index("manager_id").loc[managers["id"]]
    assert list(by_manager["name"]) == [f"{m}'s team" for m in managers.index]
    assert list(by_manager["id"]) == list(managers["team_id"])


def test_accounts_and_products(loaded, raw) -> None:
    engine, report = loaded
    accounts = read_frame(engine, sa.select(schema.account)).set_index("name")
    source = raw["accounts"].set_index("account")
    assert "technolgy" in set(source["sector"])
    expected_industry = source["sector"].replace("technolgy", "technology")
    assert (accounts.loc[source.index, "industry"] == expected_industry).all()
    assert accounts.loc[source.index, "annual_revenue"].to_numpy() == pytest.approx(source["revenue"].to_numpy() * 1_000_000)
    assert (accounts.loc[source.index, "employees"] == source["employees"]).all()
    assert (accounts.loc[source.index, "country"] == source["office_location"]).all()

    products = read_frame(engine, sa.select(schema.product)).set_index("name")
    source = raw["products"].set_index("product")
    assert (products.loc[source.index, "family"] == source["series"]).all()
    assert (products.loc[source.index, "list_price"] == source["sales_price"]).all()
    assert report.product_variants == (("GTXPro", "GTX Pro"),)


def test_products_accounts_and_names_of_deals(deals, raw) -> None:
    pipeline = raw["sales_pipeline"]
    assert (deals["source_id"] == pipeline["opportunity_id"]).all()
    gtxpro = (pipeline["product"] == "GTXPro").to_numpy()
    assert gtxpro.sum() == 1_480
    assert (deals.loc[gtxpro, "product"] == "GTX Pro").all()
    assert (deals.loc[~gtxpro, "product"].to_numpy() == pipeline.loc[~gtxpro, "product"].to_numpy()).all()
    no_account = pipeline["account"].isna().to_numpy()
    assert no_account.sum() == 1_425
    assert deals["account_id"].isna().sum() == 1_425
    assert (deals.loc[~no_account, "account"].to_numpy() == pipeline.loc[~no_account, "account"].to_numpy()).all()
    expected_names = pipeline["account"].fillna("No account").to_numpy() + " - " + deals["product"].to_numpy()
    assert (deals["name"].to_numpy() == expected_names).all()


def test_stages_and_dates(deals, raw) -> None:
    pipeline = raw["sales_pipeline"]
    mapping = {"Prospecting": "Prospecting", "Engaging": "Qualification", "Won": "Closed Won", "Lost": "Closed Lost"}
    expected = pipeline["deal_stage"].map(mapping).value_counts().sort_index()
    assert deals["stage"].value_counts().sort_index().to_dict() == expected.to_dict()
    assert int(deals["is_won"].sum()) == int((pipeline["deal_stage"] == "Won").sum())
    assert int((deals["is_closed"] & ~deals["is_won"]).sum()) == int((pipeline["deal_stage"] == "Lost").sum())
    assert int((~deals["is_closed"]).sum()) == int(pipeline["deal_stage"].isin(["Prospecting", "Engaging"]).sum())
    stages = deals.groupby("stage")[["probability", "forecast_category"]].agg(set)
    assert stages.loc["Prospecting"].tolist() == [{10}, {"Pipeline"}]
    assert stages.loc["Qualification"].tolist() == [{20}, {"Pipeline"}]
    assert stages.loc["Closed Won"].tolist() == [{100}, {"Closed"}]
    assert stages.loc["Closed Lost"].tolist() == [{0}, {"Omitted"}]
    assert (deals["created_date"].isna().to_numpy() == pipeline["engage_date"].isna().to_numpy()).all()
    assert (deals["close_date"].isna().to_numpy() == pipeline["close_date"].isna().to_numpy()).all()
    closed = pipeline["close_date"].notna().to_numpy()
    assert (deals.loc[closed, "close_date"].dt.strftime("%Y-%m-%d").to_numpy() == pipeline.loc[closed, "close_date"].to_numpy()).all()


def test_amounts(deals, raw) -> None:
    pipeline = raw["sales_pipeline"]
    won = (pipeline["deal_stage"] == "Won").to_numpy()
    assert (deals.loc[won, "amount"].to_numpy() == pipeline.loc[won, "close_value"].to_numpy()).all()
    assert (deals.loc[~won, "amount"] == deals.loc[~won, "list_price"]).all()
    assert (deals["amount"] > 0).all()


def test_won_revenue_by_agent_manager_and_office(deals, raw) -> None:
    won_raw = _won(raw)
    won = deals[deals["is_won"]]
    assert won["amount"].sum() == won_raw["close_value"].sum()
    for ours, theirs in (("agent", "sales_agent"), ("manager", "manager"), ("office", "regional_office")):
        expected = won_raw.groupby(theirs)["close_value"].sum().astype(float).sort_index()
        actual = won.groupby(ours)["amount"].sum().sort_index()
        assert actual.to_dict() == expected.to_dict(), ours


def _broken_copy(tmp_path: Path) -> Path:
    directory = tmp_path / "maven"
    directory.mkdir()
    for f in FILES:
        shutil.copy(DATASET / f, directory / f)
    return directory


def test_missing_column_is_named(tmp_path: Path) -> None:
    directory = _broken_copy(tmp_path)
    pipeline = pd.read_csv(directory / "sales_pipeline.csv").drop(columns=["close_value"])
    pipeline.to_csv(directory / "sales_pipeline.csv", index=False)
    engine = make_engine(f"duckdb:///{tmp_path}/w.duckdb")
    with pytest.raises(ValueError, match=r"sales_pipeline\.csv.*close_value"):
        load_maven(engine, directory)


def test_unknown_product_is_named(tmp_path: Path) -> None:
    directory = _broken_copy(tmp_path)
    pipeline = pd.read_csv(directory / "sales_pipeline.csv", dtype=str, keep_default_na=False)
    pipeline.loc[3, "product"] = "Quantum Widget"
    pipeline.to_csv(directory / "sales_pipeline.csv", index=False)
    engine = make_engine(f"duckdb:///{tmp_path}/w.duckdb")
    with pytest.raises(ValueError, match="Quantum Widget"):
        load_maven(engine, directory)


def test_unknown_agent_is_named(tmp_path: Path) -> None:
    directory = _broken_copy(tmp_path)
    pipeline = pd.read_csv(directory / "sales_pipeline.csv", dtype=str, keep_default_na=False)
    pipeline.loc[0, "sales_agent"] = "Nobody Known"
    pipeline.to_csv(directory / "sales_pipeline.csv", index=False)
    engine = make_engine(f"duckdb:///{tmp_path}/w.duckdb")
    with pytest.raises(ValueError, match="Nobody Known"):
        load_maven(engine, directory)


def test_a_refused_load_leaves_the_warehouse_as_it_was(tmp_path: Path) -> None:
    engine = make_engine(f"duckdb:///{tmp_path}/w.duckdb")
    load_maven(engine, DATASET)
    directory = _broken_copy(tmp_path)
    pipeline = pd.read_csv(directory / "sales_pipeline.csv", dtype=str, keep_default_na=False)
    pipeline.loc[5, "deal_stage"] = "Maybe"
    pipeline.to_csv(directory / "sales_pipeline.csv", index=False)
    with pytest.raises(ValueError, match=r"sales_pipeline\.csv row 7, stage = 'Maybe': `Maybe` is not a known stage"):
        load_maven(engine, directory)
    assert _count(engine, schema.opportunity) == 8_800


def test_a_folder_without_the_files_names_them(tmp_path: Path) -> None:
    engine = make_engine(f"duckdb:///{tmp_path}/w.duckdb")
    with pytest.raises(ValueError, match="missing: sales_pipeline.csv, sales_teams.csv, accounts.csv, products.csv"):
        load_maven(engine, tmp_path)


def test_load_replaces_previous_contents(tmp_path: Path) -> None:
    engine = make_engine(f"duckdb:///{tmp_path}/w.duckdb")
    load_maven(engine, DATASET)
    report = load_maven(engine, DATASET)
    assert _count(engine, schema.opportunity) == report.opportunities == 8_800
    assert _count(engine, schema.person) == report.people == 41
