"""`python -m spm_core pulse-import FILE`: load a survey export (person or email, date, score, comment).
Every row is checked first; with any bad row nothing is written and each error is printed."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from sqlalchemy.engine import Engine

from ..db import WarehouseError, get_info, has_schema
from . import loader

ERRORS_SHOWN = 50


def add_parser(sub: argparse._SubParsersAction) -> None:
    pulse = sub.add_parser("pulse-import", help="import employee survey responses (eNPS) from CSV")
    pulse.add_argument("file", type=Path, help="CSV with person (email or id), date, score (0-10), comment")
    pulse.add_argument("--dry-run", action="store_true", help="check only, write nothing")
    pulse.add_argument("--url")


def run(args: argparse.Namespace, engine: Engine) -> int:
    if not has_schema(engine):
        raise WarehouseError("No SPM tables yet: run `python -m spm_core init --demo`.")
    info_day = get_info(engine).get("as_of")
    checked = loader.check(engine, args.file.read_bytes(), date.fromisoformat(info_day) if info_day else date.today())
    if not checked.ok:
        print(f"error: {len(checked.errors):,} row error(s); nothing was written:", file=sys.stderr)
        for e in checked.errors[:ERRORS_SHOWN]:
            print(f"  line {e.row}, {e.column} = {e.value!r}: {e.why}", file=sys.stderr)
        if len(checked.errors) > ERRORS_SHOWN:
            print(f"  ... and {len(checked.errors) - ERRORS_SHOWN} more", file=sys.stderr)
        return 2
    if args.dry_run:
        print(f"Dry run: {len(checked.rows):,} responses would be imported.")
        return 0
    print(f"Imported {loader.apply(engine, checked):,} responses.")
    return 0
