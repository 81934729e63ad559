"""My commissions under AppTest when the rep's plan pays on won deals beside bookings: one gauge per
commission, in the measure's words, as spm_core.comp.statements says."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from apptest_support import AS_OF, run_page, users_path

from spm_core.comp.plans import Band, Component
from spm_core.comp.statements import statement
from spm_core.comp.store import load_plans, save_plan
from spm_core.db import make_engine
from spm_core.filters import Period
from spm_core.users import UserStore, viewer_scope
from ui.text import md

CURRENT = Period.quarter(AS_OF)
LOGOS = Component("Logos", "commission", measure="won_count", mode="marginal", target=Decimal(20),
                  bands=(Band(Decimal(0), Decimal(100), Decimal(100)), Band(Decimal(100), None, Decimal(300))))


def test_a_rep_on_a_won_deals_commission_sees_its_gauge_in_deals(monkeypatch, copy_url):
    rep = UserStore(users_path(copy_url)).get("rep")
    engine = make_engine(copy_url)
    plans = load_plans(engine)
    mine = next(p for p in plans if any(a.person_id == rep.person_id and a.start <= CURRENT.end and (a.end or CURRENT.end) >= CURRENT.end
                                       for a in p.assignments))
    latest = max(p.version for p in plans if p.name == mine.name)
    save_plan(engine, replace(mine, version=latest + 1, effective_from=CURRENT.start, effective_to=None, assignments=(),
                              components=(LOGOS, *mine.components)), saved_by="test")
    s = statement(engine, viewer_scope(engine, rep), rep.person_id, CURRENT)
    engine.dispose()
    texts = [text for _, text in s.attainments]
    assert [a.measure for a, _ in s.attainments][:2] == ["won_count", "won_amount"] and len(texts) >= 2
    assert texts[0].startswith("Logos: Attainment ") and " % of 60 won deals. " in texts[0] and texts[0].endswith("more won deals to reach 100 % and $300.00 per deal")
    at = run_page(monkeypatch, copy_url, "my_commissions", user="rep")
    assert not at.exception
    assert [p.proto.text for p in at.get("progress")] == [md(t) for t in texts]
