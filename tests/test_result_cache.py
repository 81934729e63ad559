"""spm_core/result_cache.py: people whose pages send the same statement (same KPIs, filters and scope) share one
cached result, while each viewer's scope keeps results apart; checked by counting the statements that reach
the warehouse, and against the same queries on an engine with no cache."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from spm_core import result_cache
from spm_core.db import make_engine, read_frame
from spm_core.filters import Filters, Period, Scope
from spm_core.metrics import query
from spm_core.schema import person

Q4 = Filters(Period(date(2026, 10, 1), date(2026, 12, 31)))
AS_OF = date(2026, 11, 23)
KPIS = ["bookings", "open_pipeline", "attainment", "pct_reps_at_quota"]


@pytest.fixture
def cached(demo_duckdb: Engine) -> Iterator[tuple[Engine, result_cache.ResultCache, list[str]]]:
    """A second engine on the demo warehouse with a cache attached, and the SQL of each statement it runs."""
    engine = make_engine(demo_duckdb.url.render_as_string(hide_password=False))
    cache = result_cache.attach(engine)
    sent: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda conn, cursor, sql, *rest: sent.append(sql))
    yield engine, cache, sent
    engine.dispose()


def managers(engine: Engine) -> list[int]:
    """Two first-line managers of the demo (managed by someone), each with reps of their own."""
    boss = person.alias("boss")
    stmt = sa.select(person.c.id).join(boss, boss.c.id == person.c.manager_id).where(person.c.role == "manager")
    return sorted(read_frame(engine, stmt.order_by(person.c.id))["id"].tolist())[:2]


def test_two_viewers_with_the_same_scope_and_filters_share_one_entry(cached, demo_duckdb):
    engine, cache, sent = cached
    first, _ = managers(demo_duckdb)
    mine = query(engine, KPIS, Q4, Scope.subtree(first), ["rep"], AS_OF)  # the manager in one session
    statements = len(sent)
    theirs = query(engine, KPIS, Q4, Scope.subtree(first), ["rep"], AS_OF)  # the same view from another session
    assert statements == 2 and len(sent) == statements  # additive KPIs + the reps' share: nothing sent again
    assert cache.hits == 2 and len(cache) == 2
    pd.testing.assert_frame_equal(theirs, mine)
    pd.testing.assert_frame_equal(mine, query(demo_duckdb, KPIS, Q4, Scope.subtree(first), ["rep"], AS_OF))


def test_each_viewers_scope_keeps_results_apart(cached, demo_duckdb):
    engine, cache, sent = cached
    first, second = managers(demo_duckdb)
    views = {
        "manager 1": Scope.subtree(first),
        "manager 2": Scope.subtree(second),
        "manager 1 alone": Scope.only(first),
        "leader": Scope.everyone(),
    }
    got = {who: query(engine, KPIS, Q4, scope, ["rep"], AS_OF) for who, scope in views.items()}
    assert len(cache) == 2 * len(views) and cache.hits == 0 and len(sent) == 2 * len(views)
    for who, scope in views.items():  # each equals the uncached answer for that scope, not someone else's
        pd.testing.assert_frame_equal(got[who], query(demo_duckdb, KPIS, Q4, scope, ["rep"], AS_OF), obj=who)
    reps = {who: set(frame["rep_id"]) for who, frame in got.items()}
    assert reps["manager 1"].isdisjoint(reps["manager 2"]) and reps["manager 1"] < reps["leader"]


def test_other_filters_are_other_entries(cached):
    engine, cache, _ = cached
    q3 = Q4.with_period(Period(date(2026, 7, 1), date(2026, 9, 30)))
    assert query(engine, ["bookings"], Q4, Scope.everyone()).iloc[0, 0] != query(engine, ["bookings"], q3, Scope.everyone()).iloc[0, 0]
    team = Filters(Q4.period, teams=frozenset({1}))
    query(engine, ["bookings"], team, Scope.everyone())
    assert len(cache) == 3 and cache.hits == 0


def test_a_caller_changing_its_frame_leaves_the_entry_alone(cached):
    engine, _, _ = cached
    frame = query(engine, ["bookings"], Q4, Scope.everyone())
    before = frame.iloc[0, 0]
    frame["bookings"] = -1.0
    frame.loc[0, "bookings"] = -2.0
    assert query(engine, ["bookings"], Q4, Scope.everyone()).iloc[0, 0] == before


def test_old_entries_expire_and_the_cache_stays_bounded(demo_duckdb):
    engine = make_engine(demo_duckdb.url.render_as_string(hide_password=False))
    cache = result_cache.attach(engine, result_cache.ResultCache(max_entries=2, max_age=0.0))
    try:
        for month in (10, 11, 12):
            query(engine, ["bookings"], Filters(Period.month(date(2026, month, 1))), Scope.everyone())
        query(engine, ["bookings"], Filters(Period.month(date(2026, 12, 1))), Scope.everyone())  # kept, but too old
        assert len(cache) == 2 and cache.hits == 0 and cache.misses == 4
    finally:
        engine.dispose()


def test_reads_through_a_connection_are_never_cached(cached):
    """A connection may be inside a transaction that writes: it always reads the warehouse itself."""
    engine, cache, sent = cached
    with engine.connect() as conn:
        query(conn, ["bookings"], Q4, Scope.everyone())
        query(conn, ["bookings"], Q4, Scope.everyone())
    assert len(sent) == 2 and len(cache) == 0


def test_clear_all_empties_every_attached_cache(cached):
    engine, cache, sent = cached
    query(engine, ["bookings"], Q4, Scope.everyone())
    result_cache.clear_all()
    assert len(cache) == 0
    query(engine, ["bookings"], Q4, Scope.everyone())
    assert cache.hits == 0 and len(sent) == 2  # asked again after clearing: sent again
