"""The page benchmark at smoke scale: it builds a demo warehouse with history facts, times the pages in a
child process and the pages' history numbers both ways, and prints one row per page. Timings are not asserted."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from spm_core.bench_pages import HEADER, PageRow, run_bench_pages


def test_bench_pages_smoke(tmp_path: Path) -> None:
    out = io.StringIO()
    rows = run_bench_pages(tmp_path / "p.duckdb", opportunities=3_000, repeat=1, pages=("overview", "pipeline", "my_commissions"), out=out)

    assert [r.page for r in rows] == ["overview", "pipeline", "my_commissions"]  # the last as the demo rep
    assert all(isinstance(r, PageRow) and r.cold_s > 0 and r.warm_s > 0 and r.peak_mb > 0 for r in rows)
    overview, pipeline, _ = rows
    assert overview.facts_s is None and overview.raw_s is None  # no history numbers of its own
    assert pipeline.facts_s > 0 and pipeline.raw_s > 0
    lines = out.getvalue().splitlines()
    assert "history facts: yes" in lines[1]
    table = lines[lines.index(HEADER) + 1 :]
    assert [line.split()[0] for line in table[:2]] == ["overview", "pipeline"]


def test_bench_pages_refuses_an_unknown_page(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Unknown page"):
        run_bench_pages(tmp_path / "p.duckdb", opportunities=3_000, repeat=1, pages=("payroll",), out=io.StringIO())
