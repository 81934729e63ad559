"""The planning bench at smoke scale: every step runs and the plan it publishes adds up."""

from __future__ import annotations

import sqlalchemy as sa

from spm_core.db import make_engine
from spm_core.planning.bench import report, run
from spm_core.schema import plan_allocation, quota


def test_bench_smoke(tmp_path):
    steps = run(tmp_path / "b.duckdb", reps=120)
    assert [s.name for s in steps] == [
        "allocate 120 reps and store",
        "override one rep, reallocate",
        "read it with quotas after ramp",
        "capacity",
        "publish monthly quotas",
    ]
    assert all(s.seconds > 0 and s.rss_peak_mb > 0 for s in steps)
    assert report(steps).count("\n") == 5
    engine = make_engine(f"duckdb:///{tmp_path / 'b.duckdb'}")
    with engine.connect() as conn:
        reps = conn.execute(
            sa.select(sa.func.count()).select_from(quota).where(quota.c.month == sa.func.make_date(2027, 12, 1))
        ).scalar_one()
        top = conn.execute(sa.select(plan_allocation.c.cents).where(plan_allocation.c.depth == 0)).scalar_one()
        seats = conn.execute(sa.select(sa.func.count()).select_from(plan_allocation).where(plan_allocation.c.person_id < 0))
        seats = seats.scalar_one()
    engine.dispose()
    # Every rep gets a December quota; the 6 planned seats (one per 20 reps) are published as seats, with none.
    assert reps == 120 and top == 120 * 1_000_000_00 + 7 and seats == 6
