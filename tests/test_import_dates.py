"""Dates read as each column writes them (importing/dates.py), refused only where nothing can tell."""

from __future__ import annotations

import pandas as pd
import pytest

from spm_core.importing.csvfile import read_upload
from spm_core.importing.dates import DateRule, read_dates
from spm_core.importing.formats import parse
from spm_core.importing.model import ImportRejected

T = pd.Timestamp


def dates(values: list[str], rule: DateRule | None = None) -> list:
    read = read_dates(pd.Series(values, dtype=str), rule or DateRule())
    return [None if pd.isna(v) else v for v in read.values]


@pytest.mark.parametrize(
    "text",
    [
        "07-Apr-2015",
        "7 Apr 2015",
        "Apr 7, 2015",
        "April 7, 2015",
        "07-apr-15",
        "2015-04-07",
        "2015-04-07T00:00:00.000+0000",
        "07.04.2015",
        "42101",  # Excel's serial day number
    ],
)
def test_every_common_form_reads_without_options(text):
    assert dates([text]) == [T("2015-04-07")]


def test_times_and_excel_fractions_keep_the_time_of_day():
    assert dates(["4/7/2015 10:15 AM", "4/13/2015 16:05", "2015-04-07 10:22:31", "42101.5", "07-Apr-2015 9:30 p.m."]) == [
        T("2015-04-07 10:15"),
        T("2015-04-13 16:05"),
        T("2015-04-07 10:22:31"),
        T("2015-04-07 12:00"),
        T("2015-04-07 21:30"),
    ]


def test_the_order_of_day_and_month_comes_from_the_whole_column():
    assert dates(["4/7/2015", "31/3/2015"]) == [T("2015-07-04"), T("2015-03-31")]
    assert dates(["4/7/2015", "3/31/2015"]) == [T("2015-04-07"), T("2015-03-31")]
    assert dates(["4-7-2015", "3-31-2015"]) == [T("2015-04-07"), T("2015-03-31")]


def test_a_column_nothing_decides_is_refused_row_by_row_naming_the_option():
    read = read_dates(pd.Series(["4/7/2015", "1/1/2015", "", "5/6/2015"], dtype=str), DateRule())
    assert read.values.isna().tolist() == [True, False, True, True]
    assert (read.why != "").tolist() == [True, False, False, True]
    assert "--date-format dmy" in read.why[0] and "--date-format mdy" in read.fix[0]
    assert dates(["4/7/2015", "1/1/2015"], DateRule.of("dmy")) == [T("2015-07-04"), T("2015-01-01")]
    assert dates(["4/7/2015"], DateRule.of(dayfirst=True)) == [T("2015-07-04")]
    assert dates(["4/7/2015"], DateRule.of("mdy")) == [T("2015-04-07")]


def test_a_pattern_reads_what_nothing_else_would():
    assert dates(["07|04|2015", "2015-04-08"], DateRule.of("%d|%m|%Y")) == [T("2015-04-07"), T("2015-04-08")]
    with pytest.raises(ImportRejected, match="--date-format takes dmy, mdy or a pattern"):
        DateRule.of("day first")


def test_other_date_columns_of_the_file_decide_an_undecided_one():
    header = "Opportunity ID,Opportunity Owner,Stage,Amount,Created Date,Close Date\n"
    files = {"x.csv": read_upload("x.csv", (header + "1,A,Won,1,31/3/2015,4/7/2015\n2,A,Won,1,2/1/2015,5/6/2015\n").encode())}
    parsed = parse("salesforce_opportunities", files)
    assert parsed.errors == []
    assert parsed.opportunities["close_date"].tolist() == [T("2015-07-04"), T("2015-06-05")]


def test_values_that_are_not_dates_still_say_so():
    read = read_dates(pd.Series(["soon", "2/30/2015", "4/7/3024"], dtype=str), DateRule.of("mdy"))
    assert read.values.isna().all()
    assert read.why.str.startswith("This is not a date").tolist() == [True, True, False]
    assert read.why[2] == "This date is outside the years 1900-2200; probably a typo."
