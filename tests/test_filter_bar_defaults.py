"""The filter widgets' defaults are their current values, on every run (the Chromium flake ?period=this_month).

Streamlit tells the browser a value set through session state (the filters read from the link) in the run
that set it only. When a rerun follows at once (the sign-in cookie component's reply does), the browser may
mount the widget from the later run's message, which carries only the widget's default: it then shows that
default and sends it back as the user's choice at the next click. So each widget's default must be the
value the server holds, in the run that seeds it and in every later run. (AppTest reruns only the page
after the first full run, so these check the run that reads the link; later runs take the same path.)
"""

from __future__ import annotations

import sqlalchemy as sa
from apptest_support import run_page

from spm_core.db import make_engine, read_frame
from spm_core.schema import team


def a_team_id(url: str) -> int:
    engine = make_engine(url, read_only=True)
    try:
        return int(read_frame(engine, sa.select(team.c.id).order_by(team.c.id.desc()))["id"].iloc[0])
    finally:
        engine.dispose()


def test_the_period_and_people_widgets_default_to_the_links_values(monkeypatch, demo_url):
    team_id = a_team_id(demo_url)
    at = run_page(monkeypatch, demo_url, params={"period": "last_quarter", "team": str(team_id)})
    assert not at.exception
    period, teams = at.sidebar.selectbox(key="f_period"), at.sidebar.multiselect(key="f_team")
    assert period.value == "last_quarter" and period.proto.default == period.index
    assert teams.value == [team_id] and list(teams.proto.default) == list(teams.indices)

