"""The demo generator: deterministic, internally consistent, and telling the story SPEC.md needs."""

from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from spm_core import schema
from spm_core.db import get_info, make_engine, read_frame
from spm_core.demo import DemoSpec, build_demo

AS_OF = date(2026, 11, 23)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    engine = make_engine(f"duckdb:///{tmp_path_factory.mktemp('demo')}/d.duckdb")
    rows = build_demo(engine, DemoSpec(opportunities=4000, activities=12000, seed=11, as_of=AS_OF))
    return engine, rows


def table(engine, t: sa.Table) -> pd.DataFrame:
    return read_frame(engine, sa.select(t))


def test_same_seed_gives_the_same_warehouse(tmp_path, demo):
    engine, _ = demo
    again = make_engine(f"duckdb:///{tmp_path}/again.duckdb")
    build_demo(again, DemoSpec(opportunities=4000, activities=12000, seed=11, as_of=AS_OF))
    for t in (schema.opportunity, schema.opportunity_history, schema.quota, schema.activity):
        pd.testing.assert_frame_equal(table(engine, t), table(again, t))


def test_row_counts_follow_the_requested_scale(demo):
    engine, rows = demo
    assert rows["opportunities"] == 4000 and rows["activities"] == 12000
    assert len(table(engine, schema.opportunity)) == 4000
    assert len(table(engine, schema.activity)) == 12000


def test_history_ends_in_the_current_state_of_every_deal(demo):
    engine, _ = demo
    opps = table(engine, schema.opportunity).set_index("id")
    hist = table(engine, schema.opportunity_history)
    current = hist[hist["valid_to"].isna()].set_index("opportunity_id").sort_index()
    assert len(current) == len(opps)
    for column in ("stage", "amount", "close_date", "is_closed", "is_won", "forecast_category"):
        assert (current[column].to_numpy() == opps.loc[current.index, column].to_numpy()).all(), column


def test_history_rows_chain_without_gaps(demo):
    engine, _ = demo
    hist = table(engine, schema.opportunity_history).sort_values(["opportunity_id", "changed_at", "id"])
    nxt = hist.groupby("opportunity_id")["changed_at"].shift(-1)
    chained = hist["valid_to"].notna()
    assert (hist.loc[chained, "valid_to"] == nxt[chained]).all()
    first = hist.groupby("opportunity_id").first()
    assert (first["stage"] == "Prospecting").all()


def test_history_records_stage_amount_and_close_date_changes(demo):
    engine, _ = demo
    hist = table(engine, schema.opportunity_history).sort_values(["opportunity_id", "changed_at", "id"])
    previous = hist.groupby("opportunity_id")[["stage", "amount", "close_date"]].shift(1)
    later = previous["stage"].notna()
    assert (hist.loc[later, "stage"] != previous.loc[later, "stage"]).sum() > 1000
    assert (hist.loc[later, "amount"] != previous.loc[later, "amount"]).sum() > 100
    pushed = hist.loc[later, "close_date"] > previous.loc[later, "close_date"]
    pulled = hist.loc[later, "close_date"] < previous.loc[later, "close_date"]
    assert pushed.sum() > 100 and pulled.sum() > 10


def test_deals_run_to_today_with_the_current_quarter_in_progress(demo):
    engine, _ = demo
    opps = table(engine, schema.opportunity)
    assert opps["created_date"].max().date() <= AS_OF
    closed = opps[opps["is_closed"]]
    assert closed["close_date"].max().date() <= AS_OF
    open_deals = opps[~opps["is_closed"]]
    this_quarter = (open_deals["close_date"] >= "2026-10-01") & (open_deals["close_date"] <= "2026-12-31")
    assert this_quarter.sum() > 50
    assert (open_deals["close_date"] < pd.Timestamp(AS_OF)).sum() > 0  # some deals are overdue


def test_won_deals_bunch_up_at_quarter_end(demo):
    engine, _ = demo
    won = table(engine, schema.opportunity).query("is_won")
    month_in_quarter = (won["close_date"].dt.month - 1) % 3
    assert (month_in_quarter == 2).mean() > 0.4


def test_lost_deals_are_lost_at_various_stages(demo):
    engine, _ = demo
    hist = table(engine, schema.opportunity_history)
    lost_ids = hist.loc[hist["stage"] == "Closed Lost", "opportunity_id"]
    before = hist[hist["opportunity_id"].isin(lost_ids) & (hist["stage"] != "Closed Lost")]
    last_stage = before.sort_values(["changed_at", "id"]).groupby("opportunity_id")["stage"].last()
    # Every open stage; and the three won deals the demo reverts after paying them (clawbacks).
    assert set(last_stage) == {"Prospecting", "Qualification", "Discovery", "Proposal", "Negotiation", "Closed Won"}
    assert (last_stage == "Closed Won").sum() == 3


def test_quarterly_attainment_spreads_around_60_to_130_percent(demo):
    engine, _ = demo
    opps, quotas = table(engine, schema.opportunity), table(engine, schema.quota)
    won = opps[opps["is_won"] & (opps["close_date"] >= "2025-01-01") & (opps["close_date"] <= "2026-09-30")]
    bookings = won.groupby(["owner_id", won["close_date"].dt.to_period("Q")])["amount"].sum()
    q = quotas[(quotas["month"] >= "2025-01-01") & (quotas["month"] <= "2026-09-30")]
    quota = q.groupby(["person_id", q["month"].dt.to_period("Q")])["amount"].sum()
    attainment = (bookings.reindex(quota.index, fill_value=0) / quota).to_numpy()
    assert 0.75 < pd.Series(attainment).median() < 1.15
    assert pd.Series(attainment).quantile(0.1) < 0.8 and pd.Series(attainment).quantile(0.9) > 1.1


def test_new_hires_have_ramped_quotas(demo):
    engine, _ = demo
    quotas, people = table(engine, schema.quota), table(engine, schema.person).set_index("id")
    ramped = quotas[quotas["is_ramped"]]
    assert len(ramped) > 0
    hire = people.loc[ramped["person_id"], "hire_date"].to_numpy()
    months_in = (ramped["month"].dt.year - pd.DatetimeIndex(hire).year) * 12 + ramped["month"].dt.month - pd.DatetimeIndex(hire).month
    assert (months_in.to_numpy() < people.loc[ramped["person_id"], "ramp_months"].to_numpy()).all()


def test_activities_correlate_with_winning(demo):
    engine, _ = demo
    opps, acts = table(engine, schema.opportunity), table(engine, schema.activity)
    per_deal = acts.groupby("opportunity_id").size().reindex(opps["id"], fill_value=0).to_numpy()
    assert per_deal[opps["is_won"].to_numpy()].mean() > 1.5 * per_deal[(opps["is_closed"] & ~opps["is_won"]).to_numpy()].mean()


def test_manager_tree_has_leader_managers_and_reps(demo):
    engine, _ = demo
    people = table(engine, schema.person)
    assert set(people["role"]) == {"admin", "leader", "manager", "rep"}
    by_id = people.set_index("id")
    reps = people[people["role"] == "rep"]
    depth = []
    for pid in reps["id"]:
        d, node = 0, pid
        while pd.notna(by_id.loc[node, "manager_id"]):
            node, d = int(by_id.loc[node, "manager_id"]), d + 1
        assert by_id.loc[node, "role"] == "leader"
        depth.append(d)
    assert set(depth) == {4}


def test_warehouse_info_says_demo_with_history_and_quotas(demo):
    engine, _ = demo
    info = get_info(engine)
    assert info["source"] == "demo" and info["as_of"] == AS_OF.isoformat()
    assert info["has_history"] == "true" and info["has_quotas"] == "true"


def test_rejects_zero_opportunities(tmp_path):
    with pytest.raises(ValueError, match="at least 1"):
        build_demo(make_engine(f"duckdb:///{tmp_path}/z.duckdb"), DemoSpec(opportunities=0))


def test_accounts_sit_around_real_cities_of_their_country_with_potential(demo):
    from spm_core.demo.geo import CITIES, JITTER_DEGREES

    engine, _ = demo
    accounts = table(engine, schema.account)
    assert accounts[["state", "postcode", "latitude", "longitude", "potential"]].notna().all().all()
    for row in accounts.itertuples():
        assert any(
            state == row.state
            and row.postcode.startswith(prefix)
            and abs(row.latitude - lat) <= JITTER_DEGREES
            and abs(row.longitude - lon) <= JITTER_DEGREES
            for _, state, prefix, lat, lon in CITIES[row.country]
        ), row
    assert (accounts["potential"] > 0).all()
    ratio = accounts["potential"] / accounts["annual_revenue"]
    assert 0.005 < ratio.median() < 0.02  # about 1 % of revenue: a wallet estimate
    assert accounts["state"].nunique() >= 8  # spread over the cities, not piled on one


def test_deals_lost_or_cut_after_the_paid_quarter_are_clawed_back_this_quarter(demo):
    engine, _ = demo
    with engine.connect() as conn:
        found = conn.execute(sa.text(
            "SELECT rule, count(*), sum(amount) FROM comp_line WHERE period_start = DATE '2026-10-01' "
            "AND rule IN ('clawback', 'clawback_cut') GROUP BY rule ORDER BY rule"
        )).all()
        changed = conn.execute(sa.text(
            "SELECT count(*) FROM opportunity_history WHERE changed_at > DATE '2026-09-30' AND is_closed "
            "AND close_date BETWEEN DATE '2026-07-01' AND DATE '2026-09-30'"
        )).scalar()
    assert [rule for rule, *_ in found] == ["clawback", "clawback_cut"]
    assert found[0][1] >= 3 and all(total < 0 for *_, total in found)
    assert changed == 4
