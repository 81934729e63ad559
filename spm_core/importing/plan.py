"""Resolve parsed CRM rows against the warehouse, without writing anything.

`resolve` decides everything an import needs (warehouse ids, new people, accounts and products, which rows
replace earlier imports) and finds every row that cannot be imported; `plan_import` shows that to the user,
and apply.py runs `resolve` again inside its transaction and writes the result, so a plan that has gone
stale between preview and apply cannot write wrong ids.

Matching rules, because every CRM spells things its own way:
- people, teams and regions: by name ignoring case and runs of whitespace; people also by person.source_id;
- accounts and products: by name ignoring case, spaces and punctuation (`GTXPro` is `GTX Pro`);
- stages: parsed.default_stage_mapping updated by the user's mapping; an unmapped source stage may name an
  app stage itself (ignoring case).
The warehouse's history table has no source id column, so a history row is keyed by (opportunity, day of
the change, order within that day): re-importing a history export replaces the rows it wrote before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .. import schema
from ..db import has_column, has_schema, read_frame
from ..stages import stage_rows
from .model import (
    ACCOUNT_COLUMNS,
    DEAL_ACCOUNT_COLUMNS,
    HISTORY_COLUMNS,
    OPPORTUNITY_COLUMNS,
    PEOPLE_COLUMNS,
    PRODUCT_COLUMNS,
    QUOTA_COLUMNS,
    ImportPlan,
    Parsed,
    RowError,
)

CANONICAL = {
    "opportunities": OPPORTUNITY_COLUMNS | DEAL_ACCOUNT_COLUMNS,
    "history": HISTORY_COLUMNS,
    "quotas": QUOTA_COLUMNS,
    "people": PEOPLE_COLUMNS,
    "accounts": ACCOUNT_COLUMNS,
    "products": PRODUCT_COLUMNS,
}
REQUIRED = {
    "opportunities": ("source_id", "owner", "amount", "stage"),
    "history": ("source_id", "opportunity_source_id", "changed_at", "stage"),
    "quotas": ("owner", "month", "amount"),
    "people": ("name",),
    "accounts": ("name",),
    "products": ("name",),
}
ROLES = ("admin", "leader", "manager", "rep")
TABLES = ("region", "segment", "team", "person", "account", "product", "opportunity", "opportunity_history", "quota")
STAGE_TYPES = {
    "stage": "string",
    "probability": "Int64",
    "forecast_category": "string",
    "is_closed": "boolean",
    "is_won": "boolean",
}
KEY_CHUNK = 10_000  # bound values per IN list where the warehouse cannot join an Arrow view


def name_key(names: pd.Series) -> pd.Series:
    """People, teams and regions: ` Ann  Lee` is `ann lee`."""
    return names.astype("string").str.strip().str.replace(r"\s+", " ", regex=True).str.casefold()


def catalogue_key(names: pd.Series) -> pd.Series:
    """Accounts and products: `GTXPro`, `GTX Pro` and `gtx-pro` are one product."""
    return names.astype("string").str.casefold().str.replace(r"[\W_]+", "", regex=True)


@contextmanager
def key_conditions(conn: sa.Connection, column: sa.Column, values: pd.Series) -> Iterator[list[sa.ColumnElement]]:
    """Conditions `column IN values` that together cover all values, without one bound parameter per value
    on DuckDB (one condition joining an Arrow view); other warehouses get chunks of bound lists."""
    unique = pd.Series(values).dropna().unique()
    if conn.dialect.name != "duckdb":
        yield [column.in_(unique[i : i + KEY_CHUNK].tolist()) for i in range(0, len(unique), KEY_CHUNK)]
        return
    raw = conn.connection.driver_connection
    view = f"_keys_{column.table.name}_{column.name}"
    raw.register(view, pa.table({"k": pa.array(np.asarray(unique, dtype=object) if len(unique) else [], from_pandas=True)}))
    try:
        yield [column.in_(sa.select(sa.column("k")).select_from(sa.table(view)))]
    finally:
        raw.unregister(view)


@dataclass(frozen=True)
class Write:
    """Rows for one table, first deleting the rows whose `key` is in `replaces` (an upsert as delete + insert)."""

    table: sa.Table
    rows: pd.DataFrame
    key: sa.Column | None = None
    replaces: pd.Series = field(default_factory=lambda: pd.Series(dtype="Int64"))


@dataclass
class Resolution:
    """Everything apply_import writes, in order, and the decisions behind it."""

    stage_mapping: dict[str, str]
    errors: list[RowError]
    people_to_create: list[str]
    product_matches: dict[str, str]
    products_to_create: list[str]
    writes: list[Write]
    inserts: dict[str, int]
    updates: dict[str, int]
    stages_missing: bool  # the stage table is empty: apply writes the default stages first
    groups_to_create: dict[str, list[str]]  # region / segment -> names new to the warehouse
    undated: tuple[int, float]  # open deals of the import without a close date: how many, their amount

    def plan(self, parsed: Parsed) -> ImportPlan:
        return ImportPlan(
            parsed=parsed,
            stage_mapping=self.stage_mapping,
            people_to_create=self.people_to_create,
            product_matches=self.product_matches,
            products_to_create=self.products_to_create,
            errors=self.errors,
            inserts=self.inserts,
            updates=self.updates,
            groups_to_create=self.groups_to_create,
            undated=self.undated,
        )


@dataclass
class _Source:
    """The import being resolved and the warehouse it is resolved against."""

    conn: sa.Connection
    exists: bool  # False: no schema yet, so every table reads as empty
    parsed: Parsed
    frames: dict[str, pd.DataFrame]
    errors: list[RowError]

    def read(self, *columns: sa.Column, where: sa.ColumnElement | None = None) -> pd.DataFrame:
        if not self.exists:
            return pd.DataFrame({c.name: pd.Series(dtype=object) for c in columns})
        stmt = sa.select(*columns)
        return read_frame(self.conn, stmt if where is None else stmt.where(where))

    def read_in(self, columns: list[sa.Column], key: sa.Column, values: pd.Series) -> pd.DataFrame:
        """Rows whose key is in values: reads scale with the import, not with the warehouse."""
        if not self.exists or values.dropna().empty:
            return self.read(*columns, where=sa.false())
        with key_conditions(self.conn, key, values) as conditions:
            return pd.concat([self.read(*columns, where=c) for c in conditions], ignore_index=True)

    def next_id(self, table: sa.Table) -> int:
        if not self.exists:
            return 1
        return int(self.conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one()) + 1

    def lines(self, name: str) -> np.ndarray:
        """Each row's line in its file (header = 1), as the parse step recorded it."""
        lines = self.parsed.line_numbers.get(name)
        return lines.to_numpy() if lines is not None else np.arange(len(self.frames[name])) + 2

    def fail(self, name: str, mask: pd.Series, column: str, why: str | pd.Series, fix: str | pd.Series = "") -> None:
        """A RowError for each row of frame `name` where mask holds, at its line in its file."""
        positions = np.flatnonzero(np.asarray(mask, dtype=bool))
        if not len(positions):
            return
        rows = self.lines(name)[positions]
        values = self.frames[name][column].iloc[positions].astype("string").fillna("")
        whys, fixes = (text.iloc[positions] if isinstance(text, pd.Series) else [text] * len(positions) for text in (why, fix))
        file = self.parsed.files.get(name, name)
        self.errors += [
            RowError(file, int(r), column, str(v), str(w), str(f)) for r, v, w, f in zip(rows, values, whys, fixes, strict=True)
        ]


def plan_import(engine: Engine, parsed: Parsed, stage_mapping: Mapping[str, str] | None = None) -> ImportPlan:
    """What importing `parsed` would do; reads the warehouse (which may have no schema yet), writes nothing."""
    exists = has_schema(engine)
    with engine.connect() as conn:
        return resolve(conn, parsed, stage_mapping, exists=exists).plan(parsed)


def resolve(
    conn: sa.Connection, parsed: Parsed, stage_mapping: Mapping[str, str] | None = None, *, exists: bool = True
) -> Resolution:
    """Resolve `parsed` against the warehouse behind `conn`: the rows to write and every row error."""
    src = _Source(conn, exists, parsed, _canonical(parsed), list(parsed.errors))
    if not parsed.errors:  # else the parse step has reported these rows already, in the source's own column names
        _check_rows(src)
    stages = src.read(*(schema.stage.c[c] for c in ("name", "position", *STAGE_TYPES) if c != "stage"))
    stages_missing = stages.empty
    if stages_missing:
        stages = pd.DataFrame(stage_rows())
    stages = stages.sort_values("position").set_index("name").drop(columns="position")
    mapping = _stage_mapping(src, stages, {**parsed.default_stage_mapping, **(stage_mapping or {})})

    deals = src.frames["opportunities"]
    accounts, account_ids, _ = _catalogue(
        src, schema.account, "accounts", deals[["account", *DEAL_ACCOUNT_COLUMNS]].rename(columns={"account": "name"})
    )
    regions, teams, people, person_ids, region_ids = _people(src, accounts["region"])
    segments, segment_ids = _dimension(src, schema.segment, accounts["segment"])
    accounts = accounts.drop(columns=["region", "segment"]).assign(
        region_id=name_key(accounts["region"]).map(region_ids).astype("Int64"),
        segment_id=name_key(accounts["segment"]).map(segment_ids).astype("Int64"),
    )
    products, product_ids, matches = _catalogue(
        src, schema.product, "products", deals[["product"]].rename(columns={"product": "name"})
    )
    opportunities, replaced_opportunities = _opportunities(src, stages, mapping, person_ids, account_ids, product_ids)
    history, touched, history_counts = _history(src, stages, mapping, opportunities)
    quotas, replaced_quotas = _quotas(src, person_ids)

    writes = [
        Write(schema.region, regions),
        Write(schema.segment, segments),
        Write(schema.team, teams),
        Write(schema.person, people),
        Write(schema.account, accounts),
        Write(schema.product, products),
        Write(schema.opportunity, opportunities, schema.opportunity.c.id, replaced_opportunities),
        Write(schema.opportunity_history, history, schema.opportunity_history.c.opportunity_id, touched),
        Write(schema.quota, quotas, schema.quota.c.id, replaced_quotas),
    ]
    updates = dict.fromkeys(TABLES, 0)
    updates |= {
        "opportunity": len(replaced_opportunities),
        "opportunity_history": history_counts[1],
        "quota": len(replaced_quotas),
    }
    inserts = {w.table.name: len(w.rows) - updates[w.table.name] for w in writes}
    inserts["opportunity_history"] = history_counts[0]
    return Resolution(
        stage_mapping=mapping,
        errors=sorted(src.errors, key=lambda e: (e.file, e.row, e.column)),
        people_to_create=people["name"].tolist(),
        product_matches=matches,
        products_to_create=products["name"].tolist(),
        writes=writes,
        inserts=inserts,
        updates=updates,
        stages_missing=stages_missing,
        groups_to_create={
            "region": regions["name"].tolist(),
            "segment": segments["name"].tolist(),
            "sales_channel": _new_channels(src, opportunities["sales_channel"]),
        },
        undated=_undated(opportunities),
    )


def _new_channels(src: _Source, channels: pd.Series) -> list[str]:
    """Sales channels the file names that no deal in the warehouse has yet: listed like new regions, so a
    typo ("Parnter") shows before it becomes a channel of its own."""
    named = _distinct(channels)
    if named.empty:
        return []
    known: set[str] = set()
    if src.exists and has_column(src.conn, schema.opportunity.c.sales_channel):
        column = schema.opportunity.c.sales_channel
        seen = src.conn.execute(sa.select(column).where(column.is_not(None)).distinct()).scalars().all()
        known = set(name_key(pd.Series(seen, dtype="string")).dropna())
    return [name for name, key in zip(named, name_key(named), strict=True) if key not in known]


def _undated(opportunities: pd.DataFrame) -> tuple[int, float]:
    """Open deals without a close date belong to no period (SPEC): the import says how many and how much."""
    undated = ~opportunities["is_closed"].fillna(False).astype(bool) & opportunities["close_date"].isna()
    return int(undated.sum()), float(opportunities.loc[undated, "amount"].sum())


def _canonical(parsed: Parsed) -> dict[str, pd.DataFrame]:
    """Every frame with exactly its canonical columns and types, indexed by position (absent frames are empty)."""
    frames = {}
    for name, columns in CANONICAL.items():
        frame = getattr(parsed, name)
        frame = pd.DataFrame() if frame is None else frame.reset_index(drop=True)
        missing = {c: pd.Series(None, index=frame.index, dtype=t) for c, t in columns.items() if c not in frame}
        frames[name] = frame.assign(**missing)[list(columns)].astype(columns)
    return frames


def _check_rows(src: _Source) -> None:
    """Required values are present and keys are listed once; the parse step should have caught these, but a
    NULL here would otherwise surface as a database error halfway through apply."""
    for name, columns in REQUIRED.items():
        for column in columns:
            values = src.frames[name][column]
            blank = values.str.strip().eq("").fillna(False) if pd.api.types.is_string_dtype(values) else False
            src.fail(name, values.isna() | blank, column, f"{column} is required")
    frames = src.frames
    _duplicates(src, "opportunities", "source_id", frames["opportunities"]["source_id"])
    _duplicates(src, "history", "source_id", frames["history"]["source_id"])
    _duplicates(src, "people", "name", name_key(frames["people"]["name"]))
    _duplicates(src, "accounts", "name", catalogue_key(frames["accounts"]["name"]))
    _duplicates(src, "products", "name", catalogue_key(frames["products"]["name"]))
    roles = name_key(frames["people"]["role"])
    src.fail("people", roles.notna() & ~roles.isin(ROLES), "role", f"role must be one of {', '.join(ROLES)}")


def _duplicates(src: _Source, name: str, column: str, keys: pd.Series, what: str = "listed more than once") -> None:
    """A RowError for each row whose key an earlier row of the same frame already has."""
    keys = keys.reset_index(drop=True)
    repeated = keys.duplicated() & keys.notna()
    if not repeated.any():
        return
    first = pd.Series(np.arange(len(keys))).groupby(keys.fillna("").to_numpy()).transform("min").to_numpy()
    why = f"{what} (first on line " + pd.Series(src.lines(name)[first]).astype(str) + ")"
    src.fail(name, repeated, column, why)


def _distinct(names: pd.Series) -> pd.Series:
    return pd.Series(names.dropna().unique(), dtype="string")


def _lookup(keys: pd.Series, values: pd.Series) -> dict:
    """key -> value, the first row winning where keys repeat."""
    pairs = pd.DataFrame({"k": keys.to_numpy(), "v": values.to_numpy()}).dropna(subset="k").drop_duplicates("k")
    return dict(zip(pairs["k"], pairs["v"], strict=True))


def _per_distinct(values: pd.Series, compute: Callable[[pd.Series], pd.DataFrame]) -> pd.DataFrame:
    """compute() once per distinct value, spread to every row (a million deals name a few hundred owners and
    stages); compute returns nullable dtypes so that rows with a missing value get NA."""
    codes, uniques = pd.factorize(values)
    table = compute(pd.Series(uniques, dtype=values.dtype)).reset_index(drop=True)
    padded = table.reindex(range(len(table) + 1))  # code -1 (a missing value) takes the last, all-NA row
    return padded.take(codes).set_axis(values.index)


def _ids_for(names: pd.Series, key: Callable[[pd.Series], pd.Series], lookup: Mapping[str, int]) -> pd.Series:
    """Warehouse ids for names, by their matching key."""
    return _per_distinct(names, lambda u: key(u).map(lookup).astype("Int64").to_frame("id"))["id"]


def _isin(values: pd.Series, among: pd.Series) -> np.ndarray:
    """values.isin(among) for big string columns (pandas' version loops in Python over `among`)."""
    found = pc.is_in(pa.array(values.astype("string")), value_set=pa.array(among.astype("string")))
    return found.fill_null(False).to_numpy(zero_copy_only=False)


def _assign_ids(ids: pd.Series, next_id: int) -> pd.Series:
    """Existing ids stay; rows without one get the next free ids, in row order."""
    fresh = ids.isna()
    return ids.astype("Int64").fillna(next_id + fresh.cumsum() - 1).astype("int64")


def _stage_mapping(src: _Source, stages: pd.DataFrame, wanted: Mapping[str, str]) -> dict[str, str]:
    """Source stage -> app stage for every stage the import uses; rows with a stage that maps to none fail."""
    by_folded = {name.casefold(): name for name in stages.index}
    used = pd.concat([src.frames["opportunities"]["stage"], src.frames["history"]["stage"]]).dropna().unique()
    mapping, unknown = {}, {}
    for source in used:
        target = str(wanted.get(source, source))
        app = by_folded.get(target.casefold())
        if app is not None:
            mapping[source] = app
        else:
            via = f" (mapped to `{target}`)" if target != source else ""
            unknown[source] = f"`{source}`{via} is not a known stage; the app's stages are {', '.join(stages.index)}"
    fixes = {source: f'--stage "{source}=<app stage>"' for source in unknown}
    for name in ("opportunities", "history"):
        stage = src.frames[name]["stage"]
        src.fail(name, stage.isin(list(unknown)), "stage", stage.map(unknown), stage.map(fixes))
    return mapping


def _stage_columns(frame: pd.DataFrame, stages: pd.DataFrame, mapping: Mapping[str, str]) -> pd.DataFrame:
    """The app stage of each row and what follows from it; the source's probability and forecast category win."""

    def props(source: pd.Series) -> pd.DataFrame:
        app = source.map(mapping).astype("string")
        found = stages.reindex(app.to_numpy()).reset_index(drop=True)
        return found.assign(stage=app).astype(STAGE_TYPES)

    columns = _per_distinct(frame["stage"], props)
    return columns.assign(
        probability=frame["probability"].fillna(columns["probability"]),
        forecast_category=frame["forecast_category"].fillna(columns["forecast_category"]),
    )


def _dimension(src: _Source, table: sa.Table, names: pd.Series) -> tuple[pd.DataFrame, dict]:
    """New rows (id, name) for names not in the table yet, and name key -> id for all of them."""
    existing = src.read(table.c.id, table.c.name).sort_values("id")
    lookup = _lookup(name_key(existing["name"]), existing["id"])
    wanted = pd.DataFrame({"name": _distinct(names)})
    wanted["key"] = name_key(wanted["name"])
    new = wanted[~wanted["key"].isin(list(lookup))].drop_duplicates("key")
    new.insert(0, "id", src.next_id(table) + np.arange(len(new)))
    return new[["id", "name"]].reset_index(drop=True), lookup | dict(zip(new["key"], new["id"], strict=True))


def _people(src: _Source, account_regions: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict, dict]:
    """New regions (of new people and new accounts), teams and people, name key -> person id for everyone the
    import names, and name key -> region id.

    People in the people frame are created with their attributes; owners and managers found nowhere are
    created without a manager (as managers when someone reports to them, otherwise as reps). People already
    in the warehouse are matched and left as they are."""
    p = schema.person.c
    existing = src.read(p.id, p.name, p.source_id).sort_values("id")
    known = _lookup(name_key(existing["source_id"]), existing["id"]) | _lookup(name_key(existing["name"]), existing["id"])
    frame = src.frames["people"].assign(key=lambda f: name_key(f["name"]))
    defined = frame[frame["key"].notna() & ~frame["key"].isin(list(known))].drop_duplicates("key")
    managers, owners = (
        _distinct(frame["manager"]),
        _distinct(pd.concat([src.frames["opportunities"]["owner"], src.frames["quotas"]["owner"]])),
    )
    named = pd.DataFrame({"name": pd.concat([managers, owners]), "role": ["manager"] * len(managers) + ["rep"] * len(owners)})
    named["key"] = name_key(named["name"])
    named = named[~named["key"].isin([*known, *defined["key"]])].drop_duplicates("key")
    new = pd.concat([defined.assign(role=name_key(defined["role"]).fillna("rep")), named], ignore_index=True)
    new["name"] = new["name"].astype("string").str.strip().str.replace(r"\s+", " ", regex=True)
    new["id"] = src.next_id(schema.person) + np.arange(len(new))
    person_ids = known | dict(zip(new["key"], new["id"], strict=True))

    regions, region_ids = _dimension(src, schema.region, pd.concat([new["region"], account_regions], ignore_index=True))
    teams, team_ids = _dimension(src, schema.team, new["team"])
    region_id = name_key(new["region"]).map(region_ids).astype("Int64")
    team_id = name_key(new["team"]).map(team_ids).astype("Int64")
    people = pd.DataFrame(
        {
            "id": new["id"],
            "name": new["name"],
            "email": new["email"].astype("string"),
            "role": new["role"].astype("string"),
            "manager_id": name_key(new["manager"]).map(person_ids).astype("Int64"),
            "team_id": team_id,
            "region_id": region_id,
            "hire_date": new["hire_date"].astype("datetime64[ns]"),
            "active": True,
            "ramp_months": 0,
            "source_id": new["name"],
        }
    )
    return regions, _team_rows(teams, people), people, person_ids, region_ids


def _team_rows(teams: pd.DataFrame, people: pd.DataFrame) -> pd.DataFrame:
    """New teams, led by their first new member with the manager role, in their first new member's region."""
    members = people[people["team_id"].isin(teams["id"])]
    leads = members[members["role"] == "manager"].drop_duplicates("team_id").set_index("team_id")["id"]
    region = members.dropna(subset="region_id").drop_duplicates("team_id").set_index("team_id")["region_id"]
    return teams.assign(
        manager_id=teams["id"].map(leads).astype("Int64"),
        region_id=teams["id"].map(region).astype("Int64"),
    )


def _catalogue(src: _Source, table: sa.Table, name: str, referenced: pd.DataFrame) -> tuple[pd.DataFrame, dict, dict[str, str]]:
    """Accounts or products: new rows (from the frame `name`, with attributes, or named by deals with theirs:
    the first row naming one wins), key -> id, and each source spelling -> the name it matched where they differ.

    The rows keep any extra column of `referenced` (an account's region and segment names)."""
    existing = src.read(table.c.id, table.c.name).sort_values("id")
    existing_keys = catalogue_key(existing["name"])
    lookup, spelled = _lookup(existing_keys, existing["id"]), _lookup(existing_keys, existing["name"])
    named = referenced[referenced["name"].notna()].drop_duplicates("name")
    candidates = pd.concat([src.frames[name], named], ignore_index=True)
    candidates["key"] = catalogue_key(candidates["name"])
    new = candidates[candidates["key"].notna() & ~candidates["key"].isin(list(lookup))].drop_duplicates("key")
    new = new.assign(id=src.next_id(table) + np.arange(len(new)), source_id=new["name"])
    lookup |= dict(zip(new["key"], new["id"], strict=True))
    spelled |= dict(zip(new["key"], new["name"], strict=True))
    spellings = _distinct(candidates["name"])
    matched = catalogue_key(spellings).map(spelled)
    differ = matched.notna() & (matched != spellings)
    matches = dict(zip(spellings[differ], matched[differ], strict=True))
    extra = [c for c in referenced.columns if c not in CANONICAL[name]]
    rows = new[["id", *CANONICAL[name], *extra, "source_id"]].astype({**CANONICAL[name], "source_id": "string"})
    return rows.reset_index(drop=True), lookup, matches


def _opportunities(
    src: _Source, stages: pd.DataFrame, mapping: Mapping[str, str], person_ids: dict, account_ids: dict, product_ids: dict
) -> tuple[pd.DataFrame, pd.Series]:
    """Opportunity rows in their new state (an existing source id keeps its id and last activity date),
    and the ids of the rows they replace."""
    o = schema.opportunity.c
    opps = src.frames["opportunities"]
    existing = src.read_in([o.id, o.source_id, o.last_activity_date], o.source_id, opps["source_id"])
    existing = existing.sort_values("id").drop_duplicates("source_id").astype({"source_id": "string"})
    merged = opps[["source_id"]].merge(existing, on="source_id", how="left")
    rows = pd.DataFrame(
        {
            "id": _assign_ids(merged["id"], src.next_id(schema.opportunity)),
            "source_id": opps["source_id"],
            "name": opps["name"],
            "account_id": _ids_for(opps["account"], catalogue_key, account_ids),
            "owner_id": _ids_for(opps["owner"], name_key, person_ids),
            "product_id": _ids_for(opps["product"], catalogue_key, product_ids),
            "type": opps["type"],
            "amount": opps["amount"],
            "created_date": opps["created_date"],
            "close_date": opps["close_date"],
            "lead_source": opps["lead_source"],
            "sales_channel": opps["sales_channel"],
            "loss_reason": opps["loss_reason"],
            "last_activity_date": merged["last_activity_date"].astype("datetime64[ns]"),
        }
    )
    rows = pd.concat([rows, _stage_columns(opps, stages, mapping)], axis=1)
    return rows, merged["id"].dropna().astype("int64").reset_index(drop=True)


def _history(
    src: _Source, stages: pd.DataFrame, mapping: Mapping[str, str], opportunities: pd.DataFrame
) -> tuple[pd.DataFrame, pd.Series, tuple[int, int]]:
    """The whole history of every opportunity the imported history touches (earlier rows kept, rows of the
    same opportunity and day replaced, valid_to recomputed), those opportunity ids, and (inserted, updated)."""
    hist = src.frames["history"]
    known = _history_opportunities(src, opportunities, hist["opportunity_source_id"])
    opportunity_id = hist["opportunity_source_id"].map(known["id"])
    unknown = hist["opportunity_source_id"].notna() & opportunity_id.isna()
    src.fail("history", unknown, "opportunity_source_id", "no opportunity with this id in this import or in the warehouse")

    rows = pd.concat(
        [hist.drop(columns=["stage", "probability", "forecast_category"]), _stage_columns(hist, stages, mapping)], axis=1
    )
    rows = rows.assign(opportunity_id=opportunity_id.astype("Int64"), position=np.arange(len(hist)))
    rows = rows[rows["opportunity_id"].notna() & rows["changed_at"].notna()].sort_values(
        ["opportunity_id", "changed_at", "position"]
    )
    rows["changed_at"] = rows["changed_at"].dt.normalize().astype("datetime64[ns]")
    rows["n"] = rows.groupby(["opportunity_id", "changed_at"]).cumcount()

    existing = _existing_history(src, rows["opportunity_id"])
    keys = ["opportunity_id", "changed_at"]
    day_keys = rows[keys].drop_duplicates()
    replaced = existing.merge(day_keys, on=keys, how="left", indicator=True)["_merge"].eq("both").to_numpy()
    matched = rows.merge(existing.loc[replaced, [*keys, "n", "id"]], on=[*keys, "n"], how="left")
    updated = int(matched["id"].notna().sum())
    matched["id"] = _assign_ids(matched["id"], src.next_id(schema.opportunity_history))

    columns = list(schema.opportunity_history.c.keys())
    full = pd.concat([existing.loc[~replaced], matched], ignore_index=True).sort_values(["opportunity_id", "changed_at", "id"])
    full = _fill_states(full, known.set_index("id")["amount"])
    return full[columns].reset_index(drop=True), day_keys["opportunity_id"].drop_duplicates(), (len(matched) - updated, updated)


def _history_opportunities(src: _Source, opportunities: pd.DataFrame, wanted: pd.Series) -> pd.DataFrame:
    """id and amount by source id of the opportunities history rows name: this import's, then the warehouse's."""
    o = schema.opportunity.c
    imported = opportunities[["id", "source_id", "amount"]]
    others = src.read_in([o.id, o.source_id, o.amount], o.source_id, wanted[~_isin(wanted, imported["source_id"])])
    known = pd.concat([imported, others.astype({"source_id": "string"})], ignore_index=True).drop_duplicates("source_id")
    return known.set_index("source_id")


def _existing_history(src: _Source, opportunity_ids: pd.Series) -> pd.DataFrame:
    """The warehouse's history rows of these opportunities, numbered within each (opportunity, day)."""
    h = schema.opportunity_history
    existing = src.read_in(list(h.c), h.c.opportunity_id, opportunity_ids)
    existing = existing.astype({"opportunity_id": "Int64", "changed_at": "datetime64[ns]"}).sort_values(
        ["opportunity_id", "changed_at", "id"]
    )
    return existing.assign(n=existing.groupby(["opportunity_id", "changed_at"]).cumcount())


def _fill_states(full: pd.DataFrame, amounts: pd.Series) -> pd.DataFrame:
    """Each row holds the whole state after its change: a missing amount or close date is the previous row's
    (the deal's current amount before any), and valid_to is the next change of the same opportunity."""
    by_opportunity = full.groupby("opportunity_id", sort=False)
    amount = by_opportunity["amount"].ffill().fillna(full["opportunity_id"].map(amounts))
    following = full["opportunity_id"].shift(-1) == full["opportunity_id"]
    return full.assign(
        amount=amount.astype("float64"),
        close_date=by_opportunity["close_date"].ffill().astype("datetime64[ns]"),
        valid_to=full["changed_at"].shift(-1).where(following.fillna(False).astype(bool)).astype("datetime64[ns]"),
    )


def _quotas(src: _Source, person_ids: dict) -> tuple[pd.DataFrame, pd.Series]:
    """Quota rows keyed by (person, first day of month): an existing key keeps its id and ramp flag."""
    q = schema.quota.c
    quotas = src.frames["quotas"]
    person_id = _ids_for(quotas["owner"], name_key, person_ids)
    month = quotas["month"].dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]")
    keys = person_id.astype("string") + "|" + month.astype("string")
    _duplicates(src, "quotas", "month", keys, "a second quota for this owner and month")
    existing = src.read(q.id, q.person_id, q.month, q.is_ramped, where=q.quota_type == "bookings")
    existing = (
        existing.astype({"person_id": "Int64", "month": "datetime64[ns]"})
        .sort_values("id")
        .drop_duplicates(["person_id", "month"])
    )
    merged = pd.DataFrame({"person_id": person_id, "month": month}).merge(existing, how="left")
    rows = pd.DataFrame(
        {
            "id": _assign_ids(merged["id"], src.next_id(schema.quota)),
            "person_id": person_id,
            "month": month,
            "amount": quotas["amount"],
            "quota_type": "bookings",
            "is_ramped": merged["is_ramped"].astype("boolean").fillna(False),
        }
    )
    return rows, merged["id"].dropna().astype("int64").reset_index(drop=True)
