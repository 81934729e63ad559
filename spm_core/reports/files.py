"""A review as the files people download or a scheduled job writes: one entry point for the page and the CLI,
so both hand out the same bytes."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from .cover import cover_frame
from .pdf import write_pdf
from .periods import period_label
from .review import Review
from .xlsx import write_xlsx

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_MIME = "application/pdf"


def file_stem(review: Review) -> str:
    return f"period-review-{period_label(review.period)}"


def review_xlsx(engine: Engine, review: Review) -> bytes:
    return write_xlsx(review, cover_frame(engine, review))


def review_pdf(engine: Engine, review: Review) -> bytes:
    return write_pdf(review, cover_frame(engine, review))
