"""A scenario's level rules as JSON text (the plan_scenario.levels column), exact shares kept as fractions."""

from __future__ import annotations

import json
from fractions import Fraction

from .model import LevelRule, PlanError, Tier


def dumps(levels: tuple[LevelRule, ...]) -> str:
    return json.dumps(
        [
            {
                "method": r.method,
                "measure": r.measure,
                "tiers": [{"name": t.name, "floor": t.floor, "share": str(t.share)} for t in r.tiers],
            }
            for r in levels
        ]
    )


def loads(text: str) -> tuple[LevelRule, ...]:
    try:
        raw = json.loads(text)
        return tuple(
            LevelRule(
                r["method"],
                r.get("measure"),
                tuple(Tier(t["name"], float(t["floor"]), Fraction(t["share"])) for t in r.get("tiers", ())),
            )
            for r in raw
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise PlanError(f"The stored level rules cannot be read ({exc}).") from exc
