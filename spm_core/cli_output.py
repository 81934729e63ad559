"""How the command line prints results: aligned text for people (values formatted as in the app), or
CSV / JSON with raw numbers for scripts (`--format csv|json`)."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pandas as pd

from .formatting import exact_by_unit

FORMATS = ("table", "csv", "json")


def kpi_frame(frame: pd.DataFrame, units: Mapping[str, str], output: str, title: str, header: Mapping[str, str]) -> str:
    """KPI rows: `table` formats each KPI column by its unit ($1,234, 42.9%, 53 days) under a title
    line; csv and json keep the numbers as they are (json also carries the header's fields)."""
    if output == "csv":
        return frame.to_csv(index=False)
    if output == "json":
        rows = json.loads(frame.to_json(orient="records", date_format="iso", double_precision=15))
        return json.dumps({**header, "rows": rows}, indent=2) + "\n"
    shown = frame.assign(**{n: frame[n].map(lambda v, u=unit: exact_by_unit(u, v)) for n, unit in units.items()})
    return f"{title}\n{shown.to_string(index=False)}\n"


def key_values(sections: Mapping[str, Mapping[str, object]], output: str, title: str) -> str:
    """Named sections of key/value pairs (e.g. `info` and table row counts): indented text, CSV rows
    `section,key,value`, or one JSON object per section."""
    if output == "json":
        return json.dumps({"warehouse": title, **sections}, indent=2, default=str) + "\n"
    if output == "csv":
        rows = [(name, key, value) for name, pairs in sections.items() for key, value in pairs.items()]
        return pd.DataFrame(rows, columns=["section", "key", "value"]).to_csv(index=False)
    lines = [f"Warehouse: {title}"]
    for pairs in sections.values():
        lines += [f"  {k:<22}{v:>14,}" if isinstance(v, int) else f"  {k:<22}{v}" for k, v in pairs.items()]
    return "\n".join(lines) + "\n"

