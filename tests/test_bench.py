"""The benchmark at smoke scale: every case runs, the metrics layer and the hand-written SQL agree
(run_bench raises BenchMismatch otherwise), and the table is printed. Timings are not asserted."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from spm_core.bench import CASES, HEADER, POSTGRES_HEADER, BenchMismatch, BenchRow, _check_same, run_bench
from spm_core.kpis import CATALOGUE


def test_bench_smoke(tmp_path: Path) -> None:
    out = io.StringIO()
    rows = run_bench(tmp_path / "b.duckdb", opportunities=20_000, activities=60_000, repeat=1, out=out)

    assert [r.case for r in rows] == [c.name for c in CASES]
    assert all(isinstance(r, BenchRow) for r in rows)
    assert all(r.rows >= 1 for r in rows)
    assert all(r.metrics_s > 0 and r.raw_s > 0 and r.peak_rss_mb > 0 for r in rows)

    lines = out.getvalue().splitlines()
    assert HEADER in lines
    table = lines[lines.index(HEADER) + 1 :]
    assert len(table) == len(CASES)
    assert [line.split()[0] for line in table] == [c.name for c in CASES]
    assert any(line.startswith("Generated ") for line in lines)
    assert any(line.strip().startswith("opportunity ") and "20,000" in line for line in lines)


def test_bench_reuses_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "b.duckdb"
    run_bench(path, opportunities=5_000, activities=10_000, repeat=1, out=io.StringIO())
    out = io.StringIO()
    rows = run_bench(path, opportunities=5_000, activities=10_000, repeat=1, reuse=True, out=out)
    assert out.getvalue().startswith("Reusing ")
    assert len(rows) == len(CASES)


def test_bench_times_every_case_on_postgresql_beside_duckdb(tmp_path: Path, pg_database) -> None:
    url, out = pg_database(), io.StringIO()
    rows = run_bench(tmp_path / "b.duckdb", opportunities=5_000, activities=10_000, repeat=1, out=out, postgres_url=url)
    assert [r.case for r in rows] == [c.name for c in CASES]
    assert all(r.postgres_s > 0 and r.postgres_ratio == r.postgres_s / r.metrics_s for r in rows)
    lines = out.getvalue().splitlines()
    assert any(line.startswith("Copied ") and url.split("@")[1] in line for line in lines)
    table = lines[lines.index(POSTGRES_HEADER) + 1 :]
    assert [len(line.split()) for line in table] == [8] * len(CASES)
    again = io.StringIO()
    run_bench(tmp_path / "b.duckdb", opportunities=5_000, activities=10_000, repeat=1, reuse=True, out=again, postgres_url=url)
    assert "Reusing the copy at " in again.getvalue()


def test_cases_cover_every_catalogue_kpi() -> None:
    covered = {k for c in CASES for k in c.kpis}
    assert covered == set(CATALOGUE)


def test_mismatch_names_the_case() -> None:
    got = pd.DataFrame({"team_id": [1, 2], "team": ["A", "B"], "bookings": [10.0, 20.0]})
    _check_same("same", got, got.iloc[::-1].reset_index(drop=True))  # order does not matter
    with pytest.raises(
        BenchMismatch, match=r'(?s)some_case: metrics layer \(left\) differs .*column name="bookings".*\(2\.0, B\)'
    ):
        _check_same("some_case", got, got.assign(bookings=[10.0, 21.0]))
    with pytest.raises(BenchMismatch, match="some_case: metrics layer gave 2 rows, raw SQL 1"):
        _check_same("some_case", got, got.head(1))
    with pytest.raises(BenchMismatch, match="some_case: metrics layer columns"):
        _check_same("some_case", got, got.rename(columns={"bookings": "quota"}))
    nulls = pd.DataFrame({"attainment": [None]}, dtype=float)
    _check_same("null_is_null", nulls, nulls.copy())
    typed = pd.DataFrame({"team_id": pd.array([None, 1], dtype="Int64"), "bookings": pd.array([None, 10.0], dtype="Float64")})
    _check_same("driver_types", typed, pd.DataFrame({"team_id": [1.0, None], "bookings": [10.0 + 1e-12, None]}))
    with pytest.raises(BenchMismatch, match="team"):
        _check_same("some_case", got, got.assign(team=["A", "C"]))
