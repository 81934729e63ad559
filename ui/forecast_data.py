"""Cached spm_core.forecast queries for the forecast page, keyed like ui.warehouse's (warehouse
version, filters, scope, as_of): a filter change recomputes, a reloaded warehouse invalidates."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from spm_core import forecast
from spm_core.filters import Filters, Period, Scope


@st.cache_data(show_spinner=False, max_entries=128)
def rollup(_engine: Engine, version: str, filters: Filters, scope: Scope, as_of: date) -> pd.DataFrame:
    return forecast.rollup(_engine, filters, scope, as_of)


@st.cache_data(show_spinner=False, max_entries=128)
def category_deals(
    _engine: Engine, version: str, filters: Filters, scope: Scope, category: str, root_id: int | None
) -> pd.DataFrame:
    return forecast.category_deals(_engine, filters, scope, category, root_id)


@st.cache_data(show_spinner=False, max_entries=64)
def submissions(_engine: Engine, version: str, filters: Filters, scope: Scope, quarter: Period, as_of: date) -> pd.DataFrame:
    return forecast.latest_submissions(_engine, filters, scope, quarter, as_of)


@st.cache_data(show_spinner=False, max_entries=64)
def statistical(_engine: Engine, version: str, filters: Filters, scope: Scope, as_of: date) -> forecast.StatisticalForecast:
    return forecast.statistical_forecast(_engine, filters, scope, as_of)


@st.cache_data(show_spinner=False, max_entries=64)
def statistical_deals(_engine: Engine, version: str, filters: Filters, scope: Scope, as_of: date) -> pd.DataFrame:
    cells = statistical(_engine, version, filters, scope, as_of).cells  # the page's cached forecast, not a second run
    return forecast.forecast_deals(_engine, filters, scope, as_of, cells)


@st.cache_data(show_spinner=False, max_entries=64)
def accuracy(_engine: Engine, version: str, filters: Filters, scope: Scope, week: int, as_of: date) -> pd.DataFrame:
    return forecast.accuracy(_engine, filters, scope, week, as_of)
