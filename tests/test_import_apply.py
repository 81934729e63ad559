"""plan_import / apply_import on small hand-made imports: exact counts, upserts, all-or-nothing, errors."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa
from import_support import generic_parsed
from sqlalchemy.engine import Engine

from spm_core import schema
from spm_core.db import create_schema, get_info, has_schema, make_engine, read_frame, set_info
from spm_core.filters import Filters, Period, Scope
from spm_core.importing import apply as apply_module
from spm_core.importing.apply import apply_import
from spm_core.importing.model import ImportRejected, Parsed, RowError
from spm_core.importing.plan import plan_import
from spm_core.metrics import query

TABLES = ("region", "team", "person", "account", "product", "stage", "opportunity", "opportunity_history", "quota")
STAGES = {"Open": "Proposal", "Won": "Closed Won", "Lost": "Closed Lost"}


def deals(rows: list[tuple]) -> pd.DataFrame:
    """(source_id, owner, account, product, amount, stage, created, close) rows as a canonical frame."""
    frame = pd.DataFrame(
        rows, columns=["source_id", "owner", "account", "product", "amount", "stage", "created_date", "close_date"]
    )
    return frame.astype(
        {
            **dict.fromkeys(["source_id", "owner", "account", "product", "stage"], "string"),
            "amount": "float64",
            "created_date": "datetime64[ns]",
            "close_date": "datetime64[ns]",
        }
    )


DEALS = deals(
    [
        ("D1", "ann  LEE", "Acme", "GTXPro", 100.0, "Won", "2026-01-05", "2026-02-10"),
        ("D2", "Bob Ray", "Acme", "GTX Pro", 200.0, "Lost", "2026-01-07", "2026-02-20"),
        ("D3", "Bob Ray", None, None, 300.0, "Open", "2026-02-01", "2026-03-15"),
        ("D4", "Ann Lee", "Globex", "MG Special", 400.0, "Won", "2025-12-01", "2026-01-31"),
    ]
)


def history(rows: list[tuple]) -> pd.DataFrame:
    """(source_id, opportunity_source_id, changed_at, stage, amount) rows as a canonical frame."""
    frame = pd.DataFrame(rows, columns=["source_id", "opportunity_source_id", "changed_at", "stage", "amount"])
    return frame.astype(
        {"source_id": "string", "opportunity_source_id": "string", "changed_at": "datetime64[ns]", "stage": "string"}
    )


def quotas(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["owner", "month", "amount"])
    return frame.astype({"owner": "string", "month": "datetime64[ns]", "amount": "float64"})


def parsed(**frames: pd.DataFrame) -> Parsed:
    return generic_parsed(STAGES, **frames)


def tables(engine: Engine) -> dict[str, pd.DataFrame]:
    """Every table an import writes, in a stable order, to compare warehouses before and after."""
    result = {}
    for name in TABLES:
        table = schema.metadata.tables[name]
        order = table.c.name if name == "stage" else table.c.id
        result[name] = read_frame(engine, sa.select(table).order_by(order))
    result["warehouse_info"] = read_frame(engine, sa.select(schema.warehouse_info).order_by("key"))
    return result


def assert_same(before: dict[str, pd.DataFrame], after: dict[str, pd.DataFrame]) -> None:
    for name, frame in before.items():
        pd.testing.assert_frame_equal(after[name], frame, obj=name)


@pytest.fixture
def warehouse(tiny_engine) -> Engine:
    """Ann Lee (CRM id crm-ann) in region North, and the product GTX Pro, with the default stage table."""
    return tiny_engine(
        region=[{"id": 1, "name": "North"}],
        person=[
            {"id": 1, "name": "Ann Lee", "role": "rep", "region_id": 1, "active": True, "ramp_months": 0, "source_id": "crm-ann"}
        ],
        product=[{"id": 7, "name": "GTX Pro", "family": "GTX", "list_price": 550.0}],
    )


def test_first_import_counts_matches_and_rows(warehouse: Engine) -> None:
    plan = plan_import(warehouse, parsed(opportunities=DEALS))
    assert plan.ok
    assert plan.stage_mapping == STAGES
    assert plan.people_to_create == ["Bob Ray"]
    assert plan.product_matches == {"GTXPro": "GTX Pro"}
    assert plan.products_to_create == ["MG Special"]
    expected = {
        "region": 0,
        "segment": 0,
        "team": 0,
        "person": 1,
        "account": 2,
        "product": 1,
        "opportunity": 4,
        "opportunity_history": 0,
        "quota": 0,
    }
    assert plan.inserts == expected
    assert set(plan.updates.values()) == {0}

    report = apply_import(warehouse, plan)
    assert dict(report.inserted) == expected
    assert report.people_created == ("Bob Ray",)
    assert report.products_created == ("MG Special",)
    assert dict(report.product_matches) == {"GTXPro": "GTX Pro"}

    after = tables(warehouse)
    people = after["person"]
    assert people[["id", "name", "role", "source_id"]].values.tolist() == [
        [1, "Ann Lee", "rep", "crm-ann"],
        [2, "Bob Ray", "rep", "Bob Ray"],
    ]
    assert pd.isna(people.loc[1, "manager_id"])
    assert after["product"][["id", "name"]].values.tolist() == [[7, "GTX Pro"], [8, "MG Special"]]
    assert after["account"][["id", "name"]].values.tolist() == [[1, "Acme"], [2, "Globex"]]
    assert len(after["stage"]) == 7  # the default stages, written with the first import
    opps = after["opportunity"]
    columns = [
        "id",
        "source_id",
        "owner_id",
        "account_id",
        "product_id",
        "amount",
        "stage",
        "probability",
        "forecast_category",
        "is_closed",
        "is_won",
    ]
    assert opps[columns].astype(object).where(opps[columns].notna(), None).values.tolist() == [
        [1, "D1", 1, 1, 7, 100.0, "Closed Won", 100, "Closed", True, True],
        [2, "D2", 2, 1, 7, 200.0, "Closed Lost", 0, "Omitted", True, False],
        [3, "D3", 2, None, None, 300.0, "Proposal", 60, "Best Case", False, False],
        [4, "D4", 1, 2, 8, 400.0, "Closed Won", 100, "Closed", True, True],
    ]
    # as_of: the latest created date or close date of a closed deal (D3's 2026-03-15 is only expected)
    assert get_info(warehouse) == {
        "source": "generic",
        "has_history": "false",
        "has_quotas": "false",
        "as_of": "2026-02-20",
        "start": "2025-12-01",
    }


def test_reimport_changes_nothing_and_counts_updates(warehouse: Engine) -> None:
    files = parsed(
        opportunities=DEALS,
        history=history([("H1", "D1", "2026-01-05 09:00", "Open", 90.0), ("H2", "D1", "2026-02-10 10:00", "Won", 100.0)]),
        quotas=quotas([("Ann Lee", "2026-02-14", 1000.0), ("Bob Ray", "2026-02-01", 500.0)]),
    )
    apply_import(warehouse, plan_import(warehouse, files))
    before = tables(warehouse)

    plan = plan_import(warehouse, files)
    report = apply_import(warehouse, plan)
    assert set(report.inserted.values()) == {0}
    assert {k: v for k, v in report.updated.items() if v} == {"opportunity": 4, "opportunity_history": 2, "quota": 2}
    assert report.people_created == () and report.products_created == ()
    assert_same(before, tables(warehouse))


def test_update_keeps_ids_and_new_rows_continue_after_max(warehouse: Engine) -> None:
    apply_import(warehouse, plan_import(warehouse, parsed(opportunities=DEALS)))
    changed = deals(
        [
            ("D3", "Bob Ray", None, None, 350.0, "Won", "2026-02-01", "2026-03-01"),
            ("D5", "Ann Lee", "Acme", "GTX Pro", 50.0, "Open", "2026-03-01", "2026-04-30"),
        ]
    )
    report = apply_import(warehouse, plan_import(warehouse, parsed(opportunities=changed)))
    assert report.inserted["opportunity"] == 1 and report.updated["opportunity"] == 1
    opps = tables(warehouse)["opportunity"]
    assert opps[["id", "source_id", "amount", "stage", "is_won"]].values.tolist() == [
        [1, "D1", 100.0, "Closed Won", True],
        [2, "D2", 200.0, "Closed Lost", False],
        [3, "D3", 350.0, "Closed Won", True],
        [4, "D4", 400.0, "Closed Won", True],
        [5, "D5", 50.0, "Proposal", False],
    ]


def test_history_upsert_recomputes_valid_to(warehouse: Engine) -> None:
    first = history([("H1", "D1", "2026-01-05 09:00", "Open", None), ("H2", "D1", "2026-01-20 12:00", "Open", 120.0)])
    apply_import(warehouse, plan_import(warehouse, parsed(opportunities=DEALS, history=first)))
    # a later export: H2 changed its amount on the same day, and the deal was won
    later = history([("H2", "D1", "2026-01-20 15:00", "Open", 110.0), ("H3", "D1", "2026-02-10 08:00", "Won", 100.0)])
    report = apply_import(warehouse, plan_import(warehouse, parsed(history=later)))
    assert (report.inserted["opportunity_history"], report.updated["opportunity_history"]) == (1, 1)
    rows = tables(warehouse)["opportunity_history"]
    assert rows[["id", "opportunity_id", "stage", "amount", "probability", "is_closed"]].values.tolist() == [
        [1, 1, "Proposal", 100.0, 60, False],  # no amount in the file: the deal's amount
        [2, 1, "Proposal", 110.0, 60, False],
        [3, 1, "Closed Won", 100.0, 100, True],
    ]
    days = rows[["changed_at", "valid_to"]].apply(lambda c: c.dt.strftime("%Y-%m-%d")).fillna("-").values.tolist()
    assert days == [["2026-01-05", "2026-01-20"], ["2026-01-20", "2026-02-10"], ["2026-02-10", "-"]]
    assert get_info(warehouse)["has_history"] == "true"


def test_quota_upsert_on_person_and_month(warehouse: Engine) -> None:
    apply_import(warehouse, plan_import(warehouse, parsed(quotas=quotas([("Ann Lee", "2026-01-31", 1000.0)]))))
    files = parsed(quotas=quotas([("crm-ann", "2026-01-01", 1500.0), ("Ann Lee", "2026-02-03", 900.0)]))
    report = apply_import(warehouse, plan_import(warehouse, files))
    assert (report.inserted["quota"], report.updated["quota"]) == (1, 1)
    rows = tables(warehouse)["quota"]
    assert rows[["id", "person_id", "amount", "quota_type"]].values.tolist() == [
        [1, 1, 1500.0, "bookings"],
        [2, 1, 900.0, "bookings"],
    ]
    assert rows["month"].dt.strftime("%Y-%m-%d").tolist() == ["2026-01-01", "2026-02-01"]


def test_people_frame_defines_new_people_and_their_organisation(warehouse: Engine) -> None:
    people = pd.DataFrame(
        {
            "name": ["Cleo Park", "Dan Wu"],
            "role": ["manager", None],
            "manager": [None, "cleo park"],
            "team": ["West", "West"],
            "region": ["South", "north"],
        }
    ).astype("string")
    opps = deals(
        [
            ("D9", "Dan Wu", None, None, 10.0, "Open", "2026-01-01", "2026-02-01"),
            ("D8", "Eve Ng", None, None, 20.0, "Open", "2026-01-01", "2026-02-01"),
        ]
    )
    plan = plan_import(warehouse, parsed(people=people, opportunities=opps))
    assert plan.people_to_create == ["Cleo Park", "Dan Wu", "Eve Ng"]
    assert {k: v for k, v in plan.inserts.items() if v} == {"region": 1, "team": 1, "person": 3, "opportunity": 2}
    apply_import(warehouse, plan)
    after = tables(warehouse)
    columns = ["id", "name", "role", "manager_id", "team_id", "region_id"]
    assert after["person"][columns].astype(object).where(after["person"][columns].notna(), None).values.tolist() == [
        [1, "Ann Lee", "rep", None, None, 1],
        [2, "Cleo Park", "manager", None, 1, 2],
        [3, "Dan Wu", "rep", 2, 1, 1],
        [4, "Eve Ng", "rep", None, None, None],
    ]
    assert after["region"]["name"].tolist() == ["North", "South"]
    assert after["team"][["id", "name", "manager_id", "region_id"]].values.tolist() == [[1, "West", 2, 2]]


def test_products_frame_variants_match_the_warehouse(warehouse: Engine) -> None:
    products = pd.DataFrame({"name": ["gtx-pro", "GTX Plus Basic"], "family": ["GTX", "GTX"], "list_price": [1.0, 1096.0]})
    opps = deals([("D1", "Ann Lee", None, "GTXPlusBasic", 10.0, "Open", "2026-01-01", "2026-02-01")])
    plan = plan_import(warehouse, parsed(products=products.astype({"name": "string", "family": "string"}), opportunities=opps))
    assert plan.product_matches == {"gtx-pro": "GTX Pro", "GTXPlusBasic": "GTX Plus Basic"}
    assert plan.products_to_create == ["GTX Plus Basic"]
    apply_import(warehouse, plan)
    after = tables(warehouse)
    assert after["product"][["id", "name", "family", "list_price"]].values.tolist() == [
        [7, "GTX Pro", "GTX", 550.0],
        [8, "GTX Plus Basic", "GTX", 1096.0],
    ]
    assert after["opportunity"]["product_id"].tolist() == [8]


def test_user_stage_mapping_overrides_the_default(warehouse: Engine) -> None:
    plan = plan_import(warehouse, parsed(opportunities=DEALS), {"Open": "negotiation"})
    assert plan.stage_mapping == {**STAGES, "Open": "Negotiation"}
    apply_import(warehouse, plan)
    opps = tables(warehouse)["opportunity"]
    assert opps.loc[opps["source_id"] == "D3", ["stage", "probability", "forecast_category"]].values.tolist() == [
        ["Negotiation", 80, "Commit"]
    ]


def test_row_errors_are_reported_and_nothing_is_written(warehouse: Engine) -> None:
    before = tables(warehouse)
    opps = deals([*DEALS.itertuples(index=False), ("D5", "Ann Lee", None, None, 5.0, "Stalled", "2026-01-01", "2026-02-01")])
    files = parsed(
        opportunities=opps,
        history=history([("H1", "D1", "2026-01-05", "Open", 1.0), ("H2", "NOPE", "2026-01-06", "Open", 1.0)]),
        quotas=quotas([("Ann Lee", "2026-01-01", 1.0), ("Bob Ray", "2026-01-01", 1.0), ("ann lee", "2026-01-31", 2.0)]),
    )
    plan = plan_import(warehouse, files)
    assert not plan.ok
    assert plan.errors == [
        RowError(
            "history.csv", 3, "opportunity_source_id", "NOPE", "no opportunity with this id in this import or in the warehouse"
        ),
        RowError(
            "opportunities.csv",
            6,
            "stage",
            "Stalled",
            "`Stalled` is not a known stage; the app's stages are Prospecting, Qualification, Discovery, Proposal, "
            "Negotiation, Closed Won, Closed Lost",
            '--stage "Stalled=<app stage>"',
        ),
        RowError("quotas.csv", 4, "month", "2026-01-31", "a second quota for this owner and month (first on line 2)"),
    ]
    with pytest.raises(ImportRejected) as rejected:
        apply_import(warehouse, plan)
    assert rejected.value.errors == plan.errors
    assert_same(before, tables(warehouse))


def test_parse_errors_block_the_import(warehouse: Engine) -> None:
    files = parsed(opportunities=DEALS)
    files.errors.append(RowError("opportunities.csv", 3, "amount", "12,5,0", "not a number"))
    plan = plan_import(warehouse, files)
    assert plan.errors == files.errors
    with pytest.raises(ImportRejected):
        apply_import(warehouse, plan)


def test_failure_mid_transaction_leaves_the_warehouse_unchanged(warehouse: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    apply_import(warehouse, plan_import(warehouse, parsed(opportunities=DEALS, quotas=quotas([("Ann Lee", "2026-01-01", 1.0)]))))
    before = tables(warehouse)
    changed = deals([("D1", "Zed New", "New Co", "New Thing", 1.0, "Lost", "2026-01-01", "2026-01-02")])
    plan = plan_import(warehouse, parsed(opportunities=changed, quotas=quotas([("Ann Lee", "2026-01-01", 2.0)])))
    real, calls = apply_module.insert_frame, []

    def failing(conn, table, frame):
        calls.append(table.name)
        if table.name == "opportunity":  # after person, account and product were written
            raise RuntimeError("disk full")
        real(conn, table, frame)

    monkeypatch.setattr(apply_module, "insert_frame", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        apply_import(warehouse, plan)
    assert calls == ["person", "account", "product", "opportunity"]
    assert_same(before, tables(warehouse))


def test_import_into_an_empty_file_creates_the_warehouse(tmp_path) -> None:
    engine = make_engine(f"duckdb:///{tmp_path / 'new.duckdb'}")
    try:
        plan = plan_import(engine, parsed(opportunities=DEALS))
        assert not has_schema(engine)  # planning wrote nothing
        assert plan.people_to_create == ["ann LEE", "Bob Ray"]
        report = apply_import(engine, plan)
        assert report.inserted["opportunity"] == 4 and report.inserted["person"] == 2
        after = tables(engine)
        assert after["person"]["name"].tolist() == ["ann LEE", "Bob Ray"]
        assert after["opportunity"]["owner_id"].tolist() == [1, 2, 2, 1]
        assert len(after["stage"]) == 7
    finally:
        engine.dispose()


def test_metrics_after_import_match_pandas(warehouse: Engine) -> None:
    apply_import(warehouse, plan_import(warehouse, parsed(opportunities=DEALS)))
    period = Period(date(2026, 2, 1), date(2026, 3, 31))
    got = query(warehouse, ["bookings", "win_rate", "open_pipeline"], Filters(period), Scope.everyone(), as_of=date(2026, 3, 1)).iloc[0]

    in_period = DEALS[DEALS["close_date"].between(pd.Timestamp(period.start), pd.Timestamp(period.end))]
    app_stage = in_period["stage"].map(STAGES)
    won, lost = in_period[app_stage == "Closed Won"], in_period[app_stage == "Closed Lost"]
    open_ = in_period[~app_stage.isin(["Closed Won", "Closed Lost"])]
    assert got["bookings"] == pytest.approx(won["amount"].sum()) == 100.0
    assert got["win_rate"] == pytest.approx(len(won) / (len(won) + len(lost))) == 0.5
    assert got["open_pipeline"] == pytest.approx(open_["amount"].sum()) == 300.0


def test_progress_is_reported_in_order(warehouse: Engine) -> None:
    seen: list[tuple[float, str]] = []
    apply_import(warehouse, plan_import(warehouse, parsed(opportunities=DEALS)), lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert "Writing opportunity" in [m for _, m in seen]


def test_an_older_export_does_not_move_the_warehouse_back_in_time(tmp_path):
    engine = make_engine(f"duckdb:///{tmp_path}/w.duckdb")
    create_schema(engine)
    with engine.begin() as conn:
        set_info(conn, {"as_of": "2026-11-23", "start": "2024-01-01"})
    frame = pd.DataFrame(
        {"source_id": ["x1"], "owner": ["Kim Park"], "amount": [500.0], "stage": ["Closed Won"],
         "created_date": pd.to_datetime(["2023-06-01"]), "close_date": pd.to_datetime(["2023-07-01"])}
    )  # fmt: skip
    apply_import(engine, plan_import(engine, Parsed(kind="generic", opportunities=frame)))
    info = get_info(engine)
    assert (info["as_of"], info["start"]) == ("2026-11-23", "2023-06-01")
    engine.dispose()
