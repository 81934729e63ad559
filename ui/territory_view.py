"""The territories page's pieces: the offline map (Altair points over a sphere and graticule, no tiles) and the
tables. Numbers come from spm_core.planning.territories; this module only shapes and draws them."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from ui.downloads import csv_download

ACCOUNT_COLUMNS = ["account_id", "name", "territory", "owner", "country", "state", "postcode", "industry", "potential", "open_pipeline"]
SHOWN_ACCOUNTS = 2_000  # rows sent to the browser: 500,000 accounts took 0.3 s to send on every view; the CSV has all
ALL_TERRITORIES, NO_TERRITORY = "All territories", "(no territory)"
MAP_POINTS = 5_000  # Altair's row limit: above it, accounts are grouped into half-degree cells per territory
CELL_DEGREES = 0.5


def map_points(accounts: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """One point per account (or per territory and cell when there are too many), with its territory's totals."""
    located = accounts.dropna(subset=["latitude", "longitude"])
    if len(located) > MAP_POINTS:
        cells = located.assign(
            latitude=(located["latitude"] / CELL_DEGREES).round() * CELL_DEGREES,
            longitude=(located["longitude"] / CELL_DEGREES).round() * CELL_DEGREES,
        )
        located = (
            cells.groupby(["territory", "latitude", "longitude"], dropna=False)
            .agg(count=("account_id", "size"), potential=("potential", "sum"))
            .reset_index()
        )
        located["name"] = located["count"].map(lambda n: f"{n:,} accounts")
    totals = summary[["territory", "accounts", "potential"]].rename(
        columns={"accounts": "territory_accounts", "potential": "territory_potential"}
    )
    points = located[["name", "territory", "latitude", "longitude", "potential"]].merge(totals, on="territory", how="left")
    points["territory"] = points["territory"].fillna("(no territory)")
    return points


def territory_map(points: pd.DataFrame) -> alt.LayerChart:
    """Accounts as points coloured by territory over an outline of the globe; hover shows the territory's totals."""
    projection = {"type": "equalEarth"}
    sphere = alt.Chart(alt.sphere()).mark_geoshape(fill="#eef3f8", stroke="#c9d3dd").project(**projection)
    grid = alt.Chart(alt.graticule(step=[30, 30])).mark_geoshape(stroke="#dde4eb", strokeWidth=0.5).project(**projection)
    dots = (
        alt.Chart(points)
        .mark_circle(size=28, opacity=0.75)
        .encode(
            latitude="latitude:Q",
            longitude="longitude:Q",
            color=alt.Color("territory:N", title="Territory"),
            tooltip=[
                alt.Tooltip("name:N", title="Account"),
                alt.Tooltip("territory:N", title="Territory"),
                alt.Tooltip("potential:Q", title="Potential", format=",.0f"),
                alt.Tooltip("territory_accounts:Q", title="Territory's accounts", format=",.0f"),
                alt.Tooltip("territory_potential:Q", title="Territory's potential", format=",.0f"),
            ],
        )
        .project(**projection)
    )
    return alt.layer(sphere, grid, dots).properties(height=460)


def summary_table(summary: pd.DataFrame) -> None:
    st.dataframe(
        summary[["territory", "accounts", "potential", "open_pipeline", "bookings_12m", "workload"]],
        hide_index=True,
        width="stretch",
        column_config={
            "territory": "Territory",
            "accounts": st.column_config.NumberColumn("Accounts", format="%d"),
            "potential": st.column_config.NumberColumn("Potential", format="%.0f"),
            "open_pipeline": st.column_config.NumberColumn("Open pipeline", format="%.0f", help="Open deals, any close date."),
            "bookings_12m": st.column_config.NumberColumn(
                "Bookings, trailing 12 months", format="%.0f", help="Won deals closed in the 365 days up to today."
            ),
            "workload": st.column_config.NumberColumn("Workload", format="%d", help="1 per account + 1 per open deal."),
        },
    )


ACCOUNT_ORDERS = {"account_id": "Account id", "potential": "Potential, largest first", "open_pipeline": "Open pipeline, largest first"}


def accounts_tab(accounts: pd.DataFrame) -> None:
    """The accounts in view, narrowed by territory and by a piece of the name, in the chosen order; the first
    SHOWN_ACCOUNTS on screen (sorting the table in the browser sorts only those), every match in the CSV."""
    named = accounts["territory"].fillna(NO_TERRITORY)
    left, middle, right = st.columns(3)
    choices = [ALL_TERRITORIES, *sorted(named.unique())]
    chosen = left.selectbox("Territory", choices, key="terr_accounts_territory")
    text = middle.text_input("Account name contains", key="terr_accounts_search").strip()
    order = right.selectbox("Order", list(ACCOUNT_ORDERS), format_func=ACCOUNT_ORDERS.get, key="terr_accounts_order")
    keep = pd.Series(True, index=accounts.index) if chosen == ALL_TERRITORIES else named == chosen
    if text:
        keep &= accounts["name"].str.contains(text, case=False, regex=False, na=False)
    matching = accounts.loc[keep, ACCOUNT_COLUMNS]
    if order != "account_id":
        matching = matching.sort_values([order, "account_id"], ascending=[False, True], kind="stable")
    st.dataframe(matching.head(SHOWN_ACCOUNTS), hide_index=True, width="stretch")
    if len(matching) > SHOWN_ACCOUNTS:
        st.caption(
            f"The first {SHOWN_ACCOUNTS:,} of {len(matching):,} accounts by {ACCOUNT_ORDERS[order].lower()}: choose a "
            f"territory, search a name or change the order to see others; the CSV holds all {len(matching):,}."
        )
    csv_download("Download these accounts (CSV)", matching, "territory_accounts.csv", "territory_accounts_csv")
