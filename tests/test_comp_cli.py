"""`python -m spm_core comp ...`: plans in and out, calculating, tracing, the pay cycle as an app user
(`--as USER`, with that user's rights), and clear errors."""

from __future__ import annotations

import re
from contextlib import nullcontext
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from apptest_support import private_copy, users_path

from spm_core.cli import main
from spm_core.comp.audit import audit_log
from spm_core.comp.cycle import auto_approve_below
from spm_core.comp.disputes import disputes
from spm_core.comp.periods import parse_period
from spm_core.comp.statements import team
from spm_core.comp.trace import lines, money_text
from spm_core.db import make_engine
from spm_core.filters import Scope
from spm_core.schema import person
from spm_core.users import UserStore, viewer_scope


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



# The pay cycle `--as USER`: the demo's 2026-Q3 is paid, 2026-Q4 calculated and awaiting approval, with one
# open and one resolved dispute of the demo rep. Tests that write work on a private copy.

Q3, Q4 = parse_period("2026-Q3"), parse_period("2026-Q4")


@pytest.fixture
def cycle_url(demo_url, tmp_path) -> str:
    return private_copy(demo_url, tmp_path / "cycle")


def comp(url: str, *args: str) -> int:
    return main(["comp", *args, "--url", url])


def as_user(url: str, username: str) -> Scope:
    engine = make_engine(url, read_only=True)
    try:
        return viewer_scope(engine, UserStore(users_path(url)).get(username))
    finally:
        engine.dispose()


def read(url: str, read_with):
    engine = make_engine(url, read_only=True)
    try:
        return read_with(engine)
    finally:
        engine.dispose()


def status_rows(out: str) -> dict[int, str]:
    """person id -> status, from `comp status`."""
    return {int(m[0]): m[1] for m in re.findall(r"^\s+(\d+)  .*\$[\d,.]+  ([a-z ]+?)(?:  \(.*\))?$", out, re.M)}


@pytest.mark.parametrize("username", ["teamlead", "rep", "comp_admin"])
def test_status_lists_the_statements_in_the_user_s_scope(demo_url, capsys, username):
    assert comp(demo_url, "status", "--period", "2026-Q4", "--as", username) == 0
    out = capsys.readouterr().out
    want = read(demo_url, lambda e: team(e, as_user(demo_url, username), Q4))
    assert out.startswith("2026-Q4 (2026-10-01 – 2026-12-31) is calculated; auto-approval off.\n")
    assert status_rows(out) == dict(zip(want["person_id"].astype(int), want["status"], strict=True))
    assert [money_text(t) in out for t in want["total"]] == [True] * len(want)


def test_the_whole_cycle_as_each_role_may_do_it(cycle_url, capsys, tmp_path):
    subtree = read(cycle_url, lambda e: team(e, as_user(cycle_url, "teamlead"), Q4))
    lead = UserStore(users_path(cycle_url)).get("teamlead").person_id
    below = set(subtree["person_id"].astype(int)) - {lead}
    assert comp(cycle_url, "approve", "--period", "2026-Q4", "--as", "teamlead") == 0
    assert f"Approved {len(below)} statement(s) in 2026-Q4; 2026-Q4 is now calculated." in capsys.readouterr().out
    found = read(cycle_url, lambda e: team(e, Scope.everyone(), Q4))
    assert set(found[found["status"] == "awaiting comp admin"]["person_id"].astype(int)) == below
    assert comp(cycle_url, "lock", "--period", "2026-Q4", "--as", "comp_admin") == 2
    assert "2026-Q4 is calculated: lock it once every statement is approved." in capsys.readouterr().err
    assert comp(cycle_url, "approve", "--period", "2026-Q4", "--as", "leader") == 0  # everyone else, at the manager level
    assert comp(cycle_url, "approve", "--period", "2026-Q4", "--as", "comp_admin") == 0
    assert f"Approved {len(found)} statement(s) in 2026-Q4; 2026-Q4 is now approved." in capsys.readouterr().out.splitlines()[-1]
    for username in ("teamlead", "rep"):
        assert comp(cycle_url, "lock", "--period", "2026-Q4", "--as", username) == 2
        assert "Only a comp admin may lock a period." in capsys.readouterr().err
    assert comp(cycle_url, "payroll", "--period", "2026-Q4", "--as", "comp_admin", "--csv", str(tmp_path / "p.csv")) == 2
    assert "2026-Q4 is approved: lock it before exporting payroll." in capsys.readouterr().err
    assert comp(cycle_url, "lock", "--period", "2026-Q4", "--as", "comp_admin") == 0
    assert comp(cycle_url, "paid", "--period", "2026-Q4", "--as", "comp_admin") == 0
    assert capsys.readouterr().out == "2026-Q4 locked.\n2026-Q4 marked paid.\n"
    assert comp(cycle_url, "mark-paid", "--period", "2026-Q4", "--as", "admin") == 2
    assert "2026-Q4 is already paid." in capsys.readouterr().err
    log = read(cycle_url, lambda e: audit_log(e, Scope.everyone(), Q4))
    assert {"manager approved", "comp_admin approved", "period approved", "period locked", "period paid"} <= set(log["action"])
    assert set(log[log["action"] == "manager approved"]["actor"]) == {"teamlead", "leader"}


def test_a_manager_approves_and_sends_back_only_below_them(cycle_url, capsys):
    everyone = read(cycle_url, lambda e: team(e, Scope.everyone(), Q4))
    mine = set(read(cycle_url, lambda e: team(e, as_user(cycle_url, "teamlead"), Q4))["person_id"].astype(int))
    outside = next(int(p) for p in everyone["person_id"] if int(p) not in mine)
    inside = max(mine - {UserStore(users_path(cycle_url)).get("teamlead").person_id})
    assert comp(cycle_url, "approve", "--period", "2026-Q4", "--as", "teamlead", "--person", str(inside), "--person", str(outside)) == 2
    assert "A manager approves the statements of the people below them only." in capsys.readouterr().err
    assert comp(cycle_url, "send-back", "--period", "2026-Q4", "--as", "teamlead", "--person", str(outside), "--comment", "no") == 2
    assert "below them only" in capsys.readouterr().err
    after = read(cycle_url, lambda e: team(e, Scope.everyone(), Q4))
    assert set(after["status"]) == {"awaiting manager"}  # the refused batch wrote nothing, not even for `inside`
    assert comp(cycle_url, "send-back", "--period", "2026-Q4", "--as", "teamlead", "--person", str(inside), "--comment", "  ") == 2
    assert "a comment is required" in capsys.readouterr().err
    assert comp(cycle_url, "send-back", "--period", "2026-Q4", "--as", "teamlead", "--person", str(inside),
                "--comment", "deal 12 is missing") == 0
    assert capsys.readouterr().out == f"Person {inside}'s 2026-Q4 statement: sent back.\n"
    assert comp(cycle_url, "status", "--period", "2026-Q4", "--as", "comp_admin") == 0
    assert re.search(rf"^\s+{inside}  .*  sent back  \(deal 12 is missing\)$", capsys.readouterr().out, re.M)


def test_payroll_files_equal_the_statements_with_formulas_neutralised(cycle_url, capsys, tmp_path):
    rep = UserStore(users_path(cycle_url)).get("rep").person_id
    engine = make_engine(cycle_url)
    with engine.begin() as conn:
        conn.execute(sa.update(person).where(person.c.id == rep).values(name='=HYPERLINK("http://evil.example","x")'))
    engine.dispose()
    csv, xlsx = tmp_path / "pay.csv", tmp_path / "pay.xlsx"
    assert comp(cycle_url, "payroll", "--period", "2026-Q3", "--as", "comp_admin", "--csv", str(csv), "--xlsx", str(xlsx)) == 0
    totals = read(cycle_url, lambda e: team(e, Scope.everyone(), Q3))
    out = capsys.readouterr().out
    assert f"Wrote {csv} (payroll 2026-Q3, {money_text(sum(totals['total']))} in total, {len(totals)} row(s))." in out
    rows = list(openpyxl.load_workbook(xlsx).active.iter_rows(values_only=True))
    assert rows[0] == ("person", "employee_id", "period", "amount", "currency")
    assert sorted(Decimal(str(r[3])).quantize(Decimal("0.01")) for r in rows[1:]) == sorted(totals["total"])
    assert {r[2] for r in rows[1:]} == {"2026-Q3"} and {r[4] for r in rows[1:]} == {"USD"}
    assert "'=HYPERLINK(\"http://evil.example\",\"x\")" in {r[0] for r in rows[1:]}
    frame = pd.read_csv(csv, dtype=str)
    assert len(frame) == len(totals) and "'=HYPERLINK(\"http://evil.example\",\"x\")" in set(frame["person"])
    assert sorted(Decimal(a) for a in frame["amount"]) == sorted(totals["total"])


@pytest.mark.parametrize("username", ["teamlead", "rep", "leader"])
def test_only_comp_admins_export_payroll_and_the_audit_log(demo_url, capsys, tmp_path, username):
    target = tmp_path / "out.csv"
    assert comp(demo_url, "payroll", "--period", "2026-Q3", "--as", username, "--csv", str(target)) == 2
    assert "Only a comp admin exports payroll." in capsys.readouterr().err
    assert comp(demo_url, "audit", "--as", username, "--csv", str(target)) == 2
    assert "Only a comp admin exports the audit log." in capsys.readouterr().err
    assert not target.exists()


def test_the_audit_log_exports_one_period_as_csv_and_xlsx(demo_url, capsys, tmp_path):
    csv, xlsx = tmp_path / "audit.csv", tmp_path / "audit.xlsx"
    assert comp(demo_url, "audit", "--as", "admin", "--period", "2026-Q3", "--csv", str(csv), "--xlsx", str(xlsx)) == 0
    want = read(demo_url, lambda e: audit_log(e, Scope.everyone(), Q3))
    frame = pd.read_csv(csv)
    assert len(frame) == len(want) and set(frame["period_start"]) == {"2026-07-01"}
    assert {"period locked", "period paid", "comp_admin approved"} <= set(frame["action"])
    assert len(list(openpyxl.load_workbook(xlsx).active.iter_rows())) == len(want) + 1
    assert comp(demo_url, "audit", "--as", "comp_admin") == 0
    assert "period paid" in capsys.readouterr().out


def test_disputes_are_listed_in_scope_and_decided_by_comp_admins(cycle_url, capsys):
    opened = read(cycle_url, lambda e: disputes(e, Scope.everyone(), "open"))
    dispute = int(opened["id"].iloc[0])
    assert comp(cycle_url, "disputes", "list", "--as", "teamlead") == 0  # the demo rep is in the team lead's subtree
    assert capsys.readouterr().out.count("\n") == 2
    assert comp(cycle_url, "disputes", "list", "--as", "rep", "--status", "open") == 0
    out = capsys.readouterr().out
    assert out.startswith(f"#{dispute:<5} open") and out.count("\n") == 1
    for username in ("rep", "teamlead"):
        assert comp(cycle_url, "disputes", "resolve", str(dispute), "--amount", "25", "--reason", "ok", "--as", username) == 2
        assert "Only a comp admin decides disputes." in capsys.readouterr().err
    assert comp(cycle_url, "disputes", "resolve", str(dispute), "--amount", "-40.50", "--reason", "=rate checked", "--as", "comp_admin") == 0
    assert re.match(rf"Dispute #{dispute} resolved: adjustment line \d+ \(−\$40\.50\) in 2026-Q4\.", capsys.readouterr().out)
    row = read(cycle_url, lambda e: disputes(e, Scope.everyone())).set_index("id").loc[dispute]
    assert (row["status"], row["outcome"], row["adjustment"]) == ("resolved", "=rate checked", Decimal("-40.50"))
    assert comp(cycle_url, "disputes", "reject", str(dispute), "--reason", "no", "--as", "comp_admin") == 2
    assert f"Dispute #{dispute} is already resolved." in capsys.readouterr().err
    assert comp(cycle_url, "disputes", "reject", "999", "--reason", "no", "--as", "comp_admin") == 2
    assert "No dispute #999." in capsys.readouterr().err


def test_the_auto_approval_threshold_is_the_comp_admins(cycle_url, capsys):
    assert comp(cycle_url, "auto-approve", "--below", "50", "--as", "teamlead") == 2
    assert "Only a comp admin may set the auto-approval threshold." in capsys.readouterr().err
    assert comp(cycle_url, "auto-approve", "--below", "$1,000", "--as", "comp_admin") == 0
    assert capsys.readouterr().out == "Statements under $1,000.00 are approved at calculation.\n"
    assert read(cycle_url, lambda e: _threshold(e)) == Decimal("1000")
    assert comp(cycle_url, "status", "--period", "2026-Q4", "--as", "rep") == 0
    assert "is calculated; auto-approval statements under $1,000.00.\n" in capsys.readouterr().out
    assert comp(cycle_url, "run", "--period", "2026-Q4") == 0  # the threshold applies at a calculation
    after = read(cycle_url, lambda e: team(e, Scope.everyone(), Q4))
    small = [abs(t) < 1000 for t in after["total"]]
    assert any(small) and not all(small)
    assert list(after["status"]) == ["approved" if s else "awaiting manager" for s in small]
    assert comp(cycle_url, "auto-approve", "--off", "--as", "comp_admin") == 0
    assert read(cycle_url, lambda e: _threshold(e)) is None


def _threshold(engine) -> Decimal | None:
    with engine.connect() as conn:
        return auto_approve_below(conn)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["status", "--period", "2026-Q4", "--as", "nobody"], "No app user 'nobody'"),
        (["approve", "--period", "2026-Q4", "--as", "rep"], "Only a manager, a leader or a comp admin approves statements."),
        (["approve", "--period", "2026-Q3", "--as", "comp_admin"], "2026-Q3 is paid: only a calculated period's statements are approved."),
        (["approve", "--period", "2030-Q1", "--as", "teamlead"], "2030-Q1 is open: only a calculated period's statements are approved."),
        (["approve", "--period", "2026-Q4", "--as", "comp_admin", "--person", "999999"], "No statement for person 999999 in 2026-Q4."),
        (["lock", "--period", "2026-Q3", "--as", "comp_admin"], "2026-Q3 is already paid."),
        (["paid", "--period", "2026-Q4", "--as", "comp_admin"], "2026-Q4 is calculated: lock it before marking it paid."),
        (["payroll", "--period", "2026-Q4", "--as", "comp_admin", "--csv", "x.csv"], "2026-Q4 is calculated: lock it before exporting payroll."),
        (["payroll", "--period", "2026-Q3", "--as", "comp_admin"], "Nothing to write: give --csv FILE and/or --xlsx FILE"),
        (["payroll", "--period", "2026-Q3", "--as", "comp_admin", "--csv", "/"], "Cannot write /: Is a directory."),
        (["audit", "--as", "comp_admin", "--xlsx", "/no/such/folder/log.xlsx"], "Cannot write /no/such/folder/log.xlsx: No such file"),
        (["disputes", "resolve", "1", "--amount", "5", "--reason", "x", "--as", "comp_admin"], "Dispute #1 is already resolved."),
    ],
)
def test_cycle_commands_refuse_with_one_clear_line(cycle_url, capsys, args, message):
    before = read(cycle_url, lambda e: audit_log(e, Scope.everyone()))
    assert comp(cycle_url, *args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert len(read(cycle_url, lambda e: audit_log(e, Scope.everyone()))) == len(before)  # nothing written


@pytest.mark.parametrize("args", [["lock", "--period", "2026-Q9"], ["disputes", "resolve", "1", "--amount", "ten", "--reason", "x"]])
def test_a_malformed_period_or_amount_is_a_usage_error(demo_url, capsys, args):
    with pytest.raises(SystemExit) as exit_:
        comp(demo_url, *args, "--as", "comp_admin")
    assert exit_.value.code == 2
    assert ("Not a period: '2026-Q9'" if "lock" in args else "not an amount: 'ten'") in capsys.readouterr().err


def test_a_locked_account_cannot_act(cycle_url, capsys):
    UserStore(users_path(cycle_url)).lock("comp_admin")
    assert comp(cycle_url, "lock", "--period", "2026-Q4", "--as", "comp_admin") == 2
    assert "The account 'comp_admin' is locked" in capsys.readouterr().err


def test_a_warehouse_without_compensation_says_so(empty_url, capsys, tmp_path):
    assert main(["comp", "status", "--period", "2026-Q4", "--as", "admin", "--url", empty_url]) == 0
    assert capsys.readouterr().out == "2026-Q4 (2026-10-01 – 2026-12-31) is open; auto-approval off.\nNo statements in your view.\n"
    older = private_copy(empty_url, tmp_path / "older")  # a warehouse from before compensation existed
    engine = make_engine(older)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE comp_line"))
    engine.dispose()
    for args in (["status", "--period", "2026-Q4"], ["lock", "--period", "2026-Q4"]):
        assert comp(older, *args, "--as", "admin") == 2
        assert "Compensation is not set up in this warehouse yet" in capsys.readouterr().err


def test_a_comp_admin_posts_an_adjustment_into_the_next_open_period_when_its_own_is_paid(cycle_url, capsys):
    rep = UserStore(users_path(cycle_url)).get("rep").person_id
    before = read(cycle_url, lambda e: team(e, Scope.everyone(), Q4)).set_index("person_id").loc[rep, "total"]
    args = ("adjust", "--period", "2026-Q3", "--person", str(rep), "--amount", "12.34", "--reason", "missed SPIFF")
    assert comp(cycle_url, *args, "--as", "teamlead") == 2
    assert "Only a comp admin posts adjustments." in capsys.readouterr().err
    assert comp(cycle_url, *args, "--as", "comp_admin") == 0
    assert re.match(rf"Adjustment line \d+ \(\$12\.34\) for person {rep} in 2026-Q4\.", capsys.readouterr().out)
    after = read(cycle_url, lambda e: team(e, Scope.everyone(), Q4)).set_index("person_id").loc[rep]
    assert (after["total"], after["status"]) == (before + Decimal("12.34"), "awaiting manager")
