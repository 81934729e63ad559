"""The review as a PDF: a cover (period, scope, filters), then each section with its note and table, charts
as images (pipeline change, team pace), and "page N of M" on every page.

Cells go through exports.safe_frame like every export (the PDF cannot run a formula, but a table copied out
of it into a spreadsheet could). Numbers are shown as on screen (spm_core.formatting, whole dollars).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pandas as pd
from fpdf import FPDF
from fpdf.fonts import FontFace

from ..exports import safe_frame
from ..formatting import NO_VALUE, exact_by_unit
from .charts import attainment_png, waterfall_png
from .review import Review, Section

MAX_ROWS = 25  # longer tables are cut, with a line saying how many rows the XLSX has
HIDDEN_COLUMNS = ("unit", "compared_with")
# A Unicode font when the system has one (names may be in any script); else the PDF core font in Latin-1.
UNICODE_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
)
_LATIN1 = str.maketrans({"–": "-", "—": "-", "−": "-", "…": "...", "≥": ">=", "≤": "<=", "×": "x", "’": "'"})


class _Document(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(orientation="landscape", format="A4")
        self.title_text = title
        self.set_auto_page_break(auto=True, margin=15)
        found = next((p for p in UNICODE_FONTS if p.exists()), None)
        self.unicode = found is not None
        if found is not None:
            bold = found.with_name(found.name.replace("Regular", "Bold").replace("Sans.ttf", "Sans-Bold.ttf"))
            self.add_font("body", "", str(found))
            self.add_font("body", "B", str(bold if bold.exists() else found))
        self.family = "body" if self.unicode else "helvetica"

    def text_of(self, value: object) -> str:
        text = str(value)
        return text if self.unicode else text.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family, "", 8)
        self.cell(0, 8, self.text_of(f"{self.title_text} · page {self.page_no()} of {{nb}}"), align="C")


def _cell_text(value: object, unit: str | None) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return NO_VALUE
    if isinstance(value, bool):
        return "yes" if value else "no"
    if unit is not None and isinstance(value, int | float):
        return exact_by_unit(unit, value)
    if isinstance(value, pd.Timestamp | date):
        return f"{value:%Y-%m-%d}"
    return str(value)


def table_rows(section: Section) -> list[list[str]]:
    """The section's table as text: a header row, then each row with numbers in their unit."""
    frame = section.frame
    shown = [c for c in frame.columns if c not in HIDDEN_COLUMNS]
    safe = safe_frame(frame)
    rows = [[str(c).replace("_", " ").capitalize() for c in safe_frame(frame[shown]).columns]]
    for i in range(min(len(frame), MAX_ROWS)):
        row_unit = frame["unit"].iloc[i] if "unit" in frame.columns else None
        rows.append([_cell_text(safe[c].iloc[i], section.units.get(c) or row_unit) for c in shown])
    return rows


def _heading(pdf: _Document, text: str, size: int) -> None:
    pdf.set_font(pdf.family, "B", size)
    pdf.multi_cell(0, size * 0.5, pdf.text_of(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _small(pdf: _Document, text: str) -> None:
    pdf.set_font(pdf.family, "", 8)
    pdf.multi_cell(0, 4, pdf.text_of(text), new_x="LMARGIN", new_y="NEXT")


def _table(pdf: _Document, rows: Sequence[Sequence[str]]) -> None:
    pdf.set_font(pdf.family, "", 8)
    with pdf.table(
        [[pdf.text_of(c) for c in row] for row in rows],
        headings_style=FontFace(emphasis="BOLD", fill_color=(230, 236, 245)),
        line_height=4.5,
        text_align="LEFT",
    ):
        pass
    pdf.ln(3)


def _cover(pdf: _Document, cover: pd.DataFrame) -> None:
    pdf.add_page()
    _heading(pdf, pdf.title_text, 20)
    safe = safe_frame(cover)
    _table(pdf, [["", ""], *([str(a), str(b)] for a, b in safe.itertuples(index=False))])


def _section(pdf: _Document, section: Section) -> None:
    _heading(pdf, f"{section.group}: {section.title}", 13)
    _small(pdf, section.note)
    pdf.ln(1)
    if section.frame is None:
        return
    if section.frame.empty:
        _small(pdf, "Nothing in this period.")
        pdf.ln(3)
        return
    _table(pdf, table_rows(section))
    if len(section.frame) > MAX_ROWS:
        _small(pdf, f"First {MAX_ROWS} of {len(section.frame):,} rows; the XLSX has them all.")
    if "compared_with" in section.frame.columns:
        for text in dict.fromkeys(section.frame["compared_with"]):
            _small(pdf, text)
    chart = _chart(section)
    if chart is not None:
        pdf.image(chart, w=200)
    pdf.ln(4)


def _chart(section: Section) -> bytes | None:
    if section.key == "pipeline_change":
        return waterfall_png(section.frame)
    if section.key in ("teams_ahead", "teams_behind"):
        return attainment_png(section.frame)
    return None


def write_pdf(review: Review, cover: pd.DataFrame) -> bytes:
    """The PDF as bytes. `cover`: reports.cover.cover_frame (its first row is the report's title)."""
    pdf = _Document(str(cover["value"].iloc[0]))
    _cover(pdf, cover)
    pdf.add_page()
    for section in review.sections:
        _section(pdf, section)
    return bytes(pdf.output())
