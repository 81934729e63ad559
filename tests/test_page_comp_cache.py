"""The compensation pages' cached reads (ui/comp/data.py): a warm run after any write shows the new state,
whoever wrote it, and one viewer's cached statement never reaches another viewer. Tests write to their
own copy of the demo."""

from __future__ import annotations

from decimal import Decimal

from apptest_support import AS_OF, run_page, sign_in, users_path

from spm_core.comp.adjustments import add_adjustment
from spm_core.comp.audit import Actor
from spm_core.comp.statements import statement, team
from spm_core.comp.trace import money_text
from spm_core.db import make_engine
from spm_core.filters import Period, Scope
from spm_core.users import UserStore
from ui import warehouse
from ui.text import md

CURRENT = Period.quarter(AS_OF)
SECOND_REP = ("rep2", "second-rep-password-1")


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def read(url: str, person_id: int, period: Period = CURRENT):
    engine = make_engine(url, read_only=True)
    try:
        return statement(engine, Scope.only(person_id), person_id, period)
    finally:
        engine.dispose()


def test_a_warm_run_after_a_dispute_shows_it(monkeypatch, copy_url):
    at = run_page(monkeypatch, copy_url, "my_commissions", user="rep")
    at.run()  # warm: every read now comes from the cache
    before = len(at.dataframe[-1].value)  # the disputes table comes last
    line = int(at.selectbox(key="my_dispute_line").options[0].removeprefix("line "))
    at.selectbox(key="my_dispute_line").select(line)
    at.text_area(key="my_dispute_comment").input("the rate is wrong")
    next(b for b in at.button if b.label == "Raise a dispute").click()
    at.run()
    assert any("raised on line" in s.value for s in at.success), [e.value for e in at.error]
    shown = at.dataframe[-1].value
    assert len(shown) == before + 1 and "the rate is wrong" in set(shown["comment"])


def test_a_warm_run_after_an_approval_shows_the_new_status_on_both_pages(monkeypatch, copy_url):
    admin = run_page(monkeypatch, copy_url, "comp_admin", user="comp_admin")
    admin.run()  # the queue is cached before the manager approves
    assert not (admin.dataframe[0].value["status"] == "awaiting comp admin").any()
    at = run_page(monkeypatch, copy_url, "comp_team", user="teamlead")
    at.run()
    waiting = at.multiselect(key="team_approve_pick").value
    assert waiting
    next(b for b in at.button if b.label == "Approve selected").click()
    at.run()
    assert (at.dataframe[0].value["status"] == "awaiting comp admin").sum() == len(waiting)
    admin = run_page(monkeypatch, copy_url, "comp_admin", user="comp_admin")  # same scope and period as the cached queue
    queue = admin.dataframe[0].value
    assert set(queue[queue["status"] == "awaiting comp admin"]["person_id"]) == set(waiting)


def test_a_warm_run_after_someone_else_s_write_shows_it(monkeypatch, copy_url):
    """An adjustment written outside the rep's session (through ui.warehouse.writable(), as the comp admin
    page does) shows on the rep's next visit: the total moves by exactly the amount. (A new AppTest, since
    AppTest reruns only the page, not app.py, which reads the warehouse version on every browser run.)"""
    rep = UserStore(users_path(copy_url)).get("rep")
    at = run_page(monkeypatch, copy_url, "my_commissions", user="rep")
    at.run()
    before = read(copy_url, rep.person_id).total
    assert metric(at, "Total") == money_text(before)
    with warehouse.writable() as rw, rw.begin() as conn:
        add_adjustment(conn, Actor("comp_admin", "comp_admin", Scope.everyone()), rep.person_id, CURRENT,
                       Decimal("123.45"), "spiff")
    at = run_page(monkeypatch, copy_url, "my_commissions", user="rep")  # the same viewer's next visit
    assert metric(at, "Total") == money_text(before + Decimal("123.45"))


def test_a_rep_never_gets_another_rep_s_cached_statement(monkeypatch, copy_url):
    rep = UserStore(users_path(copy_url)).get("rep")
    engine = make_engine(copy_url, read_only=True)
    try:
        other = next(int(p) for p in team(engine, Scope.everyone(), CURRENT)["person_id"] if int(p) != rep.person_id)
    finally:
        engine.dispose()
    UserStore(users_path(copy_url)).add(SECOND_REP[0], "Second Rep", "rep2@example.com", SECOND_REP[1], "rep", other)
    mine, theirs = read(copy_url, rep.person_id), read(copy_url, other)
    assert mine.total != theirs.total or list(mine.lines["id"]) != list(theirs.lines["id"])

    first = run_page(monkeypatch, copy_url, "my_commissions", user="rep")
    first.run()  # the rep's statement for the period is cached now
    second = run_page(monkeypatch, copy_url, user=None)
    sign_in(second, *SECOND_REP)
    second.switch_page("pages/my_commissions.py").run()
    second.run()
    for at, s in ((first, mine), (second, theirs)):
        assert not at.exception
        assert md(s.person) in at.subheader[0].value
        assert metric(at, "Total") == money_text(s.total)
        assert list(at.dataframe[0].value["line"]) == list(s.lines["id"])
    assert set(first.dataframe[0].value["line"]).isdisjoint(second.dataframe[0].value["line"])
