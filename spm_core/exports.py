"""Files users download (CSV today; XLSX and PDF writers go through safe_frame too), safe to open in a spreadsheet.

Text from the warehouse is outside text: a deal imported as `=HYPERLINK("http://evil.example","x")` would run
as a live formula in Excel, LibreOffice or Google Sheets (CSV/formula injection). OWASP's rule: a text cell
that starts with = + - @ tab or carriage return gets a leading single quote, so spreadsheets show it as text.
Only text is touched: an amount of -42 stored as a number is a number, not a formula.
"""

from __future__ import annotations

import io

import pandas as pd

_SIGNS = ("=", "+", "-", "@")
FORMULA_TRIGGERS = (*_SIGNS, "\t", "\r")


def neutralise(value: object) -> object:
    """`value` with a leading quote if it is text a spreadsheet would read as a formula; anything else as it is.
    Spreadsheets may trim leading spaces on import, so a sign behind whitespace counts too."""
    if isinstance(value, str) and (value.startswith(FORMULA_TRIGGERS) or value.lstrip().startswith(_SIGNS)):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells (the header row included) hold no live formula; numeric, boolean
    and datetime columns are left as they are."""
    safe = frame.copy(deep=False)  # copy-on-write: assigning columns below never changes `frame`
    for i in range(frame.shape[1]):  # by position: column names may repeat
        values = frame.iloc[:, i]
        if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values)):
            safe.isetitem(i, values.map(neutralise, na_action="ignore"))
    safe.columns = [neutralise(column) for column in frame.columns]
    return safe


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """`frame` as UTF-8 CSV (no index) for a download button, its text cells neutralised."""
    return safe_frame(frame).to_csv(index=False).encode("utf-8")


def to_xlsx_bytes(frame: pd.DataFrame, sheet: str = "Data") -> bytes:
    """`frame` as an Excel workbook (openpyxl, no index) for a download button, its text cells neutralised."""
    out = io.BytesIO()
    safe_frame(frame).to_excel(out, index=False, sheet_name=sheet, engine="openpyxl")
    return out.getvalue()
