"""Real export shapes through the generic format, on the first try: a stage-snapshot pipeline report (trailing
comma, blank and junk rows, 07-Apr-2015 dates, 65.0% probabilities, no id column), a Pipedrive deals export
and a Zoho CRM potentials export, with their own header names. Each imports with the defaults or the options
the command line itself suggests, and the KPIs afterwards match pandas reading the same file on its own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from spm_core.cli import main
from spm_core.db import create_schema, make_engine, read_frame
from spm_core.filters import Filters, Period, Scope
from spm_core.metrics import query
from spm_core.reports.review import build_review
from spm_core.schema import account, opportunity, region

FIXTURES = Path(__file__).parent / "fixtures" / "import"


def snapshot_deals(path: Path) -> pd.DataFrame:
    """The report read by hand: blank and one-value rows out, `54,000` and `07-Apr-2015` parsed."""
    frame = pd.read_csv(path, dtype=str)
    frame = frame[frame.notna().sum(axis=1) >= 2]
    return pd.DataFrame(
        {
            "amount": frame["Deal size"].str.replace(",", "").astype(float),
            "close": pd.to_datetime(frame["Close Date/Expected Close Date"], format="%d-%b-%Y"),
            "won": frame["Sales stage"] == "Won",
            "lost": frame["Sales stage"] == "Lost",
        }
    )


def pipedrive_deals(path: Path) -> pd.DataFrame:
    """Pipedrive keeps a closed deal's last stage: status says won or lost, and when (won or lost time)."""
    frame = pd.read_csv(path, dtype=str)
    closed = frame["Deal - Won time"].fillna(frame["Deal - Lost time"]).fillna(frame["Deal - Expected close date"])
    return pd.DataFrame(
        {
            "amount": frame["Deal - Value"].astype(float),
            "close": pd.to_datetime(closed, format="mixed").dt.normalize(),
            "won": frame["Deal - Status"] == "won",
            "lost": frame["Deal - Status"] == "lost",
        }
    )


def zoho_deals(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str)
    return pd.DataFrame(
        {
            "amount": frame["Amount"].astype(float),
            "close": pd.to_datetime(frame["Closing Date"], format="%m/%d/%Y"),
            "won": frame["Stage"] == "Closed Won",
            "lost": frame["Stage"].str.startswith("Closed Lost"),
        }
    )


CASES: dict[str, tuple[list[str], Callable[[Path], pd.DataFrame], int]] = {
    # (options the first run suggests, the file read by hand, deals)
    "pipeline_snapshot_report.csv": (
        ["--id-columns", "Customer,Deal Owner", "--stage", "Identified=Prospecting"],
        snapshot_deals,
        60,
    ),
    "pipedrive_deals.csv": ([], pipedrive_deals, 30),
    "zoho_potentials.csv": ([], zoho_deals, 36),
}


def expected(deals: pd.DataFrame, period: Period) -> dict[str, float | None]:
    inside = deals[deals["close"].between(pd.Timestamp(period.start), pd.Timestamp(period.end))]
    won, lost = int(inside["won"].sum()), int(inside["lost"].sum())
    return {
        "bookings": float(inside.loc[inside["won"], "amount"].sum()),
        "open_pipeline": float(inside.loc[~inside["won"] & ~inside["lost"], "amount"].sum()),
        "win_rate": won / (won + lost) if won + lost else None,
        "deals_won": won,
    }


@pytest.mark.parametrize("name", list(CASES))
def test_an_export_imports_on_the_first_try_and_every_kpi_matches_pandas(name, tmp_path, capsys):
    options, by_hand, count = CASES[name]
    url = f"duckdb:///{tmp_path}/w.duckdb"
    path = FIXTURES / name
    for given in range(0, len(options), 2):  # each run refuses, naming the next option the test then adds
        assert main(["import", "generic", str(path), "--url", url, "--dry-run", *options[:given]]) == 2
        told = capsys.readouterr().err
        suggested = options[given + 1].split("=")[0]  # the columns, or the stage to map
        assert f'{options[given]} "{suggested}' in told and "Traceback" not in told
    assert main(["import", "generic", str(path), "--url", url, *options]) == 0
    out = capsys.readouterr().out
    deals = by_hand(path)
    assert len(deals) == count
    undated = deals[deals["close"].isna() & ~deals["won"] & ~deals["lost"]]
    if len(undated):  # Pipedrive allows open deals without an expected close date
        assert f"{len(undated)} open deals have no close date (${undated['amount'].sum():,.0f})" in out
    else:
        assert "no close date" not in out
    engine = make_engine(url, read_only=True)
    try:
        assert read_frame(engine, sa.select(sa.func.count()).select_from(opportunity)).iloc[0, 0] == count
        quarters = {Period.quarter(d.date()) for d in deals["close"].dropna()}
        for period in [*sorted(quarters, key=lambda p: p.start), Period(date(2000, 1, 1), date(2100, 12, 31))]:
            got = query(engine, ["bookings", "open_pipeline", "win_rate", "deals_won"], Filters(period), Scope.everyone()).iloc[0]
            want = expected(deals, period)
            assert got["bookings"] == pytest.approx(want["bookings"]), period
            assert got["open_pipeline"] == pytest.approx(want["open_pipeline"]), period
            assert got["deals_won"] == want["deals_won"], period
            if want["win_rate"] is None:
                assert pd.isna(got["win_rate"]), period
            else:
                assert got["win_rate"] == pytest.approx(want["win_rate"]), period
    finally:
        engine.dispose()
    capsys.readouterr()
    assert main(["import", "generic", str(path), "--url", url, *options]) == 0
    assert f"opportunity +0/~{count}" in capsys.readouterr().out  # re-import: in place, derived ids included


def test_the_files_own_probability_and_forecast_category_win_over_the_stage_table(tmp_path):
    """A rep's 65 % on a Proposal deal stays 65 % (as Salesforce keeps an overridden probability); weighted
    pipeline still uses the stage table's probability (SPEC)."""
    url = f"duckdb:///{tmp_path}/w.duckdb"
    path = FIXTURES / "pipeline_snapshot_report.csv"
    options = CASES[path.name][0]
    assert main(["import", "generic", str(path), "--url", url, *options, "--map", "forecast_category=Next Steps"]) == 2
    assert main(["import", "generic", str(path), "--url", url, *options]) == 0
    report = pd.read_csv(path, dtype=str)
    report = report[report.notna().sum(axis=1) >= 2]
    engine = make_engine(url, read_only=True)
    try:
        stored = read_frame(
            engine,
            sa.select(account.c.name, account.c.country, opportunity.c.probability, opportunity.c.stage).join(
                account, account.c.id == opportunity.c.account_id
            ),
        ).set_index("name")
    finally:
        engine.dispose()
    own = report.set_index("Customer")
    assert stored["probability"].to_dict() == own["Probability"].str.removesuffix("%").astype(float).astype(int).to_dict()
    assert (stored.loc["Prime Media", ["probability", "stage"]].tolist()) == [65, "Proposal"]  # the stage table says 60
    assert stored["country"].to_dict() == own["Country"].to_dict()


def test_region_and_segment_are_created_and_listed_like_new_owners(tmp_path, capsys):
    csv = tmp_path / "deals.csv"
    csv.write_text(
        "Id,Owner,Stage,Amount,Close Date,Account,Region,Segment,Industry\n"
        "1,Kim,Won,10,2024-01-05,Acme,EMEA,Enterprise,Retail\n"
        "2,Kim,Lost,5,2024-01-06,Beta,APAC,SMB,\n"
        "3,Kim,Won,7,2024-01-07,Acme,APAC,SMB,Food\n"
    )
    url = f"duckdb:///{tmp_path}/w.duckdb"
    assert main(["import", "generic", str(csv), "--url", url]) == 0
    out = capsys.readouterr().out
    assert "2 new regions: EMEA, APAC" in out and "2 new segments: Enterprise, SMB" in out
    engine = make_engine(url, read_only=True)
    try:
        accounts = read_frame(
            engine,
            sa.select(account.c.name, account.c.industry, region.c.name.label("region"))
            .join(region, region.c.id == account.c.region_id)
            .order_by(account.c.name),
        )
    finally:
        engine.dispose()
    assert accounts.fillna("").values.tolist() == [["Acme", "Retail", "EMEA"], ["Beta", "", "APAC"]]  # first row wins


def test_a_deals_own_forecast_category_counts_in_commit_and_best_case(tmp_path, capsys):
    csv = tmp_path / "deals.csv"
    csv.write_text(
        "Id,Owner,Stage,Amount,Close Date,Forecast Category\n"
        "1,Kim,Proposal,100,2024-02-05,commit\n"  # the stage's own category is Best Case
        "2,Kim,Proposal,40,2024-02-06,\n"
        "3,Kim,Proposal,7,2024-02-07,Maybe\n"
    )
    url = f"duckdb:///{tmp_path}/w.duckdb"
    assert main(["import", "generic", str(csv), "--url", url]) == 2
    assert "Forecast Category must be a forecast category" in capsys.readouterr().err
    csv.write_text(csv.read_text().replace("Maybe", "Best case"))
    assert main(["import", "generic", str(csv), "--url", url]) == 0
    engine = make_engine(url, read_only=True)
    try:
        period = Filters(Period(date(2024, 1, 1), date(2024, 3, 31)))
        got = query(engine, ["commit_pipeline", "best_case_pipeline"], period, Scope.everyone()).iloc[0].tolist()
    finally:
        engine.dispose()
    assert got == [100.0, 47.0]


def test_sales_channels_are_stored_and_new_ones_listed(tmp_path, capsys):
    """The report's Sales Channel goes on each deal; channels the warehouse has not seen are listed (a typo
    shows there first); a second import of the same channels lists none."""
    path = FIXTURES / "pipeline_snapshot_report.csv"
    options = CASES[path.name][0]
    url = f"duckdb:///{tmp_path}/w.duckdb"
    report = pd.read_csv(path, dtype=str)
    report = report[report.notna().sum(axis=1) >= 2]
    channels = list(dict.fromkeys(report["Sales Channel"].dropna()))
    assert main(["import", "generic", str(path), "--url", url, *options]) == 0
    assert f"{len(channels)} new sales channels: {', '.join(channels)}" in capsys.readouterr().out
    engine = make_engine(url, read_only=True)
    try:
        stored = read_frame(engine, sa.select(opportunity.c.sales_channel, sa.func.count().label("deals")).group_by(opportunity.c.sales_channel))
    finally:
        engine.dispose()
    assert dict(zip(stored["sales_channel"], stored["deals"], strict=True)) == report["Sales Channel"].value_counts().to_dict()
    assert main(["import", "generic", str(path), "--url", url, *options]) == 0
    assert "sales channel" not in capsys.readouterr().out


def test_a_warehouse_from_before_sales_channels_gets_the_column_on_import(tmp_path, capsys):
    url = f"duckdb:///{tmp_path}/w.duckdb"
    engine = make_engine(url)
    create_schema(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE opportunity DROP COLUMN sales_channel"))
    engine.dispose()
    path = FIXTURES / "pipeline_snapshot_report.csv"
    assert main(["import", "generic", str(path), "--url", url, *CASES[path.name][0]]) == 0
    assert "new sales channels" in capsys.readouterr().out


def test_loss_reasons_are_stored_and_read_by_the_review(tmp_path):
    """A generic export's Loss Reason column lands on each deal (blank stays not recorded), and the period review
    groups the quarter's losses by it."""
    path = tmp_path / "deals.csv"
    path.write_text(
        "Deal ID,Owner,Amount,Stage,Close Date,Loss Reason\n"
        "D1,Ann Lee,100,Closed Lost,2026-02-03,Price\n"
        "D2,Ann Lee,300,Closed Lost,2026-02-04,Competitor\n"
        "D3,Bo Chan,50,Closed Lost,2026-02-05,\n"
        "D4,Bo Chan,900,Closed Won,2026-02-06,\n"
    )
    url = f"duckdb:///{tmp_path}/w.duckdb"
    assert main(["import", "generic", str(path), "--url", url]) == 0
    engine = make_engine(url, read_only=True)
    try:
        stored = read_frame(engine, sa.select(opportunity.c.source_id, opportunity.c.loss_reason).order_by(opportunity.c.source_id))
        review = build_review(engine, Filters(Period.quarter(date(2026, 1, 1))), Scope.everyone(), date(2026, 6, 1))
    finally:
        engine.dispose()
    assert stored["loss_reason"].fillna("<null>").tolist() == ["Price", "Competitor", "<null>", "<null>"]
    frame = review.section("losses_by_reason").frame
    assert frame[["loss_reason", "deals", "amount"]].values.tolist() == [["Competitor", 1, 300.0], ["Price", 1, 100.0], ["Not recorded", 1, 50.0]]
