"""History facts (spm_core.history_facts): every history KPI read from the facts equals the same KPI read
from raw opportunity_history, on the demo and on tiny hand-made histories with pushes, pull-ins, amount
changes and reopenings; the facts themselves equal a plain-pandas computation from history; imports keep
them up; clustering history changes no row; forecast accuracy in one pass equals one period at a time."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa
from test_history import GADGET, MANAGED, MANAGER, Q1, Q4_25, RITA, SAM, WIDGET, d, deal, warehouse

from spm_core import forecast, history, history_facts, period_facts
from spm_core.coaching.stage_wins import stage_wins
from spm_core.db import read_frame
from spm_core.filters import Filters, Period, Scope
from spm_core.reports.periods import accuracy_window
from spm_core.schema import deal_current_stage, deal_stage, opportunity_history, stage

AS_OF = date(2026, 11, 23)  # the demo's today (conftest.DEMO_SPEC)
AFTER = d(5, 1)


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys).reset_index(drop=True)


def assert_same_history_kpis(engine, filters: Filters, scope: Scope, as_of: date) -> None:
    """Each KPI with a facts path, computed from the facts and from raw history."""
    pairs = [
        (lambda f: history.pipeline_change(engine, filters, scope, as_of, facts=f), ["step"]),
        (lambda f: history.slipped_deals(engine, filters, scope, facts=f), ["id"]),
        (lambda f: history.stage_conversion(engine, filters, scope, facts=f), ["position"]),
        (lambda f: history.median_days_in_stage(engine, filters, scope, as_of, facts=f), ["position"]),
        (lambda f: history.stalled_deals(engine, filters, scope, as_of, facts=f), ["id"]),
        (lambda f: stage_wins(engine, filters, scope, facts=f), ["owner_id", "position"]),
    ]
    past, week = forecast.past_periods(filters.period, as_of, 8)[::-1], forecast.current_week(filters.period, as_of)
    pairs.append((lambda f: history.forecast_accuracy(engine, filters, past, week, scope, as_of, facts=f), ["period_start"]))
    if as_of < filters.period.end:
        pairs.append(
            (
                lambda f: forecast.statistical_forecast(engine, filters, scope, as_of, stored_numbers=f).cells,
                ["stage", "age_bucket"],
            )
        )
    for compute, keys in pairs:
        from_facts, from_history = compute(True), compute(False)
        pd.testing.assert_frame_equal(_sorted(from_facts, keys), _sorted(from_history, keys), check_dtype=False)


# --------------------------------------------------------------------------------------------- the demo


@pytest.mark.parametrize("period", [Period.quarter(AS_OF), Period.quarter(AS_OF).previous(), Period.year(AS_OF)])
@pytest.mark.parametrize("view", ["everyone", "manager_and_product"])
def test_demo_history_kpis_from_facts_equal_raw_history(demo_engine, period, view):
    assert history_facts.has_facts(demo_engine)
    filters, scope = Filters(period), Scope.everyone()
    if view == "manager_and_product":
        managers = read_frame(demo_engine, sa.text("select id from person where role = 'manager' order by id"))
        filters, scope = Filters(period, products=frozenset({1, 2})), Scope.subtree(int(managers["id"].iloc[0]))
    assert history_facts.period_facts_hold(demo_engine, period, AS_OF)  # the waterfall is read from stored steps
    assert_same_history_kpis(demo_engine, filters, scope, AS_OF)
    if view == "everyone":
        assert history.stage_conversion(demo_engine, filters, scope)["reached"].sum() > 0
        assert stage_wins(demo_engine, filters, scope)["closed"].sum() > 0  # read from stage_win_fact
        stalled = history.stalled_deals(demo_engine, filters, scope, AS_OF)
        assert not stalled.empty or period.end < AS_OF
        per_owner = history.stalled_per_owner(demo_engine, filters, scope, AS_OF).set_index("owner_id")["stalled"]
        owners = read_frame(demo_engine, sa.text("select id, owner_id from opportunity")).set_index("id")["owner_id"]
        want = stalled["id"].map(owners).value_counts()
        pd.testing.assert_series_equal(per_owner.sort_index(), want.sort_index(), check_names=False, check_dtype=False, check_index_type=False)


def test_demo_facts_equal_a_pandas_computation_from_history(demo_duckdb):
    raw = read_frame(demo_duckdb, sa.select(opportunity_history))
    stages = read_frame(demo_duckdb, sa.select(stage.c.name, stage.c.position, stage.c.is_won))
    want = (
        raw.groupby(["opportunity_id", "stage"], as_index=False)
        .agg(entered=("changed_at", "min"), left_at=("valid_to", "max"))
        .merge(stages.rename(columns={"name": "stage"}), on="stage", how="left")
    )
    nxt, adv = [], []
    for _, g in want.groupby("opportunity_id", sort=False):
        by_time = g.sort_values(["entered", "position"])
        following = dict(zip(by_time.index[:-1], by_time["entered"].iloc[1:], strict=True))
        for i, row in g.iterrows():
            nxt.append((i, following.get(i)))
            later = g[(g["entered"] >= row["entered"]) & (g["position"] > row["position"])]
            adv.append((i, bool(((later["position"] == row["position"] + 1) | later["is_won"]).any())))
    want["next_entered"] = pd.Series(dict(nxt))
    want["advanced"] = pd.Series(dict(adv))
    got = read_frame(demo_duckdb, sa.select(deal_stage))
    keys = ["opportunity_id", "stage"]
    columns = list(history_facts.COLUMNS)
    pd.testing.assert_frame_equal(
        _sorted(got[columns], keys).astype({"next_entered": "datetime64[ns]", "left_at": "datetime64[ns]"}),
        _sorted(want[columns], keys).astype({"next_entered": "datetime64[ns]", "left_at": "datetime64[ns]"}),
        check_dtype=False,
    )


def current_stage_from_history(raw: pd.DataFrame) -> pd.DataFrame:
    """deal_current_stage by hand: each deal whose current row is open, its stage, and the later of the last
    day it left another stage and the first day it entered this one."""
    now = raw[raw["valid_to"].isna() & ~raw["is_closed"].astype(bool)][["opportunity_id", "stage"]]
    rows = raw.merge(now, on="opportunity_id", suffixes=("", "_now"))
    same = rows["stage"] == rows["stage_now"]
    first = rows[same].groupby(["opportunity_id", "stage_now"])["changed_at"].min().rename("first")
    left = rows[~same].groupby(["opportunity_id", "stage_now"])["valid_to"].max().rename("left")
    want = pd.concat([first, left], axis=1).reset_index().rename(columns={"stage_now": "stage"})
    want["in_stage_since"] = want[["first", "left"]].max(axis=1)
    return want[list(history_facts.CURRENT_COLUMNS)]


def current_of(engine) -> dict[int, tuple[str, date]]:
    frame = read_frame(engine, sa.select(deal_current_stage))
    return {int(r.opportunity_id): (r.stage, pd.Timestamp(r.in_stage_since).date()) for r in frame.itertuples()}


def test_demo_current_stage_facts_equal_a_pandas_computation_from_history(demo_duckdb):
    raw = read_frame(demo_duckdb, sa.select(opportunity_history))
    want = current_stage_from_history(raw)
    got = read_frame(demo_duckdb, sa.select(deal_current_stage))
    assert len(want) > 100
    pd.testing.assert_frame_equal(
        _sorted(got, ["opportunity_id"]).astype({"in_stage_since": "datetime64[ns]"}),
        _sorted(want, ["opportunity_id"]).astype({"in_stage_since": "datetime64[ns]"}),
        check_dtype=False,
    )


@pytest.mark.parametrize("week", [0, 4, 9])
def test_demo_forecast_accuracy_in_one_pass_equals_one_period_at_a_time(demo_engine, week):
    periods = forecast.past_periods(Period.quarter(AS_OF), AS_OF, 6)
    filters = Filters(Period.quarter(AS_OF))
    together = history.forecast_accuracy(demo_engine, filters, periods, week, Scope.everyone(), AS_OF)
    apart = pd.concat(
        [history.forecast_accuracy(demo_engine, filters, [p], week, Scope.everyone(), AS_OF) for p in periods],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(together, apart)
    assert (together["forecast"] > 0).any()
    live = history.forecast_accuracy(demo_engine, filters, periods, week, Scope.everyone(), AS_OF, facts=False)
    pd.testing.assert_frame_equal(together, live)


@pytest.mark.parametrize("view", ["everyone", "manager_and_product"])
def test_demo_stored_accuracy_equals_history(demo_engine, view):
    period = Period.quarter(AS_OF)
    week = forecast.current_week(period, AS_OF)
    filters, scope = Filters(period), Scope.everyone()
    if view == "manager_and_product":
        managers = read_frame(demo_engine, sa.text("select id from person where role = 'manager' order by id"))
        filters, scope = Filters(period, products=frozenset({1, 2})), Scope.subtree(int(managers["id"].iloc[0]))
    periods = forecast.past_periods(period, AS_OF, forecast.LOOKBACK_PERIODS)[::-1]
    assert history._stored_forecasts(demo_engine, filters, scope, periods, week, AS_OF) is not None
    stored = history.forecast_accuracy(demo_engine, filters, periods, week, scope, AS_OF)
    live = history.forecast_accuracy(demo_engine, filters, periods, week, scope, AS_OF, facts=False)
    pd.testing.assert_frame_equal(stored, live)


@pytest.mark.parametrize("reviewed", [Period.quarter(AS_OF), Period.quarter(AS_OF).previous(), Period.month(AS_OF).previous()])
@pytest.mark.parametrize("view", ["everyone", "manager_and_product"])
def test_demo_the_reviews_accuracy_is_stored_and_equals_history(demo_engine, reviewed, view):
    """The period review's window (reports.periods.accuracy_window) of this and last month and quarter is read
    from stored forecasts, with the same numbers as raw history."""
    week, periods = accuracy_window(reviewed)
    filters, scope = Filters(reviewed), Scope.everyone()
    if view == "manager_and_product":
        managers = read_frame(demo_engine, sa.text("select id from person where role = 'manager' order by id"))
        filters, scope = Filters(reviewed, products=frozenset({1, 2})), Scope.subtree(int(managers["id"].iloc[0]))
    shown = [p for p in periods if min(p.start + timedelta(days=7 * week), p.end) <= AS_OF]
    assert history._stored_forecasts(demo_engine, filters, scope, shown, week, AS_OF) is not None
    stored = history.forecast_accuracy(demo_engine, filters, periods, week, scope, AS_OF)
    live = history.forecast_accuracy(demo_engine, filters, periods, week, scope, AS_OF, facts=False)
    pd.testing.assert_frame_equal(stored, live)
    assert len(stored) == len(shown) and (stored["forecast"] > 0).any()


def test_accuracy_sets_store_each_period_and_week_once_when_the_review_meets_the_running_quarter():
    """In week 6 of a quarter, the running quarter's past quarters (at its current week, 6) and the review's
    window (week 6 too) share the last three quarters: each stored once, and the running quarter's own
    week-6 forecast (12 Nov, before as_of) as well."""
    week_six = date(2026, 11, 14)  # Q4 started 1 Oct: (44 days) // 7 = 6
    assert forecast.current_week(Period.quarter(week_six), week_six) == 6
    pairs = [(p, week) for week, days in period_facts.accuracy_sets(week_six) for p, _ in days]
    assert len(pairs) == len(set(pairs))
    quarters = {p for p, week in pairs if week == 6 and p == Period.quarter(p.start)}
    assert Period.quarter(week_six).previous() in quarters and Period.quarter(week_six) in quarters  # Q4's own day 14 Nov


# --------------------------------------------------------------------------------------------- hand-made cases

# Deal 1 is pushed out of Q1 and pulled back in; deal 2 changes amount and is reopened after a loss, then wins;
# deal 3 skips Qualification and returns to Prospecting; deal 4 (Sam, Gadget) moves within Q1 only.
CASES = (
    deal(1, RITA, (d(1, 3), "Prospecting", 100, d(2, 1)), (d(1, 10), "Qualification", 100, d(5, 1)),
         (d(1, 20), "Qualification", 100, d(3, 1)), (d(2, 5), "Discovery", 100, d(3, 1))),
    deal(2, RITA, (d(12, 1, 2025), "Prospecting", 50, d(1, 15)), (d(1, 5), "Qualification", 80, d(1, 15)),
         (d(1, 12), "Closed Lost", 80, d(1, 12)), (d(2, 1), "Qualification", 90, d(3, 20)),
         (d(2, 10), "Discovery", 90, d(3, 20)), (d(3, 1), "Closed Won", 120, d(3, 1))),
    deal(3, MANAGER, (d(1, 2), "Prospecting", 70, d(3, 30)), (d(1, 9), "Discovery", 70, d(3, 30)),
         (d(2, 2), "Prospecting", 70, d(3, 30)), (d(2, 20), "Proposal", 75, d(3, 30))),
    deal(4, SAM, (d(1, 4), "Prospecting", 40, d(3, 10)), (d(1, 6), "Qualification", 40, d(3, 12)),
         (d(1, 25), "Discovery", 45, d(3, 12)), product=GADGET),
)  # fmt: skip


def facts_of(engine) -> dict[tuple[int, str], tuple]:
    frame = read_frame(engine, sa.select(deal_stage))
    return {
        (int(r.opportunity_id), r.stage): (
            r.entered, None if pd.isna(r.left_at) else r.left_at,
            None if pd.isna(r.next_entered) else r.next_entered, bool(r.advanced),
        )
        for r in frame.itertuples()
    }  # fmt: skip


def test_hand_made_facts_are_the_worked_out_rows(tiny_engine):
    engine = warehouse(tiny_engine, *CASES)
    assert not history_facts.has_facts(engine)
    assert history_facts.rebuild(engine) == 14
    assert history_facts.has_facts(engine)
    facts = {k: tuple(pd.Timestamp(x).date() if x is not None and not isinstance(x, bool) else x for x in v)
             for k, v in facts_of(engine).items()}  # fmt: skip
    # Deal 2, reopened: Qualification first entered 5 Jan, left last on 10 Feb (after the reopening);
    # it advanced (Discovery on 10 Feb); Closed Lost's next entry is Qualification again on 1 Feb.
    assert facts[(2, "Qualification")] == (d(1, 5), d(2, 10), d(1, 12), True)
    assert facts[(2, "Closed Lost")] == (d(1, 12), d(2, 1), d(2, 10), False)
    assert facts[(2, "Prospecting")] == (d(12, 1, 2025), d(1, 5), d(1, 5), True)
    assert facts[(2, "Closed Won")] == (d(3, 1), None, None, False)
    # Deal 3 skipped Qualification: Prospecting did not advance to position + 1, but Discovery reached Proposal.
    assert facts[(3, "Prospecting")] == (d(1, 2), d(2, 20), d(1, 9), False)
    assert facts[(3, "Discovery")] == (d(1, 9), d(2, 2), d(2, 20), True)
    # Deal 1's push and pull-in stay in Qualification: one row, entered 10 Jan, left 5 Feb.
    assert facts[(1, "Qualification")] == (d(1, 10), d(2, 5), d(2, 5), True)
    # The open deals' current stages and since when (deal 2 is won: none); deal 3 is in Proposal since it
    # left Prospecting (its second stint there) on 20 Feb.
    assert current_of(engine) == {1: ("Discovery", d(2, 5)), 3: ("Proposal", d(2, 20)), 4: ("Discovery", d(1, 25))}


@pytest.mark.parametrize(
    "filters, scope, as_of",
    [
        (Filters(Q1), Scope.everyone(), AFTER),
        (Filters(Q1, products=frozenset({WIDGET})), MANAGED, AFTER),
        (Filters(Q1), Scope.everyone(), d(2, 15)),
        (Filters(Q4_25), Scope.everyone(), AFTER),
        (Filters(Q1, products=frozenset({GADGET})), Scope.everyone(), d(3, 31)),
    ],
)
def test_hand_made_history_kpis_from_facts_equal_raw_history(tiny_engine, filters, scope, as_of):
    engine = warehouse(tiny_engine, *CASES)
    with engine.begin() as conn:
        conn.execute(sa.text("insert into warehouse_info values ('as_of', :d)"), {"d": as_of.isoformat()})
    assert period_facts.rebuild_all(engine)[1] > 0
    # Q1 is this or last quarter on each as_of here; Q4 2025 is none of the standard periods in 2026: computed live.
    assert history_facts.period_facts_hold(engine, filters.period, as_of) == (filters.period != Q4_25)
    assert_same_history_kpis(engine, filters, scope, as_of)
    conversion = history.stage_conversion(engine, Filters(Q1), Scope.everyone()).set_index("stage")
    # Entered in Q1: Qualification by deals 1, 2, 4 (all advanced); Prospecting by 1, 3, 4 (1 and 4 advanced).
    assert (conversion.loc["Qualification", "reached"], conversion.loc["Qualification", "advanced"]) == (3, 3)
    assert (conversion.loc["Prospecting", "reached"], conversion.loc["Prospecting", "advanced"]) == (3, 2)


def test_without_complete_facts_the_views_read_raw_history(tiny_engine):
    engine = warehouse(tiny_engine, *CASES)
    with engine.begin() as conn:  # rows present but never marked complete: not trusted
        conn.execute(sa.insert(deal_stage).from_select(list(history_facts.COLUMNS), history_facts.facts_select()))
        conn.execute(deal_stage.delete().where(deal_stage.c.opportunity_id == 2))
    assert not history.use_facts(engine, None)
    raw = history.stage_conversion(engine, Filters(Q1), Scope.everyone(), facts=False)
    pd.testing.assert_frame_equal(history.stage_conversion(engine, Filters(Q1), Scope.everyone()), raw)


def test_refreshing_some_deals_equals_a_full_rebuild(tiny_engine):
    engine = warehouse(tiny_engine, *CASES)
    history_facts.rebuild(engine)
    h = opportunity_history.c
    with engine.begin() as conn:  # deal 4 is reopened... into Closed Won after a new Proposal row
        conn.execute(opportunity_history.update().where(h.opportunity_id == 4, h.valid_to.is_(None)).values(valid_to=d(2, 3)))
        conn.execute(opportunity_history.insert().values(
            id=999, opportunity_id=4, changed_at=d(2, 3), valid_to=None, stage="Closed Won", amount=45, close_date=d(2, 3),
            probability=100, forecast_category="Closed", is_closed=True, is_won=True,
        ))  # fmt: skip
        # deal 1 moves back from Discovery to Qualification on 20 Feb: in it since then, not since 10 Jan
        conn.execute(opportunity_history.update().where(h.opportunity_id == 1, h.valid_to.is_(None)).values(valid_to=d(2, 20)))
        conn.execute(opportunity_history.insert().values(
            id=998, opportunity_id=1, changed_at=d(2, 20), valid_to=None, stage="Qualification", amount=100,
            close_date=d(3, 1), probability=20, forecast_category="Pipeline", is_closed=False, is_won=False,
        ))  # fmt: skip
        history_facts.refresh(conn, deal_stage.c.opportunity_id.in_([1, 4]), h.opportunity_id.in_([1, 4]))
    refreshed, current = facts_of(engine), current_of(engine)
    history_facts.rebuild(engine)
    assert refreshed == facts_of(engine) and current == current_of(engine)
    assert refreshed[(4, "Discovery")][2] is not None  # Discovery now has a next entry (Closed Won)
    assert current == {1: ("Qualification", d(2, 20)), 3: ("Proposal", d(2, 20))}  # deal 4 is won: not open


def test_clustering_history_keeps_every_row(tiny_engine):
    engine = warehouse(tiny_engine, *CASES)
    before = read_frame(engine, sa.select(opportunity_history))
    with engine.begin() as conn:
        history_facts.cluster_history(conn)
    after = read_frame(engine, sa.select(opportunity_history))
    pd.testing.assert_frame_equal(_sorted(before, ["id"]), _sorted(after, ["id"]))


# --------------------------------------------------------------------------------------------- imports


def test_an_import_refreshes_the_facts_of_the_deals_whose_history_it_writes(tiny_engine):
    from test_import_apply import DEALS, parsed
    from test_import_apply import history as history_rows

    from spm_core.importing.apply import apply_import
    from spm_core.importing.plan import plan_import

    engine = tiny_engine(
        region=[{"id": 1, "name": "North"}],
        person=[{"id": 1, "name": "Ann Lee", "role": "rep", "region_id": 1, "active": True, "ramp_months": 0}],
    )
    first = history_rows([("H1", "D1", "2026-01-05 09:00", "Open", None), ("H2", "D3", "2026-02-01 12:00", "Open", 300.0)])
    apply_import(engine, plan_import(engine, parsed(opportunities=DEALS, history=first)))
    assert not history_facts.has_facts(engine)  # never built: the views read history
    assert read_frame(engine, sa.select(sa.func.count()).select_from(deal_stage)).iloc[0, 0] == 0
    history_facts.rebuild(engine)
    later = history_rows([("H3", "D1", "2026-02-10 08:00", "Won", 100.0)])
    apply_import(engine, plan_import(engine, parsed(history=later)))
    assert history_facts.has_facts(engine)
    refreshed = facts_of(engine)
    assert refreshed[(1, "Closed Won")][0] == pd.Timestamp("2026-02-10")
    history_facts.rebuild(engine)
    assert refreshed == facts_of(engine)


def test_facts_of_another_version_are_not_read(tiny_engine):
    engine = warehouse(tiny_engine, *CASES)
    with engine.begin() as conn:
        conn.execute(sa.text("insert into warehouse_info values ('as_of', '2026-05-01')"))
    period_facts.rebuild_all(engine)
    assert history_facts.period_facts_hold(engine, Q1)
    with engine.begin() as conn:  # a file built before a stored table existed: an older version, no table
        conn.execute(sa.text("update warehouse_info set value = '3' where key = 'history_facts'"))
        conn.execute(sa.text("drop table period_open_at_start"))
    assert not history_facts.has_facts(engine) and not history_facts.period_facts_hold(engine, Q1)
    got = history.slipped_deals(engine, Filters(Q1), Scope.everyone())  # read from history, no error
    pd.testing.assert_frame_equal(got, history.slipped_deals(engine, Filters(Q1), Scope.everyone(), facts=False))
