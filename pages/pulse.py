"""Employee pulse: eNPS for the company (every role) and, for managers and above, by team, manager or month
within their scope, with the response rate and anonymous comments. Admins import survey exports here.
Figures come from spm_core.pulse, which withholds every group of fewer than 5 responses."""

from dataclasses import replace

import duckdb
import sqlalchemy as sa
import streamlit as st

from spm_core.db import WarehouseError
from spm_core.pulse import enps, loader, turnover
from spm_core.pulse.anonymity import MIN_RESPONSES
from spm_core.reports.periods import period_label
from ui import pulse_data as data
from ui import warehouse
from ui.context import context, set_context
from ui.downloads import csv_download
from ui.period_picker import period_picker
from ui.text import md

BY_LABELS = {"team": "Team", "manager": "Manager", "month": "Month"}

ctx = context()
wh = ctx.wh
role = ctx.user.role if ctx.user else "rep"
st.title("Employee pulse (eNPS)")


def import_responses() -> None:
    """Admins: a survey export (person or email, date, score, comment), checked row by row before writing."""
    with st.expander("Import survey responses (CSV)"):
        st.caption("Columns: person (email or person id), date (YYYY-MM-DD), score (0–10), comment (optional).")
        upload = st.file_uploader("Survey export", type="csv", key="pulse_upload")
        if upload is None:
            return
        try:
            checked = loader.check(wh.engine, upload.getvalue(), wh.as_of)
        except loader.PulseFileError as exc:
            st.error(md(exc))
            return
        if not checked.ok:
            st.error(f"{len(checked.errors):,} row error(s); nothing can be imported until they are fixed.")
            errors = [{"line": e.row, "column": e.column, "value": e.value, "why": e.why} for e in checked.errors]
            st.dataframe(errors, hide_index=True)
            return
        if st.button(f"Import {len(checked.rows):,} responses", key="pulse_apply", type="primary"):
            try:
                with warehouse.writable() as engine:
                    written = loader.apply(engine, checked)
            except (WarehouseError, sa.exc.SQLAlchemyError, duckdb.Error) as exc:
                st.error(f"The warehouse refused the import ({md(str(exc).splitlines()[0])}); nothing was written.")
                return
            set_context(replace(ctx, wh=warehouse.current()))
            st.success(f"Imported {written:,} responses.")


if role == "admin":
    import_responses()
if not enps.has_pulse(wh.engine):
    st.info("This warehouse has no survey responses yet.")
    st.stop()

period = period_picker(wh.as_of, "pulse")
st.caption(md(enps.ENPS_HELP))
company = data.company(wh.engine, wh.version, period)
left, middle, right = st.columns(3)
if company.empty:
    left.metric("Company eNPS", "—", help=f"Fewer than {MIN_RESPONSES} responses in {period_label(period)}: not shown.")
else:
    row = company.iloc[0]
    left.metric("Company eNPS", f"{row['enps']:+.0f}", help=enps.ENPS_HELP)
    middle.metric("Responses", f"{int(row['responses']):,}")
    right.metric("Response rate", f"{row['response_rate']:.0%}")
if role == "rep":
    st.caption("Reps see the company figure only: team and manager figures stay with their managers.")
    st.stop()

by = st.segmented_control("By", list(BY_LABELS), format_func=BY_LABELS.__getitem__, default="team", key="pulse_by") or "team"
frame = data.breakdown(wh.engine, wh.version, period, ctx.scope, by, wh.as_of)
if frame.empty:
    st.info(f"Fewer than {MIN_RESPONSES} responses within what you may see in {period_label(period)}: nothing to show.")
    st.stop()
columns = ["group", "enps", "responses", "promoters", "passives", "detractors", "response_rate", "groups_merged"]
columns += [c for c in ("attainment", "reps_at_risk", "reps_counted", "turnover_risk") if c in frame.columns]
config = {
    "group": st.column_config.TextColumn(BY_LABELS[by]),
    "enps": st.column_config.NumberColumn("eNPS", format="%+.0f"),
    "response_rate": st.column_config.NumberColumn("Response rate", format="percent"),
    "groups_merged": st.column_config.NumberColumn("Groups merged", help="How many groups an Other row holds."),
    "attainment": st.column_config.NumberColumn("Attainment", format="percent"),
    "reps_at_risk": st.column_config.NumberColumn("Reps at risk", help=turnover.TURNOVER_HELP),
    "reps_counted": st.column_config.NumberColumn("Reps counted", help="Reps past ramp with a quota in both quarters."),
    "turnover_risk": st.column_config.TextColumn("Turnover risk", help=turnover.TURNOVER_HELP),
}
st.dataframe(frame[columns], hide_index=True, width="stretch", column_config=config)
if "turnover_risk" in frame.columns:
    st.caption(md(turnover.TURNOVER_HELP))
csv_download("CSV", frame[columns], f"enps-{period_label(period)}-by-{by}.csv", "pulse_csv")
found = data.comments(wh.engine, wh.version, period, ctx.scope)
with st.expander(f"Comments ({len(found):,})"):
    st.caption("Who wrote a comment is never shown; they are listed alphabetically.")
    for text in found["comment"]:
        st.markdown(f"- {md(text)}")
