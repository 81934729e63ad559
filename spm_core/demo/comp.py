"""Compensation in the demo: an AE plan for reps (with a draw for new hires, a SPIFF this quarter and a
180-day clawback window), override plans for managers, and split deals; the last quarter paid and this
one awaiting approval, with two disputes (seed_pay_cycle). After the last quarter is calculated, three of
its won deals are lost and one has its amount cut this quarter (revert_paid_deals), so this quarter's
statements show clawback lines.

The plans are YAML, as an admin would write them; every rep and manager is assigned from the later
of the demo's start and their hire date, open-ended. About 4 % of won deals are split 60/40 with a
teammate. Drawn after everything else, so the rest of the demo stays the same for a seed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..comp.audit import Actor
from ..comp.cycle import approve_many, lock, mark_paid
from ..comp.disputes import raise_dispute, resolve
from ..comp.plans import Assignment, plan_from_yaml
from ..comp.schema import comp_line
from ..comp.store import save_plan
from ..filters import Period, Scope
from ..schema import opportunity, opportunity_history
from ..stages import DEFAULT_STAGES
from .deals import WON, Deals
from .org import Org

AE_PLAN = """name: Account Executive
version: 1
effective_from: {start}
description: Marginal commission on credited bookings against the quarter's quota, a club bonus, and this quarter's SPIFF.
components:
- name: Commission
  kind: commission
  mode: marginal
  bands:
  - {{from: 0, to: 50, rate: 2}}
  - {{from: 50, to: 100, rate: 5}}
  - {{from: 100, to: 150, rate: 8}}
  - {{from: 150, rate: 12}}
  caps: {{deal: 25000}}
  clawback_days: 180
- {{name: Quota club, kind: bonus, at: 100, amount: 2000}}
- name: New-logo push
  kind: spiff
  from: {spiff_from}
  to: {spiff_to}
  deals: {{type: New Business, min_amount: 50000}}
  amount: 750
"""

NEW_HIRE_PLAN = AE_PLAN.replace("name: Account Executive", "name: Account Executive (new hire)").replace(
    "with a club bonus.", "with a club bonus, and a recoverable draw while the new hire ramps."
) + "- {{name: Ramp draw, kind: draw, monthly: 4000, recoverable: true}}\n"

MANAGER_PLAN = """name: Sales Manager
version: 1
effective_from: {start}
description: An override on the credited bookings of everyone in the manager's team.
components:
- {{name: Team override, kind: override, rate: 0.5}}
"""

LEADER_PLAN = """name: Sales Leadership
version: 1
effective_from: {start}
description: Directors and VPs earn an override on their whole organisation.
components:
- {{name: Organisation override, kind: override, rate: 0.15}}
"""


def _assigned(people: pd.DataFrame, start: date) -> tuple[Assignment, ...]:
    return tuple(Assignment(int(pid), max(start, hired)) for pid, hired in zip(people["id"], people["hire_date"], strict=True))


def save_demo_plans(engine: Engine, people: pd.DataFrame, start: date, today: date) -> None:
    """Save the plans with their assignments (people as in the person table: id, role, team_id, hire_date):
    reps hired in the last 180 days are on the new-hire plan with a draw, other reps on the AE plan."""
    is_rep = people["role"] == "rep"
    new = is_rep & (people["hire_date"] >= today - timedelta(days=180))
    reps, new_hires = people[is_rep & ~new], people[new]
    managers = people[(people["role"] == "manager") & people["team_id"].notna()]
    leaders = people[(people["role"] == "manager") & people["team_id"].isna()]
    for text, assigned in ((AE_PLAN, reps), (NEW_HIRE_PLAN, new_hires), (MANAGER_PLAN, managers), (LEADER_PLAN, leaders)):
        quarter = Period.quarter(today)  # the SPIFF runs this quarter
        plan = plan_from_yaml(text.format(start=start.isoformat(), spiff_from=quarter.start, spiff_to=quarter.end))
        save_plan(engine, replace(plan, assignments=_assigned(assigned, start)))


def build_splits(rng: np.random.Generator, org: Org, deals: Deals) -> pd.DataFrame:
    """opportunity_id, person_id, percent: 60 % to the owner, 40 % to the next rep of the same team."""
    won = np.flatnonzero(deals.stage_code == WON)
    chosen = won[rng.random(len(won)) < 0.04]
    owner = deals.owner_rep[chosen]
    team = org.people.set_index("id")["team_id"].reindex(org.rep_ids).to_numpy()
    mate = np.where((owner + 1 < len(org.rep_ids)) & (team[np.minimum(owner + 1, len(team) - 1)] == team[owner]), owner + 1, owner - 1)
    keep = (mate >= 0) & (team[np.maximum(mate, 0)] == team[owner])
    chosen, owner, mate = chosen[keep], owner[keep], mate[keep]
    return pd.DataFrame(
        {
            "opportunity_id": np.concatenate([chosen, chosen]) + 1,
            "person_id": np.concatenate([org.rep_ids[owner], org.rep_ids[mate]]),
            "percent": np.concatenate([np.full(len(chosen), 60.0), np.full(len(chosen), 40.0)]),
        }
    )



def revert_paid_deals(engine: Engine, rng: np.random.Generator, paid: Period, today: date) -> list[int]:
    """Three deals `paid` paid commission on are lost, and a fourth is cut to 60 % of its amount, on days of the quarter
    after it (up to `today`), as a CRM would record them: the opportunity row changes and history gains
    a row (the previous one ending that day). Call it after `paid` was calculated; the ids changed."""
    o, h = opportunity.c, opportunity_history.c
    stage = {s.name: s for s in DEFAULT_STAGES}
    with engine.begin() as conn:
        c = comp_line.c  # deals the quarter paid commission on
        won = conn.execute(
            sa.select(c.opportunity_id).where(c.period_start == paid.start, c.period_end == paid.end, c.rule == "marginal", c.amount > 0)
            .distinct().order_by(c.opportunity_id)
        ).scalars().all()
        if len(won) < 4:
            return []
        chosen = [int(i) for i in rng.choice(won, 4, replace=False)]
        next_history = int(conn.execute(sa.select(sa.func.max(h.id))).scalar_one()) + 1
        after = paid.end + timedelta(days=1)
        for n, opp_id in enumerate(chosen):
            day = min(after + timedelta(days=int(rng.integers(2, 40))), today)
            row = conn.execute(sa.select(o.amount, o.close_date).where(o.id == opp_id)).one()
            lost = n < 3
            now = stage["Closed Lost" if lost else "Closed Won"]
            amount = row.amount if lost else round(float(row.amount) * 0.6, 2)
            values = {"stage": now.name, "probability": now.probability, "forecast_category": now.forecast_category,
                      "is_won": not lost, "amount": amount}
            reason = {"loss_reason": "Cancelled after signing"} if lost else {}  # a reversal, not a lost sale
            conn.execute(opportunity.update().where(o.id == opp_id).values(**values, **reason))
            conn.execute(opportunity_history.update().where(h.opportunity_id == opp_id, h.valid_to.is_(None)).values(valid_to=day))
            conn.execute(opportunity_history.insert(), {"id": next_history + n, "opportunity_id": opp_id, "changed_at": day, "valid_to": None,
                                                        "close_date": row.close_date, "is_closed": True, **values})
    return chosen


def seed_pay_cycle(engine: Engine, paid: Period, current: Period, rep_id: int) -> None:
    """The pay cycle as the demo shows it: `paid` approved by the managers and the comp admin, locked and
    paid (its history in the audit log); `current` calculated and awaiting approval, with two disputes of
    the demo rep: one resolved with an adjustment line, one open."""
    managers = Actor("demo-managers", "manager", Scope.everyone())
    admin = Actor("comp_admin", "comp_admin", Scope.everyone())
    rep = Actor("rep", "rep", Scope.only(rep_id), rep_id)
    c = comp_line.c
    with engine.begin() as conn:
        people = list(conn.execute(sa.select(c.person_id).where(c.period_start == paid.start, c.period_end == paid.end).distinct())
                      .scalars())
        approve_many(conn, managers, paid, people)
        approve_many(conn, admin, paid, people)
        lock(conn, admin, paid)
        mark_paid(conn, admin, paid)
        mine = list(conn.execute(sa.select(c.id).where(c.person_id == rep_id, c.period_start == current.start,
                                                       c.period_end == current.end).order_by(c.id).limit(2)).scalars())
        if len(mine) == 2:
            resolved = raise_dispute(conn, rep, mine[0], "The 40 % split on this deal should be credited to me as well.")
            resolve(conn, admin, resolved, Decimal("150.00"), "split credit confirmed by the deal desk")
            raise_dispute(conn, rep, mine[1], "Was this deal's amount updated after closing? The rate looks low.")
