"""`python -m spm_core import`: validate first, write all or nothing, say what happened in one place."""

from pathlib import Path

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
