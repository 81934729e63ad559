"""Load Maven Analytics' "CRM Sales Opportunities" dataset: `load_maven(engine, directory)`.

The load REPLACES the warehouse: the schema is dropped and recreated, then everything is inserted in one
transaction, so a failed load leaves an empty schema rather than a mix of two datasets. All checks run
before anything is dropped. The directory must hold accounts.csv, products.csv, sales_teams.csv and
sales_pipeline.csv as Maven ships them (see datasets/maven_crm/SOURCE.md).

How the dataset maps onto the warehouse (the dataset cannot say these things, so they are our choices):
- Regions are the three `regional_office` values. The dataset has no segments: segment_id is NULL everywhere.
- People: one person per manager (role 'manager', no manager, region of their agents' office, team = the
  team they lead) and one per sales agent (role 'rep', manager and team = their manager's, region = their
  office). All agents are loaded, also those without deals. Managers get ids from 1, then agents, both in
  sales_teams.csv order; source_id is the name. Hire date and email are unknown (NULL); everyone is active
  with no ramp.
- Teams: one per manager, named "<manager>'s team", led by that manager, in the manager's region.
- Accounts: industry is `sector` with the typo `technolgy` corrected to `technology`; annual_revenue is
  `revenue` × 1,000,000 (the file is in millions); country is `office_location`. Accounts have no region,
  territory or owner; `year_established` and `subsidiary_of` are not kept.
- Products: family is `series`, list price is `sales_price`. Deals name products with variants (`GTXPro`
  for `GTX Pro`), so names are matched with spaces removed and case folded; the report lists each variant.
- Stages are the default stage table. Prospecting -> Prospecting, Engaging -> Qualification (the next stage
  by order), Won -> Closed Won, Lost -> Closed Lost; probability and forecast category come from the stage.
- Opportunities keep file order (ids from 1, source_id = opportunity_id) and are named
  "<account or 'No account'> - <product>". created_date is `engage_date` (NULL for Prospecting rows, which
  were never engaged); close_date is `close_date` (NULL for open rows: the dataset has no expected dates).
  Type, lead source and last activity date are unknown (NULL).
- Amount: `close_value` for won deals. The dataset records 0 for lost deals and nothing for open ones, so
  their amount is the product's list price: for lost deals that is our estimate of the amount at loss (used
  by the value win rate), for open deals the expected value of the pipeline.
- There is no opportunity history, quota, activity or forecast submission. warehouse_info says so
  (has_history and has_quotas 'false'), with source 'maven_crm', as_of = the latest close or engage date
  (2017-12-31, the last close date) and start = the first engage date.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine

from .. import schema
from ..db import create_schema, dated_arrow, drop_schema, insert_frame, set_info
from ..stages import LOST_STAGE, OPEN_STAGES, WON_STAGE, Stage, stage_rows

SOURCE = "maven_crm"

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "accounts.csv": ("account", "sector", "revenue", "employees", "office_location"),
    "products.csv": ("product", "series", "sales_price"),
    "sales_teams.csv": ("sales_agent", "manager", "regional_office"),
    "sales_pipeline.csv": (
        "opportunity_id",
        "sales_agent",
        "product",
        "account",
        "deal_stage",
        "engage_date",
        "close_date",
        "close_value",
    ),
}

DEAL_STAGES: dict[str, Stage] = {
    "Prospecting": OPEN_STAGES[0],
    "Engaging": OPEN_STAGES[1],
    "Won": WON_STAGE,
    "Lost": LOST_STAGE,
}

SECTOR_FIXES = {"technolgy": "technology"}


@dataclass(frozen=True)
class MavenLoadReport:
    """Rows written per table, and the product names in deals that differed from products.csv."""

    regions: int
    teams: int
    people: int
    managers: int
    reps: int
    accounts: int
    products: int
    stages: int
    opportunities: int
    product_variants: tuple[tuple[str, str], ...]  # (name in sales_pipeline.csv, name in products.csv)


def load_maven(engine: Engine, directory: Path) -> MavenLoadReport:
    """Replace the warehouse's contents with the Maven CRM dataset in `directory`."""
    directory = Path(directory)
    files = {name: _read_csv(directory / name, columns) for name, columns in REQUIRED_COLUMNS.items()}
    regions, teams, people = _organisation(files["sales_teams.csv"])
    accounts = _accounts(files["accounts.csv"])
    products = _products(files["products.csv"])
    deals, variants = _opportunities(files["sales_pipeline.csv"], people, accounts, products)
    dates = pd.concat([deals["created_date"], deals["close_date"]]).dropna()
    if dates.empty:
        raise ValueError("sales_pipeline.csv has no engage_date or close_date at all: the data cannot be placed in time")
    info = {
        "source": SOURCE,
        "has_history": "false",
        "has_quotas": "false",
        "as_of": dates.max().date().isoformat(),
        "start": (deals["created_date"].min() if deals["created_date"].notna().any() else dates.min()).date().isoformat(),
    }

    drop_schema(engine)
    create_schema(engine)
    with engine.begin() as conn:
        conn.execute(schema.stage.insert(), stage_rows())
        for table, frame in (
            (schema.region, regions),
            (schema.team, teams),
            (schema.person, people),
            (schema.account, accounts),
            (schema.product, products),
            (schema.opportunity, deals),
        ):
            insert_frame(conn, table, dated_arrow(frame))
        set_info(conn, info)
    return MavenLoadReport(
        regions=len(regions),
        teams=len(teams),
        people=len(people),
        managers=int((people["role"] == "manager").sum()),
        reps=int((people["role"] == "rep").sum()),
        accounts=len(accounts),
        products=len(products),
        stages=len(stage_rows()),
        opportunities=len(deals),
        product_variants=variants,
    )


def _read_csv(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    """Every column as text with blanks as "", so that names such as "NA" stay names."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(f"{path.name} in {path.parent} lacks required column(s): {', '.join(missing)}")
    return frame


def _numbers(frame: pd.DataFrame, column: str, file: str) -> pd.Series:
    """A numeric column (blanks become NaN); anything else that is not a number is an error naming the rows."""
    values = pd.to_numeric(frame[column].mask(frame[column] == ""), errors="coerce")
    bad = frame.loc[values.isna() & (frame[column] != ""), column]
    if len(bad):
        raise ValueError(f"{file}: column {column} has non-numeric value(s) {sorted(set(bad))[:5]}")
    return values


def _dates(frame: pd.DataFrame, column: str, file: str) -> pd.Series:
    values = pd.to_datetime(frame[column].mask(frame[column] == ""), format="%Y-%m-%d", errors="coerce")
    bad = frame.loc[values.isna() & (frame[column] != ""), column]
    if len(bad):
        raise ValueError(f"{file}: column {column} has value(s) that are not YYYY-MM-DD dates: {sorted(set(bad))[:5]}")
    return values


def _unique(values: pd.Series, what: str) -> None:
    duplicated = sorted(set(values[values.duplicated()]))
    if duplicated:
        raise ValueError(f"{what} listed more than once: {', '.join(duplicated)}")


def _organisation(teams_csv: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Regions, teams (one per manager) and people (managers first, then agents, in file order)."""
    _unique(teams_csv["sales_agent"], "sales_teams.csv: sales agent(s)")
    offices = teams_csv.groupby("manager", sort=False)["regional_office"].unique()
    split = offices[offices.map(len) > 1]
    if len(split):
        raise ValueError(f"sales_teams.csv: manager(s) with agents in several regional offices: {', '.join(split.index)}")
    both = sorted(set(offices.index) & set(teams_csv["sales_agent"]))
    if both:
        raise ValueError(f"sales_teams.csv: listed both as manager and as sales agent: {', '.join(both)}")

    region_names = sorted(teams_csv["regional_office"].unique())
    region_id = {name: i for i, name in enumerate(region_names, start=1)}
    managers = pd.DataFrame({"name": offices.index, "office": offices.map(lambda o: o[0]).to_numpy()})
    managers["id"] = range(1, len(managers) + 1)  # team i is led by manager i, so the ids double as team ids
    manager_id = dict(zip(managers["name"], managers["id"], strict=True))

    regions = pd.DataFrame({"id": list(region_id.values()), "name": region_names})
    teams = pd.DataFrame(
        {
            "id": managers["id"],
            "name": managers["name"] + "'s team",
            "manager_id": managers["id"],
            "region_id": managers["office"].map(region_id),
        }
    )
    manager_rows = pd.DataFrame(
        {
            "id": managers["id"],
            "name": managers["name"],
            "role": "manager",
            "manager_id": pd.Series(pd.NA, index=managers.index, dtype="Int64"),
            "team_id": managers["id"],
            "region_id": managers["office"].map(region_id),
        }
    )
    rep_rows = pd.DataFrame(
        {
            "id": range(len(managers) + 1, len(managers) + len(teams_csv) + 1),
            "name": teams_csv["sales_agent"],
            "role": "rep",
            "manager_id": teams_csv["manager"].map(manager_id).astype("Int64"),
            "team_id": teams_csv["manager"].map(manager_id),
            "region_id": teams_csv["regional_office"].map(region_id),
        }
    )
    people = pd.concat([manager_rows, rep_rows], ignore_index=True)
    people["active"] = True
    people["ramp_months"] = 0
    people["source_id"] = people["name"]
    return regions, teams, people


def _accounts(accounts_csv: pd.DataFrame) -> pd.DataFrame:
    file = "accounts.csv"
    _unique(accounts_csv["account"], f"{file}: account(s)")
    return pd.DataFrame(
        {
            "id": range(1, len(accounts_csv) + 1),
            "name": accounts_csv["account"],
            "industry": accounts_csv["sector"].replace(SECTOR_FIXES),
            "country": accounts_csv["office_location"],
            "annual_revenue": _numbers(accounts_csv, "revenue", file) * 1_000_000,
            "employees": _numbers(accounts_csv, "employees", file).astype("Int64"),
            "source_id": accounts_csv["account"],
        }
    )


def _product_key(names: pd.Series) -> pd.Series:
    """The matching key for product names: `GTXPro` and `GTX Pro` are the same product."""
    return names.str.replace(" ", "", regex=False).str.casefold()


def _products(products_csv: pd.DataFrame) -> pd.DataFrame:
    file = "products.csv"
    _unique(_product_key(products_csv["product"]), f"{file}: product name(s) (ignoring spaces and case)")
    return pd.DataFrame(
        {
            "id": range(1, len(products_csv) + 1),
            "name": products_csv["product"],
            "family": products_csv["series"],
            "list_price": _numbers(products_csv, "sales_price", file),
            "source_id": products_csv["product"],
        }
    )


def _opportunities(
    pipeline: pd.DataFrame,
    people: pd.DataFrame,
    accounts: pd.DataFrame,
    products: pd.DataFrame,
) -> tuple[pd.DataFrame, tuple[tuple[str, str], ...]]:
    """Opportunity rows in file order, and the product-name variants that were matched."""
    file = "sales_pipeline.csv"
    if pipeline.empty:
        raise ValueError(f"{file} has no opportunities")
    _unique(pipeline["opportunity_id"], f"{file}: opportunity_id(s)")

    reps = people[people["role"] == "rep"]
    owner = pipeline["sales_agent"].map(dict(zip(reps["name"], reps["id"], strict=True)))
    _known(pipeline["sales_agent"], owner, f"{file}: sales agent(s) not in sales_teams.csv")

    product_row = _product_key(pipeline["product"]).map(dict(zip(_product_key(products["name"]), products.index, strict=True)))
    _known(pipeline["product"], product_row, f"{file}: product(s) not in products.csv")
    product = products.loc[product_row.to_numpy()].reset_index(drop=True)
    differs = pipeline["product"] != product["name"]
    variants = tuple(sorted(set(zip(pipeline.loc[differs, "product"], product.loc[differs, "name"], strict=True))))

    has_account = pipeline["account"] != ""
    account_id = pipeline["account"].map(dict(zip(accounts["name"], accounts["id"], strict=True))).astype("Int64")
    _known(pipeline.loc[has_account, "account"], account_id[has_account], f"{file}: account(s) not in accounts.csv")

    stage = pipeline["deal_stage"].map(DEAL_STAGES)
    _known(pipeline["deal_stage"], stage, f"{file}: deal_stage value(s) not in {sorted(DEAL_STAGES)}")
    is_won = stage.map(lambda s: s.is_won).astype(bool)
    close_value = _numbers(pipeline, "close_value", file)
    unvalued = pipeline.loc[is_won & close_value.isna(), "opportunity_id"]
    if len(unvalued):
        raise ValueError(f"{file}: won opportunities without close_value: {', '.join(unvalued[:5])}")

    account_name = pipeline["account"].where(has_account, "No account")
    deals = pd.DataFrame(
        {
            "id": range(1, len(pipeline) + 1),
            "source_id": pipeline["opportunity_id"],
            "name": account_name + " - " + product["name"],
            "account_id": account_id,
            "owner_id": owner.astype(int),
            "product_id": product["id"],
            "amount": close_value.where(is_won, product["list_price"]),
            "stage": stage.map(lambda s: s.name),
            "probability": stage.map(lambda s: s.probability),
            "forecast_category": stage.map(lambda s: s.forecast_category),
            "created_date": _dates(pipeline, "engage_date", file),
            "close_date": _dates(pipeline, "close_date", file),
            "is_closed": stage.map(lambda s: s.is_closed).astype(bool),
            "is_won": is_won,
        }
    )
    return deals, variants


def _known(names: pd.Series, matched: pd.Series, problem: str) -> None:
    """Raise naming every value that found no match, rather than loading it as NULL."""
    unknown = sorted(set(names[matched.isna()]))
    if unknown:
        raise ValueError(f"{problem}: {', '.join(map(repr, unknown))}")


