"""Command line: create or copy a warehouse, load data, print KPIs, benchmark.

Every command takes --url (default: $SPM_WAREHOUSE_URL or the embedded data/spm.duckdb).
Errors are one clear line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .cli_output import FORMATS, key_values, kpi_frame
from .comp import cli as comp_cli
from .config import warehouse_url
from .db import (
    WarehouseError,
    create_schema,
    drop_schema,
    get_info,
    has_schema,
    location,
    make_engine,
    read_frame,
    relative_path_warning,
)
from .exports import to_csv_bytes
from .files import private_umask
from .filters import PERIOD_NAMES, Filters, Period, Scope
from .importing import KINDS, ImportRejected, RowError, apply_import, preview
from .importing.dates import DATE_FORMAT_HELP
from .importing.formats import GENERIC_HELP, GENERIC_REQUIRED
from .importing.summary import error_count, errors_frame, group_errors, new_groups, undated_note
from .kpis import CATALOGUE
from .metrics import query
from .model import DIMENSIONS
from .pulse import command as pulse
from .reports import command as reports
from .schema import metadata
from .users import ROLES, UserError, UserStore, create_demo_users

_opened: list[Engine] = []
def open_engine(url: str | None, read_only: bool = False) -> Engine:
    """An engine closed when the command ends (DuckDB will not open one file read-only and
    read-write at once in one process)."""
    engine = make_engine(url, read_only=read_only)
    _opened.append(engine)
    return engine


def close_engines() -> None:
    while _opened:
        _opened.pop().dispose()


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _positive(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m spm_core", description="SPM warehouse and metrics from the command line.")
    sub = parser.add_subparsers(dest="command", required=True)

    init = sub.add_parser("init", help="create the warehouse schema, optionally with demo data")
    init.add_argument("--url", help="warehouse URL (default: $SPM_WAREHOUSE_URL or data/spm.duckdb)")
    init.add_argument("--demo", action="store_true", help="fill it with generated demo data")
    init.add_argument("--opportunities", type=_positive, default=100_000, help="demo scale (default 100000)")
    init.add_argument("--activities", type=_positive, help="demo activities (default 5 per opportunity)")
    init.add_argument("--seed", type=int, default=42, help="demo random seed (default 42)")
    init.add_argument("--as-of", type=_date, default=None, help="the demo's 'today' (default: today)")
    init.add_argument("--force", action="store_true", help="replace a warehouse that already has data")

    maven = sub.add_parser("load-maven", help="replace the warehouse's data with the Maven CRM sample dataset")
    maven.add_argument("directory", type=Path, help="folder with sales_pipeline.csv, accounts.csv, products.csv, sales_teams.csv")
    maven.add_argument("--url")
    maven.add_argument("--force", action="store_true", help="replace a warehouse that already has data")

    info = sub.add_parser("info", help="where the warehouse is, what it holds")
    info.add_argument("--url")
    info.add_argument("--format", choices=FORMATS, default="table", help="table (default), or csv / json for scripts")

    kpi = sub.add_parser("kpi", help="print KPIs for a period, optionally grouped")
    kpi.add_argument("names", nargs="+", choices=sorted(CATALOGUE), metavar="KPI", help=f"one or more of: {', '.join(CATALOGUE)}")
    kpi.add_argument("--period", choices=PERIOD_NAMES, default="this_quarter")
    kpi.add_argument("--from", dest="start", type=_date, help="custom period start (with --to)")
    kpi.add_argument("--to", dest="end", type=_date, help="custom period end (with --from)")
    kpi.add_argument(
        "--by", nargs="*", default=[], choices=sorted(DIMENSIONS), metavar="DIM", help=f"group by: {', '.join(DIMENSIONS)}"
    )
    kpi.add_argument("--as-of", type=_date, default=None, help="'today' for pacing (default: the demo's as-of date, else today)")
    kpi.add_argument("--url")
    kpi.add_argument(
        "--format", choices=FORMATS, default="table", help="table (formatted as in the app), or csv / json with raw numbers"
    )

    # --file and --url go before or after the action (`users --url U add ...` or `users add ... --url U`):
    # every users parser takes them, with SUPPRESS so an action's parser does not reset a value given before
    # (the parsers share these two actions: no set_defaults on them, cmd_users reads them with getattr).
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument(
        "--file",
        default=argparse.SUPPRESS,
        help="users file (default: $SPM_USERS_FILE, else NAME.users.yaml beside a DuckDB warehouse file NAME.duckdb)",
    )
    where.add_argument(
        "--url",
        default=argparse.SUPPRESS,
        help="warehouse URL whose users to manage (default: $SPM_WAREHOUSE_URL or data/spm.duckdb)",
    )
    users = sub.add_parser("users", parents=[where], help="list, add, reset passwords, change roles, remove app users")
    users_sub = users.add_subparsers(dest="action", required=True)
    users_sub.add_parser("list", parents=[where], help="list users")
    add = users_sub.add_parser("add", parents=[where], help="add a user")
    add.add_argument("username")
    add.add_argument("--name", default="")
    add.add_argument("--email", default="")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--person", type=int, help="linked person id (required for managers and reps)")
    add.add_argument("--password", help="the password (asked for when left out)")
    reset = users_sub.add_parser("reset-password", parents=[where], help="set a new password (also unlocks the account and ends its sessions)")
    reset.add_argument("username")
    reset.add_argument("--password", help="the new password (asked for when left out)")
    role = users_sub.add_parser("set-role", parents=[where], help="change a user's role and linked person")
    role.add_argument("username")
    role.add_argument("--role", choices=ROLES, required=True)
    role.add_argument("--person", type=int)
    remove = users_sub.add_parser("remove", parents=[where], help="remove a user")
    remove.add_argument("username")
    for action, text in (
        ("lock", "lock an account (no sign-in, every session ends) until unlocked or given a new password"),
        ("unlock", "lift an admin's lock"),
        ("sign-out", "end every session of an account, in every browser"),
    ):
        users_sub.add_parser(action, parents=[where], help=text).add_argument("username")

    imp = sub.add_parser(
        "import",
        help="import CRM exports (CSV): validate every row first, then write all or nothing",
        description="Import CSV exports into the warehouse. Every row is checked first; any error writes nothing. "
        "Importing the same file again updates rows in place (matched on the source system's ids).",
        epilog=_generic_columns_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("kind", choices=KINDS, help="the export's format")
    imp.add_argument("files", nargs="+", type=Path, help="CSV file(s); maven takes its four files")
    imp.add_argument("--url")
    imp.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="COLUMN=HEADER",
        help='generic: the file\'s header for a column below; "A|B" takes B where A is empty',
    )
    imp.add_argument("--stage", action="append", default=[], metavar="SOURCE=APP", help="map a source stage to an app stage")
    imp.add_argument("--date-format", metavar="FORMAT", help=DATE_FORMAT_HELP)
    imp.add_argument("--dayfirst", action="store_true", help="the same as --date-format dmy")
    imp.add_argument(
        "--id-columns",
        metavar="HEADER,HEADER",
        help="generic, a file without an id column: key deals by a hash of these columns, so re-imports update them",
    )
    imp.add_argument("--strict", action="store_true", help="refuse a file with values in a column that has no name")
    imp.add_argument("--errors", type=Path, metavar="FILE.csv", help="write every row error to this CSV file")
    imp.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")

    copy = sub.add_parser("copy", help="copy a warehouse (schema and data) to another one, e.g. DuckDB to PostgreSQL")
    copy.add_argument("--from", dest="source", required=True, metavar="URL", help="the warehouse to read")
    copy.add_argument("--to", dest="target", required=True, metavar="URL", help="the warehouse to replace")
    copy.add_argument("--batch", type=_positive, default=100_000, help="rows per batch (default 100000)")
    copy.add_argument("--force", action="store_true", help="replace a target that already has data")

    bench_import = sub.add_parser("bench-import", help="time importing a Salesforce-style CSV export of N rows")
    bench_import.add_argument("--rows", type=_positive, default=1_000_000)
    bench_import.add_argument("--folder", type=Path, help="scratch folder (default: the system's temp folder)")

    bench_changes = sub.add_parser(
        "bench-fact-changes", help="time keeping the stored history numbers up on import against a full rebuild (writes to it)"
    )
    bench_changes.add_argument("warehouse", help="a warehouse to write to (a copy): a DuckDB file or a URL")
    bench_changes.add_argument("--changes", nargs="+", default=["1", "1%"], help="deals each import changes: N or P%%")
    bench_changes.add_argument("--skip-full", action="store_true", help="no full rebuild when the facts are complete")
    bench_changes.add_argument(
        "--full-share", type=float, help="rebuild the period numbers whole past this share of deals in the changed groups"
    )

    reports.add_parser(sub)
    pulse.add_parser(sub)

    bench = sub.add_parser("bench", help="time every KPI query through the metrics layer and as raw DuckDB SQL")
    bench.add_argument(
        "--path", type=Path, default=Path("/tmp/spm_bench.duckdb"), help="warehouse file to build (default /tmp/spm_bench.duckdb)"
    )
    bench.add_argument("--opportunities", type=_positive, default=10_000_000)
    bench.add_argument("--activities", type=_positive, default=50_000_000)
    bench.add_argument("--repeat", type=_positive, default=5)
    bench.add_argument("--reuse", action="store_true", help="reuse the file at --path (and the --postgres copy) if it exists")
    bench.add_argument("--postgres", metavar="URL", help="also copy the warehouse to this PostgreSQL database and time every case there")

    facts = sub.add_parser(
        "rebuild-history-facts",
        help="recompute the stored history numbers (per-deal stage facts, standard periods' waterfalls; clusters history on DuckDB)",
        description="Rebuild deal_stage from opportunity_history and the stage table, and on DuckDB rewrite "
        "opportunity_history in the order snapshots read fastest. Run it after loading history by other means "
        "than the import command, after changing stages, or on a warehouse made before the facts existed "
        "(which reads raw history, with the same numbers, until then).",
    )
    facts.add_argument("--url")
    facts.add_argument("--no-cluster", action="store_true", help="leave opportunity_history's row order as it is")

    bench_pages = sub.add_parser(
        "bench-pages", help="time each dashboard page (cold and warm caches) and its history numbers from facts and raw"
    )
    bench_pages.add_argument("--path", type=Path, help="reuse this warehouse file instead of building one")
    bench_pages.add_argument("--opportunities", type=_positive, default=1_000_000, help="demo size to build (default 1000000)")
    bench_pages.add_argument("--repeat", type=_positive, default=3, help="timed runs per page (median; default 3)")
    bench_pages.add_argument("--pages", help="comma-separated page names (default: every dashboard page)")

    comp_cli.add_parser(sub)
    return parser


def cmd_init(args: argparse.Namespace) -> int:
    from .demo import DemoSpec, build_demo

    engine = open_engine(args.url)
    if has_schema(engine) and not args.force and _has_rows(engine):
        raise WarehouseError(f"{warehouse_url(args.url)} already holds data; add --force to replace it.")
    if args.demo:
        spec = DemoSpec(
            opportunities=args.opportunities, activities=args.activities, seed=args.seed, as_of=args.as_of or date.today()
        )
        started = time.perf_counter()
        rows = build_demo(engine, spec)
        print(f"Demo warehouse at {location(warehouse_url(args.url))} in {time.perf_counter() - started:.1f} s:")
        for table, count in rows.items():
            print(f"  {table:<22}{count:>14,}")
        created = create_demo_users(engine)
        if created:
            print(f"Demo sign-ins (demo data only; in {UserStore(warehouse=warehouse_url(args.url)).path.resolve()}):")
            for username, role, password in created:
                print(f"  {username:<10} {role:<8} {password}")
    else:
        drop_schema(engine)
        create_schema(engine)
        print(f"Empty warehouse created at {location(warehouse_url(args.url))}.")
    return 0


def _has_rows(engine) -> bool:
    return bool(read_frame(engine, sa.select(sa.func.count()).select_from(metadata.tables["opportunity"])).iloc[0, 0])


def cmd_load_maven(args: argparse.Namespace) -> int:
    from .loaders.maven import load_maven

    engine = open_engine(args.url)
    if has_schema(engine) and not args.force and _has_rows(engine):
        raise WarehouseError(f"{warehouse_url(args.url)} already holds data; add --force to replace it.")
    report = load_maven(engine, args.directory)
    print(f"Loaded the Maven CRM dataset into {location(warehouse_url(args.url))}:")
    for field in dataclasses.fields(report):
        if field.name != "product_variants":
            print(f"  {field.name:<22}{getattr(report, field.name):>14,}")
    for source, matched in report.product_variants:
        print(f"  product {source!r} matched to {matched!r}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    engine = open_engine(args.url, read_only=True)
    where = location(warehouse_url(args.url))
    if not has_schema(engine):
        if args.format != "table":
            print(key_values({"info": {}, "tables": {}}, args.format, where), end="")
            return 0
        print(f"Warehouse: {where}\nNo SPM tables yet: run `python -m spm_core init --demo`.")
        return 0
    counts = {
        table.name: int(read_frame(engine, sa.select(sa.func.count()).select_from(table)).iloc[0, 0])
        for table in metadata.sorted_tables
    }
    print(key_values({"info": dict(sorted(get_info(engine).items())), "tables": counts}, args.format, where), end="")
    return 0


def cmd_kpi(args: argparse.Namespace) -> int:
    engine = open_engine(args.url, read_only=True)
    if not has_schema(engine):
        raise WarehouseError("No SPM tables yet: run `python -m spm_core init --demo`.")
    as_of = args.as_of or _info_date(engine) or date.today()
    if (args.start is None) != (args.end is None):
        raise WarehouseError("--from and --to go together.")
    period = Period(args.start, args.end) if args.start else Period.named(args.period, as_of)
    frame = query(engine, args.names, Filters(period), Scope.everyone(), by=args.by, as_of=as_of)
    units = {n: CATALOGUE[n].unit for n in args.names}
    header = {"period_start": str(period.start), "period_end": str(period.end), "as_of": str(as_of)}
    print(kpi_frame(frame, units, args.format, f"{period.start} .. {period.end} (as of {as_of})", header), end="")
    return 0


def _info_date(engine) -> date | None:
    value = get_info(engine).get("as_of")
    return date.fromisoformat(value) if value else None


def cmd_copy(args: argparse.Namespace) -> int:
    from .transfer import copy_warehouse

    source, target = open_engine(args.source, read_only=True), open_engine(args.target)
    if has_schema(target) and not args.force and _has_rows(target):
        raise WarehouseError(f"{args.target} already holds data; add --force to replace it.")
    started = time.perf_counter()
    counts = copy_warehouse(source, target, batch_rows=args.batch, progress=_progress_line())
    print(f"Copied {sum(counts.values()):,} rows in {time.perf_counter() - started:.1f} s to {args.target}.")
    return 0


def _progress_line() -> Callable[[str, int, int], None]:
    """One line per table, rewritten in place on a terminal, as rows arrive."""
    tty = sys.stdout.isatty()

    def show(table: str, done: int, total: int) -> None:
        line = f"  {table:<22}{done:>14,} / {total:,}"
        if done == total:
            print(f"\r{line}" if tty else line, flush=True)
        elif tty:
            print(f"\r{line}", end="", flush=True)

    return show


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import run_bench

    run_bench(
        args.path, opportunities=args.opportunities, activities=args.activities, repeat=args.repeat, reuse=args.reuse,
        postgres_url=args.postgres,
    )
    return 0


def cmd_rebuild_history_facts(args: argparse.Namespace) -> int:
    from .period_facts import rebuild_all

    engine = open_engine(args.url)
    started = time.perf_counter()
    facts, periods = rebuild_all(engine, cluster=not args.no_cluster)
    print(
        f"History facts rebuilt in {time.perf_counter() - started:.1f} s: {facts:,} deal-stage rows, "
        f"{periods:,} rows of stored period numbers (waterfalls, forecast cohorts)."
    )
    return 0


def cmd_bench_pages(args: argparse.Namespace) -> int:
    from .bench_pages import run_bench_pages

    pages = tuple(p.strip() for p in args.pages.split(",")) if args.pages else None
    run_bench_pages(path=args.path, opportunities=args.opportunities, repeat=args.repeat, pages=pages)
    return 0


def cmd_bench_import(args: argparse.Namespace) -> int:
    from .bench_import import run_import_bench

    run_import_bench(args.rows, args.folder)
    return 0


def cmd_bench_fact_changes(args: argparse.Namespace) -> int:
    from . import fact_changes
    from .bench_fact_changes import run_fact_changes_bench

    if args.full_share is not None:
        fact_changes.FULL_SHARE = args.full_share
    target = args.warehouse if "://" in args.warehouse else f"duckdb:///{Path(args.warehouse).resolve()}"
    run_fact_changes_bench(target, args.changes, full=not args.skip_full)
    return 0


def _password(given: str | None) -> str:
    if given is not None:
        return given
    if not sys.stdin.isatty():
        raise UserError("No password given: pass --password, or run in a terminal to be asked.")
    first, second = getpass.getpass("Password: "), getpass.getpass("Again: ")
    if first != second:
        raise UserError("The two passwords differ.")
    return first


def cmd_users(args: argparse.Namespace) -> int:
    store = UserStore(getattr(args, "file", None), warehouse_url(getattr(args, "url", None)))
    if args.action == "list":
        for u in store.users():
            print(f"{u.username:<20}{u.role:<9}{u.person_id if u.person_id is not None else '-':<8}{u.name}")
    elif args.action == "add":
        u = store.add(args.username, args.name, args.email, _password(args.password), args.role, args.person)
        print(f"Added {u.username} ({u.role}).")
    elif args.action == "reset-password":
        print(f"New password set for {store.reset_password(args.username, _password(args.password)).username}.")
    elif args.action == "set-role":
        u = store.set_role(args.username, args.role, args.person)
        print(f"{u.username} is now {u.role}.")
    elif args.action == "remove":
        store.remove(args.username)
        print(f"Removed {args.username}.")
    elif args.action == "lock":
        print(f"{store.lock(args.username).username} is locked and signed out everywhere.")
    elif args.action == "unlock":
        print(f"{store.unlock(args.username).username} is unlocked.")
    elif args.action == "sign-out":
        print(f"{store.end_sessions(args.username).username} is signed out everywhere.")
    return 0


def _pairs(items: list[str], what: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"{what} takes NAME=VALUE, got {item!r}")
        pairs[key.strip()] = value.strip()
    return pairs


def _generic_columns_help() -> str:
    """The generic format's columns for --help: what `--map COLUMN=HEADER` can name."""
    width = max(map(len, GENERIC_HELP))
    lines = [f"  {column:<{width}}  {text}" for column, text in GENERIC_HELP.items()]
    required = ", ".join(GENERIC_REQUIRED)
    return f"columns of the generic format (--map COLUMN=HEADER; required: {required}):\n" + "\n".join(lines)


def _print_errors(errors: list[RowError], written: Path | None, limit: int = 50) -> None:
    """Errors grouped by cause (one line per cause, not per row), and where the full list went."""
    groups = group_errors(errors)
    for group in groups[:limit]:
        print(f"  {group.line()}", file=sys.stderr)
    if len(groups) > limit:
        print(f"  ... and {len(groups) - limit:,} more causes", file=sys.stderr)
    if written is not None:
        written.write_bytes(to_csv_bytes(errors_frame(errors)))
        print(f"All {len(errors):,} error(s) are in {written}.", file=sys.stderr)
    elif len(errors) > 1:
        print("--errors FILE.csv writes every one of them to a CSV file.", file=sys.stderr)


def cmd_import(args: argparse.Namespace) -> int:
    files = {path.name: path.read_bytes() for path in args.files}
    engine = open_engine(args.url)
    id_columns = [c.strip() for c in (args.id_columns or "").split(",") if c.strip()]
    try:
        plan = preview(
            engine,
            args.kind,
            files,
            _pairs(args.map, "--map") or None,
            _pairs(args.stage, "--stage"),
            args.dayfirst,
            date_format=args.date_format,
            id_columns=id_columns,
            strict=args.strict,
        )
    except ImportRejected as exc:
        print(f"error: {exc}", file=sys.stderr)
        if any(e.row > 1 for e in exc.errors):  # else they repeat the message about the header
            _print_errors(exc.errors, args.errors)
        return 2
    for warning in plan.parsed.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if not plan.ok:
        print(f"error: {error_count(plan.errors)} cannot be imported; nothing was written:", file=sys.stderr)
        _print_errors(plan.errors, args.errors)
        return 2
    if plan.parsed.derived_ids:
        print(f"Deal ids: {plan.parsed.derived_ids}.")
    if plan.people_to_create:
        print(f"{len(plan.people_to_create):,} new people: {', '.join(plan.people_to_create)}")
    for line in new_groups(plan.groups_to_create):
        print(line)
    for source, matched in plan.product_matches.items():
        print(f"product {source!r} matched to {matched!r}")
    if note := undated_note(plan.undated):
        print(note)
    changes = ", ".join(
        f"{table} +{plan.inserts[table]:,}/~{plan.updates.get(table, 0):,}"
        for table in plan.inserts
        if plan.inserts[table] or plan.updates.get(table)
    )
    if args.dry_run:
        print(f"Dry run: would write {changes or 'nothing'} (+new/~updated).")
        return 0
    report = apply_import(engine, plan)
    print(f"Imported {args.kind} in {report.seconds:.1f} s: {changes or 'nothing new'} (+new/~updated).")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    url = warehouse_url(args.url)
    return reports.run(args, open_engine(args.url, read_only=True), UserStore(args.users_file, url))


def cmd_pulse_import(args: argparse.Namespace) -> int:
    return pulse.run(args, open_engine(args.url))


def cmd_comp(args: argparse.Namespace) -> int:
    return comp_cli.run(args, open_engine)


COMMANDS = {
    "comp": cmd_comp,
    "bench-import": cmd_bench_import,
    "bench-fact-changes": cmd_bench_fact_changes,
    "import": cmd_import,
    "init": cmd_init,
    "load-maven": cmd_load_maven,
    "info": cmd_info,
    "kpi": cmd_kpi,
    "bench": cmd_bench,
    "bench-pages": cmd_bench_pages,
    "rebuild-history-facts": cmd_rebuild_history_facts,
    "copy": cmd_copy,
    "users": cmd_users,
    "report": cmd_report,
    "pulse-import": cmd_pulse_import,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if "url" in args and (warning := relative_path_warning(warehouse_url(args.url))):
        print(f"warning: {warning}", file=sys.stderr)
    try:
        with private_umask():  # warehouses (and their .wal) written by any command are 600
            return COMMANDS[args.command](args)
    except (WarehouseError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except sa.exc.SQLAlchemyError as exc:
        print(f"error: the warehouse refused the request: {exc.__class__.__name__}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    finally:
        close_engines()
