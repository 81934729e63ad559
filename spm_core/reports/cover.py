"""What a review file says about itself on its cover: the period, the day it was computed, whose numbers
(the scope) and which filters, in names rather than ids, so a file forwarded by email still says what it holds."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..db import read_frame
from ..filters import Filters, Scope
from ..schema import person, product, region, segment, team
from .periods import period_label
from .review import Review

_FILTERS = (
    ("Teams", "teams", team),
    ("Segments", "segments", segment),
    ("Regions", "regions", region),
    ("Products", "products", product),
    ("Reps", "reps", person),
    ("Managers (and everyone below them)", "managers", person),
)


def _names(engine: Engine, table: sa.Table, ids: frozenset[int]) -> str:
    found = read_frame(engine, sa.select(table.c.name).where(table.c.id.in_(sorted(ids))).order_by(table.c.name))
    return ", ".join(found["name"].astype(str)) or "(none found)"


def scope_text(engine: Engine, scope: Scope) -> str:
    """Whose numbers the review holds, as a reader would say it."""
    if scope.is_everyone:
        return "Everyone"
    if not scope.person_ids:
        return "Nobody (this account is not linked to a person in the warehouse)"
    names = _names(engine, person, scope.person_ids)
    return f"{names} and everyone below them in the manager tree" if scope.include_subtree else f"{names} only"


def filter_lines(engine: Engine, filters: Filters) -> list[tuple[str, str]]:
    """(label, names) for each people or product filter that is set; "All" when none is."""
    lines = [(label, _names(engine, table, getattr(filters, attr))) for label, attr, table in _FILTERS if getattr(filters, attr)]
    return lines or [("Filters", "None (everything in scope)")]


def cover_frame(engine: Engine, review: Review) -> pd.DataFrame:
    """The cover as two columns (item, value): period, dates, scope, filters, then each section and its note."""
    p, n = review.period, review.next_period
    rows = [
        ("Report", f"Period review {period_label(p)}"),
        ("Period", f"{p.start:%d %b %Y} – {p.end:%d %b %Y}"),
        ("Computed on", f"{review.as_of:%d %b %Y}" + (" (period in progress)" if review.as_of <= p.end else "")),
        ("Next period", f"{n.start:%d %b %Y} – {n.end:%d %b %Y}"),
        ("Scope", scope_text(engine, review.scope)),
        *filter_lines(engine, review.filters),
        *((f"{s.group}: {s.title}", s.note) for s in review.sections),
    ]
    return pd.DataFrame(rows, columns=["item", "value"])
