"""Period review page under AppTest: every role sees the review of its own scope, and every download (XLSX and
each CSV) holds only what that role may see: a rep's only their own deals, a manager's only their subtree."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pypdf
import pytest
import sqlalchemy as sa
from apptest_support import AS_OF, run_page, users_path

from spm_core.db import make_engine, read_frame
from spm_core.filters import Filters, Period, Scope
from spm_core.people import people_in_view
from spm_core.reports.files import review_xlsx
from spm_core.reports.review import build_review
from spm_core.schema import person
from spm_core.users import UserStore, viewer_scope

ROLES = ("admin", "leader", "manager", "teamlead", "rep")
DEAL_SHEETS = ("Biggest wins", "Largest losses", "Slipped deals")
Q3 = Period.quarter(AS_OF).previous()


def _open_q3(monkeypatch, url: str, username: str):
    at = run_page(monkeypatch, url, "reports", user=username)
    assert not at.exception, at.exception
    at.selectbox(key="review_period").set_value(Q3).run()
    assert not at.exception, at.exception
    return at


def _names_in_scope(engine, scope: Scope) -> set[str]:
    ids = people_in_view(None, scope)
    stmt = sa.select(person.c.name) if ids is None else sa.select(person.c.name).where(person.c.id.in_(ids))
    return set(read_frame(engine, stmt)["name"])


@pytest.mark.parametrize("username", ROLES)
def test_each_role_downloads_the_review_of_its_own_scope(monkeypatch, demo_url, named_downloads, username):
    _open_q3(monkeypatch, demo_url, username)
    engine = make_engine(demo_url, read_only=True)
    scope = viewer_scope(engine, UserStore(users_path(demo_url)).get(username))
    review = build_review(engine, Filters(Q3), scope, AS_OF)
    got = named_downloads["period-review-2026-Q3.xlsx"]
    book = openpyxl.load_workbook(io.BytesIO(got))
    expected = openpyxl.load_workbook(io.BytesIO(review_xlsx(engine, review)))
    for name in expected.sheetnames:
        assert list(book[name].values) == list(expected[name].values), name
    allowed = _names_in_scope(engine, scope)
    for sheet in DEAL_SHEETS:
        rows = list(book[sheet].values)
        owners = {r[rows[0].index("owner")] for r in rows[1:]} if "owner" in rows[0] else set()
        assert owners <= allowed, sheet
    pdf = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(named_downloads["period-review-2026-Q3.pdf"])).pages)
    pdf = " ".join(pdf.split())
    outside = _names_in_scope(engine, Scope.everyone()) - allowed
    assert not [name for name in outside if name in pdf]
    assert all(name in pdf for name in review.section("biggest_wins").frame["owner"])
    for key in ("biggest_wins", "largest_losses"):
        csv = pd.read_csv(io.BytesIO(named_downloads[f"period-review-2026-Q3-{key}.csv"]))
        assert set(csv["owner"]) <= allowed
        assert len(csv) == len(review.section(key).frame)


def test_a_reps_files_hold_only_their_own_deals(monkeypatch, demo_url, named_downloads):
    _open_q3(monkeypatch, demo_url, "rep")
    rep = UserStore(users_path(demo_url)).get("rep")
    engine = make_engine(demo_url, read_only=True)
    everyone = build_review(engine, Filters(Q3), Scope.everyone(), AS_OF)
    book = openpyxl.load_workbook(io.BytesIO(named_downloads["period-review-2026-Q3.xlsx"]))
    wins = list(book["Biggest wins"].values)
    assert len(wins) > 1 and {r[wins[0].index("owner")] for r in wins[1:]} == {rep.name}
    assert len(set(everyone.section("biggest_wins").frame["owner"])) > 1  # others won deals: left out
    top = list(book["Top performers"].values)
    assert [r[top[0].index("rep")] for r in top[1:]] == [rep.name]
    cover = dict(list(book["Cover"].values)[1:])
    assert cover["Scope"] == f"{rep.name} only"


def test_the_page_shows_each_section_and_needs_history_without_history(monkeypatch, maven_url):
    at = run_page(monkeypatch, maven_url, "reports", user="leader")
    assert not at.exception, at.exception
    infos = " ".join(i.value for i in at.info)
    assert "Needs history" in infos
    assert {"Headline", "Successes", "Failures", "Outlook"} <= {h.value for h in at.subheader}


def test_the_page_works_on_an_empty_warehouse(monkeypatch, empty_url):
    at = run_page(monkeypatch, empty_url, "reports", user="admin")
    assert not at.exception, at.exception
