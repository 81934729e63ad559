"""The admin "Compensation plans" page under AppTest: who reaches it, checking, previewing and saving.

Tests that preview or save work on their own copy of the demo warehouse (the page opens it read-write).
"""

from __future__ import annotations

import pytest
from apptest_support import run_page
from streamlit.testing.v1 import AppTest

from spm_core.comp.store import load_plans
from spm_core.db import make_engine


def saved_versions(url: str) -> list[tuple[str, int]]:
    engine = make_engine(url, read_only=True)
    try:
        return [(p.name, p.version) for p in load_plans(engine)]
    finally:
        engine.dispose()


def editor(at: AppTest):
    return next(t for t in at.text_area if t.label == "Plan (YAML)")


def click(at: AppTest, label_start: str) -> AppTest:
    next(b for b in at.button if b.label.startswith(label_start)).click()
    return at.run()


@pytest.mark.parametrize("user", ["rep", "manager", "leader"])
def test_only_admins_get_the_plans_page(monkeypatch, demo_url, user):
    at = run_page(monkeypatch, demo_url, user=user)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/comp_plans.py")


def test_an_admin_sees_the_saved_versions(monkeypatch, demo_url):
    at = run_page(monkeypatch, demo_url, "comp_plans", user="admin")
    assert not at.exception and at.title[0].value == "Compensation plans"
    table = at.dataframe[0].value
    assert set(table["plan"]) == {"Account Executive", "Account Executive (new hire)", "Sales Manager", "Sales Leadership"}


def test_a_bad_plan_lists_its_problems_and_saves_nothing(monkeypatch, copy_url):
    at = run_page(monkeypatch, copy_url, "comp_plans", user="admin")
    editor(at).input(editor(at).value.replace("{from: 50, to: 100, rate: 5}", "{from: 60, to: 100, rate: -5}"))
    click(at, "Save as a new version")
    assert not at.exception
    assert any("nothing was saved" in e.value for e in at.error)
    problems = list(at.dataframe[-1].value["problem"])
    assert any("a gap between 50 % and 60 %" in p for p in problems) and any("-5 % is negative" in p for p in problems)
    assert ("New plan", 1) not in saved_versions(copy_url)


def test_a_new_version_is_previewed_on_last_quarter_without_writing_then_saved(monkeypatch, copy_url):
    at = run_page(monkeypatch, copy_url, "comp_plans", user="admin")
    at.selectbox(key="comp_plans_start").select("Account Executive v1").run()
    assert "version: 2" in editor(at).value
    editor(at).input(editor(at).value.replace("{from: 150, rate: 12}", "{from: 150, rate: 30}"))
    click(at, "Check and preview on 2026-Q3")
    assert not at.exception, at.exception
    preview = at.dataframe[-1].value
    assert list(preview.columns) == ["person", "calculated", "under the draft", "change"] and len(preview) > 5
    assert (preview["change"] != "$0.00").any()  # someone above 150 % earns more at 30 %
    assert ("Account Executive", 2) not in saved_versions(copy_url)
    click(at, "Save as a new version")
    assert not at.exception
    assert any("Saved as a new version" in s.value for s in at.success), ([e.value for e in at.error], [s.value for s in at.success], [d.value for d in at.dataframe][-1:])
    assert ("Account Executive", 2) in saved_versions(copy_url)
