"""Plans as data: YAML round trip, the checks on save, and the messages they give."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from spm_core.comp.plans import Assignment, PlanError, plan_from_yaml, plan_to_yaml
from spm_core.comp.store import load_plans, save_plan

AE = """name: AE 2026
version: 1
effective_from: 2026-01-01
effective_to: 2026-12-31
description: Account executives
components:
- name: Commission
  kind: commission
  measure: won_amount
  mode: marginal
  bands:
  - {from: 0, to: 50, rate: 2}
  - {from: 50, to: 100, rate: 5}
  - {from: 100, to: 150, rate: 8.5}
  - {from: 150, rate: 12}
  gate: 25
  qualifier: {kpi: win_rate, at_least: 20}
  caps: {deal: 5000, period: 40000, year: 120000}
  clawback_days: 90
- {name: Club, kind: bonus, measure: won_amount, at: 100, amount: 2500}
- {name: Draw, kind: draw, measure: won_amount, monthly: 3000, recoverable: false}
- name: Platform push
  kind: spiff
  measure: won_amount
  from: 2026-10-01
  to: 2026-12-31
  deals: {product: Platform, type: New Business, min_amount: 50000}
  amount: 500
assignments:
- {person: 1, from: 2026-01-01, to: 2026-06-30}
- {person: 2, from: 2026-01-01, to: 2026-12-31}
"""


PEOPLE = [{"id": i, "name": n, "role": "rep", "active": True, "ramp_months": 0} for i, n in ((1, "A"), (2, "B"))]


def _with(old: str, new: str) -> str:
    assert old in AE
    return AE.replace(old, new)


def _problems(text: str) -> list[str]:
    with pytest.raises(PlanError) as caught:
        plan_from_yaml(text)
    return caught.value.problems


def test_yaml_reads_to_decimals_and_writes_back_the_same_text():
    plan = plan_from_yaml(AE)
    assert plan.components[0].bands[2].rate == Decimal("8.5")
    assert plan_to_yaml(plan) == AE


def test_a_saved_plan_loads_back_equal(tiny_engine):
    engine = tiny_engine(person=PEOPLE, product=[{"id": 1, "name": "Platform"}])
    plan = plan_from_yaml(AE)
    save_plan(engine, plan)
    assert load_plans(engine) == [plan]
    assert plan_to_yaml(load_plans(engine)[0]) == AE


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("{from: 50, to: 100, rate: 5}", "{from: 60, to: 100, rate: 5}", "a gap between 50 % and 60 %"),
        ("{from: 50, to: 100, rate: 5}", "{from: 40, to: 100, rate: 5}", "bands 0–50 % and 40–100 % overlap"),
        ("{from: 0, to: 50, rate: 2}", "{from: 10, to: 50, rate: 2}", "the bands must start at 0 %"),
        ("rate: 12}", "rate: -12}", "the rate -12 % is negative"),
        ("measure: won_amount\n  mode", "measure: bookingz\n  mode", "unknown measure 'bookingz'"),
        ("measure: won_amount\n  mode", "measure: open_amount\n  mode", "pays only on won_amount"),
        ("mode: marginal", "mode: sideways", "unknown mode 'sideways'"),
        ("kind: bonus", "kind: raffle", "unknown kind 'raffle'"),
        ("gate: 25", "gate: lots", "'lots' is not a number"),
        ("kpi: win_rate", "kpi: bookings", "the qualifier KPI must be a percentage KPI"),
        ("{person: 2, from: 2026-01-01, to: 2026-12-31}", "{person: 1, from: 2026-06-01, to: 2026-12-31}", "person 1 is assigned twice at once"),
        ("caps: {deal", "caps: {dael", "unknown key 'dael'"),
        ("effective_to: 2026-12-31", "effective_to: 2025-12-31", "effective_to 2025-12-31 is before effective_from"),
        ("monthly: 3000, ", "", "a draw needs 'monthly'"),
        ("recoverable: false", "recoverable: maybe", "'maybe' is not true or false"),
        ("amount: 2500}", "amount: 2500, clawback_days: 30}", "clawback_days belong to commission components, not bonus"),
        ("clawback_days: 90", "clawback_days: 90.5", "90.5 is not a whole number"),
        ("- {name: Draw,", "- {name: Draw 2, kind: draw, monthly: 1}\n- {name: Draw,", "at most one draw per plan"),
        ("  amount: 500\n", "  amount: 500\n  rate: 2\n", "either 'amount' (per deal) or 'rate'"),
        ("  to: 2026-12-31\n  deals", "  to: 2026-09-30\n  deals", "the SPIFF ends (2026-09-30) before it starts (2026-10-01)"),
        ("  from: 2026-10-01\n", "", "a SPIFF needs 'from' and 'to'"),
        ("type: New Business, min", "kind: New Business, min", "unknown key 'kind'"),
        ("amount: 2500}", "amount: 2500, from: 2026-01-01}", "from and to belong to SPIFF components, not bonus"),
    ],
)
def test_a_bad_plan_is_refused_with_a_clear_message(old, new, message):
    problems = _problems(_with(old, new))
    assert any(message in p for p in problems), problems


def test_malformed_yaml_names_the_line():
    assert _problems("name: x\ncomponents: [\n")[0].startswith("not valid YAML at line 3")


def test_every_problem_is_listed_at_once():
    assert len(_problems(_with("rate: 12}", "rate: -12}").replace("gate: 25", "gate: -1"))) == 2


def test_saving_checks_people_versions_and_other_plans(tiny_engine):
    engine = tiny_engine(person=PEOPLE, product=[{"id": 1, "name": "Platform"}])
    save_plan(engine, plan_from_yaml(AE))
    with pytest.raises(PlanError, match="version 1 is already saved"):
        save_plan(engine, plan_from_yaml(AE))
    same_start = _with("version: 1", "version: 2")
    with pytest.raises(PlanError) as caught:
        save_plan(engine, plan_from_yaml(same_start[: same_start.index("assignments:")]))
    assert any("version 1 (2026-01-01–2026-12-31) overlaps this version (2026-01-01–2026-12-31); start it after 2026-01-01" in p
               for p in caught.value.problems)
    other = _with("name: AE 2026", "name: SE 2026").replace("{person: 1, from: 2026-01-01, to: 2026-06-30}", "{person: 3, from: 2026-03-01, to: 2026-12-31}")
    with pytest.raises(PlanError) as caught:
        save_plan(engine, plan_from_yaml(other))
    assert "assignment: person 3 does not exist" in caught.value.problems
    assert any("person 2 already has 'AE 2026' v1" in p for p in caught.value.problems)
    assert [p.version for p in load_plans(engine)] == [1]


def test_a_new_version_after_the_old_one_ends_is_saved(tiny_engine):
    engine = tiny_engine(person=PEOPLE, product=[{"id": 1, "name": "Platform"}])
    save_plan(engine, plan_from_yaml(AE))
    v2 = _with("version: 1", "version: 2").replace("2026-01-01\neffective_to: 2026-12-31", "2027-01-01\neffective_to: 2027-12-31")
    v2 = v2.replace("{person: 1, from: 2026-01-01, to: 2026-06-30}\n- {person: 2, from: 2026-01-01, to: 2026-12-31}",
                    "{person: 1, from: 2027-01-01, to: 2027-12-31}")
    save_plan(engine, plan_from_yaml(v2))
    assert [(p.version, p.effective_from) for p in load_plans(engine, "AE 2026")] == [(1, date(2026, 1, 1)), (2, date(2027, 1, 1))]


def test_a_new_version_starting_inside_the_latest_supersedes_it_and_keeps_its_people(tiny_engine):
    # v1 runs all 2026 (person 1 to 30 June, person 2 to 31 December). v2 from 1 October, with no assignments of its
    # own: v1 and person 2's assignment end on 30 September, and person 2 carries over to v2 until 31 December.
    engine = tiny_engine(person=PEOPLE, product=[{"id": 1, "name": "Platform"}])
    save_plan(engine, plan_from_yaml(AE))
    v2 = _with("version: 1", "version: 2").replace("effective_from: 2026-01-01", "effective_from: 2026-10-01")
    save_plan(engine, plan_from_yaml(v2[: v2.index("assignments:")]))
    v1_saved, v2_saved = load_plans(engine, "AE 2026")
    assert (v1_saved.effective_from, v1_saved.effective_to) == (date(2026, 1, 1), date(2026, 9, 30))
    assert v1_saved.assignments == (Assignment(1, date(2026, 1, 1), date(2026, 6, 30)), Assignment(2, date(2026, 1, 1), date(2026, 9, 30)))
    assert v2_saved.assignments == (Assignment(2, date(2026, 10, 1), date(2026, 12, 31)),)


def test_a_refused_save_changes_nothing(tiny_engine):
    engine = tiny_engine(person=PEOPLE, product=[{"id": 1, "name": "Platform"}])
    save_plan(engine, plan_from_yaml(AE))
    v2 = _with("version: 1", "version: 2").replace("effective_from: 2026-01-01", "effective_from: 2026-10-01")
    v2 = v2.replace("{person: 1, from: 2026-01-01, to: 2026-06-30}", "{person: 3, from: 2026-10-01, to: 2026-12-31}")
    v2 = v2.replace("{person: 2, from: 2026-01-01, to: 2026-12-31}", "{person: 1, from: 2026-10-01, to: 2026-12-31}")
    with pytest.raises(PlanError, match="person 3 does not exist"):
        save_plan(engine, plan_from_yaml(v2))
    assert load_plans(engine) == [plan_from_yaml(AE)]
