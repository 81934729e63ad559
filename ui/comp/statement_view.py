"""A statement on a page: totals, the attainment gauge with the next band, the lines with their trace
(one line's inputs opened on demand), and its PDF and CSV downloads, built only when clicked (a PDF
takes longer than the rest of the page). Numbers are spm_core's, as text."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from spm_core.comp.periods import period_label
from spm_core.comp.statement_files import lines_frame, statement_csv, statement_pdf
from spm_core.comp.statements import Statement
from spm_core.comp.trace import money_text
from ui.downloads import file_download
from ui.text import md

TRACE_FIELDS = ("component", "rule", "opportunity_id", "close_date", "credited", "quota", "band_lower", "band_upper", "rate", "base",
                "threshold", "limit_amount", "earlier", "origin_line_id", "reason")

HELP = {
    "Year to date": "Paid since the start of the plan year (the plan's year start month; January by default).",
    "Credited": "Bookings credited in the period. Each gauge below is one commission of your plan on the period's last day: "
                "its own measure (bookings, pipeline created or won deals, on the deals it counts) over its target or your quota, "
                "as the engine pays it.",
}


def show_statement(s: Statement, key: str) -> None:
    st.subheader(md(f"{s.person} · {period_label(s.period)}"))
    status = f"Period {s.state}; statement {s.status or 'not calculated'}"
    st.caption(md(status + (f" (comment: {s.comment})" if s.comment else "")))
    cols = st.columns(5)
    for col, (label, value) in zip(cols, (("Total", s.total), ("Adjustments", s.adjustments), ("Year to date", s.ytd),
                                          ("Draw balance", s.draw_balance), ("Credited", s.credited)), strict=True):
        col.metric(label, money_text(value), help=HELP.get(label))
    for attainment, text in s.attainments:  # one gauge per commission component, on the measure it pays on
        if attainment.percent is not None:
            st.progress(min(float(attainment.percent) / 150, 1.0), text=md(text))
    if s.lines.empty:
        st.info("No lines in this period.")
        return
    frame = lines_frame(s)
    st.dataframe(frame.assign(amount=frame["amount"].map(money_text)), hide_index=True, width="stretch", key=f"{key}_lines")
    st.caption(md(f"Total {money_text(s.total)} = the sum of the {len(frame)} lines."))
    line = st.selectbox("Open a line's trace", list(frame["line"]), index=None, key=f"{key}_trace",
                        format_func=lambda i: f"line {i}")
    if line is not None:
        row = s.lines[s.lines["id"] == line].iloc[0]
        st.text(row["formula"])
        shown = {name: row[name] for name in TRACE_FIELDS if not pd.isna(row[name])}
        st.dataframe(pd.DataFrame({"input": list(shown), "value": [str(v) for v in shown.values()]}), hide_index=True,
                     key=f"{key}_inputs")
    name = f"statement_{s.person_id}_{period_label(s.period)}"
    left, right = st.columns(2)
    with left:
        file_download("Statement (PDF)", lambda: statement_pdf(s), f"{name}.pdf", "application/pdf", f"{key}_pdf")
    with right:
        file_download("Statement (CSV)", lambda: statement_csv(s), f"{name}.csv", "text/csv", f"{key}_csv")
