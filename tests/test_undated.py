"""Open deals with no close date (spm_core.undated): in no period, so period KPIs leave them out; the
"no close date" bucket counts them within the viewer's scope and filters; checked by hand on a tiny
warehouse and on the real Maven dataset (its 2,089 open deals have no close date: $4,966,215 at list price).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from apptest_support import MAVEN

from spm_core.db import make_engine
from spm_core.filters import Filters, Period, Scope
from spm_core.metrics import query
from spm_core.stages import DEFAULT_STAGES, stage_rows
from spm_core.undated import undated_deals, undated_totals

STAGES = {s.name: s for s in DEFAULT_STAGES}
LEADER, MANAGER, RITA, SAM = 1, 2, 3, 4
PEOPLE = [
    {"id": pid, "name": name, "role": role, "manager_id": boss, "active": True, "ramp_months": 0}
    for pid, name, role, boss in (
        (LEADER, "Lea Leader", "leader", None),
        (MANAGER, "Manny Manager", "manager", LEADER),
        (RITA, "Rita Rep", "rep", MANAGER),
        (SAM, "Sam Sibling", "rep", LEADER),
    )
]
WIDE = Filters(Period(date(2000, 1, 1), date(2099, 12, 31)))


def deal(oid: int, owner: int, stage: str, amount: float, close: date | None, product: int = 1) -> dict:
    s = STAGES[stage]
    return {"id": oid, "name": f"Deal {oid}", "owner_id": owner, "product_id": product, "amount": amount, "stage": stage,
            "probability": s.probability, "forecast_category": s.forecast_category, "created_date": date(2026, 1, 5),
            "close_date": close, "is_closed": s.is_closed, "is_won": s.is_won}  # fmt: skip


@pytest.fixture
def engine(tiny_engine):
    return tiny_engine(
        person=PEOPLE,
        stage=stage_rows(),
        product=[{"id": 1, "name": "Widget"}, {"id": 2, "name": "Gadget"}],
        opportunity=[
            deal(1, RITA, "Proposal", 50.0, None),  # undated
            deal(2, RITA, "Discovery", 25.0, None, product=2),  # undated, another product
            deal(3, RITA, "Proposal", 400.0, date(2026, 2, 1)),  # dated: in Q1's pipeline
            deal(4, SAM, "Negotiation", 70.0, None),  # undated, Sam's
            deal(5, RITA, "Closed Lost", 900.0, None),  # closed: not open pipeline, whatever its date
        ],
    )


def test_the_bucket_counts_open_undated_deals_in_view(engine):
    # Everyone: deals 1, 2 and 4 (50 + 25 + 70); deal 5 is closed.
    assert undated_totals(engine, WIDE, Scope.everyone()) == (3, 145.0)
    assert undated_totals(engine, WIDE, Scope.only(RITA)) == (2, 75.0)
    assert undated_totals(engine, WIDE, Scope.subtree(MANAGER)) == (2, 75.0)  # Sam is not under the manager
    assert undated_totals(engine, WIDE, Scope.only(SAM)) == (1, 70.0)
    assert undated_totals(engine, Filters(WIDE.period, products=frozenset({2})), Scope.everyone()) == (1, 25.0)
    assert undated_totals(engine, Filters(WIDE.period, reps=frozenset({SAM})), Scope.only(RITA)) == (0, 0.0)


def test_the_bucket_ignores_the_period_which_they_are_not_in(engine):
    for period in (Period(date(2026, 1, 1), date(2026, 3, 31)), Period(date(1990, 1, 1), date(1990, 1, 31))):
        assert undated_totals(engine, Filters(period), Scope.everyone()) == (3, 145.0)


def test_period_kpis_leave_them_out(engine):
    frame = query(engine, ["open_pipeline", "open_deals", "weighted_pipeline", "deals_lost"], WIDE, Scope.everyone(), as_of=date(2026, 1, 10))
    # Only deal 3 has a close date; the closed deal 5 has none either, so it is in no period's losses.
    assert frame.iloc[0].to_dict() == {"open_pipeline": 400.0, "open_deals": 1, "weighted_pipeline": 240.0, "deals_lost": 0}


def test_the_drill_down_lists_the_bucket_largest_first_within_scope(engine):
    assert list(undated_deals(engine, WIDE, Scope.everyone())["id"]) == [4, 1, 2]
    rita = undated_deals(engine, WIDE, Scope.only(RITA))
    assert list(rita["id"]) == [1, 2] and set(rita["owner"]) == {"Rita Rep"}
    assert rita["close_date"].isna().all()


def test_maven_open_deals_all_have_no_close_date_at_list_price(maven_url):
    engine = make_engine(maven_url, read_only=True)
    count, amount = undated_totals(engine, WIDE, Scope.everyone())
    assert (count, amount) == (2089, 4_966_215.0)
    # The same figure straight from the CSVs: open rows (Prospecting, Engaging) priced at their product's
    # sales_price, product names matched without spaces (the file says GTXPro for GTX Pro).
    pipeline = pd.read_csv(MAVEN / "sales_pipeline.csv", dtype=str, keep_default_na=False)
    prices = pd.read_csv(MAVEN / "products.csv")
    price = dict(zip(prices["product"].str.replace(" ", ""), prices["sales_price"], strict=True))
    open_rows = pipeline[pipeline["deal_stage"].isin(["Prospecting", "Engaging"])]
    assert (open_rows["close_date"] == "").all()
    assert (len(open_rows), float(open_rows["product"].str.replace(" ", "").map(price).sum())) == (2089, 4_966_215.0)
    # And no period holds them: the open pipeline over all of Maven's dates is empty.
    assert query(engine, ["open_deals"], WIDE, Scope.everyone(), as_of=date(2017, 12, 31)).iloc[0, 0] == 0
