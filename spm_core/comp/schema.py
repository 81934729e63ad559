"""Compensation tables, declared on the warehouse's one MetaData.

They live with the capability that owns them, so the base schema never imports upward; importing
spm_core.comp registers them, and ensure_schema adds them to a warehouse built before they existed
(create_all skips tables that are there). Money that is paid is DECIMAL with cents and read back as
Decimal; percentages are stored as written in the plan (8 means 8 %), so every product in the engine is
exact decimal arithmetic and nothing is rounded but each line, half-up to cents.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    Numeric,
    Sequence,
    String,
    Table,
    Text,
)
from sqlalchemy.engine import Engine

from ..db import add_columns, missing_columns, present_columns
from ..schema import metadata, opportunity_split

Cents = Numeric(18, 2)  # asdecimal: amounts come back as Decimal
Percent = Numeric(9, 4)

comp_plan = Table(
    "comp_plan",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String, nullable=False, unique=True),
)

# One row per version; [effective_from, effective_to] with effective_to NULL for open-ended.
comp_plan_version = Table(
    "comp_plan_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("plan_id", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("effective_to", Date),
    Column("description", Text),
    Column("saved_at", DateTime, nullable=False),
    Column("year_start_month", Integer),  # the plan year starts on the 1st of this month; NULL: January
)

# kind: commission (rate table, gate, qualifier, caps, clawback window) | bonus (amount at an attainment) |
# spiff (per matching deal in a window) | override (rate on the subtree's bookings) | draw (monthly top-up).
comp_component = Table(
    "comp_component",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("plan_version_id", Integer, nullable=False),
    Column("position", Integer, nullable=False),
    Column("name", String, nullable=False),
    Column("kind", String, nullable=False),
    Column("measure", String, nullable=False),
    Column("mode", String),  # marginal | retroactive (commission)
    Column("gate", Percent),  # no commission below this attainment
    Column("qualifier_kpi", String),
    Column("qualifier_min", Percent),  # the KPI's value in percent (win rate 20 -> 20 %)
    Column("cap_deal", Cents),
    Column("cap_period", Cents),
    Column("cap_year", Cents),
    Column("bonus_at", Percent),
    Column("amount", Cents),
    Column("rate", Percent),
    Column("clawback_days", Integer),
    Column("draw_monthly", Cents),
    Column("recoverable", Boolean),
    Column("window_from", Date),  # spiff
    Column("window_to", Date),
    Column("deal_product", String),
    Column("deal_segment", String),
    Column("deal_type", String),
    Column("deal_min_amount", Cents),
    Column("target", Numeric(18, 4)),  # commission: per month, in the measure's unit, instead of the quota
    Column("capped", Boolean),  # bonus, spiff: counted inside the plan's commission caps
    Column("bonus_per", String),  # bonus: period | year (NULL: period)
)

# For a count measure (won_count) a band's rate is money per unit, not a percent (plans.Band).

# [lower, upper) in percent of quota; upper NULL for the open top band; rate in percent.
comp_rate_band = Table(
    "comp_rate_band",
    metadata,
    Column("component_id", Integer, primary_key=True, autoincrement=False),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("lower", Percent, nullable=False),
    Column("upper", Percent),
    Column("rate", Percent, nullable=False),
)

comp_assignment = Table(
    "comp_assignment",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("person_id", Integer, nullable=False),
    Column("plan_version_id", Integer, nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("effective_to", Date),
)

# A calculation: when, by whom, for which period, on which inputs (what part 2's statements cite).
comp_run = Table(
    "comp_run",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("person_id", Integer),  # NULL: everyone
    Column("run_at", DateTime, nullable=False),
    Column("run_by", String, nullable=False),
    Column("plan_versions", String, nullable=False),  # comma-separated ids in force
    Column("credit_rows", BigInteger, nullable=False),
    Column("line_count", BigInteger, nullable=False),
)

line_id = Sequence("comp_line_id_seq", metadata=metadata)

# One payout line with its trace: the inputs (deal, credit, quota, attainment before/after, band, rate,
# the base the rate or rule applied to, the threshold or limit checked) and the rounded amount. The text
# of the arithmetic is derived from these columns when read (trace.py), so it can never disagree.
comp_line = Table(
    "comp_line",
    metadata,
    Column("id", BigInteger, line_id, server_default=line_id.next_value(), primary_key=True),
    Column("run_id", Integer, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("person_id", Integer, nullable=False),
    Column("plan_version_id", Integer, nullable=False),
    Column("component_id", Integer, nullable=False),
    Column("component", String, nullable=False),
    Column("step", Integer, nullable=False),  # the rule's place in SPEC's order
    Column("rule", String, nullable=False),
    Column("opportunity_id", BigInteger),
    Column("close_date", Date),
    Column("credited", Cents),
    Column("quota", Cents),
    Column("attainment_before", Float),  # shown only; every comparison is done in money
    Column("attainment_after", Float),
    Column("band_lower", Percent),
    Column("band_upper", Percent),
    Column("rate", Percent),
    Column("base", Numeric(24, 8)),  # the money the rate or rule applied to (a band edge may be inside a cent)
    Column("threshold", Percent),  # gate, qualifier or bonus level, in percent
    Column("measured", Float),  # the qualifier KPI's value, in percent
    Column("limit_amount", Cents),  # a cap
    Column("earlier", Cents),  # the year cap: paid earlier in the plan year
    Column("from_person_id", Integer),  # an override: whose bookings
    Column("amount", Cents, nullable=False),
    # Adjustment lines (rules prior_period, manual, dispute): the locked line a difference corrects, the
    # period it belongs to, the rule it recomputed, and the reason a person gave.
    Column("origin_line_id", BigInteger),
    Column("origin_start", Date),
    Column("origin_end", Date),
    Column("origin_rule", String),
    Column("reason", Text),
)

# A period's place in the pay cycle: open -> calculated -> approved -> locked -> paid. Absent means open.
comp_period = Table(
    "comp_period",
    metadata,
    Column("period_start", Date, primary_key=True),
    Column("period_end", Date, primary_key=True),
    Column("state", String, nullable=False),
    Column("changed_at", DateTime, nullable=False),
    Column("changed_by", String, nullable=False),
)

# One decision on one person's statement: level manager or comp_admin, decision approved or sent_back.
comp_approval = Table(
    "comp_approval",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("person_id", Integer, nullable=False),
    Column("level", String, nullable=False),
    Column("decision", String, nullable=False),
    Column("comment", Text),
    Column("decided_by", String, nullable=False),
    Column("decided_at", DateTime, nullable=False),
)

# An inquiry on a line: open until resolved (an adjustment line) or rejected, with the reason.
comp_dispute = Table(
    "comp_dispute",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("line_id", BigInteger, nullable=False),
    Column("person_id", Integer, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("comment", Text, nullable=False),
    Column("raised_by", String, nullable=False),
    Column("raised_at", DateTime, nullable=False),
    Column("status", String, nullable=False),  # open | resolved | rejected
    Column("outcome", Text),
    Column("adjustment_line_id", BigInteger),
    Column("decided_by", String),
    Column("decided_at", DateTime),
)

# Who changed what, when; person_id names whose compensation it touches (NULL: a plan or a whole period).
comp_audit = Table(
    "comp_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("logged_at", DateTime, nullable=False),
    Column("actor", String, nullable=False),
    Column("action", String, nullable=False),
    Column("period_start", Date),
    Column("period_end", Date),
    Column("person_id", Integer),
    Column("detail", Text, nullable=False),
)

# Comp settings: auto_approve_below (statements whose total is under it skip both approval levels).
comp_setting = Table(
    "comp_setting",
    metadata,
    Column("key", String, primary_key=True),
    Column("value", String, nullable=False),
)

COMP_TABLES = (comp_plan, comp_plan_version, comp_component, comp_rate_band, comp_assignment, comp_run, comp_line,
               comp_period, comp_approval, comp_dispute, comp_audit, comp_setting)


def is_ready(engine: Engine) -> bool:
    """Whether the warehouse has every compensation table and column (pages read on a read-only engine,
    which cannot add them)."""
    with engine.connect() as conn:
        present = present_columns(conn)
        return all(t.name in present for t in COMP_TABLES) and not missing_columns(conn, COMP_TABLES)


def ensure_schema(engine: Engine) -> None:
    """Add the compensation tables (and the split table) to a warehouse that lacks them, and the columns
    added since (all nullable) to tables made before they existed (create_all never alters a table)."""
    metadata.create_all(engine, tables=[opportunity_split, *COMP_TABLES])
    with engine.begin() as conn:
        add_columns(conn, missing_columns(conn, COMP_TABLES))
