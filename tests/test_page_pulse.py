"""Employee pulse page under AppTest: every role; reps see the company figure only; a manager's table, CSV and
comments hold only their subtree and never a group of fewer than 5 responses; admins import a survey CSV."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa
from apptest_support import AS_OF, run_page, users_path

from spm_core.db import make_engine, read_frame
from spm_core.filters import Period, Scope
from spm_core.people import people_in_view
from spm_core.pulse import enps, turnover
from spm_core.pulse.anonymity import MIN_RESPONSES, OTHER
from spm_core.schema import person, survey_response, team
from spm_core.users import UserStore, viewer_scope

ROLES = ("admin", "leader", "manager", "teamlead", "rep")
QUARTER = Period.quarter(AS_OF)


def _read(url: str, stmt) -> pd.DataFrame:
    engine = make_engine(url, read_only=True)
    try:
        return read_frame(engine, stmt)
    finally:
        engine.dispose()


def _scope(url: str, username: str) -> Scope:
    engine = make_engine(url, read_only=True)
    try:
        return viewer_scope(engine, UserStore(users_path(url)).get(username))
    finally:
        engine.dispose()


@pytest.mark.parametrize("username", ROLES)
def test_each_role_sees_the_company_figure(monkeypatch, demo_url, username):
    at = run_page(monkeypatch, demo_url, "pulse", user=username)
    assert not at.exception, at.exception
    engine = make_engine(demo_url, read_only=True)
    company = enps.company(engine, QUARTER).iloc[0]
    engine.dispose()
    tile = next(m for m in at.metric if m.label == "Company eNPS")
    assert tile.value == f"{company['enps']:+.0f}"


def test_a_rep_sees_nothing_but_the_company_figure(monkeypatch, demo_url, named_downloads):
    at = run_page(monkeypatch, demo_url, "pulse", user="rep")
    assert not at.exception
    assert not at.dataframe and not at.expander and not named_downloads
    assert {m.label for m in at.metric} == {"Company eNPS", "Responses", "Response rate"}


@pytest.mark.parametrize("username", ["manager", "teamlead", "leader"])
def test_the_breakdown_holds_only_the_scope_and_no_small_group(monkeypatch, demo_url, named_downloads, username):
    at = run_page(monkeypatch, demo_url, "pulse", user=username)
    assert not at.exception
    scope = _scope(demo_url, username)
    ids = people_in_view(None, scope)
    stmt = sa.select(team.c.name).join(person, person.c.team_id == team.c.id)
    allowed = set(_read(demo_url, stmt if ids is None else stmt.where(person.c.id.in_(ids)))["name"]) | {OTHER, "No team"}
    engine = make_engine(demo_url, read_only=True)
    expected = enps.pulse(engine, QUARTER, scope, "team")
    comments = enps.comments(engine, QUARTER, scope)
    engine.dispose()
    assert not expected.empty  # the demo has enough answers in every one of these scopes
    shown = at.dataframe[0].value
    assert set(shown["group"]) <= allowed and (shown["responses"] >= MIN_RESPONSES).all()
    assert shown["enps"].tolist() == pytest.approx(expected["enps"].tolist())
    csv = pd.read_csv(io.BytesIO(named_downloads[f"enps-{QUARTER.start.year}-Q{(QUARTER.start.month - 1) // 3 + 1}-by-team.csv"]))
    assert set(csv["group"]) <= allowed and (csv["responses"] >= MIN_RESPONSES).all()
    listed = [m.value for m in at.markdown if m.value.startswith("- ")]
    assert len(listed) == len(comments)
    assert not any(name in " ".join(listed) for name in _read(demo_url, sa.select(person.c.name))["name"])


@pytest.mark.parametrize("username", ["manager", "leader"])
def test_turnover_risk_beside_each_team_matches_spm_core(monkeypatch, demo_url, username):
    at = run_page(monkeypatch, demo_url, "pulse", user=username)
    scope = _scope(demo_url, username)
    engine = make_engine(demo_url, read_only=True)
    reps = turnover.reps_at_risk(engine, QUARTER, AS_OF, scope)
    expected = turnover.beside_enps(enps.pulse(engine, QUARTER, scope, "team"), reps, "team")
    engine.dispose()
    shown = at.dataframe[0].value
    assert shown["turnover_risk"].tolist() == expected["turnover_risk"].tolist()
    assert shown["reps_at_risk"].tolist() == expected["reps_at_risk"].tolist()
    # every rep counted in scope is in exactly one row (Other holds the teams not shown)
    counted = reps[~reps["hired_in_window"] & reps[["older_attainment", "latest_attainment"]].notna().all(axis=1)]
    assert shown["reps_counted"].sum() <= len(counted) and shown["reps_at_risk"].sum() <= int(counted["at_risk"].sum())
    assert any(turnover.TURNOVER_HELP[:40] in c.value for c in at.caption)


def test_an_admin_imports_a_survey_csv_after_the_row_check(monkeypatch, copy_url):
    email = _read(copy_url, sa.select(person.c.email).where(person.c.role == "rep").limit(1)).iloc[0, 0]
    before = len(_read(copy_url, sa.select(survey_response.c.id)))
    at = run_page(monkeypatch, copy_url, "pulse", user="admin")
    bad = f"email,date,score\n{email},2026-11-02,12\nnobody@example.com,2026-11-02,5\n".encode()
    at.file_uploader(key="pulse_upload").set_value([("bad.csv", bad, "text/csv")]).run()
    assert not at.exception and "2 row error(s)" in at.error[0].value
    assert not [b for b in at.button if b.key == "pulse_apply"]
    good = f"email,date,score,comment\n{email},{date(2026, 11, 2)},9,Nice\n".encode()
    at.file_uploader(key="pulse_upload").set_value([("good.csv", good, "text/csv")]).run()
    at.button(key="pulse_apply").click().run()
    assert not at.exception, at.exception
    assert "Imported 1 responses." in [s.value for s in at.success]
    assert len(_read(copy_url, sa.select(survey_response.c.id))) in (before, before + 1)  # replaced or added
    assert "Nice" in set(_read(copy_url, sa.select(survey_response.c.comment))["comment"].dropna())


def test_other_roles_get_no_import(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, "pulse", user="leader")
    assert not [u for u in at.get("file_uploader")]
