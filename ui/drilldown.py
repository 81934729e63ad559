"""'View deals': the opportunities behind a number, sortable, with a CSV download."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from spm_core.filters import Filters
from spm_core.kpis import CATALOGUE

from . import format as fmt
from . import warehouse
from .context import PageContext
from .downloads import csv_download
from .text import md

COLUMN_CONFIG = {
    "id": st.column_config.NumberColumn("Id", format="%d"),
    "name": "Opportunity",
    "account": "Account",
    "owner": "Owner",
    "team": "Team",
    "product": "Product",
    "type": "Type",
    "stage": "Stage",
    "forecast_category": "Forecast category",
    "is_closed": "Closed",
    "is_won": "Won",
    "amount": st.column_config.NumberColumn("Amount", format="dollar"),
    "probability": st.column_config.NumberColumn("Prob. %", format="%d"),
    "created_date": st.column_config.DateColumn("Created"),
    "close_date": st.column_config.DateColumn("Close date"),
    "last_activity_date": st.column_config.DateColumn("Last activity"),
}


def deal_table(frame: pd.DataFrame, file_name: str, key: str, extra_columns: dict | None = None) -> None:
    """A deal list as a sortable table plus its CSV download; `extra_columns` configures columns a view
    adds to the usual deal columns."""
    if frame.empty:
        st.info("No deals match these filters.")
        return
    st.dataframe(frame, hide_index=True, column_config={**COLUMN_CONFIG, **(extra_columns or {})}, width="stretch")
    csv_download(f"Download {len(frame):,} deals (CSV)", frame, file_name, f"{key}_csv")


def view_deals(ctx: PageContext, kpi_name: str, key: str, filters: Filters | None = None, label: str | None = None) -> None:
    """A toggle that lists the deals behind a KPI (loaded only when opened). `label` is plain text (it may hold
    names from the warehouse): it is escaped for the toggle's Markdown label."""
    k = CATALOGUE[kpi_name]
    if not st.toggle(f"View deals: {md(label or k.label)}", key=key):
        return
    filters = filters or ctx.filters
    frame = warehouse.deals(ctx.wh.engine, ctx.wh.version, kpi_name, filters, ctx.scope)
    total = frame["amount"].sum() if not frame.empty else 0
    st.caption(f"{len(frame):,} deals, {fmt.money_exact(total)} in amount — {k.help}")
    deal_table(frame, f"{kpi_name}_{filters.period.start}_{filters.period.end}.csv", key)
