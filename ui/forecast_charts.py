"""Altair charts for the forecast page, each from a small aggregated frame of spm_core.forecast,
each with tooltips."""

from __future__ import annotations

import altair as alt
import pandas as pd

from spm_core.forecast import CATEGORIES, CATEGORY_COLUMNS, StatisticalForecast

CATEGORY_COLORS = {"Closed": "#2e7d32", "Commit": "#66bb6a", "Best Case": "#ffb74d", "Pipeline": "#b0bec5"}
MONEY_AXIS = alt.Axis(format="$,.2s")


ROW_HEIGHT = 36  # pixels per person: the bar and its label never crowd the next one


def category_bars(rows: pd.DataFrame) -> alt.LayerChart:
    """Per person (a manager's row covers their subtree): the four categories stacked, in forecast
    order, with a tick at their quota; people sorted by their call, largest first.

    The height is the plot's own, a fixed step per person: Streamlit's default autosize ("fit") would
    squeeze the plot, legend and axis into the given height, leaving a few pixels for all the bars."""
    rows = rows.sort_values(["call", "name"], ascending=[False, True])
    long = rows.melt(
        id_vars=["name", "quota", "call", "upside"],
        value_vars=[CATEGORY_COLUMNS[c] for c in CATEGORIES],
        var_name="column",
        value_name="amount",
    )
    long["category"] = long["column"].map({v: k for k, v in CATEGORY_COLUMNS.items()})
    long["order"] = long["category"].map({c: i for i, c in enumerate(CATEGORIES)})
    names = list(rows["name"])
    y = alt.Y("name:N", sort=names, title=None, axis=alt.Axis(labelLimit=180))
    tooltip = [
        alt.Tooltip("name:N", title="Person (with their team)"),
        alt.Tooltip("category:N", title="Category"),
        alt.Tooltip("amount:Q", title="Amount", format="$,.0f"),
        alt.Tooltip("call:Q", title="Call (closed + commit)", format="$,.0f"),
        alt.Tooltip("upside:Q", title="Upside (call + best case)", format="$,.0f"),
        alt.Tooltip("quota:Q", title="Quota", format="$,.0f"),
    ]
    bars = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=y,
            x=alt.X("sum(amount):Q", title="Amount", axis=MONEY_AXIS, stack="zero"),
            color=alt.Color(
                "category:N",
                scale=alt.Scale(domain=list(CATEGORY_COLORS), range=list(CATEGORY_COLORS.values())),
                legend=alt.Legend(title=None, orient="top"),
            ),
            order=alt.Order("order:Q"),
            tooltip=tooltip,
        )
    )
    quota_ticks = (
        alt.Chart(rows[rows["quota"] > 0])
        .mark_tick(color="#212121", thickness=2, size=ROW_HEIGHT - 8)
        .encode(
            y=alt.Y("name:N", sort=names),
            x="quota:Q",
            tooltip=[alt.Tooltip("name:N", title="Person"), alt.Tooltip("quota:Q", title="Quota", format="$,.0f")],
        )
    )
    return (bars + quota_ticks).properties(
        height=ROW_HEIGHT * len(rows), autosize=alt.AutoSizeParams(type="fit-x", contains="padding")
    )


def statistical_chart(sf: StatisticalForecast, quota: float, call: float) -> alt.LayerChart:
    """One bar built from its parts (booked, expected from open deals, expected from deals not yet in
    the pipeline), the 10th-90th percentile range as a line, and the quota and the call as rules."""
    parts = pd.DataFrame(
        {
            "part": ["Booked so far", "Expected from open deals", "Expected from new deals"],
            "amount": [sf.bookings, sf.open_expected, sf.other_expected],
            "order": [0, 1, 2],
            "row": "Statistical forecast",
        }
    )
    bars = (
        alt.Chart(parts)
        .mark_bar(height=36)
        .encode(
            y=alt.Y("row:N", title=None),
            x=alt.X("sum(amount):Q", title="Bookings by the period's end", axis=MONEY_AXIS, stack="zero"),
            color=alt.Color("part:N", sort=list(parts["part"]), legend=alt.Legend(title=None, orient="top")),
            order=alt.Order("order:Q"),
            tooltip=[alt.Tooltip("part:N", title="Part"), alt.Tooltip("amount:Q", title="Amount", format="$,.0f")],
        )
    )
    band = pd.DataFrame({"row": ["Statistical forecast"], "low": [sf.low], "high": [sf.high], "expected": [sf.expected]})
    range_line = (
        alt.Chart(band)
        .mark_errorbar(ticks=True, color="#212121", thickness=2)
        .encode(
            y=alt.Y("row:N"),
            x=alt.X("low:Q"),
            x2="high:Q",
            tooltip=[
                alt.Tooltip("expected:Q", title="Expected", format="$,.0f"),
                alt.Tooltip("low:Q", title="Low (10th percentile)", format="$,.0f"),
                alt.Tooltip("high:Q", title="High (90th percentile)", format="$,.0f"),
            ],
        )
    )
    marks = pd.DataFrame({"what": ["Quota", "Forecast call"], "amount": [quota, call]})
    rules = (
        alt.Chart(marks[marks["amount"] > 0])
        .mark_rule(strokeDash=[4, 3], size=2)
        .encode(
            x="amount:Q",
            color=alt.Color("what:N", scale=alt.Scale(range=["#c62828", "#1565c0"]), legend=alt.Legend(title=None)),
            tooltip=[alt.Tooltip("what:N", title=" "), alt.Tooltip("amount:Q", title="Amount", format="$,.0f")],
        )
    )
    return alt.layer(bars, range_line, rules).resolve_scale(color="independent").properties(height=120)


def accuracy_chart(frame: pd.DataFrame) -> alt.LayerChart:
    """Forecast at week N vs what closed, per past period."""
    data = frame.assign(period=frame["period_start"].astype(str))
    long = data.melt(id_vars=["period", "snapshot_date", "accuracy"], value_vars=["forecast", "actual"], var_name="series")
    long["series"] = long["series"].map({"forecast": "Forecast (closed + commit) then", "actual": "Actually booked"})
    return (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("period:N", title="Period starting", sort=list(data["period"])),
            y=alt.Y("value:Q", title="Amount", axis=MONEY_AXIS),
            color=alt.Color("series:N", legend=alt.Legend(title=None, orient="top")),
            tooltip=[
                alt.Tooltip("period:N", title="Period starting"),
                alt.Tooltip("snapshot_date:T", title="Forecast as of"),
                alt.Tooltip("series:N", title="Series"),
                alt.Tooltip("value:Q", title="Amount", format="$,.0f"),
                alt.Tooltip("accuracy:Q", title="Accuracy", format=".1%"),
            ],
        )
        .properties(height=260)
    )
