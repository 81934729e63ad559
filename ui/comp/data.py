"""Cached compensation reads for the comp pages, keyed like ui.pipeline_data's: the warehouse version, the
viewer's scope (or the acting comp admin), the person and the period.

Why here and not in spm_core.result_cache: spm_core.comp reads through connections (a statement is a
dozen small statements on one connection), which the result cache never serves. Why it is safe: every
change the app makes (an approval, a send-back, a lock, a dispute, an adjustment, a plan change, a
calculation) commits through ui.warehouse.writable(), which moves the version (a DuckDB file's
modification time, a PostgreSQL warehouse's data version; a CLI write moves it too), so the next run reads afresh; and every
function below puts the viewer's scope (the Actor, which holds it) in its key beside the person, so one
viewer's entry is never another's. Writes never come here: they keep their own read-write transaction.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from spm_core.comp import audit, cycle, estimator, payroll, schema, statements
from spm_core.comp import disputes as dispute_reads
from spm_core.comp.audit import Actor
from spm_core.comp.statements import Statement
from spm_core.filters import Period, Scope


@st.cache_data(show_spinner=False, max_entries=32)
def is_ready(_engine: Engine, version: str) -> bool:
    return schema.is_ready(_engine)


@st.cache_data(show_spinner=False, max_entries=256)
def statement(_engine: Engine, version: str, scope: Scope, person_id: int, period: Period) -> Statement | None:
    return statements.statement(_engine, scope, person_id, period)


@st.cache_data(show_spinner=False, max_entries=256)
def history(_engine: Engine, version: str, scope: Scope, person_id: int) -> pd.DataFrame:
    return statements.history(_engine, scope, person_id)


@st.cache_data(show_spinner=False, max_entries=256)
def open_deals(_engine: Engine, version: str, scope: Scope, person_id: int) -> pd.DataFrame:
    return estimator.open_deals(_engine, scope, person_id)


@st.cache_data(show_spinner=False, max_entries=256)
def disputes(_engine: Engine, version: str, scope: Scope, status: str | None = None,
             person_id: int | None = None) -> pd.DataFrame:
    return dispute_reads.disputes(_engine, scope, status, person_id)


@st.cache_data(show_spinner=False, max_entries=64)
def periods_in_view(_engine: Engine, version: str, scope: Scope) -> list[Period]:
    return statements.periods_in_view(_engine, scope)


@st.cache_data(show_spinner=False, max_entries=64)
def team(_engine: Engine, version: str, scope: Scope, period: Period) -> pd.DataFrame:
    return statements.team(_engine, scope, period)


@st.cache_data(show_spinner=False, max_entries=64)
def audit_log(_engine: Engine, version: str, scope: Scope, period: Period | None) -> pd.DataFrame:
    return audit.audit_log(_engine, scope, period)


@st.cache_data(show_spinner=False, max_entries=64)
def period_state(_engine: Engine, version: str, period: Period) -> tuple[str, Decimal | None]:
    """The period's state and the auto-approval threshold (settings, not personal data: no scope)."""
    with _engine.connect() as conn:
        return cycle.state(conn, period), cycle.auto_approve_below(conn)


@st.cache_data(show_spinner=False, max_entries=16)
def payroll_of(_engine: Engine, version: str, actor: Actor, period: Period) -> pd.DataFrame:
    """Raises CompError (not cached) for anyone but a comp admin or before the period is locked."""
    return payroll.payroll(_engine, actor, period)

