"""The review workbook (spm_core.reports.xlsx) read back with openpyxl: every section's numbers as computed,
real number formats, frozen headers and filters, scope and filters on the cover, hostile names kept as text."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pandas as pd
import pytest

from spm_core.filters import Filters, Scope
from spm_core.reports.cover import cover_frame
from spm_core.reports.periods import parse_period
from spm_core.reports.review import build_review
from spm_core.reports.xlsx import NUMBER_FORMATS, sheet_title, write_xlsx
from spm_core.stages import stage_rows

AS_OF = date(2026, 11, 23)
HOSTILE = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture(scope="module")
def review_and_book(demo_engine):
    review = build_review(demo_engine, Filters(parse_period("2026-Q3"), teams=frozenset({1})), Scope.everyone(), AS_OF)
    book = openpyxl.load_workbook(io.BytesIO(write_xlsx(review, cover_frame(demo_engine, review))))
    return review, book


def _rows(sheet) -> pd.DataFrame:
    values = list(sheet.values)
    return pd.DataFrame(values[1:], columns=values[0])


def test_one_sheet_per_section_after_the_cover(review_and_book):
    review, book = review_and_book
    assert book.sheetnames == ["Cover", *(sheet_title(s) for s in review.sections)]


def test_every_section_reads_back_with_the_computed_numbers(review_and_book):
    review, book = review_and_book
    for section in review.sections:
        got = _rows(book[sheet_title(section)])
        assert list(got.columns) == list(section.frame.columns)
        assert len(got) == len(section.frame)
        for column in section.frame.columns:
            expected = section.frame[column]
            if pd.api.types.is_numeric_dtype(expected) and not pd.api.types.is_bool_dtype(expected):
                as_floats = [None if pd.isna(v) else pytest.approx(float(v)) for v in expected]
                assert [None if pd.isna(v) else float(v) for v in got[column]] == as_floats, column


def test_numbers_have_real_formats_and_headers_are_frozen_with_filters(review_and_book):
    review, book = review_and_book
    headline = book["Headline KPIs"]
    kpis = [c.value for c in headline["A"][1:]]
    value_col = [c.value for c in headline[1]].index("value") + 1
    bookings = headline.cell(row=kpis.index("Bookings") + 2, column=value_col)
    attainment = headline.cell(row=kpis.index("Quota attainment") + 2, column=value_col)
    assert isinstance(bookings.value, int | float) and bookings.number_format == NUMBER_FORMATS["currency"]
    assert attainment.number_format == NUMBER_FORMATS["percent"]
    wins = book["Biggest wins"]
    header = [c.value for c in wins[1]]
    assert wins.cell(row=2, column=header.index("amount") + 1).number_format == NUMBER_FORMATS["currency"]
    assert wins.cell(row=2, column=header.index("close_date") + 1).is_date
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref.startswith("A1:")
        assert all(c.font.bold for c in sheet[1])


def test_the_cover_names_the_period_scope_and_filters(review_and_book, demo_frames):
    _, book = review_and_book
    cover = dict(list(book["Cover"].values)[1:])
    assert cover["Report"] == "Period review 2026-Q3"
    assert cover["Scope"] == "Everyone"
    assert cover["Teams"] == demo_frames["team"].set_index("id").loc[1, "name"]
    assert "Needs history" not in cover["Outlook: Pipeline change"]


def _hostile_engine(tiny_engine, history: bool):
    people = [
        {"id": 1, "name": "@Mallory", "role": "manager", "manager_id": None, "team_id": 1, "active": True, "ramp_months": 0},
        {"id": 2, "name": "Rita Rep", "role": "rep", "manager_id": 1, "team_id": 1, "active": True, "ramp_months": 0},
    ]
    deal = {
        "id": 1, "name": HOSTILE, "owner_id": 2, "amount": 500.0, "stage": "Closed Won", "probability": 100,
        "forecast_category": "Closed", "created_date": date(2026, 7, 1), "close_date": date(2026, 8, 1),
        "is_closed": True, "is_won": True,
    }  # fmt: skip
    info = [{"key": "has_history", "value": "true"}] if history else []
    return tiny_engine(person=people, team=[{"id": 1, "name": "-1+1", "manager_id": 1}], stage=stage_rows(),
                       opportunity=[deal], warehouse_info=info)  # fmt: skip


def test_a_hostile_deal_name_is_text_not_a_formula(tiny_engine):
    engine = _hostile_engine(tiny_engine, history=False)
    review = build_review(engine, Filters(parse_period("2026-Q3")), Scope.subtree(1), AS_OF)
    book = openpyxl.load_workbook(io.BytesIO(write_xlsx(review, cover_frame(engine, review))))
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert "'" + HOSTILE in texts and HOSTILE not in texts
    assert "'-1+1" in texts  # the team name
    assert dict(list(book["Cover"].values)[1:])["Scope"] == "'@Mallory and everyone below them in the manager tree"
    assert list(book["Slipped deals"].values) == [("note",), (review.section("slipped_deals").note,)]
