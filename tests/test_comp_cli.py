"""`python -m spm_core comp ...`: plans in and out, calculating, tracing, and clear errors."""

from __future__ import annotations

import re
from contextlib import nullcontext
from decimal import Decimal

import pytest

from spm_core.cli import main
from spm_core.comp.periods import parse_period
from spm_core.comp.trace import lines
from spm_core.db import make_engine
from spm_core.filters import Scope


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory) -> str:
    url = f"duckdb:///{tmp_path_factory.mktemp('comp_cli')}/w.duckdb"
    assert main(["init", "--url", url, "--demo", "--opportunities", "3000", "--as-of", "2026-11-23"]) == 0
    return url


def test_plans_list_shows_the_demo_plans(demo_url, capsys):
    assert main(["comp", "plans", "list", "--url", demo_url]) == 0
    out = capsys.readouterr().out
    for name in ("Account Executive", "Sales Manager", "Sales Leadership"):
        assert name in out


def test_export_then_import_refuses_a_version_already_saved(demo_url, tmp_path, capsys):
    assert main(["comp", "plans", "export", "--name", "Sales Manager", "--url", demo_url]) == 0
    text = capsys.readouterr().out
    assert text.startswith("name: Sales Manager\nversion: 1\n") and "rate: 0.5" in text
    path = tmp_path / "manager.yaml"
    path.write_text(text)
    assert main(["comp", "plans", "import", str(path), "--url", demo_url]) == 2
    assert "'Sales Manager' version 1 is already saved" in capsys.readouterr().err


def test_import_saves_a_new_plan_and_reports_every_problem_of_a_bad_one(demo_url, tmp_path, capsys):
    good = tmp_path / "spiff.yaml"
    good.write_text("name: Flat\nversion: 1\neffective_from: 2027-01-01\ncomponents:\n- {name: C, kind: commission, bands: [{from: 0, rate: 3}]}\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: Bad\nversion: 1\neffective_from: 2027-01-01\ncomponents:\n- {name: C, kind: commission, bands: [{from: 5, rate: -3}]}\n"
                   "assignments:\n- {person: 999999, from: 2027-01-01}\n")
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    assert main(["comp", "plans", "import", str(good), str(bad), str(broken), "--url", demo_url]) == 2
    out, err = capsys.readouterr()
    assert "Saved 'Flat' v1: 1 component(s), 0 assignment(s)." in out
    assert "the bands must start at 0 %" in err and "the rate -3 % is negative" in err
    assert re.search(r"broken.yaml was not saved:\n  not valid YAML at line 2", err)


def test_calc_and_trace_print_lines_that_add_up(demo_url, capsys):
    assert main(["comp", "run", "--period", "2026-Q3", "--url", demo_url]) == 0
    summary = capsys.readouterr().out
    assert re.match(r"Run \d+: 2026-Q3 for everyone in [\d.]+ s: [\d,]+ credit rows, [\d,]+ lines, total −?\$[\d,.]+\.", summary)
    engine = make_engine(demo_url, read_only=True)
    rep = int(lines(engine, parse_period("2026-Q3"), Scope.everyone())["person_id"].iloc[-1])
    engine.dispose()
    assert main(["comp", "explain", "--person", str(rep), "--period", "2026-Q3", "--url", demo_url]) == 0
    out = capsys.readouterr().out
    amounts = [Decimal(m.replace(",", "")) for m in re.findall(r"^    \w+\s+(-?[\d,]+\.\d\d)  ", out, re.M)]
    total = Decimal(re.search(r"Total\s+(-?[\d,]+\.\d\d)", out).group(1).replace(",", ""))
    assert amounts and sum(amounts) == total
    assert " × 2 % = $" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["comp", "calc", "--period", "2026-Q5"], "Not a period: '2026-Q5'"),
        (["comp", "calc", "--period", "2026-Q3", "--person", "999999"], "No person with id 999999"),
        (["comp", "plans", "export", "--name", "Nope"], "No plan named 'Nope'"),
    ],
)
def test_bad_input_gets_one_clear_line(demo_url, capsys, args, message):
    with pytest.raises(SystemExit) if "Q5" in args[3] else nullcontext():  # argparse exits on a bad --period
        assert main([*args, "--url", demo_url]) == 2
    assert message in capsys.readouterr().err

