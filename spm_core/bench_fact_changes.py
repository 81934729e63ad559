"""Benchmark keeping the stored history numbers up on import (fact_changes.py) against recomputing them all.

    cp /tmp/bench/b10m.duckdb /tmp/bench/incr10m.duckdb
    python -m spm_core bench-fact-changes /tmp/bench/incr10m.duckdb --changes 1 1%
    python -m spm_core bench-fact-changes postgresql+psycopg://postgres@127.0.0.1:55432/incr --changes 1 1%

On a copy of a warehouse (it writes to it): the full rebuild (`rebuild-history-facts --no-cluster`; with
--skip-full only when the facts are not complete yet), the period numbers alone (what every import recomputed before), then per --changes an import changing that many
deals (or that percentage of them) the ways CRM exports do: amount changes, pushes, pull-ins, new owners,
closes and reopenings, plus new deals. Prints rows, seconds, peak RSS and the load average beside them.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import TextIO, TypeVar

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from . import fact_changes, history_facts, period_facts, schema
from .bench import _peak_rss_mb, _reset_peak_rss
from .db import get_info, make_engine, read_frame
from .importing import apply_import, plan_import
from .importing.model import Parsed

T = TypeVar("T")
STAGES = ("Prospecting", "Qualification", "Discovery", "Proposal", "Negotiation", "Closed Won", "Closed Lost")


def _step(name: str, fn: Callable[[], T], out: TextIO) -> T:
    _reset_peak_rss()
    started = time.perf_counter()
    result = fn()
    load = os.getloadavg()[0]
    print(
        f"  {name:<58}{time.perf_counter() - started:>9.2f} s{_peak_rss_mb():>10,.0f} MB   load {load:.2f}", file=out, flush=True
    )
    return result


def _count(engine: Engine, table: sa.Table) -> int:
    return int(read_frame(engine, sa.select(sa.func.count()).select_from(table)).iloc[0, 0])


def changed_deals_import(engine: Engine, count: int) -> Parsed:
    """An import (generic format) changing `count` existing deals, spread evenly over the ids, plus new deals
    (one per 100 changed, at least one). The chosen deals get source ids first: imports match on them."""
    o, p, a, pr = schema.opportunity.c, schema.person.c, schema.account.c, schema.product.c
    step = max(_count(engine, schema.opportunity) // count, 1)
    chosen = sa.select(o.id).where(o.id % step == 0).order_by(o.id).limit(count)
    with engine.begin() as conn:
        conn.execute(schema.opportunity.update().where(o.id.in_(chosen)).values(source_id=sa.cast(o.id, sa.String)))
    stmt = (
        sa.select(o.id, o.amount, o.stage, o.created_date, o.close_date, o.is_closed,
                  p.name.label("owner"), a.name.label("account"), pr.name.label("product"))
        .join_from(schema.opportunity, schema.person, p.id == o.owner_id)
        .outerjoin(schema.account, a.id == o.account_id).outerjoin(schema.product, pr.id == o.product_id)
        .where(o.id.in_(chosen)).order_by(o.id)
    )  # fmt: skip
    rows = read_frame(engine, stmt)
    as_of = pd.Timestamp(get_info(engine)["as_of"])
    day = as_of - pd.Timedelta(days=3)
    kind = pd.Series(range(len(rows))) % 5
    closed = rows["is_closed"].astype(bool)
    owners = rows["owner"].drop_duplicates().reset_index(drop=True)
    next_owner = rows["owner"].map(dict(zip(owners, owners.shift(-1, fill_value=owners.iloc[0]), strict=True)))
    close = pd.to_datetime(rows["close_date"])
    amount = rows["amount"].astype("float64").where(closed | (kind != 0), rows["amount"] * 1.5)  # amount changes
    close = close.where(closed | (kind != 1), close + pd.Timedelta(days=95))  # pushes
    close = close.where(closed | (kind != 2), as_of + pd.Timedelta(days=2))  # pull-ins
    owner = rows["owner"].where(kind != 3, next_owner)  # new owners (closed deals too: the forecast learns from them)
    won = ~closed & (kind == 4)
    stage = rows["stage"].where(~won, "Closed Won").where(~closed | (kind == 3), "Qualification")  # closes, reopenings
    close = close.where(~won, day).where(~closed | (kind == 3), as_of + pd.Timedelta(days=30))
    ids = rows["id"].astype("string")
    extra = max(count // 100, 1)
    new_ids = pd.Series([f"new{count}-{i}" for i in range(extra)], dtype="string")
    deals = pd.DataFrame({
        "source_id": pd.concat([ids, new_ids], ignore_index=True),
        "owner": pd.concat([owner, owners.iloc[[i % len(owners) for i in range(extra)]]], ignore_index=True),
        "account": pd.concat([rows["account"], pd.Series([None] * extra)], ignore_index=True),
        "product": pd.concat([rows["product"], pd.Series([None] * extra)], ignore_index=True),
        "amount": pd.concat([amount, pd.Series([1000.0] * extra)], ignore_index=True),
        "stage": pd.concat([stage, pd.Series(["Discovery"] * extra)], ignore_index=True),
        "created_date": pd.concat([pd.to_datetime(rows["created_date"]), pd.Series([day] * extra)], ignore_index=True),
        "close_date": pd.concat([close, pd.Series([as_of + pd.Timedelta(days=20)] * extra)], ignore_index=True),
    })  # fmt: skip
    deals = deals.astype({c: "string" for c in ("source_id", "owner", "account", "product", "stage")})
    deals = deals.astype({"amount": "float64", "created_date": "datetime64[ns]", "close_date": "datetime64[ns]"})
    history = pd.DataFrame({
        "source_id": "x" + deals["source_id"],
        "opportunity_source_id": deals["source_id"],
        "changed_at": day,
        "stage": deals["stage"],
        "amount": deals["amount"],
        "close_date": deals["close_date"],
    }).astype({"source_id": "string", "opportunity_source_id": "string", "stage": "string", "changed_at": "datetime64[ns]"})  # fmt: skip
    frames = {"opportunities": deals, "history": history}
    return Parsed(
        "generic",
        **frames,
        line_numbers={name: pd.Series(range(2, len(f) + 2)) for name, f in frames.items()},
        files={name: f"{name}.csv" for name in frames},
        default_stage_mapping={s: s for s in STAGES},
    )


@contextmanager
def _timed(seconds: list[float]) -> Iterator[None]:
    """Time fact_changes.refresh inside an import (the part this benchmark is about)."""
    original = fact_changes.refresh

    def timed(*args, **kwargs):
        started = time.perf_counter()
        original(*args, **kwargs)
        seconds.append(time.perf_counter() - started)

    fact_changes.refresh = timed
    try:
        yield
    finally:
        fact_changes.refresh = original


def _deals(change: str, total: int) -> int:
    return max(int(total * float(change[:-1]) / 100), 1) if change.endswith("%") else int(change)


def run_fact_changes_bench(url: str, changes: list[str], full: bool = True, out: TextIO = sys.stdout) -> None:
    """On the warehouse at `url` (DuckDB or PostgreSQL), which it writes to."""
    engine = make_engine(url)
    try:
        total = _count(engine, schema.opportunity)
        history = _count(engine, schema.opportunity_history)
        where = engine.url.render_as_string(hide_password=True)
        print(f"{where}: {total:,} opportunities, {history:,} history rows, as_of {get_info(engine)['as_of']}", file=out)
        print(f"  {'step':<58}{'seconds':>11}{'peak RSS':>13}", file=out)
        if history_facts.has_facts(engine) and not full:
            print("  (the facts are complete: full rebuild skipped)", file=out)
        else:
            facts, periods = _step(
                "full rebuild (rebuild-history-facts --no-cluster)", lambda: period_facts.rebuild_all(engine, cluster=False), out
            )
            print(f"    {facts:,} deal-stage rows, {periods:,} period rows", file=out)
        as_of = date.fromisoformat(get_info(engine)["as_of"])

        def periods_alone() -> int:
            with engine.begin() as conn:
                return period_facts.rebuild(conn, as_of)

        _step("period numbers alone (every import recomputed them before)", periods_alone, out)
        for change in changes:
            count = _deals(change, total)
            parsed = changed_deals_import(engine, count)
            plan = _step(
                f"plan an import changing {count:,} deals (+{max(count // 100, 1):,} new)",
                lambda parsed=parsed: plan_import(engine, parsed),
                out,
            )
            if not plan.ok:
                print(f"    plan has {len(plan.errors)} errors, e.g. {plan.errors[:3]}", file=out)
                continue
            refresh: list[float] = []
            with _timed(refresh):
                report = _step("  apply it (one transaction, facts kept up)", lambda plan=plan: apply_import(engine, plan), out)
            print(f"    of which recomputing the stored numbers {sum(refresh):.2f} s; "
                  f"{report.updated['opportunity']:,} deals updated, {report.inserted['opportunity']:,} inserted; "
                  f"facts complete: {history_facts.has_facts(engine)}", file=out)  # fmt: skip
    finally:
        engine.dispose()
