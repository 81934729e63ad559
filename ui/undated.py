"""The "no close date" bucket of pipeline views: open deals with no expected close date belong to no
period (SPEC), so every period's pipeline leaves them out; this shows them so they are not lost."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from spm_core import undated
from spm_core.filters import Filters, Scope

from . import format as fmt
from .context import PageContext
from .drilldown import deal_table


@st.cache_data(show_spinner=False, max_entries=128)
def _totals(_engine: Engine, version: str, filters: Filters, scope: Scope) -> tuple[int, float]:
    return undated.undated_totals(_engine, filters, scope)


@st.cache_data(show_spinner=False, max_entries=32)
def _deals(_engine: Engine, version: str, filters: Filters, scope: Scope) -> pd.DataFrame:
    return undated.undated_deals(_engine, filters, scope)


def undated_bucket(ctx: PageContext, key: str) -> None:
    """A data-quality notice with the bucket's count and amount (nothing when it is empty), and its
    deals one toggle away."""
    count, amount = _totals(ctx.wh.engine, ctx.wh.version, ctx.filters, ctx.scope)
    if count == 0:
        return
    st.warning(
        f"**No close date: {count:,} open deals, {fmt.money(amount)}.** They belong to no period, so the period's "
        "open pipeline, coverage and forecast leave them out. Give them an expected close date in the CRM.",
        icon=":material/event_busy:",
    )
    if st.toggle("View deals: open deals with no close date", key=key):
        st.caption(f"{count:,} deals, ${amount:,.0f} in amount — {undated.HELP}")
        deal_table(_deals(ctx.wh.engine, ctx.wh.version, ctx.filters, ctx.scope), "open_deals_no_close_date.csv", key)
