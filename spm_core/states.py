"""Opportunities as they stood at the end of a past day, rebuilt from opportunity history.

History rows hold a deal's whole state with the day the next change replaced it (schema.py), so the
state on day d is one range filter: set-based, no window function and no loop over deals. Measures
written against `opportunity` are evaluated on that state by swapping the table's columns (as_stood).
Only the columns a query uses are kept, and today's opportunity row (owner, product, ...) is joined
only when one of its columns is used: the join costs more than the history scan itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import sqlalchemy as sa
from sqlalchemy.sql import visitors

from .schema import opportunity, opportunity_history

# The columns history records; the others (owner, product, created date, ...) are today's.
STATE_COLUMNS = frozenset({"stage", "amount", "close_date", "probability", "forecast_category", "is_closed", "is_won"})


def opportunity_columns(*expressions: sa.ColumnElement) -> set[str]:
    """The names of the `opportunity` columns the expressions read."""
    return {
        element.key
        for expression in expressions
        for element in visitors.iterate(expression)
        if isinstance(element, sa.Column) and element.table is opportunity
    }


def opportunities_on(day: date, columns: Iterable[str], name: str = "as_stood") -> sa.Subquery:
    """The given opportunity columns (and id) as they stood at the end of `day`; deals not yet created
    then are absent."""
    h, o = opportunity_history.c, opportunity.c
    wanted = sorted(set(columns) - {"id"})
    today = [c for c in wanted if c not in STATE_COLUMNS]
    source = opportunity_history.join(opportunity, o.id == h.opportunity_id) if today else opportunity_history
    stmt = (
        sa.select(h.opportunity_id.label("id"), *((o[c] if c in today else h[c]).label(c) for c in wanted))
        .select_from(source)
        .where(h.changed_at <= day, sa.or_(h.valid_to.is_(None), h.valid_to > day))
    )
    return stmt.subquery(name)


def as_stood(expression: sa.ColumnElement, state: sa.Subquery) -> sa.ColumnElement:
    """The expression with every `opportunity` column replaced by the same column of `state`."""

    def swap(element):
        if isinstance(element, sa.Column) and element.table is opportunity:
            return state.c[element.key]
        return None

    return visitors.replacement_traverse(expression, {}, swap)
