"""The commission benchmark at smoke scale: it builds a demo, times the engine and the hand-written SQL of the
marginal bands, and fails when they disagree on a single line. Timings are printed, not asserted."""

from __future__ import annotations

import io

from spm_core.comp.bench import run_comp_bench


def test_comp_bench_smoke_agrees_with_the_hand_written_sql(tmp_path):
    out = io.StringIO()
    run_comp_bench(tmp_path / "c.duckdb", opportunities=4_000, repeat=1, out=out)
    text = out.getvalue()
    assert "engine, whole run (all rules)" in text and "hand-written SQL, marginal bands" in text
    assert ": 0 lines differ" in text
