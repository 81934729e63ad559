"""The review PDF (spm_core.reports.pdf): its text extracted with pypdf holds the cover (period, scope, filters),
every section with the computed figures, page numbers, the charts as images, and hostile names as inert text."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import date

import pypdf
import pytest

from spm_core.filters import Filters, Scope
from spm_core.formatting import exact_by_unit
from spm_core.reports import pdf
from spm_core.reports.files import review_pdf
from spm_core.reports.periods import parse_period
from spm_core.reports.review import build_review
from spm_core.stages import stage_rows

AS_OF = date(2026, 11, 23)
HOSTILE = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture(scope="module")
def q3(demo_engine):
    review = build_review(demo_engine, Filters(parse_period("2026-Q3"), teams=frozenset({1})), Scope.everyone(), AS_OF)
    reader = pypdf.PdfReader(io.BytesIO(review_pdf(demo_engine, review)))
    return review, reader, [page.extract_text() for page in reader.pages]


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_the_cover_names_the_period_scope_and_filters(q3, demo_frames):
    _, _, pages = q3
    cover = _flat(pages[0])
    assert "Period review 2026-Q3" in cover and "01 Jul 2026 – 30 Sep 2026" in cover
    assert "Scope Everyone" in cover
    assert f"Teams {demo_frames['team'].set_index('id').loc[1, 'name']}" in cover


def test_every_page_is_numbered(q3):
    _, reader, pages = q3
    for number, text in enumerate(pages, start=1):
        assert f"page {number} of {len(reader.pages)}" in text


def test_every_section_and_its_figures_are_in_the_text(q3):
    review, _, pages = q3
    body = _flat(" ".join(pages[1:]))
    for section in review.sections:
        assert f"{section.group}: {section.title}" in body
    rows = review.section("headline").frame.set_index("kpi")
    for kpi in ("Bookings", "Quota", "Quota attainment", "Win rate"):
        unit, value = rows.loc[kpi, "unit"], rows.loc[kpi, "value"]
        assert f"{kpi} {exact_by_unit(unit, value)} {exact_by_unit(unit, rows.loc[kpi, 'previous'])}" in body
    for name, amount in review.section("biggest_wins").frame[["owner", "amount"]].itertuples(index=False):
        assert name in body and exact_by_unit("currency", amount) in body
    steps = review.section("pipeline_change").frame
    for step, amount in steps[["step", "amount"]].itertuples(index=False):
        assert f"{step} {exact_by_unit('currency', amount)}" in body


def test_charts_are_embedded_as_images(q3):
    _, reader, _ = q3
    assert sum(len(page.images) for page in reader.pages) >= 2  # the pipeline change and the team pace


def test_without_history_the_pdf_says_needs_history_and_hostile_names_stay_text(tiny_engine):
    people = [{"id": 1, "name": "Rita Rep", "role": "rep", "manager_id": None, "team_id": 1, "active": True, "ramp_months": 0}]
    deal = {
        "id": 1, "name": HOSTILE, "owner_id": 1, "amount": 500.0, "stage": "Closed Won", "probability": 100,
        "forecast_category": "Closed", "created_date": date(2026, 7, 1), "close_date": date(2026, 8, 1),
        "is_closed": True, "is_won": True,
    }  # fmt: skip
    engine = tiny_engine(
        person=people, team=[{"id": 1, "name": "Ones", "manager_id": None}], stage=stage_rows(), opportunity=[deal]
    )
    review = build_review(engine, Filters(parse_period("2026-Q3")), Scope.only(1), AS_OF)
    pages = [_flat(p.extract_text()) for p in pypdf.PdfReader(io.BytesIO(review_pdf(engine, review))).pages]
    text = " ".join(pages)
    assert " ".join(pages[1:]).count("Needs history") == 3  # pipeline change, slipped deals, forecast accuracy
    assert "Scope Rita Rep only" in text
    assert "'=HYPERLINK" in text


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (Debian poppler-utils) is not installed")
def test_a_page_renders_to_png(q3, demo_engine, tmp_path):
    review, _, _ = q3
    (tmp_path / "review.pdf").write_bytes(review_pdf(demo_engine, review))
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "2", "-l", "2", "review.pdf", "page"], cwd=tmp_path, check=True)
    assert list(tmp_path.glob("page*.png"))


def test_without_a_unicode_font_the_core_font_still_writes_every_section(monkeypatch, q3, demo_engine):
    monkeypatch.setattr(pdf, "UNICODE_FONTS", ())
    review, _, _ = q3
    text = " ".join(
        " ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(review_pdf(demo_engine, review))).pages
    )
    assert "01 Jul 2026 - 30 Sep 2026" in text  # the en dash written as "-" in Latin-1
    assert all(f"{s.group}: {s.title}" in text for s in review.sections)
