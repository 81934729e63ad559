"""Turn the RawCsv files of one export format into canonical frames: `parse(kind, files) -> Parsed`.

Every row is checked and every problem is collected as a RowError (a file with ten bad rows reports ten
errors, not the first): empty required cells, dates and amounts that do not read, negative amounts,
probabilities outside 0-100 and ids that repeat within a file. Only files that cannot be this format at all
(required columns missing, a Maven file missing) raise ImportRejected.

Columns are found by their header, compared without case, spaces or punctuation ("Probability (%)" is
"probability"), so that report exports and API exports of the same object both read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..stages import BEST_CASE, CLOSED, COMMIT, OMITTED, PIPELINE
from .csvfile import without_sparse_rows
from .dates import YEARS, DateRule, file_order, read_dates
from .keys import row_keys
from .model import (
    ACCOUNT_COLUMNS,
    DEAL_ACCOUNT_COLUMNS,
    HISTORY_COLUMNS,
    MAX_TEXT_CHARS,
    OPPORTUNITY_COLUMNS,
    PEOPLE_COLUMNS,
    PRODUCT_COLUMNS,
    QUOTA_COLUMNS,
    ImportRejected,
    Parsed,
    RawCsv,
    RowError,
)

KINDS = ("maven", "salesforce_opportunities", "salesforce_history", "hubspot_deals", "generic", "quotas", "people")


@dataclass(frozen=True)
class Field:
    """A canonical column, the source headers it is read from, and how its cells are read."""

    column: str
    headers: tuple[str, ...]
    kind: str = "text"  # text | date | month | amount | count | percent | forecast | role | email
    required: bool = False  # the column must be there, and (unless blank_is_zero) every cell filled
    # CRM exports leave Amount blank on deals nobody has priced yet; the CRM's own reports count them as 0.
    blank_is_zero: bool = False


@dataclass(frozen=True)
class Layout:
    """One file of a format: which frame it fills, from which fields, and which columns must be unique."""

    frame: str  # opportunities | history | quotas | people | accounts | products
    columns: Mapping[str, str]  # canonical column -> dtype
    fields: tuple[Field, ...]
    key: tuple[str, ...] = ()  # canonical columns whose values may not repeat within the file
    fixes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # column -> {value as exported: value kept}


# --- formats -------------------------------------------------------------------------------------------------

# Forecast categories as CRMs write them (compared without case and spaces) -> the app's (Salesforce's labels).
# OpportunityHistory.ForecastCategory holds API names (BestCase, Forecast); HubSpot says "Not forecasted".
FORECAST_CATEGORIES = {
    "pipeline": PIPELINE,
    "bestcase": BEST_CASE,
    "commit": COMMIT,
    "forecast": COMMIT,
    "closed": CLOSED,
    "closedwon": CLOSED,
    "omitted": OMITTED,
    "notforecasted": OMITTED,
}

SALESFORCE_OPPORTUNITIES = Layout(
    "opportunities",
    OPPORTUNITY_COLUMNS,
    (
        Field("source_id", ("Opportunity ID", "Id")),  # optional: derived when absent, see _derive_salesforce_ids
        Field("name", ("Opportunity Name", "Name")),
        Field("account", ("Account Name", "Account")),
        Field("owner", ("Opportunity Owner", "Owner", "Owner Name", "Owner Full Name"), required=True),
        Field("product", ("Product Name", "Product")),
        Field("type", ("Type", "Opportunity Type")),
        Field("amount", ("Amount",), "amount", required=True, blank_is_zero=True),
        Field("stage", ("Stage", "Stage Name", "StageName"), required=True),
        Field("probability", ("Probability (%)", "Probability"), "percent"),
        Field("forecast_category", ("Forecast Category", "ForecastCategoryName"), "forecast"),
        Field("created_date", ("Created Date", "CreatedDate"), "date"),
        Field("close_date", ("Close Date", "CloseDate"), "date"),
        Field("lead_source", ("Lead Source", "LeadSource")),
        Field("loss_reason", ("Loss Reason", "Loss_Reason__c", "Closed Lost Reason", "Reason Lost")),
    ),
    key=("source_id",),
)
SALESFORCE_HISTORY = Layout(
    "history",
    HISTORY_COLUMNS,
    (
        Field("source_id", ("Id", "Opportunity History ID", "History ID")),  # optional: derived when absent
        Field("opportunity_source_id", ("OpportunityId", "Opportunity ID"), required=True),
        Field("changed_at", ("CreatedDate", "Created Date", "Edit Date", "Changed At"), "date", required=True),
        Field("stage", ("StageName", "Stage Name", "Stage", "To Stage"), required=True),
        Field("amount", ("Amount",), "amount"),
        Field("close_date", ("CloseDate", "Close Date"), "date"),
        Field("probability", ("Probability", "Probability (%)"), "percent"),
        Field("forecast_category", ("ForecastCategory", "ForecastCategoryName", "Forecast Category"), "forecast"),
    ),
    key=("source_id",),
)
HUBSPOT_DEALS = Layout(
    "opportunities",
    OPPORTUNITY_COLUMNS,
    (
        Field("source_id", ("Record ID", "Deal ID", "hs_object_id"), required=True),
        Field("name", ("Deal Name", "dealname")),
        Field("account", ("Associated Company", "Associated Company (Primary)", "Company Name", "Company")),
        Field("owner", ("Deal owner", "HubSpot Owner", "Owner"), required=True),
        Field("type", ("Deal Type", "dealtype")),
        Field("amount", ("Amount",), "amount", required=True, blank_is_zero=True),
        Field("stage", ("Deal Stage", "dealstage"), required=True),
        Field("forecast_category", ("Forecast category",), "forecast"),
        Field("created_date", ("Create Date", "Created Date", "createdate"), "date"),
        Field("close_date", ("Close Date", "closedate"), "date"),
        Field("lead_source", ("Original Traffic Source", "Original Source Type", "Lead Source")),
        Field("loss_reason", ("Closed Lost Reason", "closed_lost_reason", "Loss Reason")),
    ),
    key=("source_id",),
)
# Synonyms for a CSV of unknown origin, most specific first (suggest_mapping takes the first that matches).
# Headers compare without case and punctuation, so "Deal - Owner" (Pipedrive) is "Deal owner".
GENERIC_HEADERS: dict[str, tuple[str, ...]] = {
    "source_id": ("Opportunity ID", "opportunity_id", "Deal ID", "Record ID", "Potential Id", "Id"),
    "name": ("Opportunity Name", "Deal Name", "Potential Name", "Deal - Title", "Opportunity", "Deal", "Name"),
    "account": ("Account Name", "Account", "Associated Company", "Company", "Customer", "Deal - Organization", "Organization"),
    "owner": (
        "Opportunity Owner", "Deal owner", "Potential Owner", "Owner", "sales_agent", "Sales Rep", "Rep", "Salesperson",
        "Account Executive",
    ),
    "product": ("Product Name", "Product"),
    "type": ("Opportunity Type", "Deal Type", "Type"),
    "amount": ("Amount", "Deal Value", "Deal Amount", "Deal size", "close_value", "Value"),
    "stage": ("Stage", "Deal Stage", "Sales stage", "deal_stage", "Stage Name"),
    "status": ("Deal - Status", "Deal Status"),  # a plain "Status" is as often the stage
    "probability": ("Probability (%)", "Probability", "Deal - Probability", "Win Probability"),
    "forecast_category": ("Forecast Category", "ForecastCategoryName"),
    "created_date": ("Created Date", "Create Date", "Created Time", "Deal - Deal created", "engage_date", "Created"),
    "close_date": (
        "Close Date", "Closing Date", "Close Date/Expected Close Date", "Deal - Won time", "Expected Close Date",
        "Deal - Expected close date", "close_date",
    ),
    "lead_source": ("Lead Source", "Source"),
    "sales_channel": ("Sales Channel", "Channel", "Deal - Channel", "Sales channel"),
    "loss_reason": ("Loss Reason", "Lost Reason", "Closed Lost Reason", "Deal - Lost reason", "Reason Lost"),
    "country": ("Country", "Billing Country", "Account Country"),
    "region": ("Region", "Sales Region"),
    "segment": ("Segment", "Customer Segment", "Market Segment"),
    "industry": ("Industry", "Sector"),
    "employees": ("Employees", "Number of Employees", "Employee Count", "Headcount"),
    "state": ("State", "Billing State/Province", "Billing State", "Province", "State/Province"),
    "postcode": ("Postcode", "Billing Zip/Postal Code", "Postal Code", "Zip Code", "Zip", "Postal code"),
    "latitude": ("Latitude", "Billing Latitude", "Lat"),
    "longitude": ("Longitude", "Billing Longitude", "Lng", "Lon"),
    "potential": ("Potential", "Account Potential", "Wallet Size"),
}  # fmt: skip
# More headers a column is read from where the first is empty, joined with "|" (`--map close_date="A|B"`):
# Pipedrive writes a won deal's close in "Won time", a lost one's in "Lost time", an open one's expected close apart.
GENERIC_FALLBACKS = {"close_date": ("Deal - Won time", "Deal - Lost time", "Expected Close Date", "Deal - Expected close date")}
GENERIC_KINDS = {
    "amount": "amount",
    "potential": "amount",
    "employees": "count",
    "latitude": "latitude",
    "longitude": "longitude",
    "probability": "percent",
    "forecast_category": "forecast",
    "created_date": "date",
    "close_date": "date",
}
GENERIC_REQUIRED = ("source_id", "owner", "amount", "stage")
GENERIC_HELP = {
    "source_id": "the deal's id in the CRM: re-imports update rows in place (or --id-columns)",
    "name": "deal name",
    "account": "account (customer) name",
    "owner": "owner's name; unknown owners are created as reps",
    "product": "product name",
    "type": "new business, expansion, renewal, ...",
    "amount": "amount, in one currency",
    "stage": "stage name, mapped to the app's stages with --stage",
    "status": "open / won / lost: won and lost override the stage (Pipedrive keeps the last stage)",
    "probability": "percent; the deal's own value wins over its stage's",
    "forecast_category": "Pipeline, Best Case, Commit, Closed, Omitted; the deal's own value wins over its stage's",
    "created_date": "created date",
    "close_date": "close date (expected while open); without it every period view is empty",
    "lead_source": "lead source",
    "sales_channel": "sales channel (Direct, Partner, ...); channels new to the warehouse are listed",
    "loss_reason": "why a lost deal was lost (Price, Competitor, ...); shown in the period review",
    "country": "the account's country",
    "region": "the account's region (new regions are created)",
    "segment": "the account's segment (new segments are created)",
    "industry": "the account's industry",
    "state": "the account's state, province or region within its country",
    "employees": "the account's head count (territory rules' size band: Small < 200 ≤ Medium < 2,000 ≤ Large)",
    "postcode": "the account's postcode (territory rules compare postcodes as text)",
    "latitude": "the account's latitude in degrees (-90 to 90), for the territory map",
    "longitude": "the account's longitude in degrees (-180 to 180)",
    "potential": "what the account could buy a year (a wallet estimate or a score), balanced by territory planning",
}
GENERIC_COLUMNS = OPPORTUNITY_COLUMNS | DEAL_ACCOUNT_COLUMNS | {"status": "string"}  # status: applied to the stage, not stored
STATUS_STAGES = {"won": "Closed Won", "lost": "Closed Lost"}
QUOTAS = Layout(
    "quotas",
    QUOTA_COLUMNS,
    (
        Field(
            "owner",
            ("Owner", "Rep", "Sales Rep", "Name", "Person", "sales_agent", "Opportunity Owner", "Deal owner"),
            required=True,
        ),
        Field("month", ("Month", "Period", "Quota Month", "Date", "Start Date"), "month", required=True),
        Field("amount", ("Quota", "Quota Amount", "Amount", "Target"), "amount", required=True),
    ),
    key=("owner", "month"),
)
PEOPLE = Layout(
    "people",
    PEOPLE_COLUMNS,
    (
        Field("name", ("Name", "Full Name", "Person", "Rep", "sales_agent"), required=True),
        Field("email", ("Email", "E-mail", "Email Address"), "email"),
        Field("role", ("Role",), "role"),
        Field("manager", ("Manager", "Manager Name", "Reports To")),
        Field("team", ("Team", "Team Name")),
        Field("region", ("Region", "Regional Office")),
        Field("hire_date", ("Hire Date", "Start Date", "Hired"), "date"),
    ),
    key=("name",),
)
LAYOUTS = {
    "salesforce_opportunities": SALESFORCE_OPPORTUNITIES,
    "salesforce_history": SALESFORCE_HISTORY,
    "hubspot_deals": HUBSPOT_DEALS,
    "quotas": QUOTAS,
    "people": PEOPLE,
}

MAVEN_PIPELINE = Layout(
    "opportunities",
    OPPORTUNITY_COLUMNS,
    (
        Field("source_id", ("opportunity_id",), required=True),
        Field("owner", ("sales_agent",), required=True),
        Field("product", ("product",), required=True),
        Field("account", ("account",)),
        Field("stage", ("deal_stage",), required=True),
        Field("created_date", ("engage_date",), "date"),
        Field("close_date", ("close_date",), "date"),
        # The column must be there; a blank is fine except on Won deals (see _maven_opportunities).
        Field("amount", ("close_value",), "amount", required=True, blank_is_zero=True),
    ),
    key=("source_id",),
)
MAVEN_TEAMS = Layout(
    "people",
    PEOPLE_COLUMNS,
    (
        Field("name", ("sales_agent",), required=True),
        Field("manager", ("manager",), required=True),
        Field("region", ("regional_office",), required=True),
    ),
    key=("name",),
)
MAVEN_ACCOUNTS = Layout(
    "accounts",
    ACCOUNT_COLUMNS,
    (
        Field("name", ("account",), required=True),
        Field("industry", ("sector",)),
        Field("country", ("office_location",)),
        Field("annual_revenue", ("revenue",), "amount"),  # in millions in the file
        Field("employees", ("employees",), "count"),
    ),
    key=("name",),
    fixes={"industry": {"technolgy": "technology"}},
)
MAVEN_PRODUCTS = Layout(
    "products",
    PRODUCT_COLUMNS,
    (
        Field("name", ("product",), required=True),
        Field("family", ("series",)),
        Field("list_price", ("sales_price",), "amount", required=True),
    ),
    key=("name",),
)
MAVEN_FILES = {
    "sales_pipeline.csv": MAVEN_PIPELINE,
    "sales_teams.csv": MAVEN_TEAMS,
    "accounts.csv": MAVEN_ACCOUNTS,
    "products.csv": MAVEN_PRODUCTS,
}

# --- stage mappings onto the app's default stages ------------------------------------------------------------

APP_STAGES = ("Prospecting", "Qualification", "Discovery", "Proposal", "Negotiation", "Closed Won", "Closed Lost")
SALESFORCE_STAGES = {
    "Prospecting": "Prospecting",
    "Qualification": "Qualification",
    "Needs Analysis": "Discovery",
    "Value Proposition": "Discovery",
    "Id. Decision Makers": "Discovery",
    "Perception Analysis": "Proposal",
    "Proposal/Price Quote": "Proposal",
    "Negotiation/Review": "Negotiation",
    "Closed Won": "Closed Won",
    "Closed Lost": "Closed Lost",
}
HUBSPOT_STAGES = {
    "appointmentscheduled": "Prospecting",
    "Appointment Scheduled": "Prospecting",
    "qualifiedtobuy": "Qualification",
    "Qualified To Buy": "Qualification",
    "presentationscheduled": "Discovery",
    "Presentation Scheduled": "Discovery",
    "decisionmakerboughtin": "Proposal",
    "Decision Maker Bought-In": "Proposal",
    "contractsent": "Negotiation",
    "Contract Sent": "Negotiation",
    "closedwon": "Closed Won",
    "Closed Won": "Closed Won",
    "closedlost": "Closed Lost",
    "Closed Lost": "Closed Lost",
}
MAVEN_STAGES = {"Prospecting": "Prospecting", "Engaging": "Qualification", "Won": "Closed Won", "Lost": "Closed Lost"}
# Pipedrive's default pipeline and Zoho CRM's default deal stages (the rest of Zoho's are Salesforce's).
PIPEDRIVE_STAGES = {
    "Lead In": "Prospecting",
    "Contact Made": "Qualification",
    "Qualified": "Qualification",
    "Needs Defined": "Discovery",
    "Demo Scheduled": "Discovery",
    "Proposal Made": "Proposal",
    "Negotiations Started": "Negotiation",
}
ZOHO_STAGES = {
    "Identify Decision Makers": "Discovery",
    "Closed Lost to Competition": "Closed Lost",
    "Closed-Lost to Competition": "Closed Lost",
}
_IDENTITY = {stage: stage for stage in APP_STAGES}
STAGE_MAPPINGS: dict[str, dict[str, str]] = {
    "maven": MAVEN_STAGES,
    "salesforce_opportunities": _IDENTITY | SALESFORCE_STAGES,
    "salesforce_history": _IDENTITY | SALESFORCE_STAGES,
    "hubspot_deals": _IDENTITY | HUBSPOT_STAGES,
    "generic": _IDENTITY | MAVEN_STAGES | SALESFORCE_STAGES | HUBSPOT_STAGES | PIPEDRIVE_STAGES | ZOHO_STAGES,
}

# --- public API ----------------------------------------------------------------------------------------------


def parse(
    kind: str,
    files: Mapping[str, RawCsv],
    column_mapping: Mapping[str, str] | None = None,
    dayfirst: bool = False,
    date_format: str | None = None,
    id_columns: Sequence[str] = (),
) -> Parsed:
    """The files of one format as canonical frames plus every row error found (row errors do not raise).

    `files` maps file names to RawCsv; all formats but maven take exactly one file. `column_mapping`
    ({canonical opportunity column: source header}) is for `generic` (suggest_mapping's guess when None).
    Dates are read as each column shows (dates.py); `date_format` (dmy, mdy or a pattern) or `dayfirst`
    (= dmy) decide what the values cannot. `id_columns` (generic, file headers): key rows by a hash of these
    columns when the file has no id column.
    """
    rule = DateRule.of(date_format, dayfirst)
    if kind == "maven":
        return _parse_maven(files, rule)
    if kind not in LAYOUTS and kind != "generic":
        raise ImportRejected(f"Unknown import format {kind!r}: choose one of {', '.join(KINDS)}.")
    raw = _single_file(kind, files)
    if kind == "generic" or _many_required(LAYOUTS[kind]):
        raw = without_sparse_rows(raw)
    if kind == "generic":
        raw, layout, headers = _generic_layout(raw, column_mapping, id_columns)
    else:
        layout = LAYOUTS[kind]
        headers = _find_headers(raw.frame.columns, layout)
    derive = _DERIVED_IDS.get(kind) if "source_id" not in headers else None
    _require(raw, layout, headers, derive)
    frame, errors = _read(raw, layout, headers, rule)
    if derive:
        frame["source_id"] = derive.make(frame)
        errors += _duplicates(
            raw, frame, ("source_id",), {"source_id": " + ".join(headers[c] for c in derive.columns if c in headers)}
        )
    derived = ""
    if kind == "generic":
        frame = _apply_status(raw, frame, headers, errors)
        if id_columns:
            frame["source_id"] = row_keys(raw.frame[list(id_columns)])
            errors += _colliding_keys(raw, frame["source_id"], id_columns)
            derived = f"a hash of {' + '.join(id_columns)} (the file has no id column)"
    return Parsed(
        kind=kind,
        **{layout.frame: frame},
        line_numbers={layout.frame: raw.line_numbers},
        files={layout.frame: raw.name},
        errors=_sorted(errors),
        default_stage_mapping=STAGE_MAPPINGS.get(kind, {}),
        warnings=[*raw.warnings, *_missing_close_date(layout, headers), *_attributes_without_account(headers)],
        derived_ids=derived,
    )


def suggest_mapping(header: list[str]) -> dict[str, str]:
    """{canonical opportunity column: source header} guessed from common header names; each header used once.

    Where a column has fallbacks in the file (GENERIC_FALLBACKS), they follow its header joined with "|"."""
    found = _match(header, {column: names for column, names in GENERIC_HEADERS.items()})
    for column, names in GENERIC_FALLBACKS.items():
        fallbacks = _match(header, {name: (name,) for name in names})
        more = [h for h in fallbacks.values() if h not in found.values()]
        if column in found and more:
            found[column] = COMBINED.join([found[column], *more])
    return found


def suggest_id_columns(mapping: Mapping[str, str]) -> list[str]:
    """File headers that likely tell deals apart when there is no id column: name, account and created date
    (what Salesforce's own keys use), else account and owner."""
    single = {c: h for c, h in mapping.items() if COMBINED not in h}
    keys = ("name", "account", "created_date") if "name" in single else ("account", "owner")
    return [single[c] for c in keys if c in single]


def detect_kind(header: list[str]) -> str | None:
    """The format a single file's header looks like, or None.

    Maven is recognised by its sales_pipeline.csv header (the other three Maven files are then needed too).
    """
    names = {_key(h) for h in header}
    for kind, signature in SIGNATURES:
        if signature <= names:
            return kind
    if _has_required(header, QUOTAS) and any("quota" in name for name in names):
        return "quotas"
    if _has_required(header, PEOPLE) and names & {"role", "manager", "email"} and not names & {"amount", "stage"}:
        return "people"
    if set(GENERIC_REQUIRED) <= set(suggest_mapping(header)):
        return "generic"
    return None


SIGNATURES: tuple[tuple[str, set[str]], ...] = (
    ("maven", {"opportunityid", "salesagent", "dealstage", "engagedate", "closevalue"}),
    ("salesforce_history", {"opportunityid", "stagename", "createddate", "id"}),
    ("salesforce_opportunities", {"opportunityowner", "stage"}),
    ("hubspot_deals", {"dealname", "dealstage"}),
)

# --- finding columns -----------------------------------------------------------------------------------------


def _key(header: str) -> str:
    """A header compared without case, spaces or punctuation."""
    return re.sub(r"[^0-9a-z]", "", header.casefold())


def _match(header: list[str], candidates: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    by_key: dict[str, str] = {}
    for h in header:
        by_key.setdefault(_key(h), h)
    found: dict[str, str] = {}
    for column, names in candidates.items():
        for name in names:
            source = by_key.get(_key(name))
            if source is not None and source not in found.values():
                found[column] = source
                break
    return found


def _find_headers(header: pd.Index, layout: Layout) -> dict[str, str]:
    return _match(list(header), {f.column: f.headers for f in layout.fields})


def _has_required(header: list[str], layout: Layout) -> bool:
    found = _match(header, {f.column: f.headers for f in layout.fields})
    return all(f.column in found for f in layout.fields if f.required)


def _many_required(layout: Layout) -> bool:
    """Rows of this layout need two values or more, so a row with one is debris (csvfile.without_sparse_rows)."""
    return sum(f.required for f in layout.fields) > 1


def _single_file(kind: str, files: Mapping[str, RawCsv]) -> RawCsv:
    if len(files) != 1:
        raise ImportRejected(f"The {kind} format takes exactly one file; got {len(files)}: {', '.join(files) or 'none'}.")
    return next(iter(files.values()))


COMBINED = "|"  # --map close_date="Won time|Expected close date": the first non-empty of these columns


def _generic_layout(
    raw: RawCsv, column_mapping: Mapping[str, str] | None, id_columns: Sequence[str]
) -> tuple[RawCsv, Layout, dict[str, str]]:
    """A layout made from the user's column mapping, whose headers must exist in the file, and the file
    with a column added for each mapping that combines several ("A|B": the first non-empty)."""
    given = column_mapping if column_mapping is not None else suggest_mapping(list(raw.frame.columns))
    mapping = {column: source for column, source in given.items() if source}
    unknown = sorted(set(mapping) - set(GENERIC_COLUMNS))
    if unknown:
        raise ImportRejected(
            f"The column mapping names unknown column(s) {', '.join(unknown)}; known: {', '.join(GENERIC_COLUMNS)} (see --help)."
        )
    absent = [
        f"{part} (for {column})"
        for column, source in mapping.items()
        for part in ([source] if source in raw.frame.columns else source.split(COMBINED))
        if part.strip() not in raw.frame.columns
    ]
    absent += [f"{h} (for --id-columns)" for h in id_columns if h not in raw.frame.columns]
    if absent:
        why = f"The column mapping names columns the file does not have: {', '.join(absent)}; fix it with --map COLUMN=HEADER."
        raise ImportRejected(
            f"{raw.name}: {why} The file has: {_listed(raw.frame.columns)}.", [_header_error(raw, ", ".join(absent), why)]
        )
    combined = {s: _first_filled(raw.frame, s) for s in mapping.values() if s not in raw.frame.columns}
    if combined:
        raw = replace(raw, frame=raw.frame.assign(**combined))
    missing = [c for c in GENERIC_REQUIRED if c not in mapping and not (c == "source_id" and id_columns)]
    if missing:
        raise ImportRejected(
            _unmapped(raw, mapping, missing), [_header_error(raw, ", ".join(missing), "Required column(s) not mapped.")]
        )
    fields = tuple(
        Field(column, (mapping.get(column, column),), GENERIC_KINDS.get(column, "text"), column in GENERIC_REQUIRED)
        for column in GENERIC_COLUMNS
        if column in mapping
    )
    return raw, Layout("opportunities", GENERIC_COLUMNS, fields, key=("source_id",)), mapping


def _first_filled(frame: pd.DataFrame, combined: str) -> pd.Series:
    """The first non-empty cell of the columns named in `combined` ("A|B"), row by row."""
    parts = [frame[name.strip()].str.strip() for name in combined.split(COMBINED)]
    cells = parts[0]
    for part in parts[1:]:
        cells = cells.where(cells != "", part)
    return cells


def _listed(headers: Sequence[str]) -> str:
    return ", ".join(f'"{h}"' for h in headers)


def _unmapped(raw: RawCsv, mapping: Mapping[str, str], missing: list[str]) -> str:
    """Which required columns have no header, and the options that fix it (with a guess for the id)."""
    fixes = [f"--map {c}=HEADER" for c in missing]
    if "source_id" in missing:
        ids = suggest_id_columns(mapping)
        example = ",".join(ids) if ids else "HEADER,HEADER"
        fixes[missing.index("source_id")] = (
            f'--map source_id=HEADER, or, with no id column, --id-columns "{example}" '
            "(a hash of columns that tell deals apart, so re-imports update in place)"
        )
    return (
        f"{raw.name}: no column is mapped to {', '.join(missing)}: {'; '.join(fixes)}. "
        f"The file has: {_listed(raw.frame.columns)}."
    )


def _apply_status(raw: RawCsv, frame: pd.DataFrame, headers: Mapping[str, str], errors: Errors) -> pd.DataFrame:
    """Deals whose status is won or lost get the closed stage (Pipedrive keeps a closed deal's last stage);
    the status column itself is not stored."""
    if "status" in headers:
        status = frame["status"].str.strip().str.casefold()
        _Column(raw, headers["status"], errors).error(
            status.notna() & ~status.isin(["open", *STATUS_STAGES]),
            f"{headers['status']} must be open, won or lost; leave deleted deals out of the export.",
        )
        frame["stage"] = status.map(STATUS_STAGES).astype("string").fillna(frame["stage"])
    return frame.drop(columns="status")


def _colliding_keys(raw: RawCsv, keys: pd.Series, id_columns: Sequence[str]) -> Errors:
    """An error for each row whose id columns repeat an earlier row's (they would be one deal)."""
    again = keys.duplicated(keep="first")
    if not again.any():
        return []
    first = raw.line_numbers.groupby(keys.to_numpy()).transform("first")
    label = " + ".join(id_columns)
    cells = raw.frame[list(id_columns)].apply(lambda column: column.str.strip()).agg(" | ".join, axis=1)
    others = [h for h in raw.frame.columns if h not in id_columns]
    return [
        RowError(
            file=raw.name,
            row=int(raw.line_numbers[i]),
            column=label,
            value=cells[i],
            why=f"Rows {int(first[i])} and {int(raw.line_numbers[i])} have the same {label}, so they would be one deal; "
            "add a column that tells them apart.",
            fix=f'--id-columns "{",".join([*id_columns, others[0] if others else "HEADER"])}"',
        )
        for i in keys.index[again]
    ]


NO_CLOSE_DATE = (
    "No column is mapped to close_date: every period view (bookings, pipeline, win rate, forecast) will be "
    "empty for these deals. Map one with --map close_date=HEADER."
)


def _attributes_without_account(headers: Mapping[str, str]) -> list[str]:
    """Country, region, segment and industry describe the deal's account: without one they have nowhere to go."""
    orphans = [c for c in DEAL_ACCOUNT_COLUMNS if c in headers]
    if not orphans or "account" in headers:
        return []
    return [
        f"{', '.join(orphans)} describe each deal's account, but no column is mapped to account, so they are not imported; map one with --map account=HEADER."
    ]


def _missing_close_date(layout: Layout, headers: Mapping[str, str]) -> list[str]:
    """Deals without a close date belong to no period, so an import that has none must say so first."""
    return [NO_CLOSE_DATE] if layout.frame == "opportunities" and "close_date" not in headers else []


def _require(raw: RawCsv, layout: Layout, headers: Mapping[str, str], derive: DerivedIds | None) -> None:
    """Raise naming every missing required column (and the columns the file has) in one error."""
    missing = [" or ".join(f'"{h}"' for h in f.headers[:2]) for f in layout.fields if f.required and f.column not in headers]
    if "source_id" not in headers and derive is not None:
        lacking = [c for c in derive.required if c not in headers]
        if lacking:
            missing.append(derive.description)
    if missing:
        found = ", ".join(f'"{c}"' for c in raw.frame.columns)
        why = (
            f"Required column(s) missing: {'; '.join(missing)}. The file has: {found}. Rename them in the export, "
            "or import the file as generic and name them with --map COLUMN=HEADER."
        )
        raise ImportRejected(f"{raw.name}: {why}", [_header_error(raw, "; ".join(missing), why)])


def _header_error(raw: RawCsv, column: str, why: str) -> RowError:
    return RowError(file=raw.name, row=1, column=column, value="", why=why)


# --- reading cells -------------------------------------------------------------------------------------------

Errors = list[RowError]


def _read(raw: RawCsv, layout: Layout, headers: Mapping[str, str], rule: DateRule) -> tuple[pd.DataFrame, Errors]:
    """The layout's canonical frame from `raw`, and the errors of every cell that does not read."""
    errors: Errors = []
    values: dict[str, pd.Series] = {}
    dated = [raw.frame[headers[f.column]].str.strip() for f in layout.fields if f.kind == "date" and f.column in headers]
    rule = replace(rule, file_order=file_order(dated))
    for f in layout.fields:
        if f.column not in headers:
            continue
        cells = raw.frame[headers[f.column]].str.strip()
        column = _Column(raw, headers[f.column], errors)
        if f.required and not f.blank_is_zero:
            column.error(cells == "", f"{column.header} is empty; every row needs a value.")
        cells = _within_limit(cells, column)
        values[f.column] = READERS[f.kind](cells, column, rule)
        if f.blank_is_zero:
            values[f.column] = values[f.column].mask(cells == "", 0.0)
    frame = _typed(values, layout.columns, len(raw.frame))
    for column, fixes in layout.fixes.items():
        frame[column] = frame[column].replace(fixes)
    present_key = tuple(c for c in layout.key if c in headers)
    if present_key:
        errors += _duplicates(raw, frame, present_key, headers)
    return frame, errors


@dataclass
class _Column:
    """Where a column's cells came from, and the list its errors go to."""

    raw: RawCsv
    header: str
    errors: Errors

    def error(self, bad: pd.Series, why: str | pd.Series, fix: str | pd.Series = "") -> None:
        """Add an error for each row where `bad` is true (why and fix: one sentence, or one per row)."""
        bad = bad.fillna(False).astype(bool)
        if not bad.any():
            return
        whys, fixes = (text[bad] if isinstance(text, pd.Series) else pd.Series(text, index=bad.index)[bad] for text in (why, fix))
        cells = self.raw.frame.loc[bad, self.header]
        rows = self.raw.line_numbers[bad]
        self.errors += [
            RowError(file=self.raw.name, row=int(row), column=self.header, value=value, why=reason, fix=how)
            for row, value, reason, how in zip(rows, cells, whys, fixes, strict=True)
        ]


def _within_limit(cells: pd.Series, column: _Column) -> pd.Series:
    """Cells over MAX_TEXT_CHARS are row errors, and blank from here on (one error per cell, and no
    reader spends time on a huge value)."""
    length = cells.str.len()
    too_long = length > MAX_TEXT_CHARS
    if not too_long.any():
        return cells
    column.error(
        too_long,
        f"{column.header} is " + length.map("{:,}".format) + f" characters long; a field holds at most {MAX_TEXT_CHARS}.",
    )
    return cells.mask(too_long, "")


def _text(cells: pd.Series, column: _Column, rule: DateRule) -> pd.Series:
    return cells.mask(cells == "")


def _email(cells: pd.Series, column: _Column, rule: DateRule) -> pd.Series:
    column.error((cells != "") & ~cells.str.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+"), "This is not an email address.")
    return _text(cells, column, rule)


ROLES = {"manager": "manager", "sales manager": "manager", "rep": "rep", "sales rep": "rep", "": "rep"}


def _role(cells: pd.Series, column: _Column, rule: DateRule) -> pd.Series:
    """manager or rep (the default); other words are errors rather than guesses."""
    roles = cells.str.casefold().map(ROLES)
    column.error(roles.isna(), f"{column.header} must be manager or rep (or empty for rep).")
    return roles


def _date(cells: pd.Series, column: _Column, rule: DateRule) -> pd.Series:
    """Dates in whatever form the column uses (dates.py decides, for the whole column)."""
    dates = read_dates(cells, rule)
    column.error(dates.why != "", dates.why, dates.fix)
    return dates.values.astype("datetime64[ns]")


MONTH_FORMATS = ("%Y-%m", "%Y/%m", "%m/%Y", "%b %Y", "%B %Y", "%b-%Y", "%b-%y")


def _month(cells: pd.Series, column: _Column, rule: DateRule) -> pd.Series:
    """The first day of the month of a date, or of a month written as 2026-01, 01/2026 or Jan 2026."""
    months = pd.Series(pd.NaT, index=cells.index, dtype="datetime64[us]")
    for fmt in MONTH_FORMATS:
        todo = months.isna() & (cells != "")
        months[todo] = pd.to_datetime(cells[todo], format=fmt, errors="coerce")
    todo = months.isna() & (cells != "")
    months[todo] = read_dates(cells[todo], rule).values
    months = months.where(months.dt.year.between(*YEARS))
    column.error((cells != "") & months.isna(), "This is not a month; expected a month like 2026-01, Jan 2026 or any date in it.")
    return months.dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]")


# Amounts: US style (1,234.56 or 1234.56) with an optional currency symbol or code before or after it.
AMOUNT = re.compile(
    r"(?P<open>[-(]?)\s*(?P<lead>[$€£¥]|[A-Z]{3})?\s*(?P<sign>-?)\s*(?P<number>\d[\d.,]*)\s*(?P<trail>[$€£¥]|[A-Z]{3})?\s*(?P<close>\)?)"
)
US_NUMBER = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?|\d+(\.\d+)?")
EUROPEAN_NUMBER = re.compile(r"\d{1,3}(\.\d{3})+(,\d+)?|\d+,\d{1,2}")
CURRENCY_CODES = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
NOT_AMOUNT = "This is not an amount; expected a number like 1234.56 or $1,234.56."
EUROPEAN = "This amount uses the European style (1.234,56); export amounts in US style (1,234.56) or as plain numbers (1234.56)."
NEGATIVE = "This amount is negative; amounts must be 0 or more."


def _read_amount(text: str) -> tuple[float, str, str]:
    """(value, currency code or "", why it does not read or "") for one non-empty cell."""
    m = AMOUNT.fullmatch(text.replace("\u00a0", " "))
    if not m or (m["open"] == "(") != (m["close"] == ")") or (m["lead"] and m["trail"]):
        return np.nan, "", NOT_AMOUNT
    number = m["number"]
    if not US_NUMBER.fullmatch(number):
        return np.nan, "", EUROPEAN if EUROPEAN_NUMBER.fullmatch(number) else NOT_AMOUNT
    value = float(number.replace(",", ""))
    currency = m["lead"] or m["trail"] or ""
    negative = m["open"] in ("-", "(") or m["sign"] == "-"
    return (-value if negative and value else value), CURRENCY_CODES.get(currency, currency), ""


def _amount_parts(cells: pd.Series) -> pd.DataFrame:
    """value, currency and why per cell, computed once per distinct text."""
    codes, uniques = pd.factorize(cells)
    parts = pd.DataFrame([_read_amount(u) if u else (np.nan, "", "") for u in uniques], columns=["value", "currency", "why"])
    parts = parts.astype({"value": "float64", "currency": str, "why": str}).iloc[codes]
    return parts.set_axis(cells.index)


def _amount(cells: pd.Series, column: _Column, rule: DateRule) -> pd.Series:
    """A non-negative number (amounts, prices, revenue); the currency must be the same in every row."""
    parts = _amount_parts(cells)
    column.error(parts["why"] != "", parts["why"])
    column.error(parts["value"] < 0, NEGATIVE)
    currencies = parts.loc[parts["currency"] != "", "currency"]
    if currencies.nunique() > 1:
        main = currencies.value_counts().index[0]
        other = (parts["currency"] != "") & (parts["currency"] != main)
        column.error(other, f"This amount is in another currency than the rest ({main}); convert amounts to one currency first.")
    return parts["value"].where(parts["value"] >= 0)


def _count(cells: pd.Series, column: _Column, rule: DateRule) -> pd.Series:
    values = _amount(cells, column, rule)
    column.error(values.notna() & (values % 1 != 0), "This must be a whole number.")
    return values.where(values % 1 == 0).round().astype("Int64")


def _percent(cells: pd.Series, column: _Column, rule: DateRule) -> pd.Series:
    """A whole percent 0-100; "10%" and "10" both read as 10."""
    values = pd.to_numeric(cells.str.removesuffix("%").str.strip().replace("", np.nan), errors="coerce")
    ok = values.between(0, 100) & (values % 1 == 0)
    column.error((cells != "") & ~ok, f"{column.header} must be a whole percent from 0 to 100.")
    return values.where(ok).round().astype("Int64")


def _forecast(cells: pd.Series, column: _Column, rule: DateRule) -> pd.Series:
    """One of the app's forecast categories; another word would silently drop the deal from commit and best case."""
    codes, uniques = pd.factorize(cells)  # a few distinct words on a million rows
    known = pd.Series(uniques, dtype=str).str.casefold().str.replace(r"[\s_-]+", "", regex=True).map(FORECAST_CATEGORIES)
    categories = pd.Series(known.to_numpy()[codes], index=cells.index)
    column.error(
        (cells != "") & categories.isna(),
        f"{column.header} must be a forecast category: {', '.join(dict.fromkeys(FORECAST_CATEGORIES.values()))}.",
        "--map forecast_category=HEADER (a column of forecast categories), or leave it unmapped for the stage's",
    )
    return categories.astype("string")


def _degrees(limit: float) -> Callable[[pd.Series, _Column, DateRule], pd.Series]:
    """A latitude (limit 90) or longitude (limit 180) in decimal degrees; negative is south or west."""

    def read(cells: pd.Series, column: _Column, rule: DateRule) -> pd.Series:
        values = pd.to_numeric(cells.str.strip().replace("", np.nan), errors="coerce")
        column.error(
            (cells.str.strip() != "") & ~values.between(-limit, limit),
            f"{column.header} must be decimal degrees from -{limit:g} to {limit:g}.",
        )
        return values.where(values.between(-limit, limit))

    return read


READERS: dict[str, Callable[[pd.Series, _Column, DateRule], pd.Series]] = {
    "text": _text,
    "email": _email,
    "role": _role,
    "date": _date,
    "month": _month,
    "amount": _amount,
    "count": _count,
    "percent": _percent,
    "forecast": _forecast,
    "latitude": _degrees(90),
    "longitude": _degrees(180),
}


def _typed(values: Mapping[str, pd.Series], columns: Mapping[str, str], rows: int) -> pd.DataFrame:
    """A frame with exactly the canonical columns and dtypes; columns the file lacks are all missing."""
    return pd.DataFrame(
        {
            name: (values[name].reset_index(drop=True) if name in values else pd.Series([None] * rows)).astype(dtype)
            for name, dtype in columns.items()
        },
        index=pd.RangeIndex(rows),
    )


def _duplicates(raw: RawCsv, frame: pd.DataFrame, key: tuple[str, ...], headers: Mapping[str, str]) -> Errors:
    """An error for each row whose key already appeared on an earlier row."""
    keyed = frame[list(key)].notna().all(axis=1)
    again = frame.duplicated(subset=list(key), keep="first") & keyed
    if not again.any():
        return []
    first_row = raw.line_numbers.groupby([frame[c] for c in key]).transform("first")
    label = " + ".join(headers[c] for c in key)
    return [
        RowError(
            file=raw.name,
            row=int(raw.line_numbers[i]),
            column=label,
            value=", ".join(str(_shown(frame.at[i, c])) for c in key),
            why=f"This {label} already appears on row {int(first_row[i])}; each row needs its own.",
        )
        for i in frame.index[again]
    ]


def _shown(value: object) -> object:
    return value.date().isoformat() if isinstance(value, pd.Timestamp) else value


def _sorted(errors: Errors) -> Errors:
    return sorted(errors, key=lambda e: (e.file, e.row))


# --- ids derived from other columns --------------------------------------------------------------------------


@dataclass(frozen=True)
class DerivedIds:
    """How to make a stable source id from other columns when an export has no id column."""

    columns: tuple[str, ...]  # canonical columns joined into the id, in order
    required: tuple[str, ...]  # of those, the ones the file must have
    description: str

    def make(self, frame: pd.DataFrame) -> pd.Series:
        """The id "value | value | 2024-01-31" (dates as ISO days, so the export's date format does not matter)."""
        parts = [
            frame[c].dt.strftime("%Y-%m-%d").fillna("") if frame[c].dtype.kind == "M" else frame[c].fillna("")
            for c in self.columns
        ]
        return pd.Series([" | ".join(p) for p in zip(*parts, strict=True)], index=frame.index, dtype="string")


# A Salesforce report without "Opportunity ID" is keyed by Opportunity Name + Account Name + Created Date:
# stable across exports of the same opportunities, but renaming an opportunity makes it a new one.
# OpportunityHistory without Id is keyed by its opportunity, time of change and stage.
_DERIVED_IDS = {
    "salesforce_opportunities": DerivedIds(
        ("name", "account", "created_date"),
        ("name", "created_date"),
        '"Opportunity ID" (or "Opportunity Name" and "Created Date" to key rows by)',
    ),
    "salesforce_history": DerivedIds(
        ("opportunity_source_id", "changed_at", "stage"),
        ("opportunity_source_id", "changed_at", "stage"),
        '"Id"',
    ),
}

# --- Maven ---------------------------------------------------------------------------------------------------
# Maven Analytics' "CRM Sales Opportunities" (../shared/datasets/maven_crm/SOURCE.md): four files that only
# make sense together, so a deal's agent, product and account must be in the other files. Our choices,
# since the dataset cannot say: one team per manager ("<manager>'s team", in its agents' one regional
# office, the manager a person with role manager); Engaging is Qualification; industry is `sector` with
# the typo `technolgy` fixed; revenue is in millions; a deal's product may be spelt `GTXPro` for
# `GTX Pro`; lost deals (close_value 0) and open ones (none) are valued at the product's list price;
# created date is engage_date, and there is no history, quota or activity.


def _parse_maven(files: Mapping[str, RawCsv], rule: DateRule) -> Parsed:
    """Maven's four files as opportunities, people (agents and their managers), accounts and products."""
    raws = _maven_files(files)
    errors: Errors = []
    frames: dict[str, pd.DataFrame] = {}
    for file, layout in MAVEN_FILES.items():
        raw = raws[file] = without_sparse_rows(raws[file]) if _many_required(layout) else raws[file]
        headers = _find_headers(raw.frame.columns, layout)
        _require(raw, layout, headers, None)
        frame, found = _read(raw, layout, headers, rule)
        frames[layout.frame] = frame
        errors += found
    pipeline = raws["sales_pipeline.csv"]
    frames["opportunities"] = _maven_opportunities(frames["opportunities"], frames["products"], pipeline, errors)
    _maven_references(frames, raws, errors)
    frames["people"], people_lines = _maven_people(frames["people"], raws["sales_teams.csv"].line_numbers)
    frames["accounts"]["annual_revenue"] = frames["accounts"]["annual_revenue"] * 1_000_000
    line_numbers = {layout.frame: raws[file].line_numbers for file, layout in MAVEN_FILES.items()} | {"people": people_lines}
    return Parsed(
        kind="maven",
        **frames,
        line_numbers=line_numbers,
        files={layout.frame: raws[file].name for file, layout in MAVEN_FILES.items()},
        errors=_sorted(errors),
        default_stage_mapping=MAVEN_STAGES,
        warnings=[warning for raw in raws.values() for warning in raw.warnings],
    )


def _maven_files(files: Mapping[str, RawCsv]) -> dict[str, RawCsv]:
    """The four Maven files by their standard names (compared without case); other files are ignored."""
    by_name = {name.casefold(): raw for name, raw in files.items()}
    missing = [name for name in MAVEN_FILES if name not in by_name]
    if missing:
        raise ImportRejected(
            f"The Maven CRM format needs {', '.join(MAVEN_FILES)}; missing: {', '.join(missing)} (got: {', '.join(files) or 'none'})."
        )
    return {name: by_name[name] for name in MAVEN_FILES}


def _maven_opportunities(deals: pd.DataFrame, products: pd.DataFrame, pipeline: RawCsv, errors: Errors) -> pd.DataFrame:
    """Names "<account or 'No account'> - <product as products.csv spells it>"; amount: close_value if won, else list price.

    Maven records 0 for lost deals and nothing for open ones; the product's list price is the amount at loss
    (for the value win rate) and the expected value of open pipeline.
    """
    product = _product_key(deals["product"]).map(dict(zip(_product_key(products["name"]), products.index, strict=True)))
    price = product.map(products["list_price"])
    won = (deals["stage"] == "Won").fillna(False).astype(bool)
    column = _Column(pipeline, "close_value", errors)
    column.error(
        won & (pipeline.frame["close_value"].str.strip() == ""),
        "close_value is empty for a Won deal; a won deal needs its amount.",
    )
    column = _Column(pipeline, "product", errors)
    column.error(
        deals["product"].notna() & price.isna(), "This product is not in products.csv (compared without spaces and case)."
    )
    deals["amount"] = deals["amount"].where(won, price)
    deals["name"] = (
        deals["account"].fillna("No account") + " - " + product.map(products["name"]).fillna(deals["product"]).astype("string")
    )
    return deals


def _maven_references(frames: Mapping[str, pd.DataFrame], raws: Mapping[str, RawCsv], errors: Errors) -> None:
    """Deals name agents of sales_teams.csv and accounts of accounts.csv; a manager's agents share one office."""
    deals, agents, accounts = frames["opportunities"], frames["people"], frames["accounts"]
    pipeline, teams = raws["sales_pipeline.csv"], raws["sales_teams.csv"]
    _Column(pipeline, "sales_agent", errors).error(
        deals["owner"].notna() & ~deals["owner"].isin(agents["name"].dropna()), "This sales agent is not in sales_teams.csv."
    )
    _Column(pipeline, "account", errors).error(
        deals["account"].notna() & ~deals["account"].isin(accounts["name"].dropna()), "This account is not in accounts.csv."
    )
    office = agents.groupby("manager")["region"].transform("first")
    _Column(teams, "regional_office", errors).error(
        agents["region"].notna() & (agents["region"] != office),
        "This agent's manager has agents in another regional office; a manager's team is in one office.",
    )


def _product_key(names: pd.Series) -> pd.Series:
    """Deals write `GTXPro` for products.csv's `GTX Pro`: names match without spaces and case."""
    return names.str.replace(" ", "", regex=False).str.casefold()


def _maven_people(agents: pd.DataFrame, lines: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    """Managers (role manager, their agents' office) then agents (role rep); team = "<manager>'s team"."""
    first = ~agents["manager"].duplicated() & agents["manager"].notna()
    managers = pd.DataFrame({"name": agents.loc[first, "manager"], "role": "manager", "region": agents.loc[first, "region"]})
    managers["team"] = managers["name"] + "'s team"
    reps = agents.assign(role="rep", team=agents["manager"] + "'s team")
    people = pd.concat([managers, reps], ignore_index=True)
    people = _typed({c: people[c] for c in people.columns if c in PEOPLE_COLUMNS}, PEOPLE_COLUMNS, len(people))
    return people, pd.concat([lines[first], lines], ignore_index=True)
