"""Where the warehouse lives.

The embedded DuckDB file under data/ is the default; SPM_WAREHOUSE_URL (or the app's
secrets.toml, which the app passes in) points the same metrics at PostgreSQL or a cloud warehouse.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "SPM_WAREHOUSE_URL"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DUCKDB_PATH = PROJECT_ROOT / "data" / "spm.duckdb"


def default_url() -> str:
    return f"duckdb:///{DEFAULT_DUCKDB_PATH}"


def warehouse_url(explicit: str | None = None) -> str:
    """The URL to use: an explicit one, else the environment, else the embedded default."""
    return explicit or os.environ.get(ENV_VAR) or default_url()
