"""What territory rules are made of, and the size bands accounts fall into by head count."""

from __future__ import annotations

from dataclasses import dataclass, fields

import sqlalchemy as sa

from ...schema import account
from ..model import PlanError

# (band, lowest employee count): an account is in the last band whose floor it reaches.
SIZE_BANDS = (("Small", 0), ("Medium", 200), ("Large", 2000))


class TerritoryError(PlanError):
    """Input territory planning cannot take, with a message for the person who gave it. Nothing is written.
    A PlanError, so the planning pages' one write path reports it the same way."""


def size_band() -> sa.ColumnElement[str]:
    """The account's size band as SQL, from employees (NULL when the head count is unknown)."""
    whens = [(account.c.employees >= floor, band) for band, floor in reversed(SIZE_BANDS)]
    return sa.case(*whens, else_=sa.null())


@dataclass(frozen=True)
class Rule:
    """A territory's claim: the accounts matching every criterion set here (None: any value)."""

    territory_id: int
    country: str | None = None
    state: str | None = None
    postcode_from: str | None = None
    postcode_to: str | None = None
    industry: str | None = None
    size_band: str | None = None

    def __post_init__(self) -> None:
        for f in fields(self)[1:]:
            value = getattr(self, f.name)
            if value is not None and not str(value).strip():
                object.__setattr__(self, f.name, None)  # a blank box means "any"
        if all(getattr(self, f.name) is None for f in fields(self)[1:]):
            raise TerritoryError("A rule needs at least one criterion (country, state, postcodes, industry or size band).")
        if self.size_band is not None and self.size_band not in dict(SIZE_BANDS):
            raise TerritoryError(f"Size band {self.size_band!r} is not one of {', '.join(b for b, _ in SIZE_BANDS)}.")
        low, high = self.postcode_from, self.postcode_to
        if low is not None and high is not None and low > high:
            raise TerritoryError(f"The postcode range {low}–{high} is empty: its first code sorts after its last.")

    def describe(self) -> str:
        """The rule in words, for tables and messages."""
        parts = [
            f"{name} = {getattr(self, name)}" for name in ("country", "state", "industry", "size_band") if getattr(self, name)
        ]
        if self.postcode_from or self.postcode_to:
            parts.append(f"postcode {self.postcode_from or '…'}–{self.postcode_to or '…'}")
        return ", ".join(parts)
