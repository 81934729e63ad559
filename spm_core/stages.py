"""Default sales stages and forecast categories from SPEC.md.

The stage table in the warehouse is the configurable copy; these are the defaults it starts from.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Stage:
    name: str
    position: int
    probability: int  # percent
    is_closed: bool
    is_won: bool
    forecast_category: str


PIPELINE, BEST_CASE, COMMIT, CLOSED, OMITTED = "Pipeline", "Best Case", "Commit", "Closed", "Omitted"
FORECAST_CATEGORIES = (PIPELINE, BEST_CASE, COMMIT, CLOSED, OMITTED)

DEFAULT_STAGES: tuple[Stage, ...] = (
    Stage("Prospecting", 0, 10, False, False, PIPELINE),
    Stage("Qualification", 1, 20, False, False, PIPELINE),
    Stage("Discovery", 2, 30, False, False, BEST_CASE),
    Stage("Proposal", 3, 60, False, False, BEST_CASE),
    Stage("Negotiation", 4, 80, False, False, COMMIT),
    Stage("Closed Won", 5, 100, True, True, CLOSED),
    Stage("Closed Lost", 6, 0, True, False, OMITTED),
)
OPEN_STAGES = tuple(s for s in DEFAULT_STAGES if not s.is_closed)
WON_STAGE = DEFAULT_STAGES[5]
LOST_STAGE = DEFAULT_STAGES[6]


def stage_rows(stages: tuple[Stage, ...] = DEFAULT_STAGES) -> list[dict]:
    """Rows for the warehouse's stage table."""
    return [s.__dict__.copy() for s in stages]
