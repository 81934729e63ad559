"""Cached coaching queries: keyed by the warehouse version, so a load invalidates them."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from spm_core.coaching import activities
from spm_core.coaching import flags as coaching_flags
from spm_core.coaching import scorecard as scorecards
from spm_core.coaching.scorecard_settings import Component, load_components
from spm_core.filters import Filters, Scope


@st.cache_data(show_spinner=False, max_entries=128)
def rep_activity(_engine: Engine, version: str, filters: Filters, scope: Scope, as_of: date) -> pd.DataFrame:
    return activities.rep_activity(_engine, filters, scope, as_of)


@st.cache_data(show_spinner=False, max_entries=128)
def team_ratios(_engine: Engine, version: str, filters: Filters, team_ids: frozenset[int], as_of: date) -> pd.DataFrame:
    return activities.team_ratios(_engine, filters, set(team_ids), as_of)


@st.cache_data(show_spinner=False, max_entries=128)
def weekly(_engine: Engine, version: str, filters: Filters, scope: Scope, rep_id: int, as_of: date) -> pd.DataFrame:
    return activities.weekly(_engine, filters, scope, rep_id, as_of)


@st.cache_data(show_spinner=False, max_entries=64)
def activity_list(_engine: Engine, version: str, filters: Filters, scope: Scope, rep_id: int) -> pd.DataFrame:
    return activities.activity_list(_engine, filters, scope, rep_id)


@st.cache_data(show_spinner=False, max_entries=128)
def scorecard(_engine: Engine, version: str, filters: Filters, scope: Scope, as_of: date) -> pd.DataFrame:
    return scorecards.scorecard(_engine, filters, scope, as_of)


@st.cache_data(show_spinner=False, max_entries=16)
def components(_engine: Engine, version: str) -> tuple[Component, ...]:
    return load_components(_engine)


@st.cache_data(show_spinner="Looking for reps who need help…", max_entries=64)
def flags(_engine: Engine, version: str, filters: Filters, scope: Scope, as_of: date) -> pd.DataFrame:
    return coaching_flags.flags(_engine, filters, scope, as_of)


@st.cache_data(show_spinner=False, max_entries=64)
def strongest(_engine: Engine, version: str, filters: Filters, scope: Scope, as_of: date) -> pd.DataFrame:
    return coaching_flags.strongest(_engine, filters, scope, as_of)
