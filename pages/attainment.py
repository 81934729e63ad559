"""Quota attainment: who is at quota, how the period is pacing, how reps spread around 100 %, and the
deals behind the bookings. Numbers come from the metrics layer (SPEC.md definitions)."""

import pandas as pd
import streamlit as st

from spm_core.attainment import LEVELS, attainment_distribution, pace, reps_at_quota
from spm_core.kpis import CATALOGUE
from ui import attainment_charts as charts
from ui import attainment_data as data
from ui import format as fmt
from ui.context import context
from ui.drilldown import view_deals
from ui.text import md
from ui.tiles import kpi_tiles
from ui.vega import show_chart

TILES = (
    "bookings",
    "quota",
    "attainment",
    "pct_reps_at_quota",
    "pacing",
    "pacing_attainment",
    "projected_attainment",
    "quota_remaining",
)
CHART_BARS = 30  # the level chart shows the 15 highest and 15 lowest; the table lists every group
EVERYONE = "Everyone in view"
SPREAD_NOTE = (
    "The quota line spreads each month's quota evenly over its days in the period, so it ends at the "
    "period's quota (the quota of the months starting in the period)."
)


def definitions(*names: str) -> str:
    """SPEC definitions of the KPIs a section shows, for its help tooltip."""
    return "\n\n".join(f"**{CATALOGUE[n].label}**: {CATALOGUE[n].help}" for n in names)


def plural(level: str) -> str:
    return f"{LEVELS[level].lower()}s"


def pace_sentence(rows: pd.DataFrame, elapsed: float) -> str:
    value = rows.set_index("kpi")["value"]
    if elapsed >= 1:
        return (
            f"The period is over: it closed at **{fmt.percent(value['attainment'])}** of quota; counting the deals "
            f"still open in it (weighted), **{fmt.percent(value['projected_attainment'])}**."
        )
    gap = value["attainment"] - elapsed
    return (
        f"**{elapsed:.0%}** of the period has gone by and **{fmt.percent(value['attainment'])}** of quota is booked: "
        f"{abs(gap) * 100:.1f} points {'ahead of' if gap >= 0 else 'behind'} a straight-line pace. At this run rate "
        f"the period ends at **{fmt.percent(value['pacing_attainment'])}** of quota; with the weighted open pipeline "
        f"closing in it, at **{fmt.percent(value['projected_attainment'])}**."
    )


def attainment_table(groups: pd.DataFrame, level: str, elapsed: float) -> None:
    """Every group with its numbers; a missing attainment reads "no quota" (SPEC), never NaN."""
    note = "ramping" if level == "rep" else "includes ramping reps"
    shown = groups.assign(note=groups["ramping"].map({True: note, False: ""}))
    if "team" in shown:
        shown["team"] = shown["team"].fillna("")
    pacing = ["pacing", "pacing_attainment"] if elapsed > 0 else []  # no run rate before the period starts
    order = ["name", *(["team"] if level == "rep" else []), "quota", "bookings", "attainment", "at_quota", *pacing]
    order += ["projected_attainment", "note"]

    def number(name: str, fmt_name: str) -> st.column_config.NumberColumn:
        return st.column_config.NumberColumn(CATALOGUE[name].label, format=fmt_name, help=CATALOGUE[name].help)

    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_order=order,
        placeholder="no quota",
        column_config={
            "name": LEVELS[level],
            "team": "Team",
            "quota": number("quota", "dollar"),
            "bookings": number("bookings", "dollar"),
            "attainment": number("attainment", "percent"),
            "at_quota": st.column_config.CheckboxColumn("≥ 100 %", help="Attainment at or above 100 % of quota."),
            "pacing": number("pacing", "dollar"),
            "pacing_attainment": number("pacing_attainment", "percent"),
            "projected_attainment": number("projected_attainment", "percent"),
            "note": st.column_config.TextColumn("Quota note", help=CATALOGUE["ramped_quota"].help),
        },
    )


ctx = context()
wh, filters, scope, period = ctx.wh, ctx.filters, ctx.scope, ctx.filters.period
elapsed = period.elapsed_fraction(wh.as_of)
st.title("Quota attainment")
st.caption(
    f"{period.start:%d %b %Y} – {period.end:%d %b %Y} · {elapsed:.0%} of the period elapsed · data as of {wh.as_of:%d %b %Y}"
)

totals = kpi_tiles(ctx, TILES)
has_quota = bool(totals["quota"] > 0)
if not wh.has_quotas:
    st.info(
        "**No quotas in this warehouse.** Its data (an import such as the Maven CRM dataset, or an empty warehouse) "
        "carries no quotas, so attainment, pacing vs quota, projected attainment and the attainment distribution "
        "have nothing to measure against and show as “no quota”. Bookings, pacing and the deals behind them are real.",
        icon=":material/flag:",
    )
elif not has_quota:
    st.info(
        "**No quota set** for the people in view in this period, so attainment shows as “no quota”. "
        "Quotas exist in this warehouse: try another period or filter.",
        icon=":material/flag:",
    )

left, right = st.columns([3, 2])
with left:
    st.subheader("Bookings vs quota through the period", help=f"{definitions('bookings', 'quota', 'pacing')}\n\n{SPREAD_NOTE}")
    series = data.cumulative(wh.engine, wh.version, filters, scope, wh.as_of)
    if series["bookings"].sum() == 0 and series["cumulative_quota"].iloc[-1] == 0:
        st.info("No bookings and no quota in this period for these filters.")
    else:
        projected = float(totals["projected_attainment"] * totals["quota"]) if has_quota else None
        show_chart(charts.cumulative_chart(series, wh.as_of, has_quota, projected), width="stretch")
        st.caption(
            "Solid: bookings to date. "
            + ("Red: quota to date. " if has_quota else "")
            + ("Dashed: today's run rate carried to the period's end (it ends at the pacing figure). " if 0 < elapsed < 1 else "")
            + ("Diamond: bookings + weighted open pipeline closing in the period (projected attainment). " if has_quota else "")
            + (SPREAD_NOTE if has_quota else "")
        )
with right:
    st.subheader(
        "Pace",
        help=definitions("attainment", "pacing_attainment", "projected_attainment")
        + "\n\n**Straight-line pace**: the share of the period's days gone by, today included.",
    )
    if elapsed == 0:
        st.info(f"The period starts on {period.start:%d %b %Y}: there is no pace to measure yet.")
    elif not has_quota:
        st.info("No quota set: pace against quota needs one. The Pacing tile still gives the run rate in bookings.")
    else:
        rows = pace(totals, period, wh.as_of)
        show_chart(charts.pace_chart(rows), width="stretch")
        st.markdown(pace_sentence(rows, elapsed))

st.subheader(
    "Attainment by group",
    help=definitions("attainment", "pacing_attainment", "projected_attainment", "ramped_quota"),
)
level = st.radio("Group by", list(LEVELS), format_func=LEVELS.__getitem__, horizontal=True, key="attainment_level")
groups = data.by_level(wh.engine, wh.version, filters, scope, level, wh.as_of)
if groups.empty:
    st.info("No data for these filters: nobody in view has bookings, open pipeline or a quota in this period.")
else:
    chart_col, table_col = st.columns([2, 3])
    with chart_col:
        rated = groups[groups["quota"] > 0]
        if rated.empty:
            st.info(f"No {LEVELS[level].lower()} in view has a quota in this period: there is no attainment to chart.")
        else:
            half = CHART_BARS // 2
            shown = rated if len(rated) <= CHART_BARS else pd.concat([rated.head(half), rated.tail(half)])
            ramp_label = "Ramped quota (new hire)" if level == "rep" else "Includes ramped quota"
            show_chart(charts.level_chart(shown, ramp_label, with_team=level == "rep"), width="stretch")
            notes = ["Dashed red line: 100 % of quota."]
            if len(rated) > CHART_BARS:
                notes.append(f"Showing the {half} highest and {half} lowest of {len(rated):,} {plural(level)}; the table lists all.")
            if len(groups) > len(rated):
                notes.append(f"{len(groups) - len(rated):,} {plural(level)} without a quota are not charted.")
            st.caption(" ".join(notes))
    with table_col:
        attainment_table(groups, level, elapsed)

st.markdown("**Deals behind the numbers**")
pick_col, summary_col = st.columns([1, 2])
with pick_col:
    choice = st.selectbox(LEVELS[level], [EVERYONE, *groups["name"]], key=f"attainment_drill_{level}")
if choice == EVERYONE:
    drill = filters
else:
    row = groups.loc[groups["name"] == choice].iloc[0]
    drill = data.group_filters(wh.engine, wh.version, filters, level, None if pd.isna(row["id"]) else int(row["id"]))
    with summary_col:
        reached = "no quota" if row["quota"] == 0 else f"{fmt.percent(row['attainment'])} attainment"
        summary = f"{fmt.money(row['bookings'])} booked of {fmt.money(row['quota'])} quota · {reached}"
        st.markdown(f"**{md(choice)}**: {md(summary)}")  # md: two amounts' "$" would make KaTeX math
view_deals(ctx, "bookings", key="attainment_bookings_deals", filters=drill, label=f"bookings ({choice})")
view_deals(
    ctx,
    "weighted_pipeline",
    key="attainment_pipeline_deals",
    filters=drill,
    label=f"open pipeline in projected attainment ({choice})",
)

st.subheader(
    "Attainment distribution",
    help=definitions("pct_reps_at_quota")
    + "\n\nReps with a quota in 10-point bands of attainment; the last band is everyone at 200 % or more.",
)
per_rep = groups if level == "rep" else data.by_level(wh.engine, wh.version, filters, scope, "rep", wh.as_of)
at_quota, with_quota = reps_at_quota(per_rep)
if with_quota == 0:
    st.info("No rep in view has a quota in this period: there is no attainment to distribute.")
else:
    named = per_rep.assign(name=per_rep["name"].where(~per_rep["ramping"], per_rep["name"] + " (ramping)"))
    show_chart(charts.distribution_chart(attainment_distribution(named)), width="stretch")
    without = len(per_rep) - with_quota
    st.caption(
        f"{at_quota:,} of {with_quota:,} reps with a quota are at or above 100 % ({at_quota / with_quota:.1%})."
        + (f" {without:,} reps without a quota have no attainment and are left out." if without else "")
    )
