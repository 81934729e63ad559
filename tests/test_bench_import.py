"""Smoke test of the import benchmark at a small scale (the figures themselves are for the notes)."""

import io

import pandas as pd

from spm_core.bench_import import HEADER, run_import_bench, write_salesforce_export
from spm_core.importing import parse, read_upload


def test_the_import_benchmark_runs_and_reimport_only_updates(tmp_path):
    out = io.StringIO()
    run_import_bench(300, tmp_path, out)
    text = out.getvalue()
    assert "300 rows" in text and "re-import: 0 inserted, 300 updated" in text
    assert "raw DuckDB read_csv into a table" in text


def test_the_generated_export_parses_without_errors(tmp_path):
    path = tmp_path / "export.csv"
    write_salesforce_export(path, 200)
    raw = read_upload(path.name, path.read_bytes())
    assert list(raw.frame.columns) == list(HEADER) and len(raw.frame) == 200 and raw.dropped_footer
    parsed = parse("salesforce_opportunities", {raw.name: raw})
    assert parsed.errors == []
    expected = pd.read_csv(path, nrows=200)["Amount"].str.replace(r"[$,]", "", regex=True).astype(float)
    assert parsed.opportunities["amount"].tolist() == expected.tolist()
