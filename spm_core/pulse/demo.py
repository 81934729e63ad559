"""Demo survey responses: a monthly pulse over the last year, answered by about two people in three.

Scores lean on each rep's skill (the demo's driver of win rates, so of attainment): better-selling reps are
happier on average, as engagement surveys tend to find; managers a little above reps. Its own random stream
(from the demo seed), so adding the pulse changes no other table of the demo.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from ..demo.calendar import day_number, to_date
from ..filters import Period

MONTHS = 12
ANSWER_RATE = 0.65
COMMENT_RATE = 0.3
COMMENTS = {
    "detractor": (
        "Quotas went up again without more leads.",
        "Too much time in the CRM, not enough with customers.",
        "Territory changes keep resetting my pipeline.",
        "Commission statements are hard to check.",
    ),
    "passive": (
        "Good team, but the tooling is slow.",
        "Enablement could be more hands-on.",
        "Fair plan, the ramp felt short.",
    ),
    "promoter": (
        "Great manager, clear goals.",
        "Love the team and the product.",
        "The new demo environment helps a lot.",
        "I feel my work is recognised.",
    ),
}


def build_responses(seed: int, people: pd.DataFrame, rep_ids: np.ndarray, rep_skill: np.ndarray, today: date) -> pd.DataFrame:
    """Rows for survey_response: id, person_id, response_date, score, comment."""
    rng = np.random.default_rng([seed, 16])  # issue 16: a stream of its own
    skill = dict(zip(rep_ids.tolist(), rep_skill.tolist(), strict=True))
    staff = people[people["role"].isin(["rep", "manager"])]
    hired = np.array([day_number(d) if d is not None else -(10**6) for d in staff["hire_date"]])
    lean = np.array(
        [0.4 if role == "manager" else 1.8 * np.log(skill.get(pid, 1.0)) for pid, role in staff[["id", "role"]].values]
    )
    months, first = [], Period.month(today)
    for _ in range(MONTHS):
        months.append(first)
        first = first.previous()
    rows = []
    for month in months:
        sent = day_number(month.start) + 4
        if sent > day_number(today):
            continue
        asked = hired < sent
        answers = asked & (rng.random(len(staff)) < ANSWER_RATE)
        n = int(answers.sum())
        days = np.minimum(sent + rng.integers(0, 14, n), day_number(today))
        scores = np.clip(np.rint(rng.normal(7.1 + lean[answers], 1.9)), 0, 10).astype(int)
        rows.append(pd.DataFrame({"person_id": staff["id"].to_numpy()[answers], "day": days, "score": scores}))
    frame = pd.concat(rows, ignore_index=True)
    band = np.where(frame["score"] >= 9, "promoter", np.where(frame["score"] >= 7, "passive", "detractor"))
    commented = rng.random(len(frame)) < COMMENT_RATE
    frame["comment"] = [str(rng.choice(COMMENTS[b])) if c else None for b, c in zip(band, commented, strict=True)]
    frame["response_date"] = [to_date(d) for d in frame.pop("day")]
    frame.insert(0, "id", np.arange(1, len(frame) + 1, dtype=np.int64))
    return frame[["id", "person_id", "response_date", "score", "comment"]]
