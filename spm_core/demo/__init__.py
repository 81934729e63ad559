"""A deterministic demo warehouse: `build_demo(engine, DemoSpec(...))`.

Generated with numpy from one seed and loaded into DuckDB through Arrow, so 10 million deals take
about a minute; the same seed and "today" give the same warehouse byte for byte.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .. import period_facts, schema
from ..comp.engine import calculate
from ..db import create_schema, drop_schema, insert_frame, make_engine, set_info
from ..filters import Period
from ..pulse.demo import build_responses
from ..stages import DEFAULT_STAGES, stage_rows
from ..transfer import copy_warehouse
from .activities import ACTIVITY_TYPES, OUTCOMES, build_activities
from .calendar import day_number, month_index
from .comp import build_splits, revert_paid_deals, save_demo_plans, seed_pay_cycle
from .deals import LEAD_SOURCES, LOST, TYPES, build_deals
from .geo import locate
from .losses import REASONS, loss_reason_codes
from .org import build_org
from .plans import build_forecast_submissions, build_quotas


@dataclass(frozen=True)
class DemoSpec:
    opportunities: int = 100_000
    activities: int | None = None  # default: five per opportunity
    seed: int = 42
    as_of: date = field(default_factory=date.today)

    @property
    def activity_count(self) -> int:
        return 5 * self.opportunities if self.activities is None else self.activities

    @property
    def rep_count(self) -> int:
        return int(np.clip(self.opportunities // 1500, 12, 6000))

    @property
    def start(self) -> date:
        """History starts on 1 January two years before today's year (almost three years of data)."""
        return date(self.as_of.year - 2, 1, 1)


def build_demo(engine: Engine, spec: DemoSpec) -> dict[str, int]:
    """Replace the warehouse's contents with demo data; returns row counts per table.

    The rows are generated into DuckDB (an Arrow scan loads millions a second); any other warehouse
    gets a copy of a temporary DuckDB one."""
    if spec.opportunities < 1:
        raise ValueError("opportunities must be at least 1")
    if engine.dialect.name != "duckdb":
        with tempfile.TemporaryDirectory(prefix="spm_demo_") as folder:
            scratch = make_engine(f"duckdb:///{folder}/demo.duckdb")
            try:
                counts = build_demo(scratch, spec)
                copy_warehouse(scratch, engine)
            finally:
                scratch.dispose()
        return counts
    rng = np.random.default_rng(spec.seed)
    start, today = day_number(spec.start), day_number(spec.as_of)
    org = build_org(rng, spec.rep_count, max(50, spec.opportunities // 20), start, today)
    org = replace(org, accounts=locate(np.random.default_rng([spec.seed, 14]), org.accounts))
    deals = build_deals(rng, org, spec.opportunities, start, today)
    acts = build_activities(rng, org, deals, spec.activity_count, today)
    last_month = int(month_index(np.array([today]))[0]) // 12 * 12 + 11  # quotas planned to year end
    quotas = build_quotas(rng, org, deals, start, today, last_month)
    submissions = build_forecast_submissions(rng, org, deals, start, today)
    splits = build_splits(rng, org, deals)

    drop_schema(engine)
    create_schema(engine)
    with engine.begin() as conn:
        conn.execute(schema.stage.insert(), stage_rows())
        for table, frame in (
            (schema.region, org.regions),
            (schema.segment, org.segments),
            (schema.team, org.teams),
            (schema.person, org.people),
            (schema.territory, org.territories),
            (schema.account, org.accounts),
            (schema.product, org.products),
            (schema.quota, quotas),
            (schema.forecast_submission, submissions),
        ):
            insert_frame(conn, table, frame)
        _insert_named_opportunities(conn, _opportunity_table(org, deals, acts["last_activity_day"], np.random.default_rng([spec.seed, 23])))
        insert_frame(conn, schema.opportunity_history, _history_table(deals))
        insert_frame(conn, schema.activity, _activity_table(acts))
        responses = build_responses(spec.seed, org.people, org.rep_ids, org.rep_skill, spec.as_of)
        insert_frame(conn, schema.survey_response, responses)
        insert_frame(conn, schema.opportunity_split, splits)
        set_info(
            conn,
            {
                "source": "demo",
                "seed": spec.seed,
                "as_of": spec.as_of.isoformat(),
                "start": spec.start.isoformat(),
                "has_history": "true",
                "has_quotas": "true",
                "opportunities": spec.opportunities,
                "activities": spec.activity_count,
            },
        )
    save_demo_plans(engine, org.people, spec.start, spec.as_of)
    this_quarter = Period.quarter(spec.as_of)
    calculate(engine, this_quarter.previous(), run_by="demo")  # the last whole quarter, then this one so far
    revert_paid_deals(engine, np.random.default_rng([spec.seed, 21]), this_quarter.previous(), spec.as_of)
    # After the reversals, so the stored history numbers hold them too; _history_table wrote history in its
    # clustered order (the reversals' four rows come last, which only costs a little skipping).
    period_facts.rebuild_all(engine, cluster=False)
    calculate(engine, this_quarter, run_by="demo")
    seed_pay_cycle(engine, this_quarter.previous(), this_quarter, int(org.people[org.people["role"] == "rep"]["id"].min()))
    return {
        "people": len(org.people),
        "accounts": len(org.accounts),
        "opportunities": spec.opportunities,
        "opportunity_history": len(deals.history["opp"]),
        "activities": len(acts["opp"]),
        "quotas": len(quotas),
        "forecast_submissions": len(submissions),
        "survey_responses": len(responses),
        "opportunity_splits": len(splits),
    }


def _dates(days: np.ndarray, null_below: int | None = None) -> pa.Array:
    days = np.asarray(days, dtype=np.int32)
    mask = None if null_below is None else days < null_below
    return pa.array(days, type=pa.int32(), mask=mask).cast(pa.date32())


def _labels(codes: np.ndarray, names) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(np.asarray(codes, dtype=np.int8)), pa.array(list(names)))


def _opportunity_table(org, deals, last_activity_day: np.ndarray, rng: np.random.Generator) -> pa.Table:
    code = deals.stage_code
    reasons = loss_reason_codes(rng, deals.type_code, code == LOST)
    probability = np.array([s.probability for s in DEFAULT_STAGES])[code]
    forecast = np.array([s.forecast_category for s in DEFAULT_STAGES])
    categories = sorted(set(forecast))
    n = len(code)
    return pa.table(
        {
            "id": pa.array(np.arange(1, n + 1, dtype=np.int64)),
            "account_id": pa.array(deals.account.astype(np.int32), mask=deals.account == 0),
            "owner_id": pa.array(org.rep_ids[deals.owner_rep].astype(np.int32)),
            "product_id": pa.array(deals.product.astype(np.int32)),
            "type": _labels(deals.type_code, TYPES),
            "amount": pa.array(deals.amount),
            "stage": _labels(code, [s.name for s in DEFAULT_STAGES]),
            "probability": pa.array(probability.astype(np.int32)),
            "forecast_category": _labels(np.searchsorted(categories, forecast[code]), categories),
            "created_date": _dates(deals.created_day),
            "close_date": _dates(deals.close_day),
            "is_closed": pa.array(code >= 5),
            "is_won": pa.array(code == 5),
            "lead_source": _labels(deals.lead_source_code, LEAD_SOURCES),
            "loss_reason": pa.DictionaryArray.from_arrays(pa.array(reasons.astype(np.int8), mask=reasons < 0), pa.array(REASONS)),
            "last_activity_date": _dates(last_activity_day, null_below=0),
        }
    )


def _insert_named_opportunities(conn: sa.Connection, deals: pa.Table) -> None:
    """Insert deals named in the usual CRM way, "Account - Product (Type)", joined inside DuckDB."""
    raw = conn.connection.driver_connection
    raw.register("_demo_deals", deals)
    try:
        cols = ", ".join(f"d.{c}" for c in deals.column_names)
        raw.execute(
            f"INSERT INTO opportunity ({', '.join(deals.column_names)}, name) "
            f"SELECT {cols}, coalesce(a.name, 'No account') || ' - ' || p.name || ' (' || d.type || ')' "
            "FROM _demo_deals d JOIN product p ON p.id = d.product_id LEFT JOIN account a ON a.id = d.account_id"
        )
    finally:
        raw.unregister("_demo_deals")


def _history_table(deals) -> pa.Table:
    """History rows clustered for "as it stood on day d" (history_facts.HISTORY_ORDER): current rows first
    by changed_at, then replaced rows by valid_to, so DuckDB's zone maps skip what cannot match a day."""
    current = np.asarray(deals.history["valid_to"]) < 0
    order = np.lexsort((np.where(current, deals.history["day"], deals.history["valid_to"]), ~current))
    h = {name: np.asarray(values)[order] for name, values in deals.history.items()}
    code = h["stage"]
    forecast = np.array([s.forecast_category for s in DEFAULT_STAGES])
    categories = sorted(set(forecast))
    return pa.table(
        {
            "id": pa.array(order.astype(np.int64) + 1),  # the ids of the deal-and-date order, stored in this one
            "opportunity_id": pa.array(h["opp"] + 1),
            "changed_at": _dates(h["day"]),
            "valid_to": _dates(h["valid_to"], null_below=0),
            "stage": _labels(code, [s.name for s in DEFAULT_STAGES]),
            "amount": pa.array(h["amount"]),
            "close_date": _dates(h["close"]),
            "probability": pa.array(np.array([s.probability for s in DEFAULT_STAGES], dtype=np.int32)[code]),
            "forecast_category": _labels(np.searchsorted(categories, forecast[code]), categories),
            "is_closed": pa.array(code >= 5),
            "is_won": pa.array(code == 5),
        }
    )


def _activity_table(acts: dict[str, np.ndarray]) -> pa.Table:
    n = len(acts["opp"])
    return pa.table(
        {
            "id": pa.array(np.arange(1, n + 1, dtype=np.int64)),
            "person_id": pa.array(acts["person_id"].astype(np.int32)),
            "activity_type": _labels(acts["type_code"], ACTIVITY_TYPES),
            "activity_date": _dates(acts["day"]),
            "account_id": pa.array(acts["account"].astype(np.int32), mask=acts["account"] == 0),
            "opportunity_id": pa.array(acts["opp"] + 1),
            "outcome": _labels(acts["outcome_code"], OUTCOMES),
        }
    )
