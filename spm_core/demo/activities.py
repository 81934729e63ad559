"""Sales activities linked to deals, more of them on deals that are won and for stronger reps."""

from __future__ import annotations

import numpy as np

from .deals import Deals
from .org import Org
from .sampling import choice_by_group

ACTIVITY_TYPES = ("call", "email", "meeting", "demo")
TYPE_MIX = np.array([0.45, 0.35, 0.12, 0.08])
OUTCOMES = ("connected", "no answer", "replied", "next step agreed", "completed")
# which outcomes each type can have (rows: types; columns: OUTCOMES)
OUTCOME_MIX = np.array(
    [
        [0.45, 0.35, 0.0, 0.2, 0.0],
        [0.0, 0.55, 0.35, 0.1, 0.0],
        [0.0, 0.0, 0.0, 0.45, 0.55],
        [0.0, 0.0, 0.0, 0.5, 0.5],
    ]
)


def build_activities(rng: np.random.Generator, org: Org, deals: Deals, total: int, today: int) -> dict[str, np.ndarray]:
    """Columns of the activity table, sorted by opportunity, plus each opportunity's last activity day."""
    closed = deals.stage_code >= 5
    end = np.where(closed, deals.close_day, np.minimum(today, np.maximum(deals.close_day, deals.created_day)))
    life = np.maximum(0, end - deals.created_day)
    rep_drive = org.rep_skill**0.7
    outcome_weight = np.where(deals.stage_code == 5, 1.8, np.where(closed, 0.7, 1.0))
    weight = np.sqrt(life + 7.0) * outcome_weight * rep_drive[deals.owner_rep]
    counts = rng.multinomial(total, weight / weight.sum())

    opp = np.repeat(np.arange(len(counts)), counts)
    day = deals.created_day[opp] + (rng.random(len(opp)) * (life[opp] + 1)).astype(np.int64)
    type_code = np.searchsorted(np.cumsum(TYPE_MIX), rng.random(len(opp)) * TYPE_MIX.sum(), side="right")
    outcome_code = choice_by_group(rng, type_code, OUTCOME_MIX)

    last = np.full(len(counts), -1, dtype=np.int64)
    has = counts > 0
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[has]
    last[has] = np.maximum.reduceat(day, starts) if len(day) else last[has]
    return {
        "opp": opp,
        "person_id": org.rep_ids[deals.owner_rep[opp]],
        "account": deals.account[opp],
        "day": day,
        "type_code": type_code,
        "outcome_code": outcome_code,
        "last_activity_day": last,
    }
