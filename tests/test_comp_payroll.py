"""Payroll export and statement files: totals read back from the files equal the statements'."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from comp_ledger_support import ADMIN, ANN, MAX, Q3, comp_warehouse, deal
from pypdf import PdfReader

from spm_core.comp.adjustments import add_adjustment
from spm_core.comp.audit import Actor, CompError
from spm_core.comp.cycle import decide, lock
from spm_core.comp.engine import calculate
from spm_core.comp.payroll import payroll
from spm_core.comp.statement_files import statement_csv, statement_pdf
from spm_core.comp.statements import statement
from spm_core.exports import to_csv_bytes, to_xlsx_bytes
from spm_core.filters import Scope
from spm_core.schema import person

D = Decimal
EVIL = '=HYPERLINK("http://evil.example","x")'


@pytest.fixture
def engine(tiny_engine):
    # Ann 240.00 + 24.69 = 264.69, minus an adjustment of 0.01 = 264.68; Bo (named like a formula) 60.00.
    engine = comp_warehouse(tiny_engine, [deal(1, 1, 12_000, date(2026, 7, 1)), deal(3, 1, 1_234.57, date(2026, 7, 5)),
                                          deal(5, 2, 3_000, date(2026, 7, 3))])
    with engine.begin() as conn:
        conn.execute(person.update().where(person.c.id == 2).values(name=EVIL, source_id=None))
    calculate(engine, Q3, run_by="carla")
    with engine.begin() as conn:
        add_adjustment(conn, ADMIN, 1, Q3, D("-0.01"), "+rounding agreed")
    return engine


def _lock(engine) -> None:
    with engine.begin() as conn:
        for pid in (1, 2):
            decide(conn, MAX, Q3, pid, approve=True)
            decide(conn, ADMIN, Q3, pid, approve=True)
        lock(conn, ADMIN, Q3)


def test_payroll_is_for_comp_admins_and_locked_periods(engine):
    with pytest.raises(CompError, match="lock it before"):
        payroll(engine, ADMIN, Q3)
    _lock(engine)
    for who in (ANN, MAX, Actor("lea", "leader", Scope.everyone())):
        with pytest.raises(CompError, match="Only a comp admin"):
            payroll(engine, who, Q3)
    assert len(payroll(engine, Actor("root", "admin", Scope.everyone()), Q3)) == 2


def test_the_payroll_xlsx_read_back_equals_the_statements_totals(engine):
    _lock(engine)
    frame = payroll(engine, ADMIN, Q3)
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes(frame, "Payroll")))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0] == ("person", "employee_id", "period", "amount", "currency")
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["Ann"][1:] == ("E001", "2026-Q3", 264.68, "USD")
    assert by_name["'" + EVIL][1:] == ("2", "2026-Q3", 60.0, "USD")
    totals = {pid: statement(engine, Scope.everyone(), pid, Q3).total for pid in (1, 2)}
    assert sorted(D(str(r[3])).quantize(D("0.01")) for r in rows[1:]) == sorted(totals.values())
    csv = pd.read_csv(io.BytesIO(to_csv_bytes(frame)), dtype=str)
    assert dict(zip(csv["employee_id"], csv["amount"], strict=True)) == {"E001": "264.68", "2": "60.00"}
    assert "'" + EVIL in set(csv["person"])


def test_statement_pdf_and_csv_hold_every_line_and_the_total(engine):
    s = statement(engine, ANN.scope, 1, Q3)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(statement_pdf(s))).pages)
    for formula in s.lines["formula"]:
        assert formula.split(" = ")[-1].replace("−", "-") in text.replace("−", "-")
    assert "Total $264.68 = the sum of the 3 lines above." in text
    csv = pd.read_csv(io.BytesIO(statement_csv(s)), dtype=str)
    assert [D(a) for a in csv["amount"]] == [D("240.00"), D("24.69"), D("-0.01")]
    assert csv["trace"].iloc[2].startswith("adjustment: +rounding agreed")


def test_a_statement_file_neutralises_formula_like_text(engine):
    with engine.begin() as conn:
        conn.execute(sa.text("update comp_line set component = :c where person_id = 2"), {"c": EVIL})
    s = statement(engine, Scope.everyone(), 2, Q3)
    csv = pd.read_csv(io.BytesIO(statement_csv(s)), dtype=str)
    assert set(csv["component"]) == {"'" + EVIL}
