"""Cached pulse figures for the pulse page, keyed by the warehouse version like every cached query."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from spm_core import metrics
from spm_core.filters import Filters, Period, Scope
from spm_core.pulse import enps, turnover


@st.cache_data(show_spinner=False, max_entries=64)
def company(_engine: Engine, version: str, period: Period) -> pd.DataFrame:
    return enps.company(_engine, period)


@st.cache_data(show_spinner=False, max_entries=128)
def breakdown(_engine: Engine, version: str, period: Period, scope: Scope, by: str, as_of: date) -> pd.DataFrame:
    """eNPS by `by`; by team or manager beside turnover risk, and by team beside the team's attainment in the
    period (same scope)."""
    frame = enps.pulse(_engine, period, scope, by)
    if by == "month" or frame.empty:
        return frame
    frame = turnover.beside_enps(frame, turnover.reps_at_risk(_engine, period, as_of, scope), by)
    if by != "team":
        return frame
    teams = metrics.query(_engine, ["attainment"], Filters(period), scope, by=["team"], as_of=as_of)
    return frame.merge(teams[["team", "attainment"]].rename(columns={"team": "group"}), on="group", how="left")


@st.cache_data(show_spinner=False, max_entries=64)
def comments(_engine: Engine, version: str, period: Period, scope: Scope) -> pd.DataFrame:
    return enps.comments(_engine, period, scope)
