"""`python -m spm_core comp ...` for the pay cycle: statuses, approve / send back, lock, mark paid, the
auto-approval threshold, manual adjustments, payroll and audit-log exports, and the disputes queue.

Every command acts `--as USER`, an app user of the warehouse's users file, with that user's role and
scope: the same spm_core.comp functions as the pages, so the command line grants nothing the pages do
not (a manager approves only their subtree; only comp admins and admins lock, pay, export payroll and
the audit log, or decide disputes). Each change is one transaction with its audit entry.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..config import warehouse_url
from ..exports import to_csv_bytes, to_xlsx_bytes
from ..filters import Period
from ..users import UserStore, viewer_scope
from .adjustments import add_adjustment
from .audit import Actor, CompError, audit_log
from .cycle import approve_many, auto_approve_below, decide, lock, mark_paid, set_auto_approve_below, state
from .disputes import disputes, reject, resolve
from .payroll import payroll
from .periods import parse_period, period_label
from .schema import comp_line, ensure_schema, is_ready
from .statements import team
from .trace import money_text

OpenEngine = Callable[..., Engine]
DISPUTE_STATES = ("open", "resolved", "rejected")


def period_arg(text: str) -> Period:
    """An argparse type: a bad period is a usage error (exit status 2) with the accepted forms."""
    try:
        return parse_period(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def amount_arg(text: str) -> Decimal:
    try:
        return Decimal(text.replace(",", "").replace("$", "").strip())
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not an amount: {text!r} (write it like 125.50 or -40)") from None


def _who() -> argparse.ArgumentParser:
    """--as, --users-file and --url, shared by every command of the cycle."""
    who = argparse.ArgumentParser(add_help=False)
    who.add_argument("--as", dest="as_user", required=True, metavar="USER",
                     help="act as this app user (their role and scope decide what they may do)")
    who.add_argument("--users-file", type=Path, help="users file (default: beside the warehouse, or $SPM_USERS_FILE)")
    who.add_argument("--url", help="warehouse URL (default: $SPM_WAREHOUSE_URL or data/spm.duckdb)")
    return who


def _files(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--csv", type=Path, metavar="FILE.csv", help=f"write {what} as CSV here")
    parser.add_argument("--xlsx", type=Path, metavar="FILE.xlsx", help=f"write {what} as an Excel workbook here")


def add_parsers(actions: argparse._SubParsersAction) -> None:
    who = _who()
    period = argparse.ArgumentParser(add_help=False)
    period.add_argument("--period", type=period_arg, required=True, help="2026-Q3, 2026-07 or 2026")
    actions.add_parser("status", parents=[who, period], help="the period's state and the statements in your view, with their status")
    approve = actions.add_parser("approve", parents=[who, period],
                                 help="approve at your level (manager, then comp admin) the statements awaiting you")
    approve.add_argument("--person", type=int, action="append", default=[], help="only this person id (repeat for several)")
    back = actions.add_parser("send-back", parents=[who, period], help="send one statement back to the manager level, with a comment")
    back.add_argument("--person", type=int, required=True)
    back.add_argument("--comment", required=True, help="why it goes back (the rep and manager read it)")
    actions.add_parser("lock", parents=[who, period], help="lock an approved period (comp admins): it is never rewritten again")
    actions.add_parser("paid", aliases=["mark-paid"], parents=[who, period], help="mark a locked period paid (comp admins)")
    auto = actions.add_parser("auto-approve", parents=[who], help="set the auto-approval threshold applied at each calculation")
    choice = auto.add_mutually_exclusive_group(required=True)
    choice.add_argument("--below", type=amount_arg, metavar="AMOUNT", help="statements whose total is under this skip both levels")
    choice.add_argument("--off", action="store_true", help="no auto-approval")
    adjust = actions.add_parser("adjust", parents=[who, period],
                                help="post a manual adjustment line (comp admins; into the next open period if this one is closed)")
    adjust.add_argument("--person", type=int, required=True)
    adjust.add_argument("--amount", type=amount_arg, required=True, help="in cents; negative takes money back")
    adjust.add_argument("--reason", required=True)
    pay = actions.add_parser("payroll", parents=[who, period], help="export a locked or paid period's payroll (comp admins)")
    _files(pay, "the payroll")
    audit = actions.add_parser("audit", parents=[who], help="the audit log (comp admins): print it, or write it as CSV / XLSX")
    audit.add_argument("--period", type=period_arg, help="only the entries about this period")
    _files(audit, "the audit log")
    queue = actions.add_parser("disputes", help="list the disputes in your view; resolve or reject one (comp admins)")
    steps = queue.add_subparsers(dest="disputes_command", required=True)
    listing = steps.add_parser("list", parents=[who], help="disputes in your view, newest first")
    listing.add_argument("--status", choices=DISPUTE_STATES)
    res = steps.add_parser("resolve", parents=[who], help="resolve with an adjustment line (in the line's period or the next open one)")
    res.add_argument("dispute", type=int)
    res.add_argument("--amount", type=amount_arg, required=True, help="the adjustment (negative takes money back)")
    res.add_argument("--reason", required=True)
    rej = steps.add_parser("reject", parents=[who], help="reject with a reason")
    rej.add_argument("dispute", type=int)
    rej.add_argument("--reason", required=True)


COMMANDS = ("status", "approve", "send-back", "lock", "paid", "mark-paid", "auto-approve", "adjust", "payroll", "audit", "disputes")


def run(args: argparse.Namespace, open_engine: OpenEngine) -> int:
    read_only = args.comp_command in ("status", "payroll", "audit") or getattr(args, "disputes_command", None) == "list"
    engine = open_engine(args.url, read_only=read_only)
    who = acting(engine, args, read_only)
    handler = {"status": _status, "approve": _approve, "send-back": _send_back, "lock": _lock, "paid": _paid, "mark-paid": _paid,
               "auto-approve": _auto, "adjust": _adjust, "payroll": _payroll, "audit": _audit, "disputes": _disputes}[args.comp_command]
    return handler(engine, who, args)


def acting(engine: Engine, args: argparse.Namespace, read_only: bool) -> Actor:
    """The app user named by --as, with their role and scope; a clear error for anyone who cannot act."""
    store = UserStore(args.users_file, warehouse_url(args.url))
    user = store.get(args.as_user)
    if user is None:
        raise CompError(f"No app user {args.as_user!r} in {store.path} (see `python -m spm_core users list`).")
    if (store.entry(user.username) or {}).get("locked"):
        raise CompError(f"The account {user.username!r} is locked: an admin unlocks it first.")
    if not is_ready(engine):
        if read_only or not sa.inspect(engine).has_table(comp_line.name):
            raise CompError("Compensation is not set up in this warehouse yet: `comp plans import FILE.yaml`, then `comp run --period ...`.")
        ensure_schema(engine)  # a ledger from before its newer columns
    return Actor(user.username, user.role, viewer_scope(engine, user), user.person_id)


def _change(engine: Engine, change: Callable[[sa.Connection], str]) -> int:
    """One change in one transaction (with its audit entry); nothing is written when it is refused."""
    with engine.begin() as conn:
        print(change(conn))
    return 0


def _status(engine: Engine, who: Actor, args: argparse.Namespace) -> int:
    with engine.connect() as conn:
        current, threshold = state(conn, args.period), auto_approve_below(conn)
    frame = team(engine, who.scope, args.period)
    auto = "off" if threshold is None else f"statements under {money_text(threshold)}"
    print(f"{period_label(args.period)} ({args.period.start} – {args.period.end}) is {current}; auto-approval {auto}.")
    if frame.empty:
        print("No statements in your view.")
    for row in frame.itertuples(index=False):
        note = f"  ({row.comment})" if row.comment else ""
        print(f"  {row.person_id:>7}  {str(row.person):<28}{money_text(row.total):>16}  {row.status}{note}")
    return 0


def _approve(engine: Engine, who: Actor, args: argparse.Namespace) -> int:
    label = period_label(args.period)
    if args.person:
        def each(conn: sa.Connection) -> str:
            done = [f"person {p}: {decide(conn, who, args.period, p, approve=True)}" for p in dict.fromkeys(args.person)]
            return f"Approved in {label}: " + "; ".join(done) + "."
        return _change(engine, each)
    waiting = ("awaiting comp admin",) if who.is_comp_admin else ("awaiting manager", "sent back")
    frame = team(engine, who.scope, args.period)
    mine = [int(p) for p, s in zip(frame["person_id"], frame["status"], strict=True) if s in waiting and int(p) != who.person_id]
    def waiting_ones(conn: sa.Connection) -> str:
        count = approve_many(conn, who, args.period, mine)
        if not count:
            return f"Nothing awaits your approval in {label} ({state(conn, args.period)})."
        return f"Approved {count} statement(s) in {label}; {label} is now {state(conn, args.period)}."
    return _change(engine, waiting_ones)


def _send_back(engine: Engine, who: Actor, args: argparse.Namespace) -> int:
    return _change(engine, lambda conn: f"Person {args.person}'s {period_label(args.period)} statement: "
                                        f"{decide(conn, who, args.period, args.person, approve=False, comment=args.comment)}.")


def _lock(engine: Engine, who: Actor, args: argparse.Namespace) -> int:
    return _change(engine, lambda conn: lock(conn, who, args.period) or f"{period_label(args.period)} locked.")


def _paid(engine: Engine, who: Actor, args: argparse.Namespace) -> int:
    return _change(engine, lambda conn: mark_paid(conn, who, args.period) or f"{period_label(args.period)} marked paid.")


def _auto(engine: Engine, who: Actor, args: argparse.Namespace) -> int:
    amount = None if args.off else args.below
    done = "Auto-approval off." if amount is None else f"Statements under {money_text(amount)} are approved at calculation."
    return _change(engine, lambda conn: set_auto_approve_below(conn, who, amount) or done)


def _adjust(engine: Engine, who: Actor, args: argparse.Namespace) -> int:
    def post(conn: sa.Connection) -> str:
        line_id = add_adjustment(conn, who, args.person, args.period, args.amount, args.reason)
        return f"Adjustment line {line_id} ({money_text(args.amount)}) for person {args.person} in {_line_period(conn, line_id)}."
    return _change(engine, post)


def _line_period(conn: sa.Connection, line_id: int) -> str:
    """The period a new adjustment line went to (the next open one when its own is closed)."""
    c = comp_line.c
    start, end = conn.execute(sa.select(c.period_start, c.period_end).where(c.id == line_id)).one()
    return period_label(Period(start, end))


def _write(frame: pd.DataFrame, args: argparse.Namespace, what: str, sheet: str) -> None:
    """The frame to --csv and/or --xlsx, text cells neutralised (spm_core.exports)."""
    if not args.csv and not args.xlsx:
        raise CompError(f"Nothing to write: give --csv FILE and/or --xlsx FILE for {what}.")
    for path, data in ((args.csv, to_csv_bytes), (args.xlsx, lambda f: to_xlsx_bytes(f, sheet))):
        if path:
            try:
                path.write_bytes(data(frame))
            except OSError as exc:
                raise CompError(f"Cannot write {path}: {exc.strerror or exc}.") from None
            print(f"Wrote {path} ({what}, {len(frame):,} row(s)).")


def _payroll(engine: Engine, who: Actor, args: argparse.Namespace) -> int:
    frame = payroll(engine, who, args.period)
    _write(frame, args, f"payroll {period_label(args.period)}, {money_text(sum(frame['amount'], Decimal('0')))} in total", "Payroll")
    return 0


def _audit(engine: Engine, who: Actor, args: argparse.Namespace) -> int:
    if not who.is_comp_admin:
        raise CompError("Only a comp admin exports the audit log.")
    frame = audit_log(engine, who.scope, args.period)
    if not args.csv and not args.xlsx:
        print(frame.to_string(index=False) if len(frame) else "The audit log is empty.")
        return 0
    _write(frame, args, "the audit log", "Audit log")
    return 0


def _disputes(engine: Engine, who: Actor, args: argparse.Namespace) -> int:
    if args.disputes_command == "resolve":
        def resolved(conn: sa.Connection) -> str:
            line_id = resolve(conn, who, args.dispute, args.amount, args.reason)
            return f"Dispute #{args.dispute} resolved: adjustment line {line_id} ({money_text(args.amount)}) in {_line_period(conn, line_id)}."
        return _change(engine, resolved)
    if args.disputes_command == "reject":
        return _change(engine, lambda conn: reject(conn, who, args.dispute, args.reason) or f"Dispute #{args.dispute} rejected.")
    frame = disputes(engine, who.scope, args.status)
    if frame.empty:
        print("No disputes in your view.")
    for row in frame.itertuples(index=False):
        outcome = f" -> {row.outcome}" if row.outcome else ""
        adjustment = "" if pd.isna(row.adjustment) else f" ({money_text(row.adjustment)})"
        print(f"#{row.id:<5} {row.status:<9} line {row.line_id:<8} {row.person} · {row.comment}{outcome}{adjustment}")
    return 0
