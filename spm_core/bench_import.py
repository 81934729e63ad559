"""Benchmark the CSV importer on a Salesforce-style report export of `rows` opportunities.

    python -m spm_core bench-import --rows 1000000

It writes the export (quoted headers, "$1,234.56" amounts, US dates, a report footer) into a scratch
folder, then times each step of an import into an empty DuckDB file (read, parse, plan, apply) and a
re-import of the same file (all updates), printing seconds and each step's peak RSS. For scale it also
times DuckDB loading the same file by itself (`read_csv` into a table, no validation, no mapping).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TextIO, TypeVar

import duckdb
import numpy as np
import pandas as pd

from .bench import _peak_rss_mb, _reset_peak_rss
from .db import make_engine
from .importing import apply_import, parse, plan_import, read_upload

T = TypeVar("T")
STAGES = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
)
HEADER = (
    "Opportunity Owner", "Account Name", "Opportunity Name", "Opportunity ID", "Stage", "Amount",
    "Probability (%)", "Close Date", "Created Date", "Type", "Lead Source", "Forecast Category",
)  # fmt: skip
FOOTER = '\n"Grand Totals ({rows:,} records)"\n\n"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."\n'


def write_salesforce_export(path: Path, rows: int, seed: int = 5) -> None:
    """A Salesforce Opportunities report export of `rows` deals, built with numpy (not row by row)."""
    rng = np.random.default_rng(seed)
    created = pd.Timestamp(date(2024, 1, 1)) + pd.to_timedelta(rng.integers(0, 900, rows), unit="D")
    close = created + pd.to_timedelta(rng.integers(10, 200, rows), unit="D")
    stage = np.asarray(STAGES)[rng.integers(0, len(STAGES), rows)]
    amount = rng.lognormal(9.5, 0.8, rows).round(2)
    owners = np.char.add("Rep ", rng.integers(1, 2_000, rows).astype(str))
    accounts = np.char.add("Account ", rng.integers(1, 50_000, rows).astype(str))
    frame = pd.DataFrame(
        {
            "Opportunity Owner": owners,
            "Account Name": accounts,
            "Opportunity Name": np.char.add(accounts, " - deal"),
            "Opportunity ID": np.char.add("006", np.arange(rows).astype(str)),
            "Stage": stage,
            "Amount": [f"${a:,.2f}" for a in amount],
            "Probability (%)": rng.integers(0, 101, rows),
            "Close Date": close.strftime("%-m/%-d/%Y"),
            "Created Date": created.strftime("%-m/%-d/%Y"),
            "Type": "New Business",
            "Lead Source": "Web",
            "Forecast Category": "Pipeline",
        }
    )
    frame.to_csv(path, index=False, quoting=1, columns=list(HEADER))
    with path.open("a") as out:
        out.write(FOOTER.format(rows=rows))


def _step(name: str, fn: Callable[[], T], out: TextIO) -> T:
    _reset_peak_rss()
    started = time.perf_counter()
    result = fn()
    print(f"  {name:<34}{time.perf_counter() - started:>9.2f} s{_peak_rss_mb():>10,.0f} MB", file=out, flush=True)
    return result


def run_import_bench(rows: int, folder: Path | None = None, out: TextIO = sys.stdout) -> None:
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        csv_path, db_path = Path(scratch) / "opportunities.csv", Path(scratch) / "import.duckdb"
        started = time.perf_counter()
        write_salesforce_export(csv_path, rows)
        size_mb = csv_path.stat().st_size / 2**20
        print(f"{rows:,} rows, {size_mb:,.0f} MB CSV written in {time.perf_counter() - started:.1f} s", file=out)
        print(f"  {'step':<34}{'seconds':>11}{'peak RSS':>13}", file=out)
        engine = make_engine(f"duckdb:///{db_path}")
        try:
            total = time.perf_counter()
            raw = _step("read (decode, sniff, footer)", lambda: read_upload(csv_path.name, csv_path.read_bytes(), 2**40), out)
            parsed = _step("parse (types, row checks)", lambda: parse("salesforce_opportunities", {raw.name: raw}), out)
            plan = _step("plan (owners, accounts, stages)", lambda: plan_import(engine, parsed), out)
            _step("apply (one transaction)", lambda: apply_import(engine, plan), out)
            print(f"  {'import, all steps':<34}{time.perf_counter() - total:>9.2f} s", file=out)
            again = plan_import(engine, parsed)
            report = _step("re-import the same file (apply)", lambda: apply_import(engine, again), out)
            print(
                f"  re-import: {report.inserted['opportunity']:,} inserted, {report.updated['opportunity']:,} updated", file=out
            )
        finally:
            engine.dispose()
        con = duckdb.connect()
        try:
            _step("raw DuckDB read_csv into a table", lambda: con.execute(
                "create table raw as select * from read_csv(?, header = true, all_varchar = true, null_padding = true)",
                [str(csv_path)],
            ), out)  # fmt: skip
        finally:
            con.close()
