"""`python -m spm_core report`: a period review written to files, for a scheduled job.

    python -m spm_core report --period 2026-Q3 --scope user:ana --xlsx review.xlsx --pdf review.pdf

--scope is whose numbers: `everyone`, `user:NAME` (exactly what that app user may see), `subtree:PERSON_ID`
(a manager and everyone below) or `person:PERSON_ID` (one rep). A job mailing a review to a manager should
use their user, so the file never holds more than they may see on screen.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from sqlalchemy.engine import Engine

from ..db import WarehouseError, get_info, has_schema
from ..filters import Filters, Scope
from ..users import UserStore, viewer_scope
from .files import review_pdf, review_xlsx
from .periods import parse_period
from .review import build_review


def add_parser(sub: argparse._SubParsersAction) -> None:
    report = sub.add_parser("report", help="write a period review (XLSX and/or PDF) for a month or quarter and a scope")
    report.add_argument("--period", required=True, help="a quarter (2026-Q3) or a month (2026-11)")
    report.add_argument("--scope", default="everyone", help="everyone | user:NAME | subtree:PERSON_ID | person:PERSON_ID")
    report.add_argument("--team", type=int, action="append", default=[], help="only this team (repeat for several)")
    report.add_argument("--xlsx", type=Path, help="write the workbook here")
    report.add_argument("--pdf", type=Path, help="write the PDF here")
    report.add_argument("--as-of", type=date.fromisoformat, help="'today' (default: the demo's as-of date, else today)")
    report.add_argument("--url")
    report.add_argument("--users-file", type=Path, help="users file for --scope user:NAME (default: beside the warehouse)")


def parse_scope(engine: Engine, text: str, users: UserStore) -> Scope:
    kind, _, value = text.partition(":")
    if kind == "everyone" and not value:
        return Scope.everyone()
    if kind == "user" and value:
        user = users.get(value)
        if user is None:
            raise ValueError(f"No app user {value!r} (see `python -m spm_core users list`).")
        return viewer_scope(engine, user)
    if kind in ("subtree", "person") and value.isdigit():
        return Scope.subtree(int(value)) if kind == "subtree" else Scope.only(int(value))
    raise ValueError(f"Not a scope: {text!r}; expected everyone, user:NAME, subtree:PERSON_ID or person:PERSON_ID.")


def run(args: argparse.Namespace, engine: Engine, users: UserStore) -> int:
    if not args.xlsx and not args.pdf:
        raise ValueError("Nothing to write: give --xlsx FILE and/or --pdf FILE.")
    if not has_schema(engine):
        raise WarehouseError("No SPM tables yet: run `python -m spm_core init --demo`.")
    info_day = get_info(engine).get("as_of")
    as_of = args.as_of or (date.fromisoformat(info_day) if info_day else date.today())
    filters = Filters(parse_period(args.period), teams=frozenset(args.team))
    review = build_review(engine, filters, parse_scope(engine, args.scope, users), as_of)
    for path, write in ((args.xlsx, review_xlsx), (args.pdf, review_pdf)):
        if path:
            path.write_bytes(write(engine, review))
            print(f"Wrote {path} (period review {args.period}, as of {as_of}).")
    return 0
