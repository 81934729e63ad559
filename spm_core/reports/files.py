"""A review as the files people download or a scheduled job writes: one entry point for the page and the CLI,
so both hand out the same bytes."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
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


@dataclass(frozen=True)
class ReviewFiles:
    """A review's files, written only when asked for: the cover reads the warehouse (names of the scope and
    filters) once, here; the writers do not, so a page can hand `xlsx` and `pdf` to download buttons that
    build the file on click (the PDF takes ~2.5 s at 10M opportunities, mostly drawing its charts)."""

    review: Review
    cover: pd.DataFrame

    def xlsx(self) -> bytes:
        return write_xlsx(self.review, self.cover)

    def pdf(self) -> bytes:
        return write_pdf(self.review, self.cover)


def review_files(engine: Engine, review: Review) -> ReviewFiles:
    return ReviewFiles(review, cover_frame(engine, review))


def review_xlsx(engine: Engine, review: Review) -> bytes:
    return review_files(engine, review).xlsx()


def review_pdf(engine: Engine, review: Review) -> bytes:
    return review_files(engine, review).pdf()
