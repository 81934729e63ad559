"""Text fields are bounded on import (issue 8 item 9): over 255 characters is a row error in every format,
checked before anything is written, and a huge cell neither takes long nor comes back whole in a message."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from spm_core.db import has_schema, make_engine
from spm_core.importing import ImportRejected, RowError, apply_import, parse, preview, read_upload
from spm_core.importing.model import MAX_TEXT_CHARS

MAVEN = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "maven_crm"
LONG, LIMIT = "N" * (MAX_TEXT_CHARS + 1), "N" * MAX_TEXT_CHARS
SHOWN = "N" * 62 + "… (256 characters)"  # 80 characters in all
WHY = "{} is 256 characters long; a field holds at most 255."

# (format, file name, CSV with {} where the long value goes, the column it is in, the line it is on)
CASES = [
    (
        "salesforce_opportunities",
        "o.csv",
        "Opportunity ID,Opportunity Name,Opportunity Owner,Stage,Amount\n1,{},Ann,Prospecting,10\n",
        "Opportunity Name",
    ),
    (
        "salesforce_opportunities",
        "o.csv",
        "Opportunity ID,Account Name,Opportunity Owner,Stage,Amount\n1,{},Ann,Prospecting,10\n",
        "Account Name",
    ),
    (
        "salesforce_opportunities",
        "o.csv",
        "Opportunity ID,Product Name,Opportunity Owner,Stage,Amount\n1,{},Ann,Prospecting,10\n",
        "Product Name",
    ),
    (
        "salesforce_opportunities",
        "o.csv",
        "Opportunity ID,Opportunity Owner,Stage,Amount\n1,{},Prospecting,10\n",
        "Opportunity Owner",
    ),
    (
        "salesforce_opportunities",
        "o.csv",
        "Opportunity ID,Opportunity Owner,Stage,Amount\n{},Ann,Prospecting,10\n",
        "Opportunity ID",
    ),
    (
        "salesforce_opportunities",
        "o.csv",
        "Opportunity ID,Opportunity Owner,Stage,Amount,Close Date\n1,Ann,Won,10,{}\n",
        "Close Date",
    ),
    ("salesforce_history", "h.csv", "Id,OpportunityId,CreatedDate,StageName\n1,2,2024-01-05,{}\n", "StageName"),
    ("hubspot_deals", "d.csv", "Record ID,Deal Name,Deal Stage,Amount,Deal owner\n1,{},closedwon,10,Ann\n", "Deal Name"),
    ("generic", "g.csv", "Opportunity ID,Owner,Amount,Stage,Lead Source\n1,Ann,10,Won,{}\n", "Lead Source"),
    ("people", "p.csv", "Name,Email,Manager\n{},,\n", "Name"),
    ("people", "p.csv", "Name,Email,Manager\nAnn,,{}\n", "Manager"),
    ("quotas", "q.csv", "Owner,Month,Quota\n{},2026-01,100\n", "Owner"),
]


def upload(template: str, value: str, name: str) -> dict:
    return {name: read_upload(name, template.format(value).encode())}


@pytest.mark.parametrize(("kind", "file", "template", "column"), CASES)
def test_256_characters_are_a_row_error_and_255_pass(kind, file, template, column):
    errors = parse(kind, upload(template, LONG, file)).errors
    assert RowError(file, 2, column, SHOWN, WHY.format(column)) in errors
    assert all(len(e.value) <= 80 for e in errors)
    assert not [e for e in parse(kind, upload(template, LIMIT, file)).errors if "characters long" in e.why]


def test_an_email_of_256_characters_is_refused_and_255_pass():
    errors = parse("people", upload("Name,Email\nAnn,{}@example.com\n", "n" * 244, "p.csv")).errors
    assert [(e.column, e.why) for e in errors] == [("Email", WHY.format("Email"))]
    assert parse("people", upload("Name,Email\nAnn,{}@example.com\n", "n" * 243, "p.csv")).errors == []


@pytest.mark.skipif(not MAVEN.exists(), reason="the shared Maven dataset is not beside this checkout")
def test_maven_account_names_are_bounded():
    files = {p.name: read_upload(p.name, p.read_bytes()) for p in MAVEN.glob("*.csv")}
    accounts = "account,sector,revenue,employees,office_location\n{},software,1,2,US\n"
    errors = parse("maven", files | upload(accounts, LONG, "accounts.csv")).errors
    assert RowError("accounts.csv", 2, "account", SHOWN, WHY.format("account")) in errors


def test_nothing_is_written_when_a_name_is_too_long(tmp_path):
    engine = make_engine(f"duckdb:///{tmp_path}/w.duckdb")
    csv = "Opportunity ID,Opportunity Name,Opportunity Owner,Stage,Amount\n1,ok,Ann,Prospecting,10\n2,{},Ann,Prospecting,10\n"
    plan = preview(engine, "salesforce_opportunities", {"o.csv": csv.format(LONG).encode()})
    assert [(e.row, e.column) for e in plan.errors] == [(3, "Opportunity Name")]
    with pytest.raises(ImportRejected):
        apply_import(engine, plan)
    assert not has_schema(engine)  # checked before anything, even the schema, was written


def test_a_50_mb_name_is_refused_quickly_and_not_echoed(tmp_path):
    huge = "x" * (50 * 1024 * 1024)
    data = f"Opportunity ID,Opportunity Name,Opportunity Owner,Stage,Amount\n1,{huge},Ann,Prospecting,10\n".encode()
    engine = make_engine(f"duckdb:///{tmp_path}/w.duckdb")
    started = time.perf_counter()
    plan = preview(engine, "salesforce_opportunities", {"o.csv": data})
    seconds = time.perf_counter() - started
    assert [(e.row, e.column, e.value) for e in plan.errors] == [(2, "Opportunity Name", "x" * 55 + "… (52,428,800 characters)")]
    assert "52,428,800 characters long" in plan.errors[0].why
    assert seconds < 15, seconds  # about 1 s here; the 50 MB deal name used to import and take 29 s to list


def test_a_huge_cell_on_a_row_with_extra_cells_is_a_clear_rejection():
    # Rows longer than the header go through Python's csv module, whose field limit is 128 KiB.
    data = "A,B\n1,2\n" + "3," + "y" * 200_000 + ",extra\n"
    with pytest.raises(ImportRejected, match=r"x\.csv cannot be read as CSV: field larger than field limit"):
        read_upload("x.csv", data.encode())


def test_a_header_name_over_the_limit_is_not_echoed_whole():
    with pytest.raises(ImportRejected, match=r"the name of column\(s\) 2 is over 255 characters long") as raised:
        read_upload("x.csv", ("A," + "h" * 10_000 + "\n1,2\n").encode())
    assert len(str(raised.value)) < 250
