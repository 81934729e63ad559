"""The shapes an import passes through, shared by its steps:

    read_upload(name, data)        csvfile.py  bytes -> RawCsv (BOM, CRLF, ';', blank rows, footers, size limit)
    parse(kind, files, mapping)    formats.py  RawCsv files of one format -> Parsed (canonical frames + row errors)
    plan_import(engine, parsed)    plan.py     resolve owners, products, stages against the warehouse -> ImportPlan
    apply_import(engine, plan)     apply.py    one transaction, upsert on source ids -> ImportReport

Nothing is written until apply_import, and only when the plan has no errors: a file with one bad row
changes nothing (all-or-nothing), and importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

# Canonical columns per frame (the parse step's output; types after parsing). Strings name things in the
# source system; the plan step turns them into warehouse ids.
OPPORTUNITY_COLUMNS = {
    "source_id": "string",  # the source system's id: the upsert key (required)
    "name": "string",
    "account": "string",  # account name (optional)
    "owner": "string",  # owner's name as the source spells it (required)
    "product": "string",  # product name (optional)
    "type": "string",
    "amount": "float64",  # >= 0 (required)
    "stage": "string",  # the source's stage name (required), mapped by the stage mapping
    "probability": "Int64",  # percent 0-100, optional (the mapped stage's when missing)
    "forecast_category": "string",  # optional (the mapped stage's when missing)
    "created_date": "datetime64[ns]",
    "close_date": "datetime64[ns]",
    "lead_source": "string",
    "sales_channel": "string",  # optional; values new to the warehouse are listed in the plan
    "loss_reason": "string",  # optional: why a lost deal was lost (read by the period review)
}
# The generic format may also give each deal's account's attributes (region and segment name rows of their
# tables; new ones are created). The account's first deal in the file sets them; existing accounts keep theirs.
# Location, size (employees: the size band) and potential feed territory planning (spm_core/planning/territories).
ACCOUNT_LOCATION = {
    "employees": "Int64",
    "state": "string",
    "postcode": "string",
    "latitude": "float64",
    "longitude": "float64",
    "potential": "float64",
}
DEAL_ACCOUNT_COLUMNS = {"country": "string", "region": "string", "segment": "string", "industry": "string", **ACCOUNT_LOCATION}
HISTORY_COLUMNS = {
    "source_id": "string",  # the history row's own id (upsert key)
    "opportunity_source_id": "string",  # which opportunity (required)
    "changed_at": "datetime64[ns]",  # required
    "stage": "string",  # required
    "amount": "float64",
    "close_date": "datetime64[ns]",
    "probability": "Int64",
    "forecast_category": "string",
}
QUOTA_COLUMNS = {"owner": "string", "month": "datetime64[ns]", "amount": "float64"}  # month: any day of it
PEOPLE_COLUMNS = {
    "name": "string",  # required, unique
    "email": "string",
    "role": "string",  # manager | rep (default rep)
    "manager": "string",  # the manager's name
    "team": "string",
    "region": "string",
    "hire_date": "datetime64[ns]",
}
ACCOUNT_COLUMNS = {"name": "string", "industry": "string", "country": "string", "annual_revenue": "float64", "employees": "Int64"}
PRODUCT_COLUMNS = {"name": "string", "family": "string", "list_price": "float64"}


# Every imported text field (names of deals, accounts, owners, products, people, teams, regions; emails,
# stages, ids, ...) holds at most this many characters: CRMs cap theirs at 80-255, and an unbounded name
# makes every list that shows it slow. No imported field is free text, so there is no longer limit.
MAX_TEXT_CHARS = 255
SHOWN_CHARS = 80  # at most this much of a value is repeated in an error


def shown(text: str) -> str:
    """`text` as an error repeats it: at most SHOWN_CHARS, saying how long it was when cut (so cutting
    again changes nothing)."""
    if len(text) <= SHOWN_CHARS:
        return text
    suffix = f"… ({len(text):,} characters)"
    return text[: SHOWN_CHARS - len(suffix)] + suffix


@dataclass(frozen=True)
class RowError:
    """One reason a row cannot be imported, in the words a user can act on."""

    file: str
    row: int  # line number in the file as a spreadsheet shows it (header = 1, first data row = 2)
    column: str
    value: str  # cut by `shown`, so no message, table or log repeats a 50 MB cell
    why: str
    fix: str = ""  # the command-line option that fixes it, e.g. `--stage "Identified=<app stage>"`

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", shown(self.value))


class ImportRejected(ValueError):
    """The files cannot be imported as they are; `errors` lists every row-level problem found."""

    def __init__(self, message: str, errors: list[RowError] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


@dataclass(frozen=True)
class RawCsv:
    """A CSV as text cells: header names stripped, data rows without blank or footer lines."""

    name: str
    frame: pd.DataFrame  # all columns as str ("" for empty)
    line_numbers: pd.Series  # the file line number of each row in `frame` (for RowError.row)
    delimiter: str
    dropped_footer: tuple[str, ...] = ()  # footer lines recognised and left out (e.g. a report's totals)
    blank_rows: int = 0  # rows with no value at all, left out
    sparse_rows: tuple[int, ...] = ()  # lines of rows with a single value (`,,1,,,,`) left out (csvfile.without_sparse_rows)
    warnings: tuple[str, ...] = ()  # what was read differently than the file says, e.g. an unnamed column ignored


@dataclass
class Parsed:
    """A format's files in canonical frames (columns as above; None where the format has none)."""

    kind: str  # maven | salesforce_opportunities | salesforce_history | hubspot_deals | generic | quotas | people
    opportunities: pd.DataFrame | None = None
    history: pd.DataFrame | None = None
    quotas: pd.DataFrame | None = None
    people: pd.DataFrame | None = None
    accounts: pd.DataFrame | None = None
    products: pd.DataFrame | None = None
    line_numbers: dict[str, pd.Series] = field(default_factory=dict)  # per frame name, for errors found later
    files: dict[str, str] = field(default_factory=dict)  # per frame name, the file it came from
    errors: list[RowError] = field(default_factory=list)
    default_stage_mapping: Mapping[str, str] = field(default_factory=dict)  # source stage -> app stage
    warnings: list[str] = field(default_factory=list)  # imported anyway, but the user should know (a header-level note)
    derived_ids: str = ""  # how source ids were made when the file has none, e.g. "a hash of Customer + Deal Owner"


@dataclass
class ImportPlan:
    """What apply_import will write, and what it had to decide to get there."""

    parsed: Parsed
    stage_mapping: dict[str, str]  # source stage -> app stage name (stage table)
    people_to_create: list[str]  # owner names not in the warehouse: created as reps
    product_matches: dict[str, str]  # source product name -> warehouse product name, where they differ
    products_to_create: list[str]
    errors: list[RowError]
    inserts: dict[str, int] = field(default_factory=dict)  # table -> rows new to the warehouse
    updates: dict[str, int] = field(default_factory=dict)  # table -> rows replaced (same source id)
    groups_to_create: dict[str, list[str]] = field(default_factory=dict)  # region / segment -> new names
    undated: tuple[int, float] = (0, 0.0)  # open deals without a close date (in no period): count, amount

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class ImportReport:
    """What an import changed."""

    kind: str
    inserted: Mapping[str, int]
    updated: Mapping[str, int]
    people_created: tuple[str, ...]
    products_created: tuple[str, ...]
    product_matches: Mapping[str, str]
    seconds: float
    groups_created: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # region / segment -> new names
    undated: tuple[int, float] = (0, 0.0)  # open deals without a close date (in no period): count, amount
