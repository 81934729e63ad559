"""`python -m spm_core`: helpful output, clear errors, never a traceback."""

import io
import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from spm_core.cli import main
from spm_core.db import make_engine
from spm_core.filters import Filters, Period, Scope
from spm_core.metrics import query

ROOT = Path(__file__).resolve().parents[1]
MAVEN = ROOT.parent / "shared" / "datasets" / "maven_crm"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "spm_core", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_help_lists_every_command():
    out = run("--help")
    assert out.returncode == 0
    for command in ("init", "load-maven", "info", "kpi", "bench"):
        assert command in out.stdout


def test_init_demo_then_kpi_by_team(tmp_path, capsys):
    url = f"duckdb:///{tmp_path}/w.duckdb"
    assert main(["init", "--url", url, "--demo", "--opportunities", "3000", "--as-of", "2026-11-23"]) == 0
    assert "opportunities" in capsys.readouterr().out
    assert main(["kpi", "bookings", "attainment", "--by", "team", "--url", url]) == 0
    out = capsys.readouterr().out
    assert "2026-10-01 .. 2026-12-31 (as of 2026-11-23)" in out and "attainment" in out
    assert "$" in out and "%" in out  # values read as the app shows them (spm_core.formatting)


def test_init_refuses_to_overwrite_data_without_force(tmp_path, capsys):
    url = f"duckdb:///{tmp_path}/w.duckdb"
    main(["init", "--url", url, "--demo", "--opportunities", "500"])
    capsys.readouterr()
    assert main(["init", "--url", url]) == 2
    assert "add --force" in capsys.readouterr().err
    assert main(["init", "--url", url, "--force"]) == 0


def test_bad_url_is_one_clear_line():
    out = run("info", "--url", "not a url")
    assert out.returncode == 2
    assert out.stderr.startswith("error: Not a valid warehouse URL") and "Traceback" not in out.stderr


def test_kpi_on_a_missing_warehouse_says_what_to_do(tmp_path):
    out = run("kpi", "bookings", "--url", f"duckdb:///{tmp_path}/missing.duckdb")
    assert out.returncode == 2 and "init --demo" in out.stderr and "Traceback" not in out.stderr


def test_bad_scale_and_bad_date_are_rejected_by_the_parser():
    assert "must be at least 1" in run("init", "--demo", "--opportunities", "0").stderr
    assert "not a date" in run("init", "--demo", "--as-of", "23/11/2026").stderr


def test_from_without_to_is_an_error(tmp_path, capsys):
    url = f"duckdb:///{tmp_path}/w.duckdb"
    main(["init", "--url", url, "--demo", "--opportunities", "500"])
    assert main(["kpi", "bookings", "--from", "2026-01-01", "--url", url]) == 2
    assert "--from and --to go together" in capsys.readouterr().err


@pytest.mark.skipif(not MAVEN.exists(), reason="the shared Maven dataset is not beside this checkout")
def test_load_maven_then_info(tmp_path, capsys):
    url = f"duckdb:///{tmp_path}/m.duckdb"
    assert main(["load-maven", str(MAVEN), "--url", url]) == 0
    out = capsys.readouterr().out
    assert "MavenLoadReport(" not in out and re.search(r"^  opportunities +8,800$", out, re.M)
    assert "product 'GTXPro' matched to 'GTX Pro'" in out
    assert main(["info", "--url", url]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^  source +maven$", out, re.M) and "8,800" in out


def test_load_maven_from_a_wrong_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["load-maven", str(tmp_path), "--url", f"duckdb:///{tmp_path}/m.duckdb"]) == 2
    assert "error:" in capsys.readouterr().err


def test_a_relative_duckdb_path_says_where_the_file_went(tmp_path, monkeypatch, capsys):
    """Three slashes make duckdb:///tmp/x.duckdb a file under the working directory, not /tmp: say so."""
    monkeypatch.chdir(tmp_path)
    assert main(["init", "--url", "duckdb:///tmp/x.duckdb"]) == 0
    out = capsys.readouterr()
    target = tmp_path / "tmp" / "x.duckdb"
    assert target.exists() and f"Empty warehouse created at {target}." in out.out
    assert "relative to the working directory" in out.err and "duckdb:////tmp/x.duckdb" in out.err
    assert main(["init", "--url", "duckdb:///data/w.duckdb"]) == 0
    assert main(["info", "--url", "duckdb:///data/w.duckdb"]) == 0  # data/ is where warehouses go: no warning
    out = capsys.readouterr()
    assert out.err == "" and f"Warehouse: {tmp_path / 'data' / 'w.duckdb'}" in out.out


def test_kpi_and_info_print_csv_and_json_for_scripts(tmp_path, capsys):
    """Tables read like the app ($, %, days); --format csv|json keeps the raw numbers for scripts."""
    url = f"duckdb:///{tmp_path}/w.duckdb"
    main(["init", "--url", url, "--demo", "--opportunities", "3000", "--as-of", "2026-11-23"])
    capsys.readouterr()
    names = ["bookings", "attainment", "sales_cycle_days"]
    engine = make_engine(url, read_only=True)
    expected = query(
        engine, names, Filters(Period.quarter(date(2026, 11, 23))), Scope.everyone(), by=["team"], as_of=date(2026, 11, 23)
    )
    engine.dispose()
    assert main(["kpi", *names, "--by", "team", "--url", url]) == 0
    table = capsys.readouterr().out
    assert re.search(r"\$[\d,]+ +\d+\.\d% +\d+ days", table) and "0." not in table.split("\n", 2)[2]
    assert main(["kpi", *names, "--by", "team", "--url", url, "--format", "csv"]) == 0
    csv = pd.read_csv(io.StringIO(capsys.readouterr().out))
    pd.testing.assert_frame_equal(csv[names], expected[names], check_dtype=False)
    assert main(["kpi", *names, "--by", "team", "--url", url, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["period_start"] == "2026-10-01" and data["as_of"] == "2026-11-23"
    assert [r["bookings"] for r in data["rows"]] == list(expected["bookings"])
    assert main(["info", "--url", url, "--format", "json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["info"]["source"] == "demo" and info["tables"]["opportunity"] == 3000
    assert main(["info", "--url", url, "--format", "csv"]) == 0
    rows = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(rows.columns) == ["section", "key", "value"] and "opportunity" in set(rows["key"])
