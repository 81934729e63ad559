"""Period states, approvals and the ledger, worked by hand on the tiny comp warehouse."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
import sqlalchemy as sa
from comp_ledger_support import ADMIN, ANN, MAX, PLAN, Q3, Q4, deal

from spm_core.comp.adjustments import add_adjustment
from spm_core.comp.audit import Actor, CompError, audit_log
from spm_core.comp.cycle import approve_many, decide, lock, mark_paid, set_auto_approve_below, state, statuses
from spm_core.comp.engine import calculate, calculate_in
from spm_core.comp.trace import lines
from spm_core.filters import Scope
from spm_core.schema import opportunity, opportunity_history

D = Decimal


def _approve_all(engine, period=Q3) -> None:
    with engine.begin() as conn:
        for pid in (1, 2):
            decide(conn, MAX, period, pid, approve=True)
            decide(conn, ADMIN, period, pid, approve=True)


def _locked_q3(comp_db):
    # Ann: deal 1, 12,000 in July: 12,000 of 30,000 (0-50 %) at 2 % = 240.00. Bo: deal 5, 3,000 = 60.00.
    engine = comp_db([deal(1, 1, 12_000, date(2026, 7, 1)), deal(5, 2, 3_000, date(2026, 7, 3))])
    calculate(engine, Q3, run_by="carla")
    _approve_all(engine)
    with engine.begin() as conn:
        lock(conn, ADMIN, Q3)
    return engine


def test_a_late_deal_into_a_locked_period_becomes_adjustments_next_period(comp_db):
    engine = _locked_q3(comp_db)
    original = lines(engine, Q3, Scope.everyone(), 1)
    # Deal 1 is corrected to 13,000 and deal 2 (8,000, closed 2 July) arrives late. Recomputed Q3 for Ann:
    # deal 1: 13,000 at 2 % = 260.00 (+20.00 on the locked 240.00); deal 2 from 13,000 to 21,000: 2,000 at
    # 2 % = 40.00 and 6,000 at 5 % = 300.00, both new. They land in Q4 (the next open period), Q3 is untouched.
    with engine.begin() as conn:
        conn.execute(opportunity.update().where(opportunity.c.id == 1).values(amount=13_000))
        conn.execute(opportunity.insert(), deal(2, 1, 8_000, date(2026, 7, 2)))
    calculate(engine, Q3, run_by="carla")
    assert lines(engine, Q3, Scope.everyone(), 1)[["id", "amount"]].equals(original[["id", "amount"]])
    q4 = lines(engine, Q4, Scope.everyone(), 1)
    assert list(zip(q4["rule"], q4["opportunity_id"], q4["amount"], [None if pd.isna(v) else int(v) for v in q4["origin_line_id"]],
                    strict=True)) == [
        ("prior_period", 1, D("20.00"), int(original["id"].iloc[0])),
        ("prior_period", 2, D("40.00"), None),
        ("prior_period", 2, D("300.00"), None),
    ]
    assert set(q4["origin_start"]) == {Q3.start}
    assert q4["formula"].iloc[0].startswith("2026-Q3 line ")
    assert sum(q4["amount"]) == D("360.00")
    # Bo is unchanged: nothing posted. A second calculation posts nothing more; Q4's own run keeps them.
    assert lines(engine, Q4, Scope.everyone(), 2).empty
    calculate(engine, Q3, run_by="carla")
    calculate(engine, Q4, run_by="carla")
    assert sum(lines(engine, Q4, Scope.everyone(), 1)["amount"]) == D("360.00")
    with engine.connect() as conn:
        assert state(conn, Q3) == "locked" and state(conn, Q4) == "calculated"


def test_the_cycle_runs_in_order_and_refuses_shortcuts(comp_db):
    engine = comp_db([deal(1, 1, 12_000, date(2026, 7, 1)), deal(5, 2, 3_000, date(2026, 7, 3))])
    with engine.begin() as conn, pytest.raises(CompError, match="is open"):
        decide(conn, MAX, Q3, 1, approve=True)
    calculate(engine, Q3, run_by="carla")
    with engine.begin() as conn:
        with pytest.raises(CompError, match="manager approves first"):
            decide(conn, ADMIN, Q3, 1, approve=True)
        with pytest.raises(CompError, match="Only a manager, a leader or a comp admin"):
            decide(conn, ANN, Q3, 1, approve=True)
        with pytest.raises(CompError, match="comment is required"):
            decide(conn, MAX, Q3, 1, approve=False)
        with pytest.raises(CompError, match="lock it once"):
            lock(conn, ADMIN, Q3)
        assert decide(conn, MAX, Q3, 1, approve=True) == "awaiting comp admin"
        assert decide(conn, ADMIN, Q3, 1, approve=False, comment="check deal 1") == "sent back"
        assert statuses(conn, Q3)[1] == ("sent back", "check deal 1")
    _approve_all(engine)
    with engine.begin() as conn:
        assert state(conn, Q3) == "approved"
        with pytest.raises(CompError, match="lock it before"):
            mark_paid(conn, ADMIN, Q3)
        with pytest.raises(CompError, match="Only a comp admin"):
            lock(conn, MAX, Q3)
        lock(conn, ADMIN, Q3)
        mark_paid(conn, ADMIN, Q3)
        assert state(conn, Q3) == "paid"


def test_a_manager_approves_only_below_themselves(comp_db):
    engine = comp_db([deal(1, 1, 12_000, date(2026, 7, 1))])
    calculate(engine, Q3, run_by="carla")
    other = MAX.__class__("zed", "manager", Scope.subtree(2), 2)
    with engine.begin() as conn, pytest.raises(CompError, match="below them"):
        decide(conn, other, Q3, 1, approve=True)


def test_a_leader_approves_at_the_first_level_for_anyone_but_themselves(comp_db):
    engine = comp_db([deal(1, 1, 12_000, date(2026, 7, 1))])
    calculate(engine, Q3, run_by="carla")
    leader = Actor("lea", "leader", Scope.everyone(), 2)
    with engine.begin() as conn:
        assert decide(conn, leader, Q3, 1, approve=True) == "awaiting comp admin"


def test_statements_under_the_threshold_are_approved_automatically(comp_db):
    # Ann 240.00, Bo 60.00: under 100 only Bo is auto-approved; under 250 both, and the period is approved.
    engine = comp_db([deal(1, 1, 12_000, date(2026, 7, 1)), deal(5, 2, 3_000, date(2026, 7, 3))])
    with engine.begin() as conn:
        set_auto_approve_below(conn, ADMIN, D("100"))
    calculate(engine, Q3, run_by="carla")
    with engine.connect() as conn:
        assert {k: v[0] for k, v in statuses(conn, Q3).items()} == {1: "awaiting manager", 2: "approved"}
        assert state(conn, Q3) == "calculated"
    with engine.begin() as conn:
        set_auto_approve_below(conn, ADMIN, D("240.01"))
    calculate(engine, Q3, run_by="carla")
    with engine.connect() as conn:
        assert {k: v[0] for k, v in statuses(conn, Q3).items()} == {1: "approved", 2: "approved"}
        assert state(conn, Q3) == "approved"


def test_a_manual_adjustment_into_a_locked_period_goes_to_the_next_open_one(comp_db):
    engine = _locked_q3(comp_db)
    with engine.begin() as conn:
        with pytest.raises(CompError, match="reason"):
            add_adjustment(conn, ADMIN, 1, Q3, D("50"), "  ")
        with pytest.raises(CompError, match="cents"):
            add_adjustment(conn, ADMIN, 1, Q3, D("0.001"), "x")
        with pytest.raises(CompError, match="comp admin"):
            add_adjustment(conn, MAX, 1, Q3, D("50"), "x")
        add_adjustment(conn, ADMIN, 1, Q3, D("-12.34"), "duplicate booking")
    q4 = lines(engine, Q4, Scope.everyone(), 1)
    assert list(q4["amount"]) == [D("-12.34")] and q4["reason"].iloc[0] == "duplicate booking"
    assert q4["origin_start"].iloc[0] == Q3.start
    assert sum(lines(engine, Q3, Scope.everyone(), 1)["amount"]) == D("240.00")


def test_the_audit_log_records_every_change_and_reads_with_scope(comp_db):
    engine = _locked_q3(comp_db)
    log = audit_log(engine, Scope.everyone())
    actions = list(log["action"])
    assert {"calculation", "manager approved", "comp_admin approved", "period approved", "period locked"} <= set(actions)
    assert set(log[log["action"] == "manager approved"]["actor"]) == {"max"}
    mine = audit_log(engine, Scope.only(1))
    assert len(mine) and set(mine["person_id"]) == {1}
    assert set(audit_log(engine, Scope.subtree(9))["person_id"]) == {1, 2}
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from comp_audit where person_id is null")).scalar() > 0


def test_approving_many_takes_only_the_statements_awaiting_the_level(comp_db):
    engine = comp_db([deal(1, 1, 12_000, date(2026, 7, 1)), deal(5, 2, 3_000, date(2026, 7, 3))])
    calculate(engine, Q3, run_by="carla")
    with engine.begin() as conn:
        assert approve_many(conn, ADMIN, Q3, [1, 2]) == 0  # the managers come first
        assert approve_many(conn, MAX, Q3, [1, 2, 77]) == 2
        assert approve_many(conn, ADMIN, Q3, [1]) == 1
        assert state(conn, Q3) == "calculated"
        assert approve_many(conn, ADMIN, Q3, [1, 2]) == 1
        assert state(conn, Q3) == "approved"


def test_a_what_if_run_rewrites_a_locked_period_only_inside_its_rolled_back_transaction(comp_db):
    engine = _locked_q3(comp_db)
    with engine.begin() as conn:
        conn.execute(opportunity.update().where(opportunity.c.id == 1).values(amount=13_000))
    with engine.connect() as conn:
        calculate_in(conn, Q3, run_by="preview", what_if=True)
        assert sum(lines(conn, Q3, Scope.everyone(), 1)["amount"]) == D("260.00")
        assert lines(conn, Q4, Scope.everyone(), 1).empty
        conn.rollback()
    assert sum(lines(engine, Q3, Scope.everyone(), 1)["amount"]) == D("240.00")


def test_a_deal_clawed_back_later_is_not_taken_back_again_by_a_locked_period_s_recalculation(comp_db):
    # Q3 pays Ann 240.00 on deal 1 and is locked. The deal is lost on 20 October (111 days after closing,
    # window 120): Q4 claws back 240.00. Recalculating Q3 then finds deal 1 no longer won, but the clawback
    # settled it: no prior-period line, Q4 stays at -240.00.
    plan = PLAN.replace("      - {from: 150, rate: 12}\n", "      - {from: 150, rate: 12}\n    clawback_days: 120\n")
    engine = comp_db([deal(1, 1, 12_000, date(2026, 7, 1)), deal(5, 2, 3_000, date(2026, 7, 3))], plan)
    calculate(engine, Q3, run_by="carla")
    _approve_all(engine)
    with engine.begin() as conn:
        lock(conn, ADMIN, Q3)
        conn.execute(opportunity.update().where(opportunity.c.id == 1).values(stage="Closed Lost", is_won=False, probability=0))
        conn.execute(opportunity_history.insert(), [{
            "id": 1, "opportunity_id": 1, "changed_at": date(2026, 10, 20), "valid_to": None, "stage": "Closed Lost", "amount": 12_000,
            "close_date": date(2026, 7, 1), "probability": 0, "forecast_category": "Omitted", "is_closed": True, "is_won": False,
        }])
    calculate(engine, Q4, run_by="carla")
    assert list(lines(engine, Q4, Scope.everyone(), 1)["rule"]) == ["clawback"]
    calculate(engine, Q3, run_by="carla")
    q4 = lines(engine, Q4, Scope.everyone(), 1)
    assert list(zip(q4["rule"], q4["amount"], strict=True)) == [("clawback", D("-240.00"))]
