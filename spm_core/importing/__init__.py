"""Import CRM exports (CSV) into the warehouse, safely: validate everything first, write all or nothing.

    files = {"opps.csv": Path("opps.csv").read_bytes()}
    plan = preview(engine, "salesforce_opportunities", files)      # row errors, people to create, ...
    report = apply_import(engine, plan)                              # one transaction; idempotent

The steps (model.py has the shapes): read_upload (csvfile.py) -> parse (formats.py) -> plan_import
(plan.py) -> apply_import (apply.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.engine import Engine

from .apply import apply_import
from .csvfile import DEFAULT_MAX_BYTES, read_upload
from .formats import KINDS, STAGE_MAPPINGS, detect_kind, parse, suggest_mapping
from .model import ImportPlan, ImportRejected, ImportReport, RowError
from .plan import plan_import

__all__ = [
    "DEFAULT_MAX_BYTES",
    "KINDS",
    "STAGE_MAPPINGS",
    "ImportPlan",
    "ImportRejected",
    "ImportReport",
    "RowError",
    "apply_import",
    "detect_kind",
    "parse",
    "plan_import",
    "preview",
    "read_upload",
    "suggest_mapping",
]


def preview(
    engine: Engine,
    kind: str,
    files: Mapping[str, bytes],
    column_mapping: Mapping[str, str] | None = None,
    stage_mapping: Mapping[str, str] | None = None,
    dayfirst: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    date_format: str | None = None,
    id_columns: Sequence[str] = (),
    strict: bool = False,
) -> ImportPlan:
    """Read, parse and plan an import of `files` ({file name: bytes}) without writing anything.

    Raises ImportRejected when the files cannot be read as `kind` at all (not a CSV, too big, required
    columns missing); row-level problems are in the plan's `errors` instead, all of them."""
    raw = {name: read_upload(name, data, max_bytes, strict) for name, data in files.items()}
    return plan_import(engine, parse(kind, raw, column_mapping, dayfirst, date_format, id_columns), stage_mapping)
