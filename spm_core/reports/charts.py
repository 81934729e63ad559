"""The review's charts as PNG images for the PDF (Altair, rendered by vl-convert: no browser needed)."""

from __future__ import annotations

import io

import altair as alt
import pandas as pd

WIDTH, HEIGHT = 640, 240


def _png(chart: alt.Chart) -> bytes:
    out = io.BytesIO()
    chart.properties(width=WIDTH, height=HEIGHT).save(out, format="png", scale_factor=2)
    return out.getvalue()


def waterfall_png(steps: pd.DataFrame) -> bytes:
    """The pipeline change as a waterfall: the first and last steps are totals from 0, the rest float on
    the running sum (green adds, red removes)."""
    amounts = steps["amount"].astype("float64").tolist()
    rows, running = [], 0.0
    for i, (step, amount) in enumerate(zip(steps["step"], amounts, strict=True)):
        total = i in (0, len(amounts) - 1)
        start, end = (0.0, amount) if total else (running, running + amount)
        running = amount if i == 0 else running + (0.0 if total else amount)
        kind = "Total" if total else "Adds" if amount >= 0 else "Removes"
        rows.append({"order": i, "step": step, "start": start, "end": end, "kind": kind})
    colours = alt.Scale(domain=["Total", "Adds", "Removes"], range=["#4c78a8", "#54a24b", "#e45756"])
    chart = (
        alt.Chart(pd.DataFrame(rows))
        .mark_bar()
        .encode(
            x=alt.X("step:N", sort=alt.SortField("order"), title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("start:Q", title="Amount ($)"),
            y2="end:Q",
            color=alt.Color("kind:N", scale=colours, title=None),
        )
    )
    return _png(chart)


def attainment_png(teams: pd.DataFrame) -> bytes:
    """Each team's attainment (or pace) against the 100 % line."""
    bars = (
        alt.Chart(teams)
        .mark_bar()
        .encode(
            y=alt.Y("team:N", sort="-x", title=None),
            x=alt.X("pacing_attainment:Q", title="Pace vs quota", axis=alt.Axis(format="%")),
            color=alt.condition(alt.datum.pacing_attainment >= 1, alt.value("#54a24b"), alt.value("#e45756")),
        )
    )
    rule = alt.Chart(pd.DataFrame({"x": [1.0]})).mark_rule(strokeDash=[4, 4]).encode(x="x:Q")
    return _png(bars + rule)
