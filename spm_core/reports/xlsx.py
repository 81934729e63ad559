"""The review as an XLSX workbook: a cover sheet (period, scope, filters, what each section means), then one
sheet per section with real number formats, a frozen header row and filters.

Every cell goes through exports.safe_frame first (deal and account names are outside text: a deal named
`=HYPERLINK(...)` must stay text), and numbers stay numbers so the reader can sum and sort them.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..exports import safe_frame
from .review import Review, Section

NUMBER_FORMATS = {
    "currency": '"$"#,##0;[Red]-"$"#,##0',
    "percent": "0.0%",
    "count": "#,##0",
    "ratio": '0.00"x"',
    "days": "0.0",
}
DATE_FORMAT = "yyyy-mm-dd"
MAX_WIDTH = 60
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def _cell(value: object) -> object:
    """A value openpyxl writes as it is: NA becomes an empty cell, numpy scalars plain Python."""
    if value is None or (not isinstance(value, str | tuple) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value.item() if hasattr(value, "item") else value


def _write_table(sheet: Worksheet, frame: pd.DataFrame, units: dict[str, str]) -> None:
    """Header row (bold, frozen, with filters) and rows; each number cell formatted by its column's unit,
    or by its row's `unit` column."""
    safe = safe_frame(frame)
    sheet.append([str(c) for c in safe.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    row_units = frame["unit"].tolist() if "unit" in frame.columns else None
    for i, row in enumerate(safe.itertuples(index=False)):
        values = [_cell(v) for v in row]
        sheet.append(values)
        for j, (column, value) in enumerate(zip(frame.columns, values, strict=True)):
            unit = units.get(column) or (
                row_units[i] if row_units and isinstance(value, int | float) and column != "unit" else None
            )
            cell = sheet.cell(row=i + 2, column=j + 1)
            if isinstance(value, date | datetime):
                cell.number_format = DATE_FORMAT
            elif unit in NUMBER_FORMATS and isinstance(value, int | float) and not isinstance(value, bool):
                cell.number_format = NUMBER_FORMATS[unit]
    sheet.freeze_panes = "A2"
    if len(frame.columns):
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{len(frame) + 1}"
    for j, column in enumerate(safe.columns, start=1):
        longest = max([len(str(column)), *(len(str(v)) for v in safe.iloc[:, j - 1].head(200))])
        sheet.column_dimensions[get_column_letter(j)].width = min(MAX_WIDTH, longest + 2)


def sheet_title(section: Section) -> str:
    """Excel allows 31 characters and none of []:*?/\\."""
    return _BAD_SHEET_CHARS.sub(" ", section.title)[:31]


def write_xlsx(review: Review, cover: pd.DataFrame) -> bytes:
    """The workbook as bytes (for a download button or a file). `cover`: reports.cover.cover_frame."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Cover"
    _write_table(sheet, cover, {})
    for row in sheet.iter_rows(min_row=2, min_col=2, max_col=2):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    for section in review.sections:
        sheet = book.create_sheet(sheet_title(section))
        if section.frame is None:
            _write_table(sheet, pd.DataFrame({"note": [section.note]}), {})
        else:
            _write_table(sheet, section.frame, dict(section.units))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
