"""Altair charts for the quota attainment page. Each takes a small frame from spm_core.attainment (one
row per day, group, band or measure: never raw deals) and carries tooltips."""

from __future__ import annotations

from datetime import date

import altair as alt
import pandas as pd

from spm_core.kpis import CATALOGUE

QUOTA_COLOR, BOOKINGS_COLOR, RUN_RATE_COLOR = "#e45756", "#4c78a8", "#9ecae9"
FULL_COLOR, RAMP_COLOR = "#4c78a8", "#f58518"
AHEAD_COLOR, BEHIND_COLOR = "#54a24b", "#f58518"
MONEY_AXIS = alt.Axis(format="$,.2s")


def _quota_rule(label: str = "Quota (100 %)") -> alt.Chart:
    """The vertical 100 % line every attainment chart measures against."""
    return (
        alt.Chart(pd.DataFrame({"x": [1.0], "what": [label]}))
        .mark_rule(color=QUOTA_COLOR, strokeWidth=2, strokeDash=[6, 3])
        .encode(x="x:Q", tooltip=alt.Tooltip("what:N", title="Line"))
    )


def cumulative_chart(series: pd.DataFrame, as_of: date, with_quota: bool, projected: float | None) -> alt.LayerChart:
    """Cumulative bookings, the cumulative quota and the run rate to the period's end, today marked;
    hovering anywhere shows all three for that day."""
    names = {"cumulative_bookings": "Bookings", "run_rate": "Run rate (pacing)"}
    if with_quota:
        names["cumulative_quota"] = "Quota"
    long = series.melt(id_vars="day", value_vars=list(names), var_name="series", value_name="amount").dropna()
    long["series"] = long["series"].map(names)
    domain = list(names.values())
    colors = {"Bookings": BOOKINGS_COLOR, "Run rate (pacing)": RUN_RATE_COLOR, "Quota": QUOTA_COLOR}
    x = alt.X("day:T", title=None, axis=alt.Axis(format="%d %b"))
    lines = (
        alt.Chart(long)
        .mark_line(strokeWidth=2.5)
        .encode(
            x=x,
            y=alt.Y("amount:Q", title="Cumulative", axis=MONEY_AXIS),
            color=alt.Color(
                "series:N",
                title=None,
                scale=alt.Scale(domain=domain, range=[colors[s] for s in domain]),
                legend=alt.Legend(orient="bottom"),
            ),
            strokeDash=alt.StrokeDash(
                "series:N", scale=alt.Scale(domain=domain, range=[[1, 0], [6, 4], [2, 2]][: len(domain)]), legend=None
            ),
        )
    )
    hover = alt.selection_point(fields=["day"], nearest=True, on="pointerover", clear="pointerout", empty=False)
    tooltip = [
        alt.Tooltip("day:T", title="Day", format="%a %d %b %Y"),
        alt.Tooltip("cumulative_bookings:Q", title="Bookings to date", format="$,.0f"),
        alt.Tooltip("run_rate:Q", title="Run rate to date", format="$,.0f"),
    ]
    if with_quota:
        tooltip.insert(2, alt.Tooltip("cumulative_quota:Q", title="Quota to date", format="$,.0f"))
    hover_rule = (
        alt.Chart(series)
        .mark_rule(color="#888")
        .encode(x=x, opacity=alt.condition(hover, alt.value(0.7), alt.value(0)), tooltip=tooltip)
        .add_params(hover)
    )
    layers: list[alt.Chart] = [lines, hover_rule]
    start, end = series["day"].iloc[0], series["day"].iloc[-1]
    if start <= pd.Timestamp(as_of) <= end:
        today = pd.DataFrame({"day": [pd.Timestamp(as_of)], "what": [f"Today ({as_of:%d %b %Y})"]})
        layers.append(
            alt.Chart(today)
            .mark_rule(color="#333", strokeDash=[2, 3])
            .encode(x="day:T", tooltip=alt.Tooltip("what:N", title="Line"))
        )
        layers.append(
            alt.Chart(today).mark_text(align="left", dx=4, dy=-6, color="#333").encode(x="day:T", y=alt.value(0), text="what:N")
        )
    if projected is not None:
        point = pd.DataFrame({"day": [end], "amount": [projected], "what": ["Projected: bookings + weighted pipeline"]})
        layers.append(
            alt.Chart(point)
            .mark_point(shape="diamond", size=140, filled=True, color=BOOKINGS_COLOR)
            .encode(
                x="day:T",
                y="amount:Q",
                tooltip=[alt.Tooltip("what:N", title="Point"), alt.Tooltip("amount:Q", title="Amount", format="$,.0f")],
            )
        )
    return alt.layer(*layers).properties(height=320)


def pace_chart(pace: pd.DataFrame) -> alt.LayerChart:
    """Attainment to date against the share of the period gone by, and the end-of-period figures
    (pacing, projected) against 100 %: each bar with its yardstick as a tick."""
    data = pace.dropna(subset=["value"]).assign(
        status=lambda f: (f["gap"] >= 0).map({True: "On or ahead of pace", False: "Behind pace"}),
        yardstick_label=lambda f: f["kpi"].map(
            lambda k: "Straight-line pace (share of the period elapsed)" if k == "attainment" else "Quota (100 %)"
        ),
        definition=lambda f: f["kpi"].map(lambda k: CATALOGUE[k].help),
    )
    y = alt.Y("measure:N", sort=list(data["measure"]), title=None, axis=alt.Axis(labelLimit=180))
    tooltip = [
        alt.Tooltip("measure:N", title="Measure"),
        alt.Tooltip("value:Q", title="Value", format=".1%"),
        alt.Tooltip("yardstick:Q", title="Yardstick", format=".1%"),
        alt.Tooltip("yardstick_label:N", title="Yardstick is"),
        alt.Tooltip("gap:Q", title="Gap", format="+.1%"),
        alt.Tooltip("definition:N", title="Definition"),
    ]
    bars = (
        alt.Chart(data)
        .mark_bar(height={"band": 0.6})
        .encode(
            y=y,
            x=alt.X("value:Q", title="Share of quota", axis=alt.Axis(format="%")),
            color=alt.Color(
                "status:N",
                title=None,
                scale=alt.Scale(domain=["On or ahead of pace", "Behind pace"], range=[AHEAD_COLOR, BEHIND_COLOR]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=tooltip,
        )
    )
    ticks = alt.Chart(data).mark_tick(color="#222", thickness=3, size=30).encode(y=y, x="yardstick:Q", tooltip=tooltip)
    labels = alt.Chart(data).mark_text(align="left", dx=4).encode(y=y, x="value:Q", text=alt.Text("value:Q", format=".0%"))
    return (bars + ticks + labels).properties(height=170)


def level_chart(frame: pd.DataFrame, ramp_label: str, with_team: bool) -> alt.LayerChart:
    """Groups as bars of attainment, highest first, ramped quotas in their own colour, the 100 % line."""
    data = frame.assign(kind=frame["ramping"].map({True: ramp_label, False: "Full quota"}))
    y = alt.Y("name:N", sort=list(data["name"]), title=None, axis=alt.Axis(labelLimit=200))
    tooltip = [alt.Tooltip("name:N", title="Name")]
    if with_team:
        tooltip.append(alt.Tooltip("team:N", title="Team"))
    tooltip += [
        alt.Tooltip("quota:Q", title="Quota", format="$,.0f"),
        alt.Tooltip("bookings:Q", title="Bookings", format="$,.0f"),
        alt.Tooltip("attainment:Q", title="Attainment", format=".1%"),
        alt.Tooltip("pacing_attainment:Q", title="Pacing vs quota", format=".1%"),
        alt.Tooltip("projected_attainment:Q", title="Projected attainment", format=".1%"),
        alt.Tooltip("ramped_quota:Q", title="Ramped part of the quota", format="$,.0f"),
    ]
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=y,
            x=alt.X("attainment:Q", title="Quota attainment", axis=alt.Axis(format="%")),
            color=alt.Color(
                "kind:N",
                title="Quota",
                scale=alt.Scale(domain=["Full quota", ramp_label], range=[FULL_COLOR, RAMP_COLOR]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=tooltip,
        )
    )
    labels = (
        alt.Chart(data)
        .mark_text(align="left", dx=3)
        .encode(y=y, x="attainment:Q", text=alt.Text("attainment:Q", format=".0%"), tooltip=tooltip)
    )
    return (bars + labels + _quota_rule()).properties(height=max(160, 22 * len(data) + 30))


def distribution_chart(bands: pd.DataFrame) -> alt.LayerChart:
    """Histogram of reps by attainment band, bands at or above quota in their own colour, the 100 % line."""
    data = bands.assign(side=bands["at_quota"].map({True: "At or above quota", False: "Below quota"}))
    tooltip = [
        alt.Tooltip("label:N", title="Attainment band"),
        alt.Tooltip("reps:Q", title="Reps", format=",d"),
        alt.Tooltip("share:Q", title="Share of reps with a quota", format=".1%"),
        alt.Tooltip("names:N", title="Reps (best first)"),
    ]
    top = float(bands["end"].iloc[-1])
    bars = (
        alt.Chart(data)
        .mark_bar(stroke="white", strokeWidth=1)
        .encode(
            x=alt.X(
                "start:Q",
                title="Quota attainment (10-point bands; the last is open-ended)",
                scale=alt.Scale(domain=[0, top]),
                axis=alt.Axis(format="%", values=[round(0.2 * i, 1) for i in range(int(top / 0.2) + 1)]),
            ),
            x2="end:Q",
            y=alt.Y("reps:Q", title="Reps", axis=alt.Axis(tickMinStep=1, format="d")),
            color=alt.Color(
                "side:N",
                title=None,
                scale=alt.Scale(domain=["Below quota", "At or above quota"], range=[BEHIND_COLOR, AHEAD_COLOR]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=tooltip,
        )
    )
    return (bars + _quota_rule()).properties(height=260)
