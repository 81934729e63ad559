"""A scenario's allocation from the warehouse: read the tree and the measures (set-based), then allocate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..filters import Period
from .allocate import Tree, allocate
from .model import PlanError, PlanRules, Ramp
from .tree import build_tree, default_root, people, rep_measures, subtree_measures


@dataclass(frozen=True)
class ScenarioSpec:
    """What a planner chooses: a name, a period of whole months, the person at the top (None: the leader),
    the rules (target, method per level, overrides) and the ramp schedule for new hires."""

    name: str
    period: Period
    rules: PlanRules
    root_id: int | None = None
    ramp: Ramp = Ramp()

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise PlanError("A scenario needs a name.")
        if not self.period.is_whole_months:
            raise PlanError("A plan covers whole months (from the 1st to a month's last day).")


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
    tree = build_tree(frame, root)
    measures = subtree_measures(tree, rep_measures(engine, spec.period, as_of))
    return tree, allocate(tree, spec.rules, measures), frame
