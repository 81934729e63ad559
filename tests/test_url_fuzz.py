"""Fuzz the link's query parameters (issue 8, item 11): random and hostile values for every parameter the
filter bar reads, as every demo role, on every page. Each link must draw without an exception, widen no
one's view (the tiles are the viewer's own numbers, every id kept is one the viewer may pick, a rep sees
only their own deals), and say what it ignored.

Seeded and bounded (CI runs it on 2 cores). Breadth: per role, LINKS links through the filter bar with
the role's scope, as app.py wires them (a light script: no sign-in per link). Depth: per role, one link
with a valid range at the edges (the bounds, one day, a leap day) opened in the whole app, signed in, on
every page. AppTest reruns a multipage app's page on its own after the first run, so one signed-in
session cannot load a second link (PITFALLS.md).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from functools import cache

import pytest
from apptest_support import AS_OF, run_page, users_path
from streamlit.testing.v1 import AppTest

from spm_core import metrics
from spm_core.db import make_engine
from spm_core.dimensions import FilterOptions, filter_options
from spm_core.filters import PERIOD_NAMES, Filters
from spm_core.users import UserStore, viewer_scope
from ui.filters import EARLIEST, LATEST, PEOPLE_PARAMS
from ui.format import money

ROLES = ("admin", "leader", "manager", "teamlead", "rep")
OTHER_PAGES = ("pipeline", "attainment", "leaderboard", "forecast")  # the Overview is the frame's default page
LINKS = 12
SINGLE_PARAMS = ("period", "from", "to")

HOSTILE = [
    "",
    " ",
    ",,,",
    "²",
    "٣",
    "１",
    "-1",
    "+3",
    "1e3",
    "0x10",
    "NaN",
    str(10**30),
    "9" * 5000,
    "<b>1</b>",
    "<script>alert(1)</script>",
    "[Session expired](https://evil.example/login)",
    "![t](http://127.0.0.1:9/p.png)",
    "*_`$x$`_*",
    "1; DROP TABLE person; --",
    "1 OR 1=1",
    "' OR ''='",
    "%00",
    "\u202e1",
]
DATES = [
    "0001-01-01",
    "9999-12-31",
    "1899-12-31",
    "2201-01-01",
    "2023-02-29",
    "2026-13-01",
    "²⁰²⁶-01-01",
    "now",
    "2026-11-23T00:00",
    "20261123",
    "2026-W47-1",
]
# Valid ranges at the edges of what a link may ask: the bounds, one day, a leap day, a reversed range.
EDGE_RANGES = [
    ("1900-01-01", "2200-12-31"),
    ("1900-01-01", "1900-01-01"),
    ("2200-12-31", "2200-12-31"),
    ("2024-02-29", "2024-03-31"),
    ("2026-11-23", "2026-11-23"),
    ("2026-11-30", "2026-11-01"),
]
UNKNOWN_KEYS = ["REP", "rep ", "from_", "__proto__", "<b>k</b>", "x" * 300]


@dataclass(frozen=True)
class Viewer:
    username: str
    person_id: int | None
    name: str


@cache
def engine(url: str):
    return make_engine(url, read_only=True)


def viewer(url: str, username: str) -> Viewer:
    user = UserStore(users_path(url)).get(username)
    return Viewer(username, user.person_id, user.name)


def scope_of(url: str, username: str):
    return viewer_scope(engine(url), UserStore(users_path(url)).get(username))


@cache
def options_of(url: str, username: str) -> FilterOptions:
    return filter_options(engine(url), scope_of(url, username))


def id_values(rng: random.Random, known: list[int], outside: list[int]) -> list[str]:
    """Ids for one people parameter: mostly hostile, some visible to the viewer, some not."""
    pool = [*rng.sample(HOSTILE, 3), *(str(i) for i in rng.sample(known, min(2, len(known)))), *map(str, outside[:1])]
    return [",".join(rng.sample(pool, rng.randint(1, 3))) for _ in range(rng.choice((1, 1, 2)))]  # 2: a repeated key


def random_link(rng: random.Random, options: FilterOptions, everyone: FilterOptions, edge: bool) -> dict[str, str | list[str]]:
    """Every parameter the filter bar reads, each absent, valid, hostile or repeated; `edge` forces a valid
    range at the edges of what a link may ask, so the pages compute with it."""
    link: dict[str, str | list[str]] = {}
    if edge or rng.random() < 0.7:
        start, end = rng.choice(EDGE_RANGES) if edge else (rng.choice([*DATES, *HOSTILE]), rng.choice(DATES))
        link["from"], link["to"] = start, end
    if rng.random() < 0.5:
        link["period"] = rng.choice([*PERIOD_NAMES, *rng.sample(HOSTILE, 2)])
    if not edge and rng.random() < 0.3:
        link["to"] = [rng.choice(DATES), str(link.get("to", "2026-12-31"))]  # a repeated key: the last counts
    for param, (field, _) in PEOPLE_PARAMS.items():
        if rng.random() < 0.8:
            known, all_ids = list(getattr(options, field)), list(getattr(everyone, field))
            values = id_values(rng, known, [i for i in all_ids if i not in known])
            link[param] = values if len(values) > 1 else values[0]
    for key in rng.sample(UNKNOWN_KEYS, rng.randint(0, 2)):
        link[key] = rng.choice(HOSTILE)
    return link


def values(link: dict, key: str) -> list[str]:
    got = link.get(key, [])
    return [got] if isinstance(got, str) else list(got)


def valid_range(start: str, end: str) -> bool:
    try:
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        return False
    return EARLIEST <= first <= last <= LATEST


def expected_notices(link: dict, options: FilterOptions) -> list[str]:
    """What the notices must mention, worked out from the link alone: one entry per ignored thing."""
    wanted = []
    for key in SINGLE_PARAMS:
        if len(values(link, key)) > 1:
            wanted.append(f"Ignored the extra '{key}' value(s)")
    start, end = (values(link, k)[-1] if values(link, k) else "" for k in ("from", "to"))
    period = values(link, "period")[-1] if values(link, "period") else None
    if start or end:
        if not valid_range(start, end):
            wanted.append("Ignored the date range in the link")
        if period is not None:
            wanted.append("Ignored the period")
    elif period is not None and period not in PERIOD_NAMES:
        wanted.append("Ignored the unknown period")
    for param, (field, label) in PEOPLE_PARAMS.items():
        parts = [p.strip() for p in ",".join(values(link, param)).split(",") if p.strip()]
        known = getattr(options, field)
        bad = [p for p in parts if not (p.isascii() and p.isdigit() and len(p) <= 18 and int(p) in known)]
        if bad:  # one notice per parameter lists its ignored values (markup in them may come out escaped)
            wanted += [f"Ignored {label.lower()} ", *(p for p in bad if p.isalnum() and len(p) < 40)]
    unknown = [k for k in link if k not in (*SINGLE_PARAMS, *PEOPLE_PARAMS)]
    wanted += ["Ignored unknown link parameter(s)"] if unknown else []
    wanted += [k for k in unknown if k.isalnum() and len(k) < 40]
    return wanted


def check_filters(filters: Filters, notices: list[str], options: FilterOptions, link: dict) -> None:
    """Every id kept is one the viewer may pick; every ignored value has its notice."""
    for param, (field, _) in PEOPLE_PARAMS.items():
        assert getattr(filters, field) <= set(getattr(options, field)), (param, link)
    shown = " ".join(notices)
    for wanted in expected_notices(link, options):
        assert wanted in shown, (wanted, shown, link)


def _filter_bar_as(username: str) -> None:
    """app.py's wiring of the filter bar: the warehouse, the signed-in user's scope, the bar."""
    import streamlit as st

    from spm_core.users import UserStore, viewer_scope
    from ui import warehouse
    from ui.filters import filter_bar

    wh = warehouse.current()
    st.session_state["got"] = filter_bar(wh, viewer_scope(wh.engine, UserStore().get(username)))


@pytest.mark.parametrize("username", ROLES)
def test_hostile_links_through_the_filter_bar(monkeypatch, demo_url, username):
    monkeypatch.setenv("SPM_WAREHOUSE_URL", demo_url)
    monkeypatch.setenv("SPM_USERS_FILE", str(users_path(demo_url)))
    rng = random.Random(f"issue-8-{username}")
    options, everyone = options_of(demo_url, username), options_of(demo_url, "leader")
    for _ in range(LINKS):
        link = random_link(rng, options, everyone, edge=rng.random() < 0.3)
        at = AppTest.from_function(_filter_bar_as, args=(username,), default_timeout=30)
        at.query_params.update(link)
        at.run()
        assert not at.exception and not at.error, (link, at.exception)
        check_filters(at.session_state["got"], at.session_state["f_notices"], options, link)


def owners_on_screen(at: AppTest) -> set[str]:
    return {str(o) for d in at.dataframe if "owner" in d.value.columns for o in d.value["owner"]}


@pytest.mark.parametrize("username", ROLES)
def test_a_hostile_link_at_the_calendars_edges_on_every_page(monkeypatch, demo_url, username):
    rng = random.Random(f"issue-8-pages-{username}")
    options, everyone = options_of(demo_url, username), options_of(demo_url, "leader")
    link = random_link(rng, options, everyone, edge=True)
    at = run_page(monkeypatch, demo_url, params=link, user=username)
    assert not at.exception and not at.error, (link, at.exception)
    ctx = at.session_state["page_context"]
    assert ctx.scope == scope_of(demo_url, username)
    check_filters(ctx.filters, at.session_state["f_notices"], options, link)
    bookings = metrics.query(engine(demo_url), ["bookings"], ctx.filters, ctx.scope, as_of=AS_OF).iloc[0, 0]
    assert {m.label: m.value for m in at.metric}["Bookings"] == money(bookings), link  # the viewer's own number
    who = viewer(demo_url, username)
    for page in OTHER_PAGES:
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception and not at.error, (page, link, at.exception)
        if username == "rep":
            assert owners_on_screen(at) <= {who.name}, (page, link)
