"""eNPS (SPEC.md): % of responses 9-10 (promoters) minus % of responses 0-6 (detractors), over the responses
dated in the period, by team, manager or month, with the response rate; never for a group of fewer than 5
responses (anonymity.py), and comments never with who wrote them.

Scope: the viewer's (people_in_view), like every figure; the company figure is everyone's, which every role
may see. People filters are deliberately not offered: figures for "the team" and "the team but one person"
side by side would give that person's answer away.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..db import read_frame
from ..filters import Period, Scope
from ..people import people_in_view
from ..portable import period_start
from ..schema import person, survey_response, team
from .anonymity import MIN_RESPONSES, merge_small_groups

BY = ("team", "manager", "month")
EVERYONE = "Everyone in view"
r = survey_response.c
manager = person.alias("manager")
ENPS_HELP = (
    "eNPS = % of responses 9–10 (promoters) − % of responses 0–6 (detractors), over the responses dated in the "
    f"period, from −100 to +100. Groups with fewer than {MIN_RESPONSES} responses are not shown: they are merged "
    f'into "Other" (with the next smallest groups when needed so that no small group can be worked out by '
    "subtraction). Response rate: people who answered / active people hired by the period's end."
)


def has_pulse(engine: Engine) -> bool:
    """Whether the warehouse has the survey table (one built before the pulse existed does not)."""
    return sa.inspect(engine).has_table(survey_response.name)


def enps(promoters: int, detractors: int, responses: int) -> float | None:
    """eNPS in points (-100..100); None without responses."""
    return 100.0 * (promoters - detractors) / responses if responses else None


def _group_key(by: str | None) -> tuple[sa.ColumnElement, sa.FromClause]:
    """The label to group on and the source to select from."""
    joined = survey_response.join(person, person.c.id == r.person_id)
    if by == "team":
        return sa.func.coalesce(team.c.name, "No team"), joined.outerjoin(team, team.c.id == person.c.team_id)
    if by == "manager":
        return sa.func.coalesce(manager.c.name, "No manager"), joined.outerjoin(manager, manager.c.id == person.c.manager_id)
    if by == "month":
        return period_start("month", r.response_date), joined
    return sa.literal(EVERYONE), joined


def _counts(engine: Engine, period: Period, scope: Scope, by: str | None) -> pd.DataFrame:
    key, source = _group_key(by)
    people = people_in_view(None, scope)
    stmt = (
        sa.select(
            key.label("group"),
            sa.func.count().label("responses"),
            sa.func.count(sa.case((r.score >= 9, 1))).label("promoters"),
            sa.func.count(sa.case((r.score.between(7, 8), 1))).label("passives"),
            sa.func.count(sa.case((r.score <= 6, 1))).label("detractors"),
            sa.func.count(sa.distinct(r.person_id)).label("respondents"),
        )
        .select_from(source)
        .where(r.response_date.between(period.start, period.end))
    )
    stmt = stmt if by is None else stmt.group_by(key)  # a constant in GROUP BY is an error on PostgreSQL
    if people is not None:
        stmt = stmt.where(r.person_id.in_(people))
    return read_frame(engine, stmt)


def _headcount(engine: Engine, period: Period, scope: Scope, by: str | None) -> pd.DataFrame:
    """Active people hired by the period's end, per group (per team or manager; everyone for months)."""
    key, _ = _group_key(by if by in ("team", "manager") else None)
    source = person.outerjoin(team, team.c.id == person.c.team_id) if by == "team" else person
    if by == "manager":
        source = person.outerjoin(manager, manager.c.id == person.c.manager_id)
    people = people_in_view(None, scope)
    stmt = (
        sa.select(key.label("group"), sa.func.count().label("headcount"))
        .select_from(source)
        .where(person.c.active, sa.or_(person.c.hire_date.is_(None), person.c.hire_date <= period.end))
    )
    stmt = stmt.group_by(key) if by in ("team", "manager") else stmt
    if people is not None:
        stmt = stmt.where(person.c.id.in_(people))
    return read_frame(engine, stmt)


def pulse(engine: Engine, period: Period, scope: Scope, by: str | None = None) -> pd.DataFrame:
    """eNPS per group (or one row for everyone in view): group, responses, promoters, passives, detractors,
    respondents, headcount, groups_merged, enps, response_rate; small groups merged or withheld."""
    if by is not None and by not in BY:
        raise ValueError(f"eNPS is grouped by {', '.join(BY)}, not {by!r}.")
    counts = _counts(engine, period, scope, by)
    if by == "month":
        counts["group"] = pd.to_datetime(counts["group"]).dt.strftime("%Y-%m")
        total = _headcount(engine, period, scope, None)["headcount"].sum()
        counts["headcount"] = int(total)
    else:
        heads = _headcount(engine, period, scope, by)
        counts = counts.merge(heads, on="group", how="left").fillna({"headcount": 0})
    counts = counts.astype({c: "int64" for c in counts.columns if c != "group"})
    shown = merge_small_groups(counts, "group")
    shown["enps"] = [enps(p, d, n) for p, d, n in zip(shown["promoters"], shown["detractors"], shown["responses"], strict=True)]
    shown["response_rate"] = (shown["respondents"] / shown["headcount"].where(shown["headcount"] > 0)).clip(upper=1.0)
    order = "group" if by == "month" else "responses"
    return shown.sort_values(order, ascending=by == "month", kind="stable").reset_index(drop=True)


def company(engine: Engine, period: Period) -> pd.DataFrame:
    """The company figure (everyone), which every role may see: one row, or none below the minimum."""
    return pulse(engine, period, Scope.everyone())


def comments(engine: Engine, period: Period, scope: Scope) -> pd.DataFrame:
    """The comments written in the period by people in scope, as text only, sorted alphabetically (so neither
    order nor date points to anyone); none when the scope has fewer than the minimum number of responses."""
    people = people_in_view(None, scope)
    where = [r.response_date.between(period.start, period.end)]
    if people is not None:
        where.append(r.person_id.in_(people))
    count = read_frame(engine, sa.select(sa.func.count().label("n")).where(*where)).iloc[0, 0]
    if count < MIN_RESPONSES:
        return pd.DataFrame({"comment": pd.Series(dtype="str")})
    text = sa.func.trim(r.comment)
    stmt = sa.select(text.label("comment")).where(*where, r.comment.is_not(None), text != "").order_by(text)
    return read_frame(engine, stmt)
