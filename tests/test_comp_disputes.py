"""Disputes on the tiny comp warehouse: raised on one's own line, decided by a comp admin, seen by the rep."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from comp_ledger_support import ADMIN, ANN, MAX, Q3, Q4, deal

from spm_core.comp.audit import Actor, CompError, audit_log
from spm_core.comp.cycle import decide, lock
from spm_core.comp.disputes import disputes, raise_dispute, reject, resolve
from spm_core.comp.engine import calculate
from spm_core.comp.statements import statement
from spm_core.comp.trace import lines
from spm_core.filters import Scope

D = Decimal
BO = Actor("bo", "rep", Scope.only(2), 2)


@pytest.fixture
def engine(comp_db):
    engine = comp_db([deal(1, 1, 12_000, date(2026, 7, 1)), deal(5, 2, 3_000, date(2026, 7, 3))])
    calculate(engine, Q3, run_by="carla")
    return engine


def _line(engine, pid: int) -> int:
    return int(lines(engine, Q3, Scope.everyone(), pid)["id"].iloc[0])


def test_a_dispute_resolved_becomes_an_adjustment_line_the_rep_sees(engine):
    ann_line = _line(engine, 1)
    with engine.begin() as conn:
        with pytest.raises(CompError, match="not one of your lines"):
            raise_dispute(conn, BO, ann_line, "mine?")
        with pytest.raises(CompError, match="comment is required"):
            raise_dispute(conn, ANN, ann_line, "   ")
        dispute = raise_dispute(conn, ANN, ann_line, "Deal 1 was split with Bo")
        with pytest.raises(CompError, match="already has an open dispute"):
            raise_dispute(conn, ANN, ann_line, "again")
        with pytest.raises(CompError, match="Only a comp admin"):
            resolve(conn, MAX, dispute, D("-120.00"), "half")
    assert list(disputes(engine, ADMIN.scope, "open")["id"]) == [dispute]
    assert disputes(engine, BO.scope).empty
    with engine.begin() as conn:
        resolve(conn, ADMIN, dispute, D("-120.00"), "half of deal 1 belongs to Bo")
        with pytest.raises(CompError, match="already resolved"):
            reject(conn, ADMIN, dispute, "no")
    mine = disputes(engine, ANN.scope)
    assert (mine["status"].iloc[0], mine["outcome"].iloc[0], mine["adjustment"].iloc[0]) == (
        "resolved", "half of deal 1 belongs to Bo", D("-120.00"))
    s = statement(engine, ANN.scope, 1, Q3)
    assert s.total == D("120.00") and s.adjustments == D("-120.00")
    adjustment = s.lines[s.lines["rule"] == "dispute"].iloc[0]
    assert int(adjustment["origin_line_id"]) == ann_line
    assert adjustment["formula"] == f"dispute resolved on line {ann_line}: dispute #{dispute}: half of deal 1 belongs to Bo = −$120.00"
    log = audit_log(engine, ANN.scope)
    assert {"dispute raised", "dispute resolved", "dispute adjustment"} <= set(log["action"])


def test_a_rejected_dispute_keeps_the_statement_and_says_why(engine):
    with engine.begin() as conn:
        dispute = raise_dispute(conn, BO, _line(engine, 2), "rate should be 5 %")
        with pytest.raises(CompError, match="reason is required"):
            reject(conn, ADMIN, dispute, "")
        reject(conn, ADMIN, dispute, "below 50 % the rate is 2 %")
    row = disputes(engine, BO.scope).iloc[0]
    assert (row["status"], row["outcome"]) == ("rejected", "below 50 % the rate is 2 %")
    assert statement(engine, BO.scope, 2, Q3).total == D("60.00")


def test_a_dispute_on_a_locked_period_is_resolved_in_the_next_open_one(engine):
    with engine.begin() as conn:
        dispute = raise_dispute(conn, ANN, _line(engine, 1), "missing deal")
        for pid in (1, 2):
            decide(conn, MAX, Q3, pid, approve=True)
            decide(conn, ADMIN, Q3, pid, approve=True)
        lock(conn, ADMIN, Q3)
        resolve(conn, ADMIN, dispute, D("50.00"), "missing deal added")
    assert statement(engine, ANN.scope, 1, Q3).total == D("240.00")
    assert statement(engine, ANN.scope, 1, Q4).total == D("50.00")
