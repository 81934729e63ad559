"""Cached spm_core.attainment queries for the attainment page, keyed like ui.warehouse's (warehouse
version, filters, scope, as_of): a filter change recomputes, a reloaded warehouse invalidates."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from spm_core import attainment
from spm_core.filters import Filters, Scope


@st.cache_data(show_spinner=False, max_entries=256)
def by_level(_engine: Engine, version: str, filters: Filters, scope: Scope, level: str, as_of: date) -> pd.DataFrame:
    return attainment.attainment_by(_engine, filters, scope, level, as_of)


@st.cache_data(show_spinner=False, max_entries=128)
def cumulative(_engine: Engine, version: str, filters: Filters, scope: Scope, as_of: date) -> pd.DataFrame:
    return attainment.cumulative_bookings_vs_quota(_engine, filters, scope, as_of)


@st.cache_data(show_spinner=False, max_entries=256)
def group_filters(_engine: Engine, version: str, filters: Filters, level: str, group_id: int | None) -> Filters:
    return attainment.group_filters(_engine, filters, level, group_id)
