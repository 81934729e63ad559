"""Period review: what went right and wrong in a month or quarter, within the viewer's scope, as tables on
screen and as XLSX, PDF and (per table) CSV downloads. Sections come from spm_core.reports.review."""

import pandas as pd
import streamlit as st

from spm_core.formatting import by_unit
from spm_core.reports.files import PDF_MIME, XLSX_MIME, file_stem
from spm_core.reports.periods import is_quarter, period_label
from spm_core.reports.review import FAILURE, OUTLOOK, SUCCESS, SUMMARY, Section
from ui import reports_data as data
from ui.context import context
from ui.downloads import csv_download, file_download
from ui.period_picker import period_picker
from ui.text import md

COLUMN_FORMATS = {"currency": "dollar", "percent": "percent", "count": "localized", "ratio": "%.2fx", "days": "%.1f"}
HEADLINE_NUMBERS = ("value", "previous", "change", "plan", "vs_plan")

ctx = context()
wh = ctx.wh
st.title("Period review")
st.caption(
    "Successes and failures of a month or quarter, within what you may see. The filter bar's period does not "
    "apply here (choose the review's below); its team, segment, region, product and people filters do."
)
period = period_picker(wh.as_of, "review")
filters = ctx.filters.with_period(period)
files = data.files(wh.engine, wh.version, filters, ctx.scope, wh.as_of)
review = files.review
stem = file_stem(review)
xlsx_col, pdf_col = st.columns(2)
with xlsx_col:
    file_download("Download XLSX", files.xlsx, f"{stem}.xlsx", XLSX_MIME, "review_xlsx")
with pdf_col:
    file_download("Download PDF", files.pdf, f"{stem}.pdf", PDF_MIME, "review_pdf")
kind = "quarter" if is_quarter(period) else "month"
st.caption(f"Computed on {wh.as_of:%d %b %Y}; next {kind}: {period_label(review.next_period)}.")


def headline_view(frame: pd.DataFrame) -> pd.DataFrame:
    """The headline's numbers as text in each row's own unit (a column mixes dollars, counts and percents)."""
    shown = frame.drop(columns="unit").astype({c: "object" for c in HEADLINE_NUMBERS})
    for column in HEADLINE_NUMBERS:
        shown[column] = [by_unit(u, v) for u, v in zip(frame["unit"], frame[column], strict=True)]
    return shown


def show(section: Section) -> None:
    st.markdown(f"**{md(section.title)}**", help=md(section.note))
    if section.frame is None:
        st.info(md(section.note))
        return
    if section.key == "headline":
        st.dataframe(headline_view(section.frame), hide_index=True, width="stretch")
    elif section.frame.empty:
        st.caption("Nothing in this period.")
        return
    else:
        config = {c: st.column_config.NumberColumn(format=COLUMN_FORMATS[u]) for c, u in section.units.items()}
        st.dataframe(section.frame, hide_index=True, width="stretch", column_config=config)
    csv_download("CSV", section.frame, f"{stem}-{section.key}.csv", f"review_csv_{section.key}")


for group in (SUMMARY, SUCCESS, FAILURE, OUTLOOK):
    st.subheader(group)
    for section in review.sections:
        if section.group == group:
            show(section)
