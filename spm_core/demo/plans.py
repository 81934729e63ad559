"""Monthly quotas (ramped for new hires) and weekly forecast submissions.

Quotas are set from each rep's own booking run-rate divided by a per-rep stretch factor, so that
attainment spreads around 60-130 % rather than clustering at 100 %.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .calendar import month_index, month_start_day
from .deals import WON, Deals
from .org import Org


def build_quotas(rng: np.random.Generator, org: Org, deals: Deals, start_day: int, today: int, last_month: int) -> pd.DataFrame:
    first_month = int(month_index(np.array([start_day]))[0])
    months = np.arange(first_month, last_month + 1)
    n_reps, n_months = len(org.rep_ids), len(months)
    this_month = int(month_index(np.array([today]))[0])

    won = (deals.stage_code == WON) & (deals.close_day >= start_day)
    won_month = month_index(deals.close_day[won]) - first_month
    booked = np.bincount(
        deals.owner_rep[won] * n_months + won_month, weights=deals.amount[won], minlength=n_reps * n_months
    ).reshape(n_reps, n_months)

    hire_month = month_index(org.rep_hire_day)
    tenure = months[None, :] - hire_month[:, None]  # months since hire; negative before it
    steady = (tenure >= org.rep_ramp_months[:, None]) & (months[None, :] < this_month)
    season = np.array([0.85, 0.9, 1.05, 0.95, 1.0, 1.05, 0.85, 0.8, 1.05, 1.1, 1.1, 0.9])[months % 12] * (
        1 + 0.25 * (months - first_month) / 12
    )
    per_rep = np.where(steady.sum(1) > 0, (booked * steady).sum(1) / np.maximum(1e-9, (season * steady).sum(1)), np.nan)
    segment_median = pd.Series(per_rep).groupby(org.rep_segment).transform("median").to_numpy()
    run_rate = np.where(np.isnan(per_rep), segment_median, per_rep)
    stretch = np.clip(rng.normal(0.95, 0.18, n_reps), 0.6, 1.3)
    full = run_rate[:, None] / stretch[:, None] * season[None, :]

    ramp = org.rep_ramp_months[:, None]
    factor = np.where(tenure < ramp, (tenure + 1) / (ramp + 1), 1.0)
    amount = np.round(full * factor, -2)
    rep_i, month_i = np.nonzero(tenure >= 0)
    return pd.DataFrame(
        {
            "id": np.arange(1, len(rep_i) + 1),
            "person_id": org.rep_ids[rep_i],
            "month": month_start_day(months[month_i]).astype("datetime64[D]"),
            "amount": np.maximum(amount[rep_i, month_i], 100.0),
            "quota_type": "bookings",
            "is_ramped": tenure[rep_i, month_i] < org.rep_ramp_months[rep_i],
        }
    )


def build_forecast_submissions(rng: np.random.Generator, org: Org, deals: Deals, start_day: int, today: int) -> pd.DataFrame:
    """Each rep's weekly call (commit, best case) per quarter, converging on what the rep will close;
    each team manager submits a judged roll-up that overrides the reps' sum."""
    quarter_of = month_index(deals.close_day) // 3
    first_q = int(month_index(np.array([start_day]))[0] // 3)
    this_q = int(month_index(np.array([today]))[0] // 3)
    quarters = np.arange(first_q, this_q + 1)
    fate_won = deals.won_fate & (quarter_of >= first_q) & (quarter_of <= this_q)
    outcome = pd.DataFrame({"rep": deals.owner_rep[fate_won], "q": quarter_of[fate_won], "amount": deals.amount[fate_won]})
    totals = outcome.groupby(["rep", "q"])["amount"].sum()

    rows = pd.MultiIndex.from_product(
        [np.arange(len(org.rep_ids)), quarters, np.arange(13)], names=["rep", "q", "week"]
    ).to_frame(index=False)
    q_start = month_start_day(rows["q"].to_numpy() * 3)
    rows["submitted_day"] = q_start + rows["week"].to_numpy() * 7
    rows = rows[(rows["submitted_day"] <= today) & (rows["submitted_day"] >= org.rep_hire_day[rows["rep"].to_numpy()])]
    truth = totals.reindex(pd.MultiIndex.from_frame(rows[["rep", "q"]]), fill_value=0.0).to_numpy()
    week = rows["week"].to_numpy()
    noise = rng.lognormal(0, 0.25 * (1 - week / 13), len(rows))
    commit = np.round(truth * (0.75 + 0.25 * week / 12) * noise, -2)
    reps = pd.DataFrame(
        {
            "person_id": org.rep_ids[rows["rep"].to_numpy()],
            "q": rows["q"].to_numpy(),
            "submitted_day": rows["submitted_day"].to_numpy(),
            "commit_amount": commit,
            "best_case_amount": np.round(commit * rng.uniform(1.15, 1.5, len(rows)), -2),
            "is_override": False,
        }
    )
    manager_of = org.people.set_index("id")["manager_id"]
    reps["manager"] = manager_of.reindex(reps["person_id"]).to_numpy()
    managers = reps.groupby(["manager", "q", "submitted_day"], as_index=False)[["commit_amount", "best_case_amount"]].sum()
    judgement = rng.uniform(0.9, 1.05, len(managers))
    managers = managers.assign(
        person_id=managers["manager"].astype(np.int64),
        commit_amount=np.round(managers["commit_amount"] * judgement, -2),
        best_case_amount=np.round(managers["best_case_amount"] * judgement, -2),
        is_override=True,
    )
    out = pd.concat([reps.drop(columns="manager"), managers.drop(columns="manager")], ignore_index=True)
    q = out["q"].to_numpy()
    return pd.DataFrame(
        {
            "id": np.arange(1, len(out) + 1),
            "person_id": out["person_id"].to_numpy(),
            "period_start": (month_start_day(q * 3)).astype("datetime64[D]"),
            "period_end": (month_start_day(q * 3 + 3) - 1).astype("datetime64[D]"),
            "submitted_at": out["submitted_day"].to_numpy().astype("datetime64[D]") + np.timedelta64(9, "h"),
            "commit_amount": out["commit_amount"].to_numpy(),
            "best_case_amount": out["best_case_amount"].to_numpy(),
            "note": np.where(out["is_override"].to_numpy(), "Manager judgement on the team roll-up", None),
            "is_override": out["is_override"].to_numpy(),
        }
    )
