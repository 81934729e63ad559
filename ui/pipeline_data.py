"""Cached history queries for the pipeline page, keyed like ui.warehouse's (warehouse version,
filters, scope, as_of), so a filter change recomputes and a reloaded warehouse invalidates them.

NeedsHistory is raised, not cached: st.cache_data stores only return values, and the check behind
it is one small read of warehouse_info.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from spm_core import history
from spm_core.filters import Filters, Scope
from spm_core.pipeline import open_stages


@st.cache_data(show_spinner=False, max_entries=32)
def stages(_engine: Engine, version: str) -> pd.DataFrame:
    return open_stages(_engine)


@st.cache_data(show_spinner=False, max_entries=128)
def pipeline_change(_engine: Engine, version: str, filters: Filters, scope: Scope, as_of: date) -> pd.DataFrame:
    return history.pipeline_change(_engine, filters, scope, as_of)


@st.cache_data(show_spinner=False, max_entries=128)
def stage_conversion(_engine: Engine, version: str, filters: Filters, scope: Scope) -> pd.DataFrame:
    return history.stage_conversion(_engine, filters, scope)


@st.cache_data(show_spinner=False, max_entries=64)
def stalled_deals(_engine: Engine, version: str, filters: Filters, scope: Scope, as_of: date) -> pd.DataFrame:
    return history.stalled_deals(_engine, filters, scope, as_of)


@st.cache_data(show_spinner=False, max_entries=64)
def slipped_deals(_engine: Engine, version: str, filters: Filters, scope: Scope) -> pd.DataFrame:
    return history.slipped_deals(_engine, filters, scope)


@st.cache_data(show_spinner=False, max_entries=64)
def overdue_deals(_engine: Engine, version: str, filters: Filters, scope: Scope, as_of: date) -> pd.DataFrame:
    return history.overdue_deals(_engine, filters, scope, as_of)
