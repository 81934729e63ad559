"""The choices a filter bar offers, limited to what the viewer may see."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .db import read_frame
from .filters import Scope
from .people import people_in_view
from .schema import person, product, region, segment, team


@dataclass(frozen=True)
class FilterOptions:
    """id -> display name for each filterable dimension."""

    teams: dict[int, str]
    managers: dict[int, str]
    segments: dict[int, str]
    regions: dict[int, str]
    products: dict[int, str]
    reps: dict[int, str]


def _as_dict(frame: pd.DataFrame) -> dict[int, str]:
    return {int(i): str(n) for i, n in zip(frame["id"], frame["name"], strict=True)}


def filter_options(engine: Engine | sa.Connection, scope: Scope) -> FilterOptions:
    visible = people_in_view(None, scope)
    people = read_frame(engine, sa.select(person) if visible is None else sa.select(person).where(person.c.id.in_(visible)))
    sellers = people[people["role"] == "rep"]
    managers = people[people["id"].isin(people["manager_id"].dropna().astype(int))]

    def named(table: sa.Table, ids: pd.Series) -> dict[int, str]:
        wanted = sorted({int(i) for i in ids.dropna()})
        return _as_dict(
            read_frame(engine, sa.select(table.c.id, table.c.name).where(table.c.id.in_(wanted)).order_by(table.c.name))
        )

    return FilterOptions(
        teams=named(team, people["team_id"]),
        managers=_as_dict(managers.sort_values("name")),
        segments=named(segment, people["segment_id"]),
        regions=named(region, people["region_id"]),
        products=_as_dict(read_frame(engine, sa.select(product.c.id, product.c.name).order_by(product.c.name))),
        reps=_as_dict(sellers.sort_values("name")),
    )
