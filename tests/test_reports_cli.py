"""`python -m spm_core report`: the review of a period and scope written to XLSX for a scheduled job."""

from __future__ import annotations

from datetime import date

import openpyxl
import pypdf
import pytest

from spm_core.cli import main
from spm_core.stages import stage_rows
from spm_core.users import UserStore

PEOPLE = [
    {"id": 1, "name": "Mia Manager", "role": "manager", "manager_id": None, "team_id": 1, "active": True, "ramp_months": 0},
    {"id": 2, "name": "Rita Rep", "role": "rep", "manager_id": 1, "team_id": 1, "active": True, "ramp_months": 0},
    {"id": 3, "name": "Olaf Outsider", "role": "rep", "manager_id": None, "team_id": 2, "active": True, "ramp_months": 0},
]


def _deal(oid: int, owner: int, amount: float) -> dict:
    return {
        "id": oid, "name": f"Deal {oid}", "owner_id": owner, "amount": amount, "stage": "Closed Won", "probability": 100,
        "forecast_category": "Closed", "created_date": date(2026, 7, 1), "close_date": date(2026, 8, 1),
        "is_closed": True, "is_won": True,
    }  # fmt: skip


@pytest.fixture
def warehouse(tiny_engine, tmp_path):
    engine = tiny_engine(
        person=PEOPLE,
        team=[{"id": 1, "name": "Ones", "manager_id": 1}, {"id": 2, "name": "Twos", "manager_id": None}],
        stage=stage_rows(),
        opportunity=[_deal(1, 2, 100.0), _deal(2, 3, 900.0)],
    )
    url = str(engine.url)
    engine.dispose()
    users = tmp_path / "users.yaml"
    UserStore(users).add("mia", "Mia Manager", "mia@example.com", "mia-password-1", "manager", 1)
    return url, users


def _owners(path) -> set[str]:
    rows = list(openpyxl.load_workbook(path)["Biggest wins"].values)
    return {r[rows[0].index("owner")] for r in rows[1:]}


def test_report_for_a_users_scope_holds_only_what_they_may_see(warehouse, tmp_path, capsys):
    url, users = warehouse
    out = tmp_path / "mia.xlsx"
    args = ["report", "--url", url, "--period", "2026-Q3", "--scope", "user:mia", "--users-file", str(users)]
    pdf = tmp_path / "mia.pdf"
    assert main([*args, "--xlsx", str(out), "--pdf", str(pdf), "--as-of", "2026-11-23"]) == 0
    printed = capsys.readouterr().out
    assert f"Wrote {out}" in printed and f"Wrote {pdf}" in printed
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    assert "Rita Rep" in text and "Olaf Outsider" not in text
    assert _owners(out) == {"Rita Rep"}
    cover = dict(list(openpyxl.load_workbook(out)["Cover"].values)[1:])
    assert cover["Scope"] == "Mia Manager and everyone below them in the manager tree"
    assert main(["report", "--url", url, "--period", "2026-Q3", "--xlsx", str(tmp_path / "all.xlsx")]) == 0
    assert _owners(tmp_path / "all.xlsx") == {"Rita Rep", "Olaf Outsider"}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--period", "2026-Q5", "--xlsx", "x.xlsx"], "expected a quarter like 2026-Q3"),
        (["--period", "2026-Q3", "--scope", "team:1", "--xlsx", "x.xlsx"], "Not a scope"),
        (["--period", "2026-Q3", "--scope", "user:nobody", "--xlsx", "x.xlsx"], "No app user 'nobody'"),
        (["--period", "2026-Q3"], "Nothing to write"),
    ],
)
def test_bad_arguments_are_one_clear_line(warehouse, capsys, extra, message):
    url, users = warehouse
    assert main(["report", "--url", url, "--users-file", str(users), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
