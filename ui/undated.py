"""The "no close date" bucket: open deals with no expected close date belong to no period (SPEC), so
every period's pipeline leaves them out; pipeline views show them here so they are not lost."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from . import format as fmt
from .context import PageContext
from .drilldown import view_deals

UNDATED = ("undated_deals", "undated_pipeline")  # fetch these with the page's tiles (kpi_tiles' `also`)


def undated_bucket(ctx: PageContext, now: pd.Series, key: str) -> None:
    """A data-quality notice with the bucket's count and amount, and its deals one toggle away."""
    count = int(now["undated_deals"])
    if count == 0:
        return
    st.warning(
        f"**No close date: {count:,} open deals, {fmt.money(now['undated_pipeline'])}.** They belong to no period, "
        "so the period's open pipeline, coverage and forecast leave them out. Give them an expected close date "
        "in the CRM.",
        icon=":material/event_busy:",
    )
    view_deals(ctx, "undated_pipeline", key=key, label="open deals with no close date")
