"""What a plan is made of: the rule per level of the tree, bucketing tiers, overrides, ramp schedules.

Money is held in integer cents everywhere in planning (SPEC: children sum to the parent to the cent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction

EVEN = "even"
WEIGHTED = "weighted"
BUCKETING = "bucketing"
METHODS = (EVEN, WEIGHTED, BUCKETING)

# Measures a weighted or bucketing level can use (tree.py computes them per rep, summed up the tree).
MEASURES = {
    "prior_year_bookings": "Prior-year bookings (the plan's period a year earlier)",
    "trailing_12_months": "Bookings of the 12 months before today",
    "open_pipeline": "Open pipeline today (any expected close date)",
    "territory_potential": "Territory potential (the potential of the accounts each rep owns)",
}


class PlanError(ValueError):
    """Input a plan cannot take, with a message meant for the person who gave it. Nothing is written."""


def to_cents(amount: object) -> int:
    """An amount in currency units (text, int, float or Decimal) as integer cents, half-up."""
    try:
        value = Decimal(str(amount).strip().replace(",", ""))
    except ArithmeticError as exc:
        raise PlanError(f"{amount!r} is not an amount.") from exc
    if not value.is_finite():
        raise PlanError(f"{amount!r} is not an amount.")
    return int((value * 100).quantize(Decimal(1), rounding="ROUND_HALF_UP"))


@dataclass(frozen=True)
class Tier:
    """A bucketing tier: children whose measure is at least `floor` (currency units) and below the next
    tier's floor; the tier's `share` of the parent is split evenly among its members."""

    name: str
    floor: float
    share: Fraction

    def __post_init__(self) -> None:
        if self.share < 0:
            raise PlanError(f"Tier {self.name!r} has a negative share.")


@dataclass(frozen=True)
class LevelRule:
    """How a parent's amount is split among its children at one depth of the tree (1 = the root's children)."""

    method: str = EVEN
    measure: str | None = None  # weighted and bucketing
    tiers: tuple[Tier, ...] = ()  # bucketing, any order

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise PlanError(f"Unknown allocation method {self.method!r}; one of {', '.join(METHODS)}.")
        if self.method != EVEN and self.measure not in MEASURES:
            raise PlanError(f"The {self.method} method needs a measure: one of {', '.join(MEASURES)}.")
        if self.method == BUCKETING:
            if not self.tiers:
                raise PlanError("Bucketing needs at least one tier.")
            if sum(t.share for t in self.tiers) != 1:
                raise PlanError(
                    f"Tier shares must add up to 100 %; they add up to {float(sum(t.share for t in self.tiers)):.2%}."
                )


@dataclass(frozen=True)
class Override:
    """A planner's value for one person (a rep or a manager's subtree), locked: allocation keeps it and
    hands the rest of the level to the siblings by the level's method. The reason is mandatory."""

    person_id: int
    cents: int
    reason: str

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise PlanError(f"An override needs a reason (person {self.person_id}).")
        if self.cents < 0:
            raise PlanError(f"A quota cannot be negative (person {self.person_id}).")


DEFAULT_RAMP = (Fraction(1, 4), Fraction(1, 2), Fraction(3, 4))


@dataclass(frozen=True)
class Ramp:
    """Factors by month of tenure (month 1 = the hire month); 100 % after the last, 0 before the hire."""

    factors: tuple[Fraction, ...] = DEFAULT_RAMP

    def __post_init__(self) -> None:
        if any(not 0 <= f <= 1 for f in self.factors):
            raise PlanError("Ramp factors are between 0 % and 100 %.")

    def factor(self, tenure_month: int) -> Fraction:
        if tenure_month < 1:
            return Fraction(0)
        return self.factors[tenure_month - 1] if tenure_month <= len(self.factors) else Fraction(1)

    @classmethod
    def parse(cls, text: str) -> Ramp:
        """'25,50,75' (percent per month of tenure) as a Ramp; '' means no ramp."""
        try:
            return cls(tuple(Fraction(p.strip()) / 100 for p in text.split(",") if p.strip()))
        except (ValueError, ZeroDivisionError) as exc:
            raise PlanError(f"A ramp is percentages separated by commas (e.g. 25,50,75), not {text!r}.") from exc

    def text(self) -> str:
        return ",".join(f"{float(f * 100):g}" for f in self.factors)


@dataclass(frozen=True)
class RampOverride:
    """A schedule for one person or planned seat instead of the plan's (e.g. an experienced hire at 50 % in
    month 1, then full). `node` is the person id, or a planned seat's node (− its seat number)."""

    node: int
    ramp: Ramp
    reason: str

    def __post_init__(self) -> None:
        if not self.reason.strip():
            raise PlanError(f"A ramp of its own needs a reason (person {self.node}).")


@dataclass(frozen=True)
class PlannedSeat:
    """Open headcount the plan counts on ("TBH"): a rep-to-be under `manager_id`, not (yet) a person in the
    warehouse. In the tree it is a leaf whose node id is − its seat number; it ramps from its start month like a
    hire. Once `person_id` is set (the seat is filled) the person takes its place and its override and ramp."""

    seat_id: int
    name: str
    manager_id: int
    start: date
    segment_id: int | None = None
    person_id: int | None = None

    def __post_init__(self) -> None:
        if self.seat_id < 1:
            raise PlanError("Seat numbers start at 1.")
        if not self.name.strip():
            raise PlanError("A planned seat needs a name (e.g. TBH 1).")
        object.__setattr__(self, "name", self.name.strip())
        object.__setattr__(self, "start", self.start.replace(day=1))

    @property
    def node(self) -> int:
        return -self.seat_id


def node_order(node: int) -> tuple[bool, int]:
    """People by id, then planned seats by number: the order of siblings and of ties for a leftover cent."""
    return node < 0, abs(node)


@dataclass(frozen=True)
class PlanRules:
    """The allocation inputs of a scenario besides the tree: target, rules by depth (the last rule
    applies to every deeper level), overrides."""

    target_cents: int
    levels: tuple[LevelRule, ...] = (LevelRule(),)
    overrides: tuple[Override, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.target_cents < 0:
            raise PlanError("The target cannot be negative.")
        if not self.levels:
            raise PlanError("A plan needs an allocation rule for at least one level.")
        ids = [o.person_id for o in self.overrides]
        if len(ids) != len(set(ids)):
            raise PlanError("One override per person.")

    def rule(self, depth: int) -> LevelRule:
        return self.levels[min(depth, len(self.levels)) - 1]


def parse_tiers(text: str) -> tuple[Tier, ...]:
    """'A:100000:50; B:0:50' (name : lowest measure : percent of the parent) as tiers."""
    tiers = []
    for part in (p.strip() for p in text.replace("\n", ";").split(";")):
        if not part:
            continue
        bits = [b.strip() for b in part.split(":")]
        try:
            name, floor, share = bits
            tiers.append(Tier(name, float(floor.replace(",", "")), Fraction(share) / 100))
        except (ValueError, ZeroDivisionError) as exc:
            raise PlanError(f"A tier is name : lowest measure : percent (e.g. A:100000:50), not {part!r}.") from exc
    return tuple(tiers)
