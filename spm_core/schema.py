"""The warehouse schema, declared once in SQLAlchemy Core.

Tables are declared in code and never reflected (reflection fails on duckdb-engine 0.17, see
PITFALLS.md). Big fact tables (opportunity, opportunity_history, activity) carry no primary-key
constraint: on DuckDB an ART index over tens of millions of rows costs minutes on load and is
never used by the scans the metrics run; ids are still unique by construction and by importer checks.

The same reasoning does not hold on PostgreSQL, whose row-store scans read whole rows: there the
indexes below serve the metrics' period, owner, history and quota lookups. They are PostgreSQL-only
(`ddl_if`), so DuckDB loads stay index-free.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
)

metadata = MetaData()

Money = Numeric(18, 2, asdecimal=False)

region = Table(
    "region",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String, nullable=False, unique=True),
)

segment = Table(
    "segment",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String, nullable=False, unique=True),
)

team = Table(
    "team",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String, nullable=False),
    Column("manager_id", Integer),
    Column("segment_id", Integer),
    Column("region_id", Integer),
)

person = Table(
    "person",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String, nullable=False),
    Column("email", String),
    Column("role", String, nullable=False),  # admin | leader | manager | rep
    Column("manager_id", Integer),
    Column("team_id", Integer),
    Column("segment_id", Integer),
    Column("region_id", Integer),
    Column("hire_date", Date),
    Column("active", Boolean, nullable=False, default=True),
    Column("ramp_months", Integer, nullable=False, default=0),
    Column("source_id", String),
)

territory = Table(
    "territory",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String, nullable=False),
    Column("segment_id", Integer),
    Column("region_id", Integer),
    Column("owner_id", Integer),
)

account = Table(
    "account",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String, nullable=False),
    Column("segment_id", Integer),
    Column("industry", String),
    Column("region_id", Integer),
    Column("country", String),
    Column("territory_id", Integer),
    Column("owner_id", Integer),
    Column("annual_revenue", Money),
    Column("employees", Integer),
    Column("source_id", String),
    # Territory planning (spm_core/planning/territories): where the account is and what it could buy.
    Column("state", String),  # state, province or region within the country
    Column("postcode", String),
    Column("latitude", Double),
    Column("longitude", Double),
    Column("potential", Money),  # yearly spend the account could bring (a wallet estimate or a score)
)

# Columns declared after warehouses already existed: db.add_new_columns gives an older warehouse them on a write.
ADDED_COLUMNS = {
    "account": ("state", "postcode", "latitude", "longitude", "potential"),
    "opportunity": ("sales_channel", "loss_reason"),
}

product = Table(
    "product",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String, nullable=False),
    Column("family", String),
    Column("list_price", Money),
    Column("source_id", String),
)

stage = Table(
    "stage",
    metadata,
    Column("name", String, primary_key=True),
    Column("position", Integer, nullable=False),
    Column("probability", Integer, nullable=False),  # percent, 0-100
    Column("is_closed", Boolean, nullable=False),
    Column("is_won", Boolean, nullable=False),
    Column("forecast_category", String, nullable=False),
)

opportunity = Table(
    "opportunity",
    metadata,
    Column("id", BigInteger, nullable=False),
    Column("source_id", String),
    Column("name", String),
    Column("account_id", Integer),
    Column("owner_id", Integer, nullable=False),
    Column("product_id", Integer),
    Column("type", String),  # new business | expansion | renewal
    Column("amount", Money, nullable=False),
    Column("stage", String, nullable=False),
    Column("probability", Integer, nullable=False),
    Column("forecast_category", String, nullable=False),
    Column("created_date", Date),
    Column("close_date", Date),  # expected while open, actual once closed
    Column("is_closed", Boolean, nullable=False),
    Column("is_won", Boolean, nullable=False),
    Column("lead_source", String),
    Column("last_activity_date", Date),
    Column("sales_channel", String),  # e.g. Direct, Partner, Online, as the CRM names it; NULL when not known
    Column("loss_reason", String),  # why a lost deal was lost, as the CRM's picklist names it; NULL when not recorded
)

# One row per change, holding the whole state after the change (Salesforce OpportunityHistory style)
# with the date the next change replaced it (valid_to, NULL for the current state). The state on day d
# is then a range filter, with no window function: changed_at <= d < valid_to.
opportunity_history = Table(
    "opportunity_history",
    metadata,
    Column("id", BigInteger, nullable=False),
    Column("opportunity_id", BigInteger, nullable=False),
    Column("changed_at", Date, nullable=False),
    Column("valid_to", Date),
    Column("stage", String, nullable=False),
    Column("amount", Money, nullable=False),
    Column("close_date", Date),
    Column("probability", Integer, nullable=False),
    Column("forecast_category", String, nullable=False),
    Column("is_closed", Boolean, nullable=False),
    Column("is_won", Boolean, nullable=False),
)

# Per-deal history facts (spm_core.history_facts), derived from opportunity_history and the stage table so
# the stage views read one row per deal and stage instead of scanning every change. Rebuilt for the deals an
# import touches, and in full by `python -m spm_core rebuild-history-facts`; warehouse_info's history_facts
# says whether they are complete (without it, the views read opportunity_history itself).
deal_stage = Table(
    "deal_stage",
    metadata,
    Column("opportunity_id", BigInteger, nullable=False),
    Column("stage", String, nullable=False),
    Column("entered", Date, nullable=False),  # the first day the deal was in the stage (min changed_at)
    Column("left_at", Date),  # the last day a stint in it ended (max valid_to; NULL when none has ended)
    Column("position", Integer),  # the stage table's; NULL for a stage name it does not hold
    Column("is_won", Boolean),
    Column("next_entered", Date),  # when the deal entered the stage it reached next (order: entered, position)
    Column("advanced", Boolean),  # a later entry reached position + 1 or a won stage (SPEC stage conversion)
)

# One row per deal whose current history row is open (spm_core.history_facts): its stage and the day it has
# been in that stage since, so stalled deals read the open deals' rows instead of every deal's stage facts.
deal_current_stage = Table(
    "deal_current_stage",
    metadata,
    Column("opportunity_id", BigInteger, nullable=False),
    Column("stage", String, nullable=False),
    Column("in_stage_since", Date, nullable=False),  # later of: last left another stage, first entered this one
)

# The pipeline change waterfall's steps (history.pipeline_change) per current owner and product, for the
# standard periods (this and last month, quarter, year) at the warehouse's as_of (spm_core.period_facts):
# a view of any people and products is a sum of these rows. a0..a7 signed amounts, n0..n7 deals.
pipeline_change_fact = Table(
    "pipeline_change_fact",
    metadata,
    Column("as_of", Date, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("owner_id", Integer),
    Column("product_id", Integer),
    *(Column(f"a{i}", Money, nullable=False) for i in range(8)),
    *(Column(f"n{i}", BigInteger, nullable=False) for i in range(8)),
)

# The statistical forecast's learned cohorts (forecast._cohorts) per current owner and product, for the
# standard periods still running at the warehouse's as_of (spm_core.period_facts); k indexes the same
# past periods the live computation picks on that day.
forecast_cohort_fact = Table(
    "forecast_cohort_fact",
    metadata,
    Column("as_of", Date, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("k", Integer, nullable=False),
    Column("stage", String, nullable=False),
    Column("age_bucket", Integer, nullable=False),
    Column("owner_id", Integer),
    Column("product_id", Integer),
    Column("deals", BigInteger, nullable=False),
    Column("amount", Double),
    Column("won", BigInteger, nullable=False),
    Column("won_amount", Double),
)

# The deals open at the start of each standard period with an expected close date in it (their state at the
# end of the day before), the half of "slipped deals" history gives (spm_core.period_facts).
period_open_at_start = Table(
    "period_open_at_start",
    metadata,
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("opportunity_id", BigInteger, nullable=False),
    Column("close_date", Date, nullable=False),
)

# Stage win rates (coaching.stage_wins) per current owner and product, for the standard periods at the
# warehouse's as_of (spm_core.period_facts): of the deals closed in the period that reached each stage,
# how many closed and how many were won; a view of any people and products is a sum of these rows.
stage_win_fact = Table(
    "stage_win_fact",
    metadata,
    Column("as_of", Date, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("owner_id", Integer),
    Column("product_id", Integer),
    Column("stage", String, nullable=False),
    Column("position", Integer, nullable=False),
    Column("closed", BigInteger, nullable=False),
    Column("won", BigInteger, nullable=False),
)

# Forecast accuracy's forecasts (closed + commit as history stood at week N of a past period) per current
# owner and product, for the past periods and week the running standard periods show at the warehouse's
# as_of (spm_core.period_facts); one row with no owner marks each stored (period, week), even when empty.
forecast_accuracy_fact = Table(
    "forecast_accuracy_fact",
    metadata,
    Column("as_of", Date, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("week", Integer, nullable=False),
    Column("owner_id", Integer),
    Column("product_id", Integer),
    Column("forecast", Money, nullable=False),
)

# The median days in each open stage over the year before the warehouse's as_of, for everyone (the stalled
# deals' threshold; spm_core.period_facts).
stint_median_fact = Table(
    "stint_median_fact",
    metadata,
    Column("as_of", Date, nullable=False),
    Column("position", Integer, nullable=False),
    Column("median_days", Double),
)

quota = Table(
    "quota",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("person_id", Integer, nullable=False),
    Column("month", Date, nullable=False),  # first day of the month; quarters and years are sums
    Column("amount", Money, nullable=False),
    Column("quota_type", String, nullable=False, default="bookings"),
    Column("is_ramped", Boolean, nullable=False, default=False),
)

# Every change publishing makes to a quota row, kept for good: the value before and after, by whom, when
# and from which plan. The quota table itself always holds the current values, which every reader uses.
quota_change = Table(
    "quota_change",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("person_id", Integer, nullable=False),
    Column("month", Date, nullable=False),
    Column("quota_type", String, nullable=False),
    Column("previous_amount", Money),  # NULL: the person had no quota that month
    Column("amount", Money, nullable=False),
    Column("is_ramped", Boolean, nullable=False),
    Column("scenario_id", Integer, nullable=False),
    Column("changed_by", String, nullable=False),
    Column("changed_at", DateTime, nullable=False),
)

activity = Table(
    "activity",
    metadata,
    Column("id", BigInteger, nullable=False),
    Column("person_id", Integer, nullable=False),
    Column("activity_type", String, nullable=False),  # call | email | meeting | demo
    Column("activity_date", Date, nullable=False),
    Column("account_id", Integer),
    Column("opportunity_id", BigInteger),
    Column("outcome", String),
)

forecast_submission = Table(
    "forecast_submission",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("person_id", Integer, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("submitted_at", DateTime, nullable=False),
    Column("commit_amount", Money, nullable=False),
    Column("best_case_amount", Money, nullable=False),
    Column("note", String),
    Column("is_override", Boolean, nullable=False, default=False),
)

# Quota planning (spm_core/planning): scenarios until published. Amounts in integer cents (SPEC: children sum
# to the parent to the cent). The allocation is stored with its trace, so a scenario reads the same tomorrow.
plan_scenario = Table(
    "plan_scenario",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("root_id", Integer, nullable=False),
    Column("target_cents", BigInteger, nullable=False),
    Column("levels", String, nullable=False),  # JSON: the allocation rule per depth
    Column("ramp", String, nullable=False),  # percent per month of tenure, e.g. "25,50,75"
    Column("status", String, nullable=False),  # draft | published
    Column("created_by", String, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("as_of", Date, nullable=False),  # the day the measures were read
    Column("copied_from", Integer),
    Column("published_by", String),
    Column("published_at", DateTime),
)

plan_override = Table(
    "plan_override",
    metadata,
    Column("scenario_id", Integer, nullable=False),
    Column("person_id", Integer, nullable=False),
    Column("cents", BigInteger, nullable=False),
    Column("reason", String, nullable=False),
    Column("set_by", String, nullable=False),
    Column("set_at", DateTime, nullable=False),
)

plan_allocation = Table(
    "plan_allocation",
    metadata,
    Column("scenario_id", Integer, nullable=False),
    Column("person_id", Integer, nullable=False),
    Column("parent_id", Integer),
    Column("depth", Integer, nullable=False),
    Column("cents", BigInteger, nullable=False),
    Column("method", String, nullable=False),
    Column("locked", Boolean, nullable=False),
    Column("reason", String, nullable=False),
    Column("rule", String, nullable=False),  # the trace: method, weight / sum of weights, floor, leftover cent
)

plan_submission = Table(
    "plan_submission",
    metadata,
    Column("scenario_id", Integer, nullable=False),
    Column("person_id", Integer, nullable=False),
    Column("cents", BigInteger, nullable=False),
    Column("submitted_by", String, nullable=False),
    Column("submitted_at", DateTime, nullable=False),
)

plan_approval = Table(
    "plan_approval",
    metadata,
    Column("scenario_id", Integer, nullable=False),
    Column("manager_id", Integer, nullable=False),
    Column("approved_by", String, nullable=False),
    Column("approved_at", DateTime, nullable=False),
    Column("fingerprint", String, nullable=False),  # of the subtree's values approved: a later change makes it stale
)

# Planned seats (open headcount, "TBH") of a scenario: reps-to-be who are not people in the warehouse. In
# plan_allocation a seat's person_id is − its seat_id. Filled: person_id is who took it (no sign-in is ever made).
plan_seat = Table(
    "plan_seat",
    metadata,
    Column("scenario_id", Integer, nullable=False),
    Column("seat_id", Integer, nullable=False),
    Column("name", String, nullable=False),
    Column("manager_id", Integer, nullable=False),
    Column("segment_id", Integer),
    Column("start_month", Date, nullable=False),
    Column("person_id", Integer),
    Column("filled_by", String),
    Column("filled_at", DateTime),
)

# A ramp schedule of its own for one person (or seat: node = − seat_id) in a scenario, instead of the plan's.
plan_ramp = Table(
    "plan_ramp",
    metadata,
    Column("scenario_id", Integer, nullable=False),
    Column("node", Integer, nullable=False),
    Column("ramp", String, nullable=False),  # percent per month of tenure, e.g. "50"
    Column("reason", String, nullable=False),
    Column("set_by", String, nullable=False),
    Column("set_at", DateTime, nullable=False),
)

# Opportunity splits (crediting): when an opportunity has rows here they share its credit instead of the
# owner's default 100 %; percent is of the deal's amount. Importers and the demo fill it.
opportunity_split = Table(
    "opportunity_split",
    metadata,
    Column("opportunity_id", BigInteger, primary_key=True, autoincrement=False),
    Column("person_id", Integer, primary_key=True, autoincrement=False),
    Column("percent", Numeric(7, 4), nullable=False),
)

# Facts about the warehouse itself: where its data came from, the "today" a demo was generated for,
# and whether opportunity history and quotas exist (views that need them say so instead of zeros).
warehouse_info = Table(
    "warehouse_info",
    metadata,
    Column("key", String, primary_key=True),
    Column("value", String),
)

# Employee pulse survey (spm_core.pulse): one row per answer. Read only through spm_core.pulse, which never
# shows who answered: groups of fewer than 5 responses are merged, comments carry no person.
survey_response = Table(
    "survey_response",
    metadata,
    Column("id", BigInteger, nullable=False),
    Column("person_id", Integer, nullable=False),
    Column("response_date", Date, nullable=False),
    Column("score", Integer, nullable=False),  # 0-10: "How likely are you to recommend working here?"
    Column("comment", String),
)

# Territory planning (spm_core/planning/territories). A rule claims the accounts matching every criterion it
# sets (NULL: any); postcodes compare as text, so a range needs codes of one length. An assignment names one
# account's territory directly (a key account, an accepted balancing move) and wins over every rule.
territory_rule = Table(
    "territory_rule",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("territory_id", Integer, nullable=False),
    Column("country", String),
    Column("state", String),
    Column("postcode_from", String),
    Column("postcode_to", String),
    Column("industry", String),
    Column("size_band", String),  # spm_core.planning.territories.model.SIZE_BANDS, from employees
    Column("created_by", String, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

territory_assignment = Table(
    "territory_assignment",
    metadata,
    Column("account_id", Integer, primary_key=True, autoincrement=False),
    Column("territory_id", Integer, nullable=False),
    Column("reason", String, nullable=False),
    Column("set_by", String, nullable=False),
    Column("set_at", DateTime, nullable=False),
)

# Published territory designs (spm_core/planning/territories/publish.py): who published which design from
# which date, and whether the moved accounts' open deals follow them. applied_at: when the account owners
# (and open deals) were changed, which waits for the effective date when that is in the future.
territory_publication = Table(
    "territory_publication",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("effective_date", Date, nullable=False),
    Column("open_deals", String, nullable=False),  # move | keep
    Column("note", String),
    Column("published_by", String, nullable=False),
    Column("published_at", DateTime, nullable=False),
    Column("accounts_moved", Integer, nullable=False),
    Column("applied_at", DateTime),
    Column("deals_moved", Integer),
)

# Each account's territory and owner over time, never overwritten: a publication closes the rows it replaces
# (valid_to = its effective date) and adds new ones. In force on day d: valid_from <= d < valid_to, with NULL
# valid_from meaning "since before history began" (the baseline) and NULL valid_to "until further notice".
territory_history = Table(
    "territory_history",
    metadata,
    Column("account_id", Integer, nullable=False),
    Column("territory_id", Integer),
    Column("owner_id", Integer),
    Column("valid_from", Date),
    Column("valid_to", Date),
    Column("publication_id", Integer),  # NULL for the baseline row
)


def _postgres_index(name: str, *columns: Column) -> None:
    Index(name, *columns).ddl_if(dialect="postgresql")


_postgres_index("ix_opportunity_close_date", opportunity.c.close_date)
_postgres_index("ix_opportunity_owner_id", opportunity.c.owner_id)
_postgres_index("ix_opportunity_created_date", opportunity.c.created_date)
_postgres_index("ix_history_opportunity", opportunity_history.c.opportunity_id, opportunity_history.c.changed_at)
_postgres_index("ix_history_changed_at", opportunity_history.c.changed_at, opportunity_history.c.valid_to)
_postgres_index("ix_deal_stage_opportunity", deal_stage.c.opportunity_id)
_postgres_index("ix_deal_stage_entered", deal_stage.c.entered)
_postgres_index("ix_deal_current_stage_opportunity", deal_current_stage.c.opportunity_id)
_postgres_index("ix_activity_person_date", activity.c.person_id, activity.c.activity_date)
_postgres_index("ix_quota_person_month", quota.c.person_id, quota.c.month)
