"""Incremental upkeep of the stored history numbers on import (spm_core.fact_changes): after each kind of
import, every stored table equals a full rebuild of it (period_facts.rebuild_all), on hand-made imports and on
the demo, and the imports that leave as_of and the first history day alone never rebuild in full."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from import_support import generic_parsed
from sqlalchemy.engine import Engine

from spm_core import fact_changes, history_facts, period_facts, schema
from spm_core.db import get_info, make_engine, read_frame
from spm_core.importing.apply import apply_import
from spm_core.importing.model import Parsed
from spm_core.importing.plan import plan_import
from spm_core.transfer import copy_warehouse

STORED = ("deal_stage", "deal_current_stage", *(t.name for t in period_facts.TABLES))
STAGES = {s: s for s in ("Prospecting", "Qualification", "Discovery", "Proposal", "Negotiation", "Closed Won", "Closed Lost")}
DEAL_COLUMNS = ["source_id", "owner", "account", "product", "amount", "stage", "created_date", "close_date"]
HISTORY_COLUMNS = ["source_id", "opportunity_source_id", "changed_at", "stage", "amount", "close_date"]


def deals(*rows: tuple) -> pd.DataFrame:
    """(source_id, owner, account, product, amount, stage, created, close) rows as the parse step gives them."""
    frame = pd.DataFrame(list(rows), columns=DEAL_COLUMNS)
    strings = dict.fromkeys(["source_id", "owner", "account", "product", "stage"], "string")
    return frame.astype({**strings, "amount": "float64", "created_date": "datetime64[ns]", "close_date": "datetime64[ns]"})


def changes(*rows: tuple) -> pd.DataFrame:
    """(source_id, deal source_id, changed_at, stage, amount, close_date) history rows."""
    frame = pd.DataFrame(list(rows), columns=HISTORY_COLUMNS)
    strings = dict.fromkeys(["source_id", "opportunity_source_id", "stage"], "string")
    return frame.astype({**strings, "amount": "float64", "changed_at": "datetime64[ns]", "close_date": "datetime64[ns]"})


def parsed(**frames: pd.DataFrame) -> Parsed:
    return generic_parsed(STAGES, **{"opportunities": deals(), **frames})


def stored(engine: Engine) -> dict[str, pd.DataFrame]:
    """Every stored table, rows in a canonical order."""
    result = {}
    for name in STORED:
        frame = read_frame(engine, sa.select(schema.metadata.tables[name]))
        result[name] = frame.sort_values(list(frame.columns), ignore_index=True)
    return result


def assert_equal_to_full_rebuild(engine: Engine) -> dict[str, pd.DataFrame]:
    kept = stored(engine)
    period_facts.rebuild_all(engine, cluster=False)
    rebuilt = stored(engine)
    for name in STORED:
        pd.testing.assert_frame_equal(kept[name], rebuilt[name], check_dtype=False, obj=name)
    return rebuilt


def import_incrementally(engine: Engine, monkeypatch: pytest.MonkeyPatch, full: bool = False, **frames) -> None:
    """Import `frames`; unless `full`, a full rebuild of the period numbers on the way fails the test (the
    changed groups hold a large share of these small warehouses' deals: recomputed by group all the same)."""
    with monkeypatch.context() as patch:
        patch.setattr(fact_changes, "FULL_SHARE", 1.0)
        if not full:
            def refuse(*args, **kwargs):
                raise AssertionError("rebuilt in full")
            patch.setattr(period_facts, "rebuild", refuse)
        apply_import(engine, plan_import(engine, parsed(**frames)))


# ------------------------------------------------------------------------------------- hand-made imports

# Three reps, two products and one deal without a product; as_of is 2026-06-30 (the latest history day).
START = deals(
    ("A", "Ann Lee", "Acme", "Widget", 100.0, "Closed Won", "2026-01-05", "2026-03-20"),
    ("B", "Ann Lee", "Acme", "Gadget", 200.0, "Proposal", "2026-02-01", "2026-06-25"),
    ("C", "Bob Ray", "Globex", "Widget", 300.0, "Negotiation", "2026-03-10", "2026-08-15"),
    ("D", "Bob Ray", "Globex", None, 400.0, "Closed Lost", "2026-01-20", "2026-05-10"),
    ("E", "Cy Dee", "Initech", "Gadget", 500.0, "Discovery", "2025-11-02", "2026-07-31"),
    ("F", "Cy Dee", "Initech", "Widget", 600.0, "Qualification", "2026-04-01", "2026-09-30"),
)  # fmt: skip
START_HISTORY = changes(
    ("a1", "A", "2026-01-05", "Prospecting", 100.0, "2026-03-31"), ("a2", "A", "2026-02-10", "Proposal", 100.0, "2026-03-31"),
    ("a3", "A", "2026-03-20", "Closed Won", 100.0, "2026-03-20"),
    ("b1", "B", "2026-02-01", "Qualification", 150.0, "2026-05-31"), ("b2", "B", "2026-04-15", "Proposal", 200.0, "2026-06-25"),
    ("c1", "C", "2026-03-10", "Discovery", 300.0, "2026-06-30"), ("c2", "C", "2026-05-02", "Negotiation", 300.0, "2026-08-15"),
    ("d1", "D", "2026-01-20", "Qualification", 400.0, "2026-04-30"), ("d2", "D", "2026-05-10", "Closed Lost", 400.0, "2026-05-10"),
    ("e1", "E", "2025-11-02", "Prospecting", 500.0, "2026-03-31"), ("e2", "E", "2026-03-01", "Discovery", 500.0, "2026-07-31"),
    ("f1", "F", "2026-04-01", "Qualification", 600.0, "2026-09-30"), ("f2", "F", "2026-06-30", "Qualification", 650.0, "2026-09-30"),
)  # fmt: skip

# Each kind of import, in turn, on the warehouse the previous ones left (none moves as_of or the first history day).
STEPS = [
    ("a new deal with history", dict(
        opportunities=deals(("G", "Ann Lee", "Acme", "Widget", 700.0, "Proposal", "2026-05-05", "2026-06-28")),
        history=changes(("g1", "G", "2026-05-05", "Discovery", 650.0, "2026-06-28"), ("g2", "G", "2026-06-01", "Proposal", 700.0, "2026-06-28")),
    )),
    ("an amount change", dict(history=changes(("b3", "B", "2026-06-10", "Proposal", 260.0, "2026-06-25")))),
    ("a push out of the quarter", dict(history=changes(("e3", "E", "2026-06-20", "Discovery", 500.0, "2026-07-31")),
                                        opportunities=deals(("E", "Cy Dee", "Initech", "Gadget", 500.0, "Discovery", "2025-11-02", "2026-10-15")))),
    ("a pull-in", dict(history=changes(("c3", "C", "2026-06-05", "Negotiation", 300.0, "2026-06-29")))),
    ("a reopening of a lost deal", dict(history=changes(("d3", "D", "2026-06-12", "Proposal", 420.0, "2026-07-20")))),
    ("a deal moved to another owner and product", dict(
        opportunities=deals(("F", "Ann Lee", "Acme", "Gadget", 650.0, "Qualification", "2026-04-01", "2026-09-30")))),
    ("a deal row changed without history", dict(
        opportunities=deals(("B", "Bob Ray", "Acme", None, 260.0, "Closed Won", "2026-02-01", "2026-06-26")))),
    ("a history row replaced on its day", dict(history=changes(("a2", "A", "2026-02-10", "Negotiation", 110.0, "2026-03-31")))),
    ("a re-import of the same rows", dict(history=changes(("c3", "C", "2026-06-05", "Negotiation", 300.0, "2026-06-29")))),
]  # fmt: skip


@pytest.fixture
def kept_warehouse(tiny_engine: Callable[..., Engine]) -> Engine:
    """The START deals imported, their facts built in full (so imports keep them up), as_of 2026-06-30."""
    engine = tiny_engine()
    apply_import(engine, plan_import(engine, parsed(opportunities=START, history=START_HISTORY)))
    period_facts.rebuild_all(engine)
    assert get_info(engine)["as_of"] == "2026-06-30" and history_facts.has_facts(engine)
    return engine


def test_each_kind_of_import_keeps_every_stored_table_equal_to_a_full_rebuild(kept_warehouse, monkeypatch):
    engine = kept_warehouse
    for name, frames in STEPS:
        before = stored(engine)
        import_incrementally(engine, monkeypatch, **frames)
        after = assert_equal_to_full_rebuild(engine)
        if name != "a re-import of the same rows":  # the test data changes something each time (no vacuous step)
            assert any(not before[t].equals(after[t]) for t in STORED), name
    assert get_info(engine)["as_of"] == "2026-06-30"


def test_the_changed_deals_are_all_those_written(kept_warehouse, monkeypatch):
    """A deal moved to another owner changes its old group's rows and its new one's (both kept exact)."""
    engine = kept_warehouse
    f = schema.pipeline_change_fact.c
    owners = read_frame(engine, sa.select(schema.person.c.id, schema.person.c.name)).set_index("name")["id"]
    def open_now(owner: str) -> float:
        frame = read_frame(engine, sa.select(sa.func.sum(f.a7)).where(f.owner_id == int(owners[owner])))
        return float(frame.iloc[0, 0] or 0)
    before = open_now("Cy Dee"), open_now("Ann Lee")
    import_incrementally(engine, monkeypatch, opportunities=deals(
        ("F", "Ann Lee", "Acme", "Widget", 650.0, "Qualification", "2026-04-01", "2026-09-30")))  # fmt: skip
    after = open_now("Cy Dee"), open_now("Ann Lee")
    # F (650 open in this year's pipeline) leaves Cy's rows for Ann's; the stored sum moves with it
    assert after[0] < before[0] and after[1] > before[1]
    assert_equal_to_full_rebuild(engine)


def test_an_import_moving_as_of_or_the_first_history_day_rebuilds_in_full(kept_warehouse, monkeypatch):
    engine = kept_warehouse
    later = changes(("b9", "B", "2026-07-15", "Negotiation", 260.0, "2026-07-31"))
    import_incrementally(engine, monkeypatch, full=True, history=later)
    assert get_info(engine)["as_of"] == "2026-07-15"
    assert history_facts.period_facts_hold(engine, period_facts.standard_periods(pd.Timestamp("2026-07-15").date())[0])
    assert_equal_to_full_rebuild(engine)
    earlier = changes(("e0", "E", "2025-10-01", "Prospecting", 480.0, "2026-03-31"))
    with pytest.raises(AssertionError, match="rebuilt in full"):  # the forecast's learning periods may move
        import_incrementally(engine, monkeypatch, history=earlier)
    import_incrementally(engine, monkeypatch, full=True, history=earlier)
    assert_equal_to_full_rebuild(engine)


def test_when_the_changed_groups_hold_most_deals_the_periods_are_rebuilt_whole(kept_warehouse, monkeypatch):
    engine, whole = kept_warehouse, []
    rebuild = period_facts.rebuild
    monkeypatch.setattr(period_facts, "rebuild", lambda conn, as_of: whole.append(as_of) or rebuild(conn, as_of))
    apply_import(engine, plan_import(engine, parsed(**STEPS[1][1])))  # B's group (Ann, Gadget): 1 deal of 6
    assert whole == []
    spread = changes(*((f"s{deal}", deal, "2026-06-15", "Negotiation", 900.0, "2026-07-15") for deal in "ACDE"))
    apply_import(engine, plan_import(engine, parsed(history=spread)))
    assert whole == [date(2026, 6, 30)]  # four groups of one deal each: 4 deals of 6, over FULL_SHARE
    assert_equal_to_full_rebuild(engine)


def test_an_import_changing_no_deal_recomputes_nothing(kept_warehouse, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("recomputed")

    monkeypatch.setattr(period_facts, "refresh_changed", refuse)
    monkeypatch.setattr(history_facts, "refresh", refuse)
    quotas = pd.DataFrame({"owner": ["Ann Lee"], "month": [pd.Timestamp("2026-06-01")], "amount": [5000.0]})
    import_incrementally(kept_warehouse, monkeypatch, quotas=quotas)
    assert read_frame(kept_warehouse, sa.select(schema.quota.c.amount)).iloc[0, 0] == 5000
    assert_equal_to_full_rebuild(kept_warehouse)


def test_without_complete_facts_an_import_builds_none(tiny_engine):
    engine = tiny_engine()
    apply_import(engine, plan_import(engine, parsed(opportunities=START, history=START_HISTORY)))
    assert not history_facts.has_facts(engine)
    assert all(frame.empty for frame in stored(engine).values())


def test_a_failed_import_leaves_the_facts_and_no_temporary_table(kept_warehouse, monkeypatch):
    engine = kept_warehouse
    before = stored(engine)
    with monkeypatch.context() as patch:
        def fail(*args, **kwargs):
            raise RuntimeError("disk full")
        patch.setattr(period_facts, "refresh_changed", fail)
        patch.setattr(fact_changes, "FULL_SHARE", 1.0)
        with pytest.raises(RuntimeError):
            apply_import(engine, plan_import(engine, parsed(**STEPS[0][1])))
    after = stored(engine)
    for name in STORED:
        pd.testing.assert_frame_equal(after[name], before[name], obj=name)
    import_incrementally(engine, monkeypatch, **STEPS[0][1])  # the temporary tables are gone: it runs again
    assert_equal_to_full_rebuild(engine)


OWNERS = ("Ann Lee", "Bob Ray", "Cy Dee", "Di New")  # Di New is created by the import that names her
ACCOUNTS = dict(zip(START["source_id"], START["account"], strict=True))
CREATED = dict(zip(START["source_id"], START["created_date"], strict=True))
CHANGE = st.tuples(
    st.sampled_from(sorted(ACCOUNTS)),  # which deal
    st.booleans(),  # with a new deal row (owner, product, stage, amount, close date)
    st.booleans(),  # with a history row
    st.sampled_from(sorted(STAGES)),
    st.integers(1, 9).map(lambda n: 100.0 * n),
    st.dates(date(2026, 1, 1), date(2026, 12, 31)),  # close date
    st.dates(date(2025, 11, 2), date(2026, 6, 30)),  # history day: between the first history day and as_of
    st.sampled_from(OWNERS),
    st.sampled_from(("Widget", "Gadget", None)),
)


@settings(max_examples=12, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(CHANGE, min_size=1, max_size=4))
@example(picked=[  # a deal listed twice: closed after as_of, then open again in its last row (as_of stays)
    ("B", True, False, "Closed Won", 500.0, date(2026, 9, 1), date(2025, 11, 7), "Cy Dee", None),
    ("B", True, True, "Proposal", 600.0, date(2026, 6, 15), date(2026, 3, 18), "Cy Dee", "Gadget"),
])
def test_random_imports_keep_every_stored_table_equal_to_a_full_rebuild(new_warehouse_url, monkeypatch, picked):
    engine = make_engine(new_warehouse_url())
    try:
        apply_import(engine, plan_import(engine, parsed(opportunities=START, history=START_HISTORY)))
        period_facts.rebuild_all(engine)
        deal_rows, history_rows = [], []
        for n, (deal, with_row, with_history, stage, amount, close, day, owner, product) in enumerate(picked):
            if with_row or not with_history:
                deal_rows.append((deal, owner, ACCOUNTS[deal], product, amount, stage, CREATED[deal], close))
            if with_history:
                history_rows.append((f"h{n}", deal, day, stage, amount, close))
        frames = {"opportunities": deals(*deal_rows).drop_duplicates("source_id", keep="last")}
        if history_rows:
            frames["history"] = changes(*history_rows)
        # a deal closed after as_of moves it (to the close date, capped at today): then all is rebuilt
        final = {r[0]: r for r in deal_rows}  # a deal listed twice: the import keeps its last row
        later = [r[7] for r in final.values() if r[5].startswith("Closed") and r[7] > date(2026, 6, 30)]
        import_incrementally(engine, monkeypatch, full=bool(later), **frames)
        assert (get_info(engine)["as_of"] > "2026-06-30") == bool(later)
        assert_equal_to_full_rebuild(engine)
    finally:
        engine.dispose()


# ------------------------------------------------------------------------------------------------ the demo


@pytest.fixture
def demo_copy(demo_duckdb: Engine, new_warehouse_url: Callable[[], str]) -> Engine:
    engine = make_engine(new_warehouse_url())
    copy_warehouse(demo_duckdb, engine)
    period_facts.rebuild_all(engine, cluster=False)
    yield engine
    engine.dispose()


def demo_import(engine: Engine) -> dict[str, pd.DataFrame]:
    """Deals of the demo changed the ways imports change them: amounts, pushes, pull-ins, reopenings, new
    owners, closes, plus new deals (the demo's deals get source ids first: imports match on them)."""
    o, p, a, pr = schema.opportunity.c, schema.person.c, schema.account.c, schema.product.c
    rows = read_frame(engine, sa.select(o.id, o.owner_id, o.amount, o.stage, o.created_date, o.close_date, o.is_closed,
                                         p.name.label("owner"), a.name.label("account"), pr.name.label("product"))
                      .join_from(schema.opportunity, schema.person, p.id == o.owner_id)
                      .outerjoin(schema.account, a.id == o.account_id).outerjoin(schema.product, pr.id == o.product_id)
                      .order_by(o.id))  # fmt: skip
    as_of = pd.Timestamp(get_info(engine)["as_of"])
    opened = rows[~rows["is_closed"]].head(40)
    # closed in the past year after a long life: in the cohorts the running periods' forecasts learn from
    recent = rows[rows["is_closed"] & (pd.to_datetime(rows["close_date"]) > as_of - pd.Timedelta(days=300))]
    life = pd.to_datetime(recent["close_date"]) - pd.to_datetime(recent["created_date"])
    closed = recent.loc[life.sort_values(ascending=False, kind="stable").index[:10]]
    with engine.begin() as conn:
        ids = [int(i) for i in pd.concat([opened, closed])["id"]]
        conn.execute(schema.opportunity.update().where(o.id.in_(ids)).values(source_id=sa.cast(o.id, sa.String)))
    owners = rows["owner"].drop_duplicates().tolist()
    day = as_of - pd.Timedelta(days=3)
    deal_rows, history_rows = [], []
    for n, r in enumerate(opened.itertuples()):
        amount, close, stage, owner = float(r.amount), pd.Timestamp(r.close_date), r.stage, r.owner
        kind = n % 5
        if kind == 0:
            amount *= 1.5  # amount change
        elif kind == 1:
            close += pd.Timedelta(days=95)  # push
        elif kind == 2:
            close = as_of + pd.Timedelta(days=2)  # pull-in
        elif kind == 3:
            owner = owners[(owners.index(owner) + 1) % len(owners)]  # moved to another owner
        else:
            stage, close = "Closed Won", day  # closed
        deal_rows.append((str(r.id), owner, r.account, r.product, amount, stage, r.created_date, close))
        history_rows.append((f"x{r.id}", str(r.id), day, stage, amount, close))
    for n, r in enumerate(closed.itertuples()):
        if n % 2:  # reopened
            history_rows.append((f"x{r.id}", str(r.id), day, "Qualification", float(r.amount), as_of + pd.Timedelta(days=30)))
        else:  # a closed deal of past periods (which the forecast learns from) moved to another owner
            owner = owners[(owners.index(r.owner) + 1) % len(owners)]
            deal_rows.append((str(r.id), owner, r.account, r.product, float(r.amount), r.stage, r.created_date, r.close_date))
    for n in range(5):  # new deals
        deal_rows.append((f"new{n}", owners[n], None, None, 1000.0 + n, "Discovery", day, as_of + pd.Timedelta(days=20 + n)))
        history_rows.append((f"newh{n}", f"new{n}", day, "Discovery", 1000.0 + n, as_of + pd.Timedelta(days=20 + n)))
    return {"opportunities": deals(*deal_rows), "history": changes(*history_rows)}


def test_demo_imports_keep_every_stored_table_equal_to_a_full_rebuild(demo_copy, monkeypatch):
    frames = demo_import(demo_copy)
    before = stored(demo_copy)
    import_incrementally(demo_copy, monkeypatch, **frames)
    after = assert_equal_to_full_rebuild(demo_copy)
    changed = [t for t in STORED if not before[t].equals(after[t])]
    assert {"deal_stage", "pipeline_change_fact", "forecast_cohort_fact", "stage_win_fact"} <= set(changed)


def test_group_condition_matches_deals_without_a_product(kept_warehouse):
    """NO_PRODUCT stands for a NULL product on both sides, so deal D's group (Bob, none) is found."""
    with kept_warehouse.begin() as conn:
        changes_ = fact_changes.track(conn, pd.Series([4], dtype="Int64"))
        f = schema.pipeline_change_fact.c
        count = sa.select(sa.func.count()).select_from(schema.pipeline_change_fact)
        found = conn.execute(count.where(changes_.in_groups(f.owner_id, f.product_id))).scalar_one()
        stored_none = conn.execute(count.where(f.product_id.is_(None))).scalar_one()
        assert found == stored_none > 0
        conn.rollback()


def test_bench_fact_changes_smoke_run_keeps_the_facts_exact(demo_duckdb, new_warehouse_url):
    """The benchmark's imports (a few deals changed every way, new deals) run and leave the facts exact, on
    DuckDB and on PostgreSQL."""
    from spm_core.bench_fact_changes import run_fact_changes_bench

    url = new_warehouse_url()
    engine = make_engine(url)
    copy_warehouse(demo_duckdb, engine)
    engine.dispose()
    out = io.StringIO()
    run_fact_changes_bench(url, ["1", "2%"], out=out)
    assert out.getvalue().count("facts complete: True") == 2, out.getvalue()
    assert "60 deals updated" in out.getvalue()  # 2 % of 3,000 (the new deal of the first import is not among them)
    engine = make_engine(url)
    try:
        assert_equal_to_full_rebuild(engine)
    finally:
        engine.dispose()


def test_a_full_rebuild_on_postgresql_leaves_fresh_planner_statistics(demo_duckdb, pg_database):
    """The rebuild rewrites millions of fact rows; without ANALYZE after it PostgreSQL planned the next import's
    upkeep on the old statistics (78 s instead of 4 s at 1M deals)."""
    engine = make_engine(pg_database())
    try:
        copy_warehouse(demo_duckdb, engine)
        last = sa.text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'deal_stage'")
        with engine.connect() as conn:
            before = conn.execute(last).scalar()
        period_facts.rebuild_all(engine, cluster=False)
        with engine.connect() as conn:
            after = conn.execute(last).scalar()
    finally:
        engine.dispose()
    assert before is not None and after > before
