"""Employee pulse (spm_core.pulse): eNPS against a pandas oracle, the anonymity rule at exactly 5 vs 4 responses
(and the merge that stops subtraction), comments without authors, the CSV loader's row errors, the demo."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from spm_core.cli import main
from spm_core.db import read_frame
from spm_core.filters import Period, Scope
from spm_core.pulse import enps, loader
from spm_core.pulse.anonymity import OTHER, merge_small_groups
from spm_core.schema import survey_response

NOV = Period.month(date(2026, 11, 1))
# 1 Lea (leader) manages teams 1 (Ann, reps 10-14) and 2 (Bo, reps 20-23); Cy leads team 3 (30-39).
PEOPLE = [
    {"id": 1, "name": "Lea Leader", "email": "lea@x.com", "role": "leader", "manager_id": None, "team_id": None},
    {"id": 2, "name": "Ann Manager", "email": "ann@x.com", "role": "manager", "manager_id": 1, "team_id": 1},
    {"id": 3, "name": "Bo Manager", "email": "bo@x.com", "role": "manager", "manager_id": 1, "team_id": 2},
    {"id": 4, "name": "Cy Manager", "email": "cy@x.com", "role": "manager", "manager_id": 1, "team_id": 3},
    *({"id": i, "name": f"Rep {i}", "email": f"r{i}@x.com", "role": "rep", "manager_id": 2, "team_id": 1} for i in range(10, 15)),
    *({"id": i, "name": f"Rep {i}", "email": f"r{i}@x.com", "role": "rep", "manager_id": 3, "team_id": 2} for i in range(20, 24)),
    *({"id": i, "name": f"Rep {i}", "email": f"r{i}@x.com", "role": "rep", "manager_id": 4, "team_id": 3} for i in range(30, 40)),
]
PEOPLE = [{**p, "active": True, "ramp_months": 0, "hire_date": date(2025, 1, 1)} for p in PEOPLE]
TEAMS = [{"id": t, "name": f"Team {t}", "manager_id": m} for t, m in ((1, 2), (2, 3), (3, 4))]
# Team 1: exactly 5 responses (10, 9, 8, 6, 3): eNPS = (2 - 2) / 5 = 0. Team 2: exactly 4 (10, 10, 10, 0).
# Team 3: 10 responses, scores 0..9: promoters 1 (9), detractors 7 (0-6): eNPS = -60.
SCORES = {10: 10, 11: 9, 12: 8, 13: 6, 14: 3, 20: 10, 21: 10, 22: 10, 23: 0, **{30 + i: i for i in range(10)}}
RESPONSES = [
    {"id": n, "person_id": pid, "response_date": date(2026, 11, 5), "score": s, "comment": f"note from {pid}"}
    for n, (pid, s) in enumerate(SCORES.items(), start=1)
]


@pytest.fixture
def pulse_engine(tiny_engine):
    return tiny_engine(person=PEOPLE, team=TEAMS, survey_response=RESPONSES)


def _by(frame: pd.DataFrame) -> dict[str, float]:
    return dict(zip(frame["group"], frame["enps"], strict=True))


def test_a_team_of_exactly_five_responses_is_shown_and_four_is_not(pulse_engine):
    scope = Scope.subtree(1)
    frame = enps.pulse(pulse_engine, NOV, scope, by="team")
    shown = _by(frame)
    assert "Team 2" not in shown  # 4 responses
    assert shown["Team 3"] == pytest.approx(-60.0)
    # Team 2 (4) alone in Other would be revealed by subtraction from the total: the next smallest, Team 1 (5), joins it.
    assert shown[OTHER] == pytest.approx(100 * ((2 + 3) - (2 + 1)) / 9)
    assert frame.set_index("group").loc[OTHER, "groups_merged"] == 2
    # Ann's own subtree is team 1 alone, 5 responses: shown, eNPS 0.
    assert _by(enps.pulse(pulse_engine, NOV, Scope.subtree(2), by="team")) == {"Team 1": 0.0}
    # Bo's subtree: 4 responses: nothing at all, not even as Other.
    assert enps.pulse(pulse_engine, NOV, Scope.subtree(3), by="team").empty
    assert enps.pulse(pulse_engine, NOV, Scope.subtree(3)).empty


def test_merge_small_groups_never_leaves_a_small_group_or_a_small_other():
    groups = pd.DataFrame({"group": ["a", "b", "c", "d"], "responses": [4, 1, 9, 30], "promoters": [1, 0, 2, 10]})
    out = merge_small_groups(groups, "group").set_index("group")
    assert list(out.index) == ["c", "d", OTHER] and out.loc[OTHER, "responses"] == 5 and out.loc[OTHER, "promoters"] == 1
    lone = merge_small_groups(groups.iloc[[0, 2]], "group").set_index("group")  # Other would be 4: c joins it
    assert list(lone.index) == [OTHER] and lone.loc[OTHER, "responses"] == 13
    two_small = merge_small_groups(groups.iloc[[0, 1]], "group")  # 4 + 1 = 5: shown, but only as Other
    assert list(two_small["group"]) == [OTHER] and two_small["responses"].tolist() == [5]
    assert merge_small_groups(groups.iloc[[0]], "group").empty  # 4 responses in all: nothing is shown


def test_company_figure_response_rate_and_a_reps_own_view(pulse_engine):
    company = enps.company(pulse_engine, NOV).iloc[0]
    scores = pd.Series(list(SCORES.values()))
    assert company["responses"] == 19
    assert company["enps"] == pytest.approx(100 * ((scores >= 9).sum() - (scores <= 6).sum()) / 19)
    assert company["response_rate"] == pytest.approx(19 / len(PEOPLE))
    assert enps.pulse(pulse_engine, NOV, Scope.only(10)).empty  # a rep's own answer is never a figure
    by_manager = enps.pulse(pulse_engine, NOV, Scope.everyone(), by="manager")
    assert _by(by_manager)["Cy Manager"] == pytest.approx(-60.0)


def test_comments_carry_no_author_and_need_five_responses(pulse_engine):
    found = enps.comments(pulse_engine, NOV, Scope.subtree(2))
    assert list(found.columns) == ["comment"]
    assert list(found["comment"]) == sorted(f"note from {pid}" for pid in range(10, 15))
    assert enps.comments(pulse_engine, NOV, Scope.subtree(3)).empty  # 4 responses
    assert enps.comments(pulse_engine, NOV, Scope.only(10)).empty


def test_demo_pulse_matches_a_pandas_oracle(demo_engine):
    rows = read_frame(demo_engine, sa.select(survey_response))
    q3 = Period.quarter(date(2026, 8, 1))
    days = pd.to_datetime(rows["response_date"])
    inside = rows[(days >= pd.Timestamp(q3.start)) & (days <= pd.Timestamp(q3.end))]
    expected = 100 * ((inside["score"] >= 9).mean() - (inside["score"] <= 6).mean())
    assert len(inside) >= 5 and enps.company(demo_engine, q3).iloc[0]["enps"] == pytest.approx(expected)
    assert rows["score"].between(0, 10).all() and rows["comment"].notna().any()
    months = enps.pulse(demo_engine, q3, Scope.everyone(), by="month")
    assert set(months["group"]) <= {"2026-07", "2026-08", "2026-09", OTHER}


# --------------------------------------------------------------------------------------------- CSV import


def _csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def test_import_checks_every_row_and_writes_nothing_on_errors(pulse_engine):
    data = _csv(
        "Email,Date,Score,Comment",
        "r10@x.com,2026-11-20,9,fine",
        "nobody@x.com,2026-11-20,9,",
        "r11@x.com,20/11/2026,7,",
        "r12@x.com,2026-11-20,11,",
        "r13@x.com,2026-11-20,-1,",
        "r10@x.com,2026-11-20,8,again",
        "r14@x.com,2026-12-24,8,",
    )
    checked = loader.check(pulse_engine, data, as_of=date(2026, 11, 23))
    assert [(e.row, e.column) for e in checked.errors] == [
        (3, "person"), (4, "date"), (5, "score"), (6, "score"), (7, "person"), (8, "date"),
    ]  # fmt: skip
    assert "first on line 2" in checked.errors[4].why and "after today" in checked.errors[5].why
    with pytest.raises(ValueError, match="nothing was written"):
        loader.apply(pulse_engine, checked)
    assert len(read_frame(pulse_engine, sa.select(survey_response))) == len(RESPONSES)


def test_import_adds_and_replaces_by_person_and_day(pulse_engine):
    data = _csv("person,date,score", "10,2026-11-05,2", "r23@x.com,2026-11-06,10")
    checked = loader.check(pulse_engine, data, as_of=date(2026, 11, 23))
    assert checked.ok and loader.apply(pulse_engine, checked) == 2
    rows = read_frame(pulse_engine, sa.select(survey_response))
    assert len(rows) == len(RESPONSES) + 1 and rows["id"].is_unique
    assert rows.loc[rows["person_id"] == 10, "score"].tolist() == [2]


def test_a_warehouse_from_before_the_pulse_gets_the_table_on_first_import(pulse_engine):
    with pulse_engine.begin() as conn:
        survey_response.drop(conn)
    assert not enps.has_pulse(pulse_engine)
    checked = loader.check(pulse_engine, _csv("person,date,score", "10,2026-11-05,9"), as_of=date(2026, 11, 23))
    assert loader.apply(pulse_engine, checked) == 1 and enps.has_pulse(pulse_engine)


def test_a_file_without_a_required_column_is_refused(pulse_engine):
    with pytest.raises(loader.PulseFileError, match=r"Missing column\(s\): score"):
        loader.check(pulse_engine, _csv("email,date", "r10@x.com,2026-11-05"), as_of=date(2026, 11, 23))


def test_the_command_line_import_checks_then_writes(pulse_engine, tmp_path, capsys):
    url = str(pulse_engine.url)
    pulse_engine.dispose()
    bad, good = tmp_path / "bad.csv", tmp_path / "good.csv"
    bad.write_bytes(_csv("email,date,score", "r10@x.com,2026-11-05,eleven"))
    good.write_bytes(_csv("email,date,score", "r10@x.com,2026-11-05,9"))
    assert main(["pulse-import", str(bad), "--url", url]) == 2
    assert "line 2, score = 'eleven': not a whole number from 0 to 10" in capsys.readouterr().err
    assert main(["pulse-import", str(good), "--url", url, "--dry-run"]) == 0
    assert "1 responses would be imported" in capsys.readouterr().out
    assert main(["pulse-import", str(good), "--url", url]) == 0
    assert "Imported 1 responses." in capsys.readouterr().out


def test_demo_scores_lean_on_selling(demo_engine, demo_frames):
    """Reps who book more answer higher on average (the demo draws scores from the same skill as win rates)."""
    rows = read_frame(demo_engine, sa.select(survey_response))
    opps, people = demo_frames["opportunity"], demo_frames["person"]
    reps = people.loc[people["role"] == "rep", "id"]
    booked = opps[opps["is_won"].astype(bool)].groupby("owner_id")["amount"].sum()
    scores = rows[rows["person_id"].isin(reps)].groupby("person_id")["score"].mean()
    both = scores.to_frame("score").join(booked.rename("booked")).fillna(0)
    assert len(both) >= 10 and both.corr(method="spearman").loc["score", "booked"] > 0.2
