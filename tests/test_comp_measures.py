"""Components paying on measures other than bookings, and on a filtered set of deals, worked by hand."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from comp_engine_support import Q3, D, _deal, _person, _plan, _quota

from spm_core import schema
from spm_core.comp.engine import calculate
from spm_core.comp.plans import PlanError, plan_from_yaml, plan_to_yaml
from spm_core.comp.store import load_plans, save_plan
from spm_core.comp.trace import lines
from spm_core.db import insert_frame
from spm_core.filters import Scope


def _created(oid: int, amount: float, created: date, stage: str = "Discovery", closed: date = date(2026, 12, 1)) -> dict:
    """A deal created on `created`, open unless the stage says otherwise."""
    won, lost = stage == "Closed Won", stage == "Closed Lost"
    return {**_deal(oid, 1, amount, closed, won=won), "stage": stage, "is_closed": won or lost, "created_date": created,
            "probability": 100 if won else 0 if lost else 30, "forecast_category": "Closed" if won else "Omitted" if lost else "Pipeline"}


SDR = """  - name: Pipeline
    kind: commission
    measure: created_amount
    target: 50000
    bands:
      - {from: 0, to: 100, rate: 1}
      - {from: 100, rate: 2}
"""


def test_pipeline_created_pays_on_every_deal_created_in_the_period_against_its_target(rep_warehouse):
    # Target 50,000 a month = 150,000 for Q3. Deal 1 (open, created 5 July) 100,000: 0 -> 100,000 at 1 % = 1,000.
    # Deal 2 (lost since, created 1 August) 80,000: 50,000 up to 150,000 at 1 % = 500, 30,000 above at 2 % = 600.
    # Deal 3 was created in June (won in July): not Q3's pipeline. Ann's bookings quota plays no part.
    deals = [_created(1, 100_000, date(2026, 7, 5)), _created(2, 80_000, date(2026, 8, 1), "Closed Lost", date(2026, 9, 1)),
             _created(3, 50_000, date(2026, 6, 30), "Closed Won", date(2026, 7, 10))]
    engine = rep_warehouse(deals, _plan(SDR))
    calculate(engine, Q3)
    frame = lines(engine, Q3, Scope.everyone())
    assert list(zip(frame["opportunity_id"], frame["close_date"], frame["amount"], strict=True)) == [
        (1, date(2026, 7, 5), D("1000.00")), (2, date(2026, 8, 1), D("500.00")), (2, date(2026, 8, 1), D("600.00"))
    ]
    assert set(frame["quota"]) == {D("150000.00")}
    assert frame["formula"].iloc[1] == (
        "pipeline created: $50,000.00 of deal 2 in band 0–100 % (66.67 %→100.00 %) × 1 % = $500.00"
    )


UNITS = """  - name: Logos
    kind: commission
    measure: won_count
    target: 1
    bands:
      - {from: 0, to: 100, amount: 100}
      - {from: 100, amount: 250}
"""


def test_won_count_pays_an_amount_per_credited_deal_crossing_bands(rep_warehouse):
    # Target 1 deal a month = 3 for Q3. Ann's units: deal 1 = 1, deal 2 = 1, deal 3 (60/40 with Bob) = 0.6, deal 4 = 1;
    # deal 5 was lost. Running 1, 2, 2.6, 3.6: deals 1-3 pay 100, 100 and 0.6 × 100 = 60; deal 4 crosses 3 units:
    # 0.4 × 100 = 40 + 0.6 × 250 = 150. Bob's 0.4 of deal 3: 40.
    people = [_person(1, "Ann"), _person(2, "Bob")]
    deals = [_deal(i, 1, 1_000 * i, date(2026, 7, i)) for i in (1, 2, 3, 4)] + [_deal(5, 1, 9_000, date(2026, 7, 5), won=False)]
    engine = rep_warehouse(deals, _plan(UNITS, people=(1, 2)), people=people, quota=_quota(1, 10_000) + _quota(2, 10_000, 10))
    with engine.begin() as conn:
        insert_frame(conn, schema.opportunity_split, pd.DataFrame({"opportunity_id": [3, 3], "person_id": [1, 2], "percent": [60.0, 40.0]}))
    calculate(engine, Q3)
    ann = lines(engine, Q3, Scope.everyone(), 1)
    assert list(zip(ann["opportunity_id"], ann["base"], ann["amount"], strict=True)) == [
        (1, D("1"), D("100.00")), (2, D("1"), D("100.00")), (3, D("0.6"), D("60.00")), (4, D("0.4"), D("40.00")), (4, D("0.6"), D("150.00"))
    ]
    assert set(ann["quota"]) == {D("3.00")}
    assert ann["formula"].iloc[4] == "won deals: 0.6 of deal 4 in band 100 %+ (100.00 %→120.00 %) × $250.00 per deal = $150.00"
    assert list(lines(engine, Q3, Scope.everyone(), 2)["amount"]) == [D("40.00")]


def test_a_deal_filter_makes_new_business_bookings_a_component_of_its_own(rep_warehouse):
    # "New logos" pays 10 % of new-business bookings only (deal 1, 10,000 = 1,000); "Commission" 1 % of all bookings
    # (100 + 50). Both measure attainment against Ann's 30,000 quota.
    plan = _plan("""  - name: New logos
    kind: commission
    deals: {type: New Business}
    bands:
      - {from: 0, rate: 10}
  - name: Commission
    kind: commission
    bands:
      - {from: 0, rate: 1}
""")
    deals = [{**_deal(1, 1, 10_000, date(2026, 7, 1)), "type": "New Business"}, {**_deal(2, 1, 5_000, date(2026, 7, 2)), "type": "Renewal"}]
    engine = rep_warehouse(deals, plan)
    calculate(engine, Q3)
    frame = lines(engine, Q3, Scope.everyone())
    assert list(zip(frame["component"], frame["opportunity_id"], frame["amount"], strict=True)) == [
        ("New logos", 1, D("1000.00")), ("Commission", 1, D("100.00")), ("Commission", 2, D("50.00"))
    ]


def test_a_target_replaces_the_quota_for_a_money_measure_too(rep_warehouse):
    # Bookings against a plan target of 5,000 a month (15,000), not Ann's 30,000 quota: 15,000 reaches 100 %.
    plan = _plan("  - name: Commission\n    kind: commission\n    target: 5000\n    bands:\n      - {from: 0, to: 100, rate: 1}\n"
                 "      - {from: 100, rate: 3}\n")
    engine = rep_warehouse([_deal(1, 1, 20_000, date(2026, 7, 1))], plan)
    calculate(engine, Q3)
    assert list(lines(engine, Q3, Scope.everyone())["amount"]) == [D("150.00"), D("150.00")]


FULL = """name: SDR
version: 1
effective_from: 2026-01-01
year_start_month: 2
components:
- name: Pipeline
  kind: commission
  measure: created_amount
  mode: marginal
  bands:
  - {from: 0, rate: 1}
  target: 50000
  caps: {period: 5000}
  deals: {segment: Enterprise, min_amount: 1000}
- name: Logos
  kind: commission
  measure: won_count
  mode: retroactive
  bands:
  - {from: 0, to: 100, amount: 100}
  - {from: 100, amount: 250}
  target: 2.5
  clawback_days: 90
- {name: Meetings held, kind: spiff, measure: created_amount, from: 2026-07-01, to: 2026-09-30, amount: 50, capped: true}
- {name: Annual club, kind: bonus, measure: won_amount, at: 100, amount: 5000, per: year}
"""


def test_measures_targets_filters_and_the_plan_year_round_trip_through_yaml_and_the_store(tiny_engine):
    plan = plan_from_yaml(FULL)
    assert plan_to_yaml(plan) == FULL
    engine = tiny_engine(segment=[{"id": 1, "name": "Enterprise"}])
    save_plan(engine, plan)
    assert load_plans(engine) == [plan]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("  target: 2.5\n", "", "a commission on won_count needs 'target' (deals per month)"),
        ("{from: 100, amount: 250}", "{from: 100, rate: 250}", "unknown key 'rate'"),
        ("{from: 100, amount: 250}", "{from: 100, amount: 250000}", "the amount per unit 250000 must be between 0 and 99999.9999"),
        ("target: 50000", "target: 0", "the target 0 must be above 0"),
        ("  mode: marginal\n", "  mode: marginal\n  clawback_days: 30\n", "clawback_days takes back won deals"),
        ("amount: 50, capped: true}", "amount: 50, target: 3}", "target belongs to commission components, not spiff"),
        ("measure: created_amount, from: 2026-07-01, to: 2026-09-30, amount: 50", "measure: won_count, from: 2026-07-01, "
         "to: 2026-09-30, rate: 5", "a SPIFF on won_count pays an 'amount' per deal, not a 'rate'"),
        ("year_start_month: 2", "year_start_month: 13", "year_start_month 13 must be a month from 1 to 12"),
        ("per: year", "per: quarter", "per 'quarter' must be one of period, year"),
        ("amount: 50, capped: true}", "amount: 50, per: year}", "per belongs to bonus components, not spiff"),
        ("caps: {period: 5000}", "gate: 10", "capped: true needs exactly one commission with a cap per period or per year"),
    ],
)
def test_a_bad_measure_setting_is_refused_with_a_clear_message(old, new, message):
    assert old in FULL
    with pytest.raises(PlanError) as caught:
        plan_from_yaml(FULL.replace(old, new))
    assert any(message in p for p in caught.value.problems), caught.value.problems


def test_a_bonus_override_or_draw_works_on_bookings_only():
    text = _plan("  - {name: Club, kind: bonus, measure: won_count, at: 100, amount: 1000}\n")
    with pytest.raises(PlanError, match="a bonus works on bookings"):
        plan_from_yaml(text)
