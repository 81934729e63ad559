"""`python -m spm_core import`: validate first, write all or nothing, say what happened in one place."""

from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from spm_core.cli import main
from spm_core.db import make_engine, read_frame
from spm_core.schema import opportunity

FIXTURES = Path(__file__).parent / "fixtures" / "import"
GOOD = str(FIXTURES / "salesforce_opportunities.csv")
BAD = str(FIXTURES / "salesforce_bad_rows.csv")


def opportunities(url: str):
    engine = make_engine(url, read_only=True)
    try:
        return read_frame(engine, sa.select(opportunity).order_by(opportunity.c.id))
    finally:
        engine.dispose()


def test_dry_run_reports_and_writes_nothing(tmp_path, capsys):
    url = f"duckdb:///{tmp_path}/w.duckdb"
    assert main(["import", "salesforce_opportunities", GOOD, "--url", url, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Dry run: would write" in out and "opportunity +4/~0" in out and "3 new people" in out
    assert main(["import", "salesforce_opportunities", GOOD, "--url", url]) == 0
    assert len(opportunities(url)) == 4


def test_importing_the_same_file_twice_updates_in_place(tmp_path, capsys):
    url = f"duckdb:///{tmp_path}/w.duckdb"
    assert main(["import", "salesforce_opportunities", GOOD, "--url", url]) == 0
    first = opportunities(url)
    capsys.readouterr()
    assert main(["import", "salesforce_opportunities", GOOD, "--url", url]) == 0
    assert "opportunity +0/~4" in capsys.readouterr().out
    assert opportunities(url).equals(first)


def test_bad_rows_are_listed_and_nothing_changes(tmp_path, capsys):
    url = f"duckdb:///{tmp_path}/w.duckdb"
    main(["import", "salesforce_opportunities", GOOD, "--url", url])
    before = opportunities(url)
    capsys.readouterr()
    assert main(["import", "salesforce_opportunities", BAD, "--url", url]) == 2
    err = capsys.readouterr().err
    assert "nothing was written" in err
    assert "salesforce_bad_rows.csv, row 4, Amount = '-$50.00': This amount is negative" in err
    assert "row 5, Amount = 'TBD'" in err and "Traceback" not in err
    assert opportunities(url).equals(before)


def test_a_file_that_is_not_a_csv_is_one_clear_error(tmp_path, capsys):
    pdf = tmp_path / "report.csv"
    pdf.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    assert main(["import", "salesforce_opportunities", str(pdf), "--url", f"duckdb:///{tmp_path}/w.duckdb"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "report.csv" in err and "Traceback" not in err


def test_generic_files_take_a_column_mapping_and_stage_mapping(tmp_path, capsys):
    csv = tmp_path / "deals.csv"
    csv.write_text("Ref,Seller,Value,Phase,Closes\nA1,Kim Park,1200,Signed,2026-03-31\nA2,Kim Park,800,Talking,2026-04-30\n")
    url = f"duckdb:///{tmp_path}/w.duckdb"
    mapping = [
        "--map",
        "source_id=Ref",
        "--map",
        "owner=Seller",
        "--map",
        "amount=Value",
        "--map",
        "stage=Phase",
        "--map",
        "close_date=Closes",
    ]
    assert main(["import", "generic", str(csv), "--url", url, *mapping]) == 2
    assert "Signed" in capsys.readouterr().err  # an unknown stage until it is mapped
    stages = ["--stage", "Signed=Closed Won", "--stage", "Talking=Qualification"]
    assert main(["import", "generic", str(csv), "--url", url, *mapping, *stages]) == 0
    got = opportunities(url)
    assert list(got["stage"]) == ["Closed Won", "Qualification"] and list(got["amount"]) == [1200, 800]
    assert main(["import", "generic", str(csv), "--url", url, "--map", "owner"]) == 2
    assert "--map takes NAME=VALUE" in capsys.readouterr().err


def test_errors_are_grouped_by_cause_and_all_of_them_go_to_a_csv(tmp_path, capsys):
    rows = "".join(f"{i},Kim,{'Identified' if i % 3 else 'Won'},10,2024-02-0{1 + i % 9}\n" for i in range(1, 31))
    csv = tmp_path / "deals.csv"
    csv.write_text("Id,Owner,Stage,Amount,Close Date\n" + rows + '31,Kim,Won,"=HYPERLINK(""x"")",2024-02-01\n')
    errors = tmp_path / "errors.csv"
    assert main(["import", "generic", str(csv), "--url", f"duckdb:///{tmp_path}/w.duckdb", "--errors", str(errors)]) == 2
    err = capsys.readouterr().err
    assert "error: 21 rows (21 errors) cannot be imported; nothing was written" in err
    assert err.count("is not a known stage") == 1  # one line for the 20 rows, not 20 lines
    assert (
        "deals.csv, stage: `Identified` is not a known stage; the app's stages are Prospecting, Qualification, "
        "Discovery, Proposal, Negotiation, Closed Won, Closed Lost (20 rows: 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, …) "
        '— fix: --stage "Identified=<app stage>"'
    ) in err
    assert "deals.csv, row 32, Amount = '=HYPERLINK(\"x\")': This is not an amount" in err
    written = pd.read_csv(errors, dtype=str, keep_default_na=False)
    assert len(written) == 21 and list(written.columns) == ["file", "row", "column", "value", "why", "fix"]
    assert written.loc[written["row"] == "32", "value"].tolist() == ['\'=HYPERLINK("x")']  # no live formula
    assert f"All 21 error(s) are in {errors}." in err


def test_warnings_an_unnamed_column_and_strict_refuses_it(tmp_path, capsys):
    csv = tmp_path / "deals.csv"
    csv.write_text("Id,Owner,Stage,Amount,Close Date,\n1,Kim,Won,10,2024-02-01,\n2,Kim,Won,10,2024-02-02,stray\n")
    url = f"duckdb:///{tmp_path}/w.duckdb"
    assert main(["import", "generic", str(csv), "--url", url, "--dry-run"]) == 0
    assert (
        "warning: deals.csv: column(s) 6 have no name in the header, so their 1 value(s) are ignored" in capsys.readouterr().err
    )
    assert main(["import", "generic", str(csv), "--url", url, "--strict"]) == 2
    assert "column(s) 6 have values but no name in the header" in capsys.readouterr().err


def test_a_mapping_without_close_date_warns_that_period_views_will_be_empty(tmp_path, capsys):
    csv = tmp_path / "deals.csv"
    csv.write_text("Id,Owner,Stage,Amount\n1,Kim,Proposal,10\n")
    assert main(["import", "generic", str(csv), "--url", f"duckdb:///{tmp_path}/w.duckdb", "--dry-run"]) == 0
    captured = capsys.readouterr()
    assert "warning: No column is mapped to close_date: every period view" in captured.err
    assert "--map close_date=HEADER" in captured.err
    assert "1 open deal has no close date ($10): they are in no period" in captured.out


def test_ambiguous_dates_name_the_rows_and_the_option(tmp_path, capsys):
    csv = tmp_path / "deals.csv"
    csv.write_text("Id,Owner,Stage,Amount,Close Date\n1,Kim,Won,10,4/7/2015\n2,Kim,Won,10,5/6/2015\n3,Kim,Won,1,1/1/2015\n")
    url = f"duckdb:///{tmp_path}/w.duckdb"
    assert main(["import", "generic", str(csv), "--url", url]) == 2
    err = capsys.readouterr().err
    assert "Close Date: Is this day/month or month/day?" in err and "(2 rows: 2, 3; values '4/7/2015', '5/6/2015')" in err
    assert "--date-format dmy (31/3/2024) or --date-format mdy (3/31/2024)" in err
    assert main(["import", "generic", str(csv), "--url", url, "--date-format", "dmy"]) == 0
    dates = opportunities(f"duckdb:///{tmp_path}/w.duckdb")["close_date"].astype(str).tolist()
    assert dates == ["2015-07-04", "2015-06-05", "2015-01-01"]


def test_help_lists_the_generic_columns(capsys):
    with pytest.raises(SystemExit):
        main(["import", "--help"])
    out = capsys.readouterr().out
    for column in ("source_id", "owner", "amount", "stage", "status", "close_date", "country", "region", "segment", "industry"):
        assert f"\n  {column} " in out
    assert "--date-format" in out and "--id-columns" in out and "--errors" in out


MAVEN = Path("/work/shared/datasets/maven_crm")


@pytest.mark.skipif(not MAVEN.is_dir(), reason="the Maven CRM dataset is not on this machine")
def test_the_maven_report_says_how_many_open_deals_have_no_close_date(tmp_path, capsys):
    files = [str(MAVEN / f) for f in ("sales_pipeline.csv", "accounts.csv", "products.csv", "sales_teams.csv")]
    assert main(["import", "maven", *files, "--url", f"duckdb:///{tmp_path}/w.duckdb", "--dry-run"]) == 0
    assert "2,089 open deals have no close date ($4,966,215)" in capsys.readouterr().out  # issue 9, at list price


def test_account_attributes_without_an_account_are_said_not_to_be_imported(tmp_path, capsys):
    csv = tmp_path / "deals.csv"
    csv.write_text("Id,Owner,Stage,Amount,Close Date,Country,Segment\n1,Kim,Won,10,2024-01-05,Peru,SMB\n")
    assert main(["import", "generic", str(csv), "--url", f"duckdb:///{tmp_path}/w.duckdb", "--dry-run"]) == 0
    assert "warning: country, segment describe each deal's account, but no column is mapped to account" in capsys.readouterr().err
