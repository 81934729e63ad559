"""Opportunities and their history, generated as numpy arrays (no per-row Python).

The story: reps of different skill create deals with seasonality and a yearly growth trend; deals
progress through the stages over a segment-dependent cycle; won deals bunch up at quarter end; lost
deals die at various stages; some deals have their close date pushed or their amount changed, and
every change is a row of history. Deals whose close date is still ahead are open today.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..stages import DEFAULT_STAGES
from .calendar import calendar_month, quarter_end_day, weekday
from .org import PRODUCTS, Org
from .sampling import choice_by_group

TYPES = ("New Business", "Expansion", "Renewal")
TYPE_MIX = np.array([0.55, 0.3, 0.15])
LOST_AT_MIX = np.array([0.3, 0.25, 0.2, 0.15, 0.1])  # the last open stage (0..4) a lost deal reached
LEAD_SOURCES = ("Web", "Referral", "Partner", "Outbound", "Event")
MONTH_SEASON = np.array([0.85, 0.9, 1.05, 0.95, 1.0, 1.05, 0.85, 0.8, 1.05, 1.1, 1.1, 0.9])
WON, LOST = 5, 6  # stage codes of Closed Won / Closed Lost (positions in DEFAULT_STAGES)
LEAD_IN_DAYS = 180  # deals created before the first quota month, so the first quarter has a full pipeline

# by segment (SMB, Mid-Market, Enterprise)
CYCLE_MEAN_DAYS = np.array([30.0, 60.0, 110.0])
AMOUNT_FACTOR = np.array([0.45, 1.0, 2.6])
OPPS_PER_REP_WEIGHT = np.array([1.6, 1.0, 0.55])
SEGMENT_WIN_FACTOR = np.array([1.1, 1.0, 0.85])
PRODUCT_MIX = np.array(
    [
        [0.40, 0.10, 0.00, 0.20, 0.15, 0.10, 0.05],
        [0.20, 0.25, 0.05, 0.20, 0.10, 0.10, 0.10],
        [0.05, 0.20, 0.35, 0.15, 0.05, 0.05, 0.15],
    ]
)


@dataclass(frozen=True)
class Deals:
    """Opportunity columns (index = opportunity number; id = number + 1) and history columns."""

    owner_rep: np.ndarray
    account: np.ndarray  # account id, 0 for none
    product: np.ndarray  # product id
    type_code: np.ndarray
    lead_source_code: np.ndarray
    amount: np.ndarray
    stage_code: np.ndarray
    created_day: np.ndarray
    close_day: np.ndarray
    won_fate: np.ndarray  # open deals too: whether they will be won (drives forecast submissions)
    history: dict[str, np.ndarray]


def created_days(rng: np.random.Generator, n: int, start_day: int, today: int) -> np.ndarray:
    days = np.arange(start_day, today + 1)
    years = (days - start_day) / 365.25
    weight = MONTH_SEASON[calendar_month(days) - 1] * (1 + 0.25 * years) * np.where(weekday(days) >= 5, 0.15, 1.0)
    return rng.choice(days, size=n, p=weight / weight.sum())


def build_deals(rng: np.random.Generator, org: Org, n: int, start_day: int, today: int) -> Deals:
    n_reps = len(org.rep_ids)
    rep_weight = OPPS_PER_REP_WEIGHT[org.rep_segment] * (0.7 + 0.3 * org.rep_skill)
    owner = rng.choice(n_reps, size=n, p=rep_weight / rep_weight.sum())
    first_day = start_day - LEAD_IN_DAYS
    created = created_days(rng, n, first_day, today)
    owner = _respect_tenure(rng, org, owner, created, first_day, today)
    seg = org.rep_segment[owner]

    accounts_per_rep = np.bincount(org.account_owner_rep, minlength=n_reps)
    first_account = np.concatenate([[0], np.cumsum(accounts_per_rep)[:-1]])
    account = first_account[owner] + (rng.random(n) * accounts_per_rep[owner]).astype(np.int64) + 1
    account[rng.random(n) < 0.02] = 0  # some deals were never linked to an account

    product_idx = choice_by_group(rng, seg, PRODUCT_MIX)
    list_price = np.array([p[2] for p in PRODUCTS], dtype=float)[product_idx]
    amount = np.round(list_price * AMOUNT_FACTOR[seg] * rng.lognormal(0, 0.45, n), -1).clip(500)

    type_code = rng.choice(len(TYPES), size=n, p=TYPE_MIX)
    base_win = np.array([0.24, 0.38, 0.7])[type_code]
    p_win = np.clip(base_win * org.rep_skill[owner] ** 0.8 * SEGMENT_WIN_FACTOR[seg], 0.03, 0.92)
    won = rng.random(n) < p_win

    cycle = np.maximum(3, rng.gamma(2.0, CYCLE_MEAN_DAYS[seg] / 2.0)).astype(np.int64)
    close = created + cycle
    rush = won & (rng.random(n) < 0.25)  # end-of-quarter rush: won deals slide to the last two weeks
    close[rush] = np.maximum(close[rush], quarter_end_day(close[rush]) - rng.integers(0, 14, rush.sum()))

    closed = close <= today
    overdue = closed & (close > today - 60) & (rng.random(n) < 0.06)
    closed &= ~overdue
    lost_at = rng.choice(len(LOST_AT_MIX), size=n, p=LOST_AT_MIX)
    final_path = np.where(won, 4, lost_at)  # last open stage the deal reaches
    end = np.where(closed, close, today)
    progress = np.clip((today - created) / np.maximum(1, close - created), 0, 0.99)
    open_stage = np.minimum(final_path, (progress * 5).astype(np.int64))
    reached = np.where(closed, final_path, open_stage)
    stage_code = np.where(closed, np.where(won, WON, LOST), open_stage)

    history = _history(rng, n, created, close, end, closed, won, reached, amount, today)
    return Deals(
        owner_rep=owner,
        account=account,
        product=product_idx + 1,
        type_code=type_code,
        lead_source_code=rng.integers(0, len(LEAD_SOURCES), n),
        amount=amount,
        stage_code=stage_code,
        created_day=created,
        close_day=close,
        won_fate=won,
        history=history,
    )


def _respect_tenure(
    rng: np.random.Generator, org: Org, owner: np.ndarray, created: np.ndarray, first_day: int, today: int
) -> np.ndarray:
    """A rep sells only once hired, and less while ramping: such deals go to a veteran of the same
    segment (or, with no veteran there, move into the rep's tenure)."""
    tenure_days = created - org.rep_hire_day[owner]
    ramp_days = np.maximum(1, org.rep_ramp_months[owner] * 30)
    keep = (tenure_days >= 0) & (rng.random(len(owner)) < np.clip(0.5 + tenure_days / ramp_days, 0.0, 1.0))
    veterans = [np.flatnonzero((org.rep_segment == s) & (org.rep_hire_day <= first_day)) for s in range(3)]
    owner = owner.copy()
    for s, pool in enumerate(veterans):
        moved = ~keep & (org.rep_segment[owner] == s)
        if len(pool):
            owner[moved] = pool[rng.integers(0, len(pool), moved.sum())]
        else:
            hire = org.rep_hire_day[owner[moved]]
            created[moved] = np.clip(created[moved], hire, today)
    return owner


def _history(rng, n, created, close, end, closed, won, reached, amount, today) -> dict[str, np.ndarray]:
    """One row per change, in state-after-change form with valid_to, sorted by opportunity and date."""
    opp = np.arange(n)
    span = np.maximum(0, end - created)

    # stage entries 1..reached, spread over the deal's life so far
    n_entries = reached
    entry_opp = np.repeat(opp, n_entries)
    j = np.arange(len(entry_opp)) - np.repeat(np.cumsum(n_entries) - n_entries, n_entries) + 1
    life = np.where(closed, span, np.maximum(0, today - created))[entry_opp]
    frac = (j + rng.uniform(-0.3, 0.3, len(j))) / (reached[entry_opp] + 1)
    entry_day = created[entry_opp] + np.clip((frac * life).astype(np.int64), 0, life)

    # amount changes and close-date pushes happen strictly inside the deal's life
    inside = span >= 2
    amount_changed = inside & (rng.random(n) < 0.2)
    initial_amount = np.where(amount_changed, np.round(amount * rng.uniform(0.6, 1.4, n), -1).clip(500), amount)
    amount_day = created + 1 + (rng.random(n) * np.maximum(1, span - 1)).astype(np.int64)

    push = rng.integers(7, 61, n) * np.where(rng.random(n) < 0.15, -1, 1)  # some deals are pulled in instead
    pushed = inside & (close - push > created + 7) & (rng.random(n) < 0.3)
    initial_close = np.where(pushed, close - push, close)
    push_day = np.clip(initial_close - rng.integers(0, 11, n), created + 1, end - 1)

    parts = [
        (opp, created, np.zeros(n, np.int64), np.zeros(n, np.int64)),  # creation, stage 0
        (entry_opp, entry_day, j, j),
        (opp[amount_changed], amount_day[amount_changed], np.full(amount_changed.sum(), 5), np.full(amount_changed.sum(), -1)),
        (opp[pushed], push_day[pushed], np.full(pushed.sum(), 6), np.full(pushed.sum(), -1)),
        (opp[closed], close[closed], np.full(closed.sum(), 9), np.where(won[closed], WON, LOST)),
    ]
    h_opp, h_day, h_prio, h_code = (np.concatenate(cols) for cols in zip(*parts, strict=True))
    amount_mark = np.concatenate(
        [
            np.zeros(len(parts[0][0]) + len(parts[1][0]), bool),
            np.ones(len(parts[2][0]), bool),
            np.zeros(len(parts[3][0]) + len(parts[4][0]), bool),
        ]
    )
    push_mark = np.zeros(len(h_opp), bool)
    push_mark[len(h_opp) - len(parts[4][0]) - len(parts[3][0]) : len(h_opp) - len(parts[4][0])] = True

    base_day = int(h_day.min())
    order = np.argsort((h_opp << 24) | ((h_day - base_day) << 4) | h_prio, kind="stable")
    h_opp, h_day, h_code = h_opp[order], h_day[order], h_code[order]
    amount_mark, push_mark = amount_mark[order], push_mark[order]

    stage_now = np.maximum.accumulate(np.where(h_code >= 0, h_opp * 8 + h_code, h_opp * 8 - 1)) - h_opp * 8
    amount_now = np.where(_carried(h_opp, amount_mark), amount[h_opp], initial_amount[h_opp])
    close_now = np.where(_carried(h_opp, push_mark), close[h_opp], initial_close[h_opp])

    same_opp_next = np.append(h_opp[1:] == h_opp[:-1], False)
    valid_to = np.where(same_opp_next, np.append(h_day[1:], 0), -1)  # -1: still current
    return {"opp": h_opp, "day": h_day, "stage": stage_now, "amount": amount_now, "close": close_now, "valid_to": valid_to}


def _carried(group: np.ndarray, mark: np.ndarray) -> np.ndarray:
    """Within each group (rows sorted by group), True from the first marked row on."""
    return np.maximum.accumulate(group * 2 + mark) == group * 2 + 1


STAGE_NAMES = tuple(s.name for s in DEFAULT_STAGES)
