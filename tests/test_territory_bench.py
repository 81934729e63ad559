"""The territory bench at smoke scale: every step runs, proposals lower the spread, accepted moves land, the
carving and the publication report what they moved."""

from __future__ import annotations

import sqlalchemy as sa

from spm_core.db import make_engine
from spm_core.planning.territories.bench import report, run
from spm_core.schema import territory, territory_history


def test_bench_smoke(tmp_path):
    steps, figures = run(tmp_path / "t.duckdb", accounts=600, territories=6)
    assert [s.name for s in steps][0] == "read measures of 600 accounts" and len(steps) == 8
    assert all(s.seconds > 0 and s.rss_peak_mb > 0 for s in steps)
    for before, after, moves in (figures["potential"], figures["workload"]):
        assert after < before and moves > 0
    assert figures["carving"][2] > 0 and figures["published"][0] > 0
    assert report(steps, figures).count("\n") == 12
    engine = make_engine(f"duckdb:///{tmp_path / 't.duckdb'}")
    with engine.connect() as conn:
        count = {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() for t in (territory, territory_history)
        }
        current = conn.execute(sa.select(sa.func.count()).where(territory_history.c.valid_to.is_(None))).scalar_one()
    engine.dispose()
    assert count["territory"] == 6 + 3  # the carving made three new ones
    assert count["territory_history"] == 600 + figures["published"][0] and current == 600  # baseline + moved; one each now
