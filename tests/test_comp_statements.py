"""Statements and the earnings estimator, worked by hand on the tiny comp warehouse."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from comp_ledger_support import ADMIN, Q3, deal

from spm_core.comp.adjustments import add_adjustment
from spm_core.comp.audit import CompError
from spm_core.comp.engine import calculate
from spm_core.comp.estimator import estimate, open_deals
from spm_core.comp.statements import gauges, periods_of, statement, team
from spm_core.filters import Scope
from spm_core.schema import opportunity

D = Decimal


@pytest.fixture
def engine(comp_db):
    # Ann: deal 1, 12,000 on 1 July (2 % = 240.00); deal 3, 1,234.57 on 5 July (2 % = 24.6914 -> 24.69);
    # open deal 20, 8,000 expected 15 August. Bo: deal 5, 3,000 (60.00).
    engine = comp_db([
        deal(1, 1, 12_000, date(2026, 7, 1)), deal(3, 1, 1_234.57, date(2026, 7, 5)), deal(5, 2, 3_000, date(2026, 7, 3)),
        deal(20, 1, 8_000, date(2026, 8, 15), closed=False), deal(21, 2, 5_000, date(2026, 8, 1), closed=False),
    ])
    calculate(engine, Q3, run_by="carla")
    return engine


def test_a_statement_totals_its_lines_to_the_cent_with_attainment_and_the_next_band(engine):
    with engine.begin() as conn:
        add_adjustment(conn, ADMIN, 1, Q3, D("10.00"), "onboarding SPIFF paid by hand")
    s = statement(engine, Scope.only(1), 1, Q3)
    assert list(s.lines["amount"]) == [D("240.00"), D("24.69"), D("10.00")]
    assert s.total == D("274.69") == sum(s.lines["amount"])
    assert s.adjustments == D("10.00") and s.ytd == D("274.69") and s.draw_balance == D("0.00")
    # 13,234.57 of 30,000 = 44.12 %; 50 % is 15,000: 1,765.43 more for the 5 % rate.
    assert (s.credited, s.quota) == (D("13234.57"), D("30000.00"))
    [(a, text)] = s.attainments
    assert (a.component, a.measure, a.credited, a.target, a.percent) == ("Commission", "won_amount", D("13234.57"), D("30000.00"), D("44.12"))
    assert a.next_band.text == "$1,765.43 more to reach 50 % and the 5 % rate"
    assert text == "Attainment 44.12 % of $30,000.00. $1,765.43 more to reach 50 % and the 5 % rate"
    assert (s.state, s.status) == ("calculated", "awaiting manager")


def test_a_rep_reads_only_their_statements_and_a_manager_their_subtree(engine):
    assert statement(engine, Scope.only(1), 2, Q3) is None
    assert statement(engine, Scope.only(1), 999, Q3) is None
    assert periods_of(engine, Scope.only(1), 2) == []
    assert periods_of(engine, Scope.only(1), 1) == [Q3]
    assert list(team(engine, Scope.only(1), Q3)["person_id"]) == [1]
    assert list(team(engine, Scope.subtree(9), Q3)["person_id"]) == [1, 2]
    assert statement(engine, Scope.subtree(9), 2, Q3).total == D("60.00")
    assert statement(engine, Scope.subtree(2), 1, Q3) is None
    assert open_deals(engine, Scope.only(1), 2).empty
    assert list(open_deals(engine, Scope.only(1), 1)["id"]) == [20]


def test_the_estimator_runs_the_engine_on_a_what_if_and_writes_nothing(engine):
    # Deal 20 closing 15 August: 13,234.57 -> 21,234.57. 1,765.43 in 0-50 % at 2 % = 35.3086 -> 35.31;
    # 6,234.57 in 50-100 % at 5 % = 311.7285 -> 311.73. Projected 264.69 + 35.31 + 311.73 = 611.73.
    e = estimate(engine, Scope.only(1), 1, Q3, [20])
    assert (e.now, e.projected) == (D("264.69"), D("611.73"))
    assert list(zip(e.deal_lines["band_lower"], e.deal_lines["amount"], strict=True)) == [(D("0"), D("35.31")), (D("50"), D("311.73"))]
    # 21,234.57 of 30,000 = 70.78 %; 100 % is 30,000: 8,765.43 more for the 8 % rate.
    assert [text for _, text in gauges(e.attainments)] == ["Attainment 70.78 % of $30,000.00. $8,765.43 more to reach 100 % and the 8 % rate"]
    assert statement(engine, Scope.only(1), 1, Q3).total == D("264.69")
    with engine.connect() as conn:
        assert conn.execute(sa.select(opportunity.c.is_closed).where(opportunity.c.id == 20)).scalar_one() is False
    assert estimate(engine, Scope.only(1), 2, Q3, [21]) is None
    with pytest.raises(CompError, match="Not open deals of this person: 1, 21"):
        estimate(engine, Scope.only(1), 1, Q3, [1, 21])
