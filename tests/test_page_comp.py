"""The compensation pages under AppTest, per role, with numbers compared to spm_core.comp and leak tests
for every page, download and URL parameter. Tests that write work on their own copy of the demo."""

from __future__ import annotations

import io
from decimal import Decimal
from functools import cache

import openpyxl
import pytest
import sqlalchemy as sa
from apptest_support import AS_OF, raise_dispute, run_page, users_path
from markdown_support import HOSTILE, live_markup, markdown_texts
from pypdf import PdfReader

from spm_core.comp.audit import Actor, audit_log
from spm_core.comp.disputes import disputes
from spm_core.comp.estimator import estimate
from spm_core.comp.payroll import payroll
from spm_core.comp.periods import period_label
from spm_core.comp.schema import comp_dispute, comp_line
from spm_core.comp.statements import gauges, periods_in_view, statement, team
from spm_core.comp.trace import money_text
from spm_core.db import make_engine
from spm_core.filters import Period, Scope
from spm_core.schema import person
from spm_core.users import UserStore, viewer_scope
from ui import warehouse
from ui.text import md

CURRENT = Period.quarter(AS_OF)
PAID = CURRENT.previous()
PAGES = ("my_commissions", "comp_team", "comp_admin")
REACHES = {"rep": {"my_commissions"}, "teamlead": {"my_commissions", "comp_team"}, "leader": {"comp_team"},
           "comp_admin": {"comp_team", "comp_admin"}, "admin": {"comp_team", "comp_admin"}, "planner": set()}


@cache
def engine(url: str):
    return make_engine(url, read_only=True)


def user(url: str, username: str):
    return UserStore(users_path(url)).get(username)


def scope(url: str, username: str) -> Scope:
    return viewer_scope(engine(url), user(url, username))


def open_page(monkeypatch, url: str, page: str, params: dict[str, str], username: str):
    """A direct link to a page with URL parameters (run_page's first run is the dashboards, whose filter
    bar rewrites the URL, so the parameters are set after it)."""
    at = run_page(monkeypatch, url, user=username)
    for key, value in params.items():
        at.query_params[key] = value
    return at.switch_page(f"pages/{page}.py").run()


def sheets(downloads: list[bytes]) -> list[list[tuple]]:
    """The rows of every workbook downloaded, in the order the buttons were drawn."""
    return [list(openpyxl.load_workbook(io.BytesIO(f)).active.iter_rows(values_only=True)) for f in downloads if f[:2] == b"PK"]


def payroll_sheets(downloads: list[bytes]) -> list[list[tuple]]:
    return [rows for rows in sheets(downloads) if rows[0] == ("person", "employee_id", "period", "amount", "currency")]


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("username", sorted(REACHES))
def test_each_role_reaches_only_its_compensation_pages(monkeypatch, demo_url, username):
    at = run_page(monkeypatch, demo_url, user=username)
    for page in sorted(set(PAGES) - REACHES[username]):
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"pages/{page}.py")
    for page in sorted(REACHES[username]):
        at = run_page(monkeypatch, demo_url, page, user=username)
        assert not at.exception and not at.error, (page, at.exception, [e.value for e in at.error])


def test_a_comp_admin_manages_plans_too(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, "comp_plans", user="comp_admin")
    assert not at.exception and at.title[0].value == "Compensation plans"


def test_a_rep_sees_their_statement_as_spm_core_computes_it_and_nothing_else(monkeypatch, app_url, downloads):
    at = run_page(monkeypatch, app_url, "my_commissions", user="rep")
    me = user(app_url, "rep")
    s = statement(engine(app_url), scope(app_url, "rep"), me.person_id, CURRENT)
    assert not at.exception
    assert metric(at, "Total") == money_text(s.total) and metric(at, "Year to date") == money_text(s.ytd)
    lines = at.dataframe[0].value
    assert list(lines["line"]) == list(s.lines["id"]) and set(s.lines["person_id"]) == {me.person_id}
    [(gauge, text)] = s.attainments
    assert gauge.next_band is not None and at.get("progress")[0].proto.text == md(text)
    mine = disputes(engine(app_url), scope(app_url, "rep"))
    assert sorted(mine["status"]) == ["open", "resolved"]
    pdf, csv = downloads[0], downloads[1]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert me.name in text and f"Total {money_text(s.total)} = the sum of the {len(s.lines)} lines above." in text
    others = engine(app_url).connect().execute(sa.select(person.c.name).where(person.c.id != me.person_id)).scalars().all()
    assert not any(name in text for name in others if len(name) > 6)
    assert csv.decode().count("\n") == len(s.lines) + 1


@pytest.mark.parametrize("value", ["1", "abc", "-3", "99999"])
def test_a_rep_asking_for_another_statement_by_url_gets_a_notice_and_nothing(monkeypatch, demo_url, downloads, value):
    me = user(demo_url, "rep")
    if value == "1":
        value = str(next(i for i in range(1, 50) if i != me.person_id))
    at = open_page(monkeypatch, demo_url, "my_commissions", {"person": value}, "rep")
    assert not at.exception
    assert any("Ignored person=" in w.value for w in at.warning)
    assert not at.dataframe and not at.metric and not downloads


def test_a_bad_period_in_the_url_gets_a_notice_and_the_current_period(monkeypatch, demo_url):
    at = open_page(monkeypatch, demo_url, "my_commissions", {"period": "![x](http://evil.example/p.png)"}, "rep")
    assert any("Ignored period=" in w.value and "](http" not in w.value for w in at.warning)
    me = user(demo_url, "rep")
    assert metric(at, "Total") == money_text(statement(engine(demo_url), scope(demo_url, "rep"), me.person_id, CURRENT).total)
    at = open_page(monkeypatch, demo_url, "my_commissions", {"period": "2026-Q3"}, "rep")
    assert not at.warning
    assert metric(at, "Total") == money_text(statement(engine(demo_url), scope(demo_url, "rep"), me.person_id, PAID).total)


@pytest.mark.parametrize("username", ["teamlead", "leader", "comp_admin", "admin"])
def test_the_team_page_lists_the_scope_s_statements(monkeypatch, app_url, username):
    at = run_page(monkeypatch, app_url, "comp_team", user=username)
    want = team(engine(app_url), scope(app_url, username), CURRENT)
    shown = at.dataframe[0].value
    assert list(shown["person"]) == list(want["person"])
    assert list(shown["total"]) == [money_text(t) for t in want["total"]]


def test_a_manager_opening_someone_outside_their_subtree_by_url_gets_a_notice(monkeypatch, demo_url):
    mine = set(team(engine(demo_url), scope(demo_url, "teamlead"), CURRENT)["person_id"])
    outside = next(int(p) for p in team(engine(demo_url), Scope.everyone(), CURRENT)["person_id"] if p not in mine)
    at = open_page(monkeypatch, demo_url, "comp_team", {"person": str(outside)}, "teamlead")
    assert any("Ignored person=" in w.value for w in at.warning)
    names = set(at.dataframe[0].value["person"])
    assert all(set(frame.value.get("person", names)) <= names for frame in at.dataframe)
    inside = sorted(mine)[-1]
    at = open_page(monkeypatch, demo_url, "comp_team", {"person": str(inside)}, "teamlead")
    assert not at.warning and at.selectbox(key="team_person").value == inside


def test_a_manager_approves_and_the_comp_admin_sees_it_in_the_queue(monkeypatch, copy_url):
    at = run_page(monkeypatch, copy_url, "comp_team", user="teamlead")
    waiting = at.multiselect(key="team_approve_pick").value
    assert waiting
    next(b for b in at.button if b.label == "Approve selected").click()
    at.run()
    assert any("Approved" in s.value for s in at.success)
    at = run_page(monkeypatch, copy_url, "comp_admin", user="comp_admin")
    queue = at.dataframe[0].value
    assert set(queue[queue["status"] == "awaiting comp admin"]["person_id"]) == set(waiting)


def test_the_comp_admin_exports_payroll_equal_to_the_statements(monkeypatch, demo_url, downloads):
    at = open_page(monkeypatch, demo_url, "comp_admin", {"period": "2026-Q3"}, "comp_admin")
    assert not at.exception
    pay = payroll(engine(demo_url), Actor("comp_admin", "comp_admin", Scope.everyone()), PAID)
    (sheet,) = payroll_sheets(downloads)
    rows = sheet[1:]
    assert len(rows) == len(pay)
    totals = team(engine(demo_url), Scope.everyone(), PAID)
    assert sorted(Decimal(str(r[3])).quantize(Decimal("0.01")) for r in rows) == sorted(totals["total"])
    audit = at.dataframe[-1].value  # the audit log tab comes last
    assert {"period locked", "period paid", "dispute resolved", "dispute raised"} <= set(audit["action"])


def test_payroll_waits_for_a_locked_period(monkeypatch, demo_url, downloads):
    at = run_page(monkeypatch, demo_url, "comp_admin", user="admin")
    assert any("payroll is exported once the period is locked" in i.value for i in at.info)
    assert sheets(downloads) and not payroll_sheets(downloads)  # the audit log's workbook only


def resolve_with_adjustment(monkeypatch, url: str, dispute_id: int):
    """The comp admin resolves a dispute with a 25.50 adjustment on the page; the page after the click."""
    at = run_page(monkeypatch, url, "comp_admin", user="comp_admin")
    at.selectbox(key="admin_dispute_pick").select(dispute_id)
    at.text_input(key="admin_dispute_amount").input("25.50")
    at.text_input(key="admin_dispute_reason").input("agreed")
    next(b for b in at.button if b.label == "Resolve with an adjustment").click()
    at.run()
    return at


def test_a_rep_raises_a_dispute_and_the_comp_admin_resolves_it(monkeypatch, copy_url):
    at = run_page(monkeypatch, copy_url, "my_commissions", user="rep")
    raise_dispute(at, "=cmd| this line is wrong")
    assert any("raised on line" in s.value for s in at.success), [e.value for e in at.error]
    reader = make_engine(copy_url, read_only=True)
    opened = disputes(reader, Scope.everyone(), "open")
    reader.dispose()  # an open reader in this process would make DuckDB refuse the comp admin's writer
    assert len(opened) == 2
    at = resolve_with_adjustment(monkeypatch, copy_url, int(opened["id"].iloc[0]))
    assert any("resolved" in s.value for s in at.success), [e.value for e in at.error]
    at = run_page(monkeypatch, copy_url, "my_commissions", user="rep")
    shown = at.dataframe[-1].value  # the disputes table comes last
    assert "agreed" in set(shown["outcome"])


def test_a_write_refused_by_the_warehouse_says_so_and_writes_nothing(monkeypatch, copy_url):
    """Another reader holds the DuckDB file (a CLI, another process): the comp admin's change is refused with
    a message, not an error screen, and nothing is written."""
    reader = make_engine(copy_url, read_only=True)
    opened = disputes(reader, Scope.everyone(), "open")
    held = reader.connect()
    try:
        at = resolve_with_adjustment(monkeypatch, copy_url, int(opened["id"].iloc[0]))
        assert not at.exception
        assert any("The warehouse refused the change" in e.value and "Nothing was written" in e.value for e in at.error)
    finally:
        held.close()
        reader.dispose()
    after = make_engine(copy_url, read_only=True)
    assert len(disputes(after, Scope.everyone(), "open")) == len(opened)
    after.dispose()


def test_the_estimator_shows_what_the_engine_would_pay(monkeypatch, copy_url):
    at = run_page(monkeypatch, copy_url, "my_commissions", user="rep")
    picker = at.multiselect(key="my_estimate_deals")
    deal = picker.options[0]
    picker.select(int(deal.split(":")[0])).run()
    next(b for b in at.button if b.label == "Estimate").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    me = user(copy_url, "rep")
    with warehouse.writable() as rw:  # the app's process holds the file read-only: writable() closes that first
        want = estimate(rw, viewer_scope(rw, me), me.person_id, CURRENT, [int(deal.split(":")[0])])
    assert metric(at, "Projected payout") == money_text(want.projected)
    assert list(at.dataframe[-2].value["amount"]) == [money_text(a) for a in want.deal_lines["amount"]]
    wanted = [md(f"If they close: {text}") for _, text in gauges(want.attainments)]
    assert wanted and [c.value for c in at.caption if c.value in wanted] == wanted


def test_a_manager_sends_a_statement_back_with_a_comment(monkeypatch, copy_url):
    at = run_page(monkeypatch, copy_url, "comp_team", user="teamlead")
    at.selectbox(key="team_person").select(at.multiselect(key="team_approve_pick").value[0]).run()
    next(b for b in at.button if b.label.startswith("Send")).click()
    at.run()
    assert any("comment is required" in e.value for e in at.error)
    at.text_input(key="team_comment").input("deal 12 is missing")
    next(b for b in at.button if b.label.startswith("Send")).click()
    at.run()
    assert any("Sent back" in s.value for s in at.success)
    shown = at.dataframe[0].value
    assert "deal 12 is missing" in set(shown["comment"])


@pytest.fixture
def hostile_url(copy_url: str) -> str:
    """The demo rep, their open dispute's comment and their lines' component carry hostile names."""
    rw = make_engine(copy_url)
    try:
        with rw.begin() as conn:
            rep = user(copy_url, "rep").person_id
            conn.execute(sa.update(person).where(person.c.id == rep).values(name=f"Rep {HOSTILE}"))
            conn.execute(sa.update(comp_line).where(comp_line.c.person_id == rep).values(component=f"Comp {HOSTILE}"))
            conn.execute(sa.update(comp_dispute).values(comment=f"Why {HOSTILE}"))
    finally:
        rw.dispose()
    return copy_url


@pytest.mark.parametrize(("username", "page"), [("rep", "my_commissions"), ("teamlead", "comp_team"), ("comp_admin", "comp_admin")])
def test_compensation_pages_show_hostile_text_as_text(monkeypatch, hostile_url, username, page):
    rep = user(hostile_url, "rep").person_id
    at = open_page(monkeypatch, hostile_url, page, {"person": str(rep)} if page == "comp_team" else {}, username)
    assert not at.exception and not at.warning
    if page == "my_commissions":
        at.selectbox(key="my_trace").select(int(at.selectbox(key="my_trace").options[0].removeprefix("line "))).run()
    texts = markdown_texts(at) + [b.label for b in at.button] + [h.value for h in at.subheader]
    live = {text: found for text in texts if (found := live_markup(text))}
    assert not live, live
    if page != "comp_admin":
        assert any(md(f"Rep {HOSTILE}") in t for t in texts)


def test_a_manager_s_statement_downloads_hold_only_their_subtree(monkeypatch, demo_url, downloads):
    at = run_page(monkeypatch, demo_url, "comp_team", user="teamlead")
    mine = team(engine(demo_url), scope(demo_url, "teamlead"), CURRENT)
    chosen = at.selectbox(key="team_person").value
    assert chosen in set(mine["person_id"])
    pdf = next(f for f in downloads if f[:4] == b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    name = dict(zip(mine["person_id"], mine["person"], strict=True))[chosen]
    assert name in text
    with engine(demo_url).connect() as conn:
        outsiders = conn.execute(sa.select(person.c.name).where(person.c.id.not_in([int(p) for p in mine["person_id"]]))).scalars()
        assert not [n for n in outsiders if len(n) > 6 and n in text]


def test_a_manager_s_my_commissions_shows_their_own_disputes_not_their_team_s(monkeypatch, demo_url):
    team_disputes = disputes(engine(demo_url), scope(demo_url, "teamlead"))
    assert len(team_disputes) == 2  # the demo rep's, in the team lead's subtree
    at = run_page(monkeypatch, demo_url, "my_commissions", user="teamlead")
    assert not at.exception
    assert not any("outcome" in frame.value.columns for frame in at.dataframe)


def test_the_team_page_offers_every_period_with_statements_in_view_and_ignores_others(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, "comp_team", user="teamlead")
    offered = periods_in_view(engine(demo_url), scope(demo_url, "teamlead"))
    assert offered[:2] == [CURRENT, PAID]
    assert at.selectbox(key="team_period").options == [period_label(p) for p in offered]
    at = open_page(monkeypatch, demo_url, "comp_team", {"period": "2019-Q1"}, "teamlead")  # before the demo began
    assert [w.value for w in at.warning] == [f"Ignored period={md('2019-Q1')}: not a period you can open here."]
    assert at.selectbox(key="team_period").value == CURRENT


def test_a_manager_asking_my_commissions_for_a_team_member_gets_a_notice_and_nothing(monkeypatch, demo_url, downloads):
    rep = user(demo_url, "rep").person_id  # in the team lead's subtree: on Team commissions, not on My commissions
    at = open_page(monkeypatch, demo_url, "my_commissions", {"person": str(rep)}, "teamlead")
    assert any("Ignored person=" in w.value for w in at.warning)
    assert not at.dataframe and not at.metric and not downloads


def test_the_audit_log_narrows_to_the_period_and_downloads_as_csv_and_xlsx(monkeypatch, demo_url, downloads):
    at = open_page(monkeypatch, demo_url, "comp_admin", {"period": "2026-Q3"}, "comp_admin")
    at.toggle(key="admin_audit_period").set_value(True).run()
    want = audit_log(engine(demo_url), Scope.everyone(), PAID)
    shown = at.dataframe[-1].value
    assert len(shown) == len(want) and {"period locked", "period paid"} <= set(shown["action"])
    assert set(shown["period_start"].astype(str)) == {str(PAID.start)}
    assert len(sheets(downloads)[-1]) == len(want) + 1
    assert downloads[-2].decode().count("\n") >= len(want) + 1  # the CSV (a detail may hold a line break)


def everything_shown(at, downloads: list[bytes]) -> str:
    """Every text the run drew (tables' cells, Markdown, labels, options) and every file it offered."""
    texts = markdown_texts(at) + [h.value for h in at.subheader] + [t.value for t in at.get("text")]
    texts += [str(v) for frame in at.dataframe for column in frame.value.columns for v in frame.value[column]]
    texts += [str(o) for kind in ("selectbox", "multiselect") for w in getattr(at, kind) for o in w.options]
    for data in downloads:
        texts.append("".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages) if data[:4] == b"%PDF" else data.decode())
    return "\n".join(texts)


@pytest.mark.parametrize(("username", "page"), [("rep", "my_commissions"), ("teamlead", "my_commissions"), ("teamlead", "comp_team")])
def test_no_one_outside_the_viewer_s_scope_shows_on_the_page_or_in_its_files(monkeypatch, demo_url, downloads, username, page):
    """Every statement the page can open (each in turn, with a line's trace open), against the names of
    everyone outside the viewer's scope."""
    at = run_page(monkeypatch, demo_url, page, user=username)
    picker = "team_person" if page == "comp_team" else None
    shown = []
    for chosen in at.selectbox(key=picker).options if picker else [None]:
        if chosen is not None:
            at.selectbox(key=picker).select(chosen).run()
        trace = at.selectbox(key="team_trace" if picker else "my_trace")
        trace.select(int(trace.options[-1].removeprefix("line "))).run()
        assert not at.exception and any("input" in frame.value.columns for frame in at.dataframe)  # the trace is open
        shown.append(everything_shown(at, downloads))
    visible = set(team(engine(demo_url), scope(demo_url, username), CURRENT)["person_id"]) | {user(demo_url, username).person_id}
    with engine(demo_url).connect() as conn:
        outsiders = conn.execute(sa.select(person.c.name).where(person.c.id.not_in([int(p) for p in visible]))).scalars().all()
    text = "\n".join(shown)
    assert not [name for name in outsiders if len(name) > 6 and name in text]
    assert user(demo_url, username).name in text
