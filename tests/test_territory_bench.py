"""The territory bench at smoke scale: every step runs, proposals lower the spread, accepted moves land."""

from __future__ import annotations

import sqlalchemy as sa

from spm_core.db import make_engine
from spm_core.planning.territories.bench import report, run
from spm_core.schema import territory_assignment


def test_bench_smoke(tmp_path):
    steps, figures = run(tmp_path / "t.duckdb", accounts=600, territories=6)
    assert [s.name for s in steps][0] == "read measures of 600 accounts" and len(steps) == 4
    assert all(s.seconds > 0 and s.rss_peak_mb > 0 for s in steps)
    for before, after, moves in figures.values():
        assert after < before and moves > 0
    assert report(steps, figures).count("\n") == 6
    engine = make_engine(f"duckdb:///{tmp_path / 't.duckdb'}")
    with engine.connect() as conn:
        named = conn.execute(sa.select(sa.func.count()).select_from(territory_assignment)).scalar_one()
    engine.dispose()
    assert named == figures["potential"][2]
