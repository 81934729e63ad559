"""The compensation pages' cached reads (ui/comp/data.py): a warm run after any write shows the new state,
whoever wrote it, and one viewer's cached statement never reaches another viewer. Tests write to their
own copy of the demo, on each engine."""

from __future__ import annotations

import pytest
from apptest_support import AS_OF, on_engine, raise_dispute, run_page, sign_in, users_path

from spm_core.comp.audit import Actor
from spm_core.comp.cycle import decide
from spm_core.comp.statements import statement, team
from spm_core.comp.trace import money_text
from spm_core.db import make_engine
from spm_core.filters import Period, Scope
from spm_core.users import UserStore
from ui import warehouse
from ui.text import md

CURRENT = Period.quarter(AS_OF)
SECOND_REP = ("rep2", "second-rep-password-1")


@pytest.fixture
def own_url(copy_url: str, engine_kind: str, new_warehouse_url) -> str:
    """A private copy of the demo on the engine under test (a PostgreSQL one is written beside the app's
    open engine, as another process would)."""
    return on_engine(copy_url, engine_kind, new_warehouse_url)


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def read(url: str, person_id: int, period: Period = CURRENT):
    engine = make_engine(url, read_only=True)
    try:
        return statement(engine, Scope.only(person_id), person_id, period)
    finally:
        engine.dispose()


def test_a_warm_run_after_a_dispute_shows_it(monkeypatch, own_url):
    at = run_page(monkeypatch, own_url, "my_commissions", user="rep")
    at.run()  # warm: every read now comes from the cache
    before = len(at.dataframe[-1].value)  # the disputes table comes last
    raise_dispute(at, "the rate is wrong")
    assert any("raised on line" in s.value for s in at.success), [e.value for e in at.error]
    shown = at.dataframe[-1].value
    assert len(shown) == before + 1 and "the rate is wrong" in set(shown["comment"])


def test_a_warm_run_after_an_approval_shows_the_new_status_on_both_pages(monkeypatch, own_url):
    admin = run_page(monkeypatch, own_url, "comp_admin", user="comp_admin")
    admin.run()  # the queue is cached before the manager approves
    assert not (admin.dataframe[0].value["status"] == "awaiting comp admin").any()
    at = run_page(monkeypatch, own_url, "comp_team", user="teamlead")
    at.run()
    waiting = at.multiselect(key="team_approve_pick").value
    assert waiting
    next(b for b in at.button if b.label == "Approve selected").click()
    at.run()
    assert (at.dataframe[0].value["status"] == "awaiting comp admin").sum() == len(waiting)
    admin = run_page(monkeypatch, own_url, "comp_admin", user="comp_admin")  # same scope and period as the cached queue
    queue = admin.dataframe[0].value
    assert set(queue[queue["status"] == "awaiting comp admin"]["person_id"]) == set(waiting)


def test_a_warm_run_after_someone_else_s_write_shows_it(monkeypatch, own_url):
    """A send-back written outside the rep's session (through ui.warehouse.writable(), as the team page
    does; on PostgreSQL a separate engine, as another process) shows on the rep's next visit. (A new
    AppTest: AppTest reruns only the page, not app.py, which reads the warehouse version on every browser run.)"""
    rep = UserStore(users_path(own_url)).get("rep")
    at = run_page(monkeypatch, own_url, "my_commissions", user="rep")
    at.run()
    assert md("statement awaiting manager") in at.caption[0].value
    with warehouse.writable() as rw, rw.begin() as conn:
        decide(conn, Actor("leader", "leader", Scope.everyone()), CURRENT, rep.person_id, approve=False,
               comment="recheck deal 7")
    at = run_page(monkeypatch, own_url, "my_commissions", user="rep")  # the same viewer's next visit
    assert md("statement sent back (comment: recheck deal 7)") in at.caption[0].value


def test_a_rep_never_gets_another_rep_s_cached_statement(monkeypatch, own_url):
    rep = UserStore(users_path(own_url)).get("rep")
    engine = make_engine(own_url, read_only=True)
    try:
        other = next(int(p) for p in team(engine, Scope.everyone(), CURRENT)["person_id"] if int(p) != rep.person_id)
    finally:
        engine.dispose()
    UserStore(users_path(own_url)).add(SECOND_REP[0], "Second Rep", "rep2@example.com", SECOND_REP[1], "rep", other)
    mine, theirs = read(own_url, rep.person_id), read(own_url, other)
    assert mine.total != theirs.total or list(mine.lines["id"]) != list(theirs.lines["id"])

    first = run_page(monkeypatch, own_url, "my_commissions", user="rep")
    first.run()  # the rep's statement for the period is cached now
    second = run_page(monkeypatch, own_url, user=None)
    sign_in(second, *SECOND_REP)
    second.switch_page("pages/my_commissions.py").run()
    second.run()
    for at, s in ((first, mine), (second, theirs)):
        assert not at.exception
        assert md(s.person) in at.subheader[0].value
        assert metric(at, "Total") == money_text(s.total)
        assert list(at.dataframe[0].value["line"]) == list(s.lines["id"])
    assert set(first.dataframe[0].value["line"]).isdisjoint(second.dataframe[0].value["line"])
