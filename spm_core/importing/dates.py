"""Read a column of dates the way its export wrote them: `read_dates(cells, rule) -> Dates`.

Exports write dates in many ways (`2015-04-07`, `07-Apr-2015`, `4/7/2015`, `07.04.2015`, with times, or
as Excel serial numbers such as 42101), and a user should not have to say which. The one thing a value
cannot always tell is whether `4/7/2015` is 7 April or 4 July, so the order of day and month is decided
for the whole column: by its values that can be read one way only (31/3/2015), else by the file's other
date columns (one export, one convention), else by the user (`--date-format dmy|mdy`). Only a column that
none of these decide is refused, row by row, naming the option. Dotted dates (07.04.2015) are day first
unless something says otherwise: no locale writes month first with dots.

Values are split into date and time and each distinct part is read once, so a million timestamps cost
as much as the few thousand days they fall on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .model import ImportRejected

DAY_FIRST, MONTH_FIRST = "dmy", "mdy"
ORDERS = {DAY_FIRST: "day/month/year", MONTH_FIRST: "month/day/year"}
YEARS = (1900, 2200)
ISO_DATE = r"\d{4}-\d{1,2}-\d{1,2}([T ].*)?"
SPLIT = r"(?P<date>.*?)(?:[ T]+(?P<time>\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp]\.?[Mm]\.?)?))?"
NUMERIC = r"(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})"
SERIAL = r"\d{3,5}(?:\.\d+)?"  # Excel day numbers: 367 is 1901-01-01, 99999 is 2173
EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # Excel's day 0, counting its fictitious 1900-02-29
NAMED_FORMATS = (
    "%d-%b-%Y", "%d-%b-%y", "%d %b %Y", "%d %b %y", "%d-%B-%Y", "%d %B %Y", "%d/%b/%Y",
    "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y", "%d. %B %Y", "%b-%d-%Y", "%Y-%b-%d",
)  # fmt: skip
TIME_FORMATS = ("%H:%M", "%H:%M:%S", "%H:%M:%S.%f", "%I:%M %p", "%I:%M:%S %p", "%I:%M%p")
DATE_EXAMPLES = "2024-03-31, 31-Mar-2024, 3/31/2024 or 31.03.2024"
DATE_FORMAT_HELP = (
    "how to read dates when their values cannot tell: dmy (31/3/2024), mdy (3/31/2024), "
    "or a pattern such as %%d-%%b-%%Y (default: inferred from each column)"
)


@dataclass(frozen=True)
class DateRule:
    """How an import reads dates: `date_format` is None (infer), dmy or mdy (the order of numeric dates),
    or a strptime pattern; `file_order` is the order the file's date columns showed (set per file)."""

    date_format: str | None = None
    file_order: str | None = None

    @classmethod
    def of(cls, date_format: str | None = None, dayfirst: bool = False) -> DateRule:
        """The rule for the user's options; --dayfirst is --date-format dmy."""
        chosen = (date_format or "").strip() or (DAY_FIRST if dayfirst else None)
        if chosen and chosen.casefold() in ORDERS:
            chosen = chosen.casefold()
        elif chosen and "%" not in chosen:
            raise ImportRejected(f"--date-format takes dmy, mdy or a pattern such as %d-%b-%Y; got {chosen!r}.")
        return cls(chosen)

    @property
    def order(self) -> str | None:
        """The order given by the user, if any."""
        return self.date_format if self.date_format in ORDERS else None

    @property
    def pattern(self) -> str | None:
        return self.date_format if self.date_format and self.date_format not in ORDERS else None


@dataclass(frozen=True)
class Dates:
    """A column read: timestamps (NaT where a cell did not read), and for those cells why and the fix."""

    values: pd.Series
    why: pd.Series  # "" where the cell read or was empty
    fix: pd.Series


def column_order(cells: pd.Series) -> str | None:
    """The order of day and month this column's numeric dates show (its rows that read one way only, the
    more common way if they disagree), or None when none shows it."""
    counts = cells[cells != ""].value_counts()
    texts = pd.Series(counts.index, dtype=str)
    dates = texts[~texts.str.fullmatch(ISO_DATE)].str.extract(f"^{SPLIT}$")["date"].str.strip()
    parts = _numeric(dates)
    rows = counts.to_numpy()[parts.index.to_numpy()]
    slashed = (parts["sep"] != ".").to_numpy()
    day_first = int(rows[slashed & (parts["a"] > 12).to_numpy()].sum())
    month_first = int(rows[slashed & (parts["b"] > 12).to_numpy()].sum())
    if day_first == month_first:
        return None
    return DAY_FIRST if day_first > month_first else MONTH_FIRST


def file_order(columns: list[pd.Series]) -> str | None:
    """The order the file's date columns agree on (None when none shows one, or they disagree)."""
    orders = {column_order(cells) for cells in columns} - {None}
    return orders.pop() if len(orders) == 1 else None


def read_dates(cells: pd.Series, rule: DateRule) -> Dates:
    """`cells` (stripped text, "" for empty) as timestamps, reading each distinct value once."""
    codes, uniques = pd.factorize(cells)
    texts = pd.Series(uniques, dtype=str)
    values, why, fix = _read_distinct(texts, rule, column_order(cells))
    empty = texts == ""
    why, fix = why.mask(empty, ""), fix.mask(empty, "")
    values = values.where(~empty)
    spread = {name: pd.Series(s.to_numpy()[codes], index=cells.index) for name, s in (("v", values), ("w", why), ("f", fix))}
    return Dates(spread["v"].astype("datetime64[us]"), spread["w"].astype(str), spread["f"].astype(str))


def _numeric(dates: pd.Series) -> pd.DataFrame:
    """a, separator, b and year of dates written with numbers only (4/7/2015, 07.04.2015, 07-04-15)."""
    found = dates.str.extract(f"^{NUMERIC}$").dropna()
    return found.astype({"a": "int64", "b": "int64"})


def _read_distinct(texts: pd.Series, rule: DateRule, own_order: str | None) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Timestamps, why and fix for distinct values."""
    values = pd.Series(pd.NaT, index=texts.index, dtype="datetime64[us]")
    why = pd.Series("", index=texts.index, dtype=str)
    fix = pd.Series("", index=texts.index, dtype=str)
    iso = texts.str.fullmatch(ISO_DATE)
    parsed = pd.to_datetime(texts.where(iso), format="ISO8601", errors="coerce", utc=True)
    values[iso] = parsed[iso].dt.tz_convert(None).astype("datetime64[us]")
    rest = texts[~iso & (texts != "")]
    if len(rest):
        split = rest.str.extract(f"^{SPLIT}$")
        day, day_why, day_fix = _read_days(split["date"].str.strip(), rule, own_order or rule.file_order)
        time = _read_times(split["time"])
        values[rest.index] = (day + time).astype("datetime64[us]")
        why[rest.index], fix[rest.index] = day_why, day_fix
        bad_time = day.notna() & time.isna()
        why[bad_time[bad_time].index] = f"This time of day does not read; expected a date like {DATE_EXAMPLES}."
    outside = values.notna() & ~values.dt.year.between(*YEARS)
    values[outside] = pd.NaT
    why[outside] = f"This date is outside the years {YEARS[0]}-{YEARS[1]}; probably a typo."
    unread = values.isna() & (why == "") & (texts != "")
    why[unread] = f"This is not a date; expected a date like {DATE_EXAMPLES}."
    fix[unread] = "--date-format with its pattern, e.g. --date-format '%d %b %Y'"
    return values, why, fix


def _read_days(dates: pd.Series, rule: DateRule, order: str | None) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Midnight timestamps for date parts (each distinct one read once), and why/fix where one cannot be read."""
    codes, uniques = pd.factorize(dates)
    texts = pd.Series(uniques, dtype=str)
    values = pd.Series(pd.NaT, index=texts.index, dtype="datetime64[us]")
    why = pd.Series("", index=texts.index, dtype=str)
    fix = pd.Series("", index=texts.index, dtype=str)
    if rule.pattern:
        values[:] = pd.to_datetime(texts, format=rule.pattern, errors="coerce")
        why[values.isna()] = f"This date does not match --date-format {rule.pattern}."
    else:
        _read_numeric(texts, rule.order or order, values, why, fix)
        serial = texts.str.fullmatch(SERIAL) & values.isna() & (why == "")
        number = pd.to_numeric(texts[serial])
        number = number[number >= 367]
        values[number.index] = (EXCEL_EPOCH + pd.to_timedelta(number, unit="D")).astype("datetime64[us]")
        for fmt in NAMED_FORMATS:
            todo = values.isna() & (why == "") & texts.str.contains("[A-Za-z]", regex=True)
            if not todo.any():
                break
            values[todo] = pd.to_datetime(texts[todo], format=fmt, errors="coerce")
    spread = [pd.Series(s.to_numpy()[codes], index=dates.index) for s in (values, why, fix)]
    return spread[0].astype("datetime64[us]"), spread[1].astype(str), spread[2].astype(str)


def _read_numeric(texts: pd.Series, order: str | None, values: pd.Series, why: pd.Series, fix: pd.Series) -> None:
    """Fill values (or why and fix) for the numeric dates among `texts`, in `order` where a value allows both."""
    parts = _numeric(texts)
    if parts.empty:
        return
    year = parts["y"].astype("int64")
    year = year.where(parts["y"].str.len() == 4, year + np.where(year < 69, 2000, 1900))
    either = (parts["a"] <= 12) & (parts["b"] <= 12) & (parts["a"] != parts["b"])
    only_day_first, only_month_first = parts["a"] > 12, parts["b"] > 12
    chosen = order or pd.Series(np.where(parts["sep"] == ".", DAY_FIRST, ""), index=parts.index)
    day_first = ((chosen == DAY_FIRST) | only_day_first) & ~only_month_first
    day = parts["a"].where(day_first, parts["b"])
    month = parts["b"].where(day_first, parts["a"])
    read = pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": day}), errors="coerce")
    values[parts.index] = read.astype("datetime64[us]")
    undecided = either & (chosen == "")
    options = "--date-format dmy (31/3/2024) or --date-format mdy (3/31/2024)"
    why[undecided[undecided].index] = (
        "Is this day/month or month/day? No value of this column or of the file's other date columns says; "
        f"choose with {options}."
    )
    fix[undecided[undecided].index] = options
    if order:
        other = MONTH_FIRST if order == DAY_FIRST else DAY_FIRST
        against = only_month_first if order == DAY_FIRST else only_day_first
        why[against[against].index] = (
            f"This date reads only as {ORDERS[other]}, but the column's dates are {ORDERS[order]}; "
            "correct it, or choose the order with --date-format."
        )
        fix[against[against].index] = f"--date-format {other}"
    values[why[why != ""].index] = pd.NaT


def _read_times(times: pd.Series) -> pd.Series:
    """Time of day as a timedelta (0 where there is none, NaT where it does not read)."""
    codes, uniques = pd.factorize(times.fillna(""))
    texts = pd.Series(uniques, dtype=str).str.upper().str.replace(r"([AP])\.?M\.?$", r"\1M", regex=True)
    texts = texts.str.replace(r"\s+", " ", regex=True)
    parsed = pd.Series(pd.NaT, index=texts.index, dtype="datetime64[us]")
    for fmt in TIME_FORMATS:
        todo = parsed.isna() & (texts != "")
        if not todo.any():
            break
        parsed[todo] = pd.to_datetime("1900-01-01 " + texts[todo], format=f"%Y-%m-%d {fmt}", errors="coerce")
    delta = (parsed - pd.Timestamp("1900-01-01")).where(texts != "", pd.Timedelta(0))
    return pd.Series(delta.to_numpy()[codes], index=times.index)
