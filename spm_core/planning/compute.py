"""A scenario's allocation from the warehouse: read the tree and the measures (set-based), then allocate."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..filters import Period
from .allocate import Tree, allocate
from .model import BUCKETING, WEIGHTED, PlanError, PlannedSeat, PlanRules, Ramp, RampOverride
from .tree import build_tree, default_root, leaves, people, rep_measures, subtree_measures, with_seats

SEAT_NOTE = " (a planned seat weighs as the average rep of its segment)"


@dataclass(frozen=True)
class ScenarioSpec:
    """What a planner chooses: a name, a period of whole months, the person at the top (None: the leader),
    the rules (target, method per level, overrides), the ramp schedule for new hires, the planned seats
    (open headcount) and the ramps of their own some people or seats have."""

    name: str
    period: Period
    rules: PlanRules
    root_id: int | None = None
    ramp: Ramp = Ramp()
    seats: tuple[PlannedSeat, ...] = ()
    ramps: tuple[RampOverride, ...] = ()

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise PlanError("A scenario needs a name.")
        if not self.period.is_whole_months:
            raise PlanError("A plan covers whole months (from the 1st to a month's last day).")
        numbers = [s.seat_id for s in self.seats]
        if len(numbers) != len(set(numbers)):
            raise PlanError("Two planned seats share a number.")
        filled = [s.person_id for s in self.seats if s.person_id is not None]
        if len(filled) != len(set(filled)):
            raise PlanError("One person fills one planned seat.")
        nodes = [r.node for r in self.ramps]
        if len(nodes) != len(set(nodes)):
            raise PlanError("One ramp of its own per person.")

    @property
    def open_seats(self) -> tuple[PlannedSeat, ...]:
        return tuple(s for s in self.seats if s.person_id is None)

    def own_ramps(self) -> dict[int, Ramp]:
        """Per person or seat node, the schedule of their own; a filled seat's also for the person in it."""
        own = {r.node: r.ramp for r in self.ramps}
        return own | {r.node: r.ramp for r in self.carried().ramps}

    def carried(self) -> ScenarioSpec:
        """The spec with each filled seat's override and ramp moved to the person who filled it (the seat's
        win over any the person had: the person takes the planned position)."""
        moved = {s.node: s.person_id for s in self.seats if s.person_id is not None}
        if not moved:
            return self
        seat_override = {moved[o.person_id] for o in self.rules.overrides if o.person_id in moved}
        seat_ramp = {moved[r.node] for r in self.ramps if r.node in moved}
        overrides = tuple(
            replace(o, person_id=moved.get(o.person_id, o.person_id))
            for o in self.rules.overrides
            if o.person_id not in seat_override
        )
        ramps = tuple(replace(r, node=moved.get(r.node, r.node)) for r in self.ramps if r.node not in seat_ramp)
        return replace(self, rules=replace(self.rules, overrides=overrides), ramps=ramps)


def check_open(period: Period, as_of: date) -> None:
    """A plan for a period that is over would rewrite history: refused (SPEC: locked periods are never rewritten)."""
    if period.end < as_of:
        raise PlanError(
            f"The period {period.start} to {period.end} is closed (it ended before {as_of}): plan a current or future one."
        )


def compute(engine: Engine | sa.Connection, spec: ScenarioSpec, as_of: date) -> tuple[Tree, pd.DataFrame, pd.DataFrame]:
    """(tree, allocation rows, people) for a spec; PlanError says what is wrong with the input."""
    check_open(spec.period, as_of)
    frame = people(engine)
    root = spec.root_id if spec.root_id is not None else default_root(frame)
    tree = build_tree(frame, root, spec.open_seats)
    carried = spec.carried()
    reps = set(leaves(tree))
    strangers = sorted(r.node for r in carried.ramps if r.node not in reps)
    if strangers:
        raise PlanError(f"A ramp of its own is for a rep or planned seat of this plan, not {', '.join(map(str, strangers))}.")
    per_rep = with_seats(tree, rep_measures(engine, spec.period, as_of), frame, spec.open_seats)
    rows = allocate(tree, carried.rules, subtree_measures(tree, per_rep))
    seat_rule = (rows["person_id"] < 0) & rows["method"].isin([WEIGHTED, BUCKETING])
    rows.loc[seat_rule, "rule"] = rows.loc[seat_rule, "rule"] + SEAT_NOTE
    return tree, rows, frame
