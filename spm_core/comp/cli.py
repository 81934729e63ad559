"""`python -m spm_core comp ...`: plans in and out as YAML, calculating a period, reading the trace; the
pay cycle's commands (approve, lock, payroll, disputes, audit ...) are in cycle_cli.py.

The command line acts as an administrator (it holds the warehouse file), so it reads with
Scope.everyone(); pages pass the signed-in viewer's scope to the same functions.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..filters import Scope
from .cycle_cli import COMMANDS as CYCLE_COMMANDS
from .cycle_cli import add_parsers as add_cycle_parsers
from .cycle_cli import period_arg
from .cycle_cli import run as run_cycle
from .engine import calculate
from .periods import period_label
from .plans import PlanError, plan_from_yaml, plan_to_yaml
from .schema import comp_line
from .store import load_plans, save_plan
from .trace import lines, money_text

OpenEngine = Callable[..., Engine]


def add_parser(sub: argparse._SubParsersAction) -> None:
    comp = sub.add_parser("comp", help="compensation: plans (YAML), calculate a period, print a trace, the pay cycle (--as USER)")
    actions = comp.add_subparsers(dest="comp_command", required=True)
    plans = actions.add_parser("plans", help="import, export or list plan versions")
    plan_actions = plans.add_subparsers(dest="plans_command", required=True)
    imp = plan_actions.add_parser("import", help="check and save plan versions from YAML files (all or nothing per file)")
    imp.add_argument("files", nargs="+", type=Path)
    exp = plan_actions.add_parser("export", help="print plan versions as YAML (documents separated by ---)")
    exp.add_argument("--name", help="only this plan")
    listing = plan_actions.add_parser("list", help="list plan versions with their dates and assignees")
    calc = actions.add_parser(
        "run", aliases=["calc"], help="calculate a period's payout lines (replaces the period's earlier lines)"
    )
    calc.add_argument("--period", type=period_arg, required=True, help="2026-Q3, 2026-07 or 2026")
    calc.add_argument("--person", type=int, help="only this person id")
    trace = actions.add_parser(
        "explain", aliases=["trace"], help="print a person's lines for a period with the arithmetic of each"
    )
    trace.add_argument("--period", type=period_arg, required=True)
    trace.add_argument("--person", type=int, required=True)
    bench = actions.add_parser("bench", help="time a quarter's run for every rep vs hand-written DuckDB SQL of the same bands")
    bench.add_argument("--path", type=Path, default=Path("/tmp/spm_comp_bench.duckdb"), help="warehouse file to build")
    bench.add_argument("--opportunities", type=int, default=1_000_000)
    bench.add_argument("--repeat", type=int, default=3)
    bench.add_argument("--reuse", action="store_true", help="reuse the file at --path if it exists")
    for leaf in (imp, exp, listing, calc, trace):
        leaf.add_argument("--url", help="warehouse URL (default: $SPM_WAREHOUSE_URL or data/spm.duckdb)")
    add_cycle_parsers(actions)


def run(args: argparse.Namespace, open_engine: OpenEngine) -> int:
    if args.comp_command in CYCLE_COMMANDS:
        return run_cycle(args, open_engine)
    if args.comp_command == "plans":
        return {"import": _import, "export": _export, "list": _list}[args.plans_command](args, open_engine)
    commands = {"run": _calc, "calc": _calc, "explain": _trace, "trace": _trace, "bench": _bench}
    return commands[args.comp_command](args, open_engine)


def _import(args: argparse.Namespace, open_engine: OpenEngine) -> int:
    engine = open_engine(args.url)
    failed = False
    for path in args.files:
        try:
            plan = plan_from_yaml(path.read_text(encoding="utf-8"))
            save_plan(engine, plan)
        except PlanError as exc:
            failed = True
            print(f"error: {path} was not saved:", file=sys.stderr)
            for problem in exc.problems:
                print(f"  {problem}", file=sys.stderr)
            continue
        print(f"Saved {plan.name!r} v{plan.version}: {len(plan.components)} component(s), {len(plan.assignments)} assignment(s).")
    return 2 if failed else 0


def _export(args: argparse.Namespace, open_engine: OpenEngine) -> int:
    plans = load_plans(open_engine(args.url, read_only=True), args.name)
    if not plans:
        raise ValueError(f"No plan named {args.name!r}." if args.name else "No plans saved yet: `comp plans import FILE.yaml`.")
    print("---\n".join(plan_to_yaml(p) for p in plans), end="")
    return 0


def _list(args: argparse.Namespace, open_engine: OpenEngine) -> int:
    plans = load_plans(open_engine(args.url, read_only=True))
    if not plans:
        print("No plans saved yet: `comp plans import FILE.yaml`.")
    for p in plans:
        kinds = ", ".join(f"{c.name} ({c.kind})" for c in p.components)
        print(f"{p.name:<24} v{p.version:<3} {p.effective_from} – {p.effective_to or 'open':<10} {len(p.assignments):>4} assigned  {kinds}")
    return 0


def _calc(args: argparse.Namespace, open_engine: OpenEngine) -> int:
    s = calculate(open_engine(args.url), args.period, args.person, run_by="cli")
    who = f"person {s.person_id}" if s.person_id is not None else "everyone"
    print(f"Run {s.run_id}: {period_label(s.period)} for {who} in {s.seconds:.2f} s: {s.credit_rows:,} credit rows, "
          f"{s.lines:,} lines, total {money_text(s.total)}.")
    return 0


def _trace(args: argparse.Namespace, open_engine: OpenEngine) -> int:
    engine = open_engine(args.url, read_only=True)
    if not sa.inspect(engine).has_table(comp_line.name):
        raise ValueError("No compensation results in this warehouse yet: import a plan, then `comp calc --period ...`.")
    frame = lines(engine, args.period, Scope.everyone(), args.person)
    if frame.empty:
        print(f"No lines for person {args.person} in {period_label(args.period)}: run `comp calc --period {period_label(args.period)}`.")
        return 0
    print(f"{frame['person'].iloc[0]} (person {args.person}), {period_label(args.period)}")
    for component, group in frame.groupby("component", sort=False):
        print(f"  {component}")
        for row in group.itertuples(index=False):
            print(f"    {row.rule:<12} {row.amount:>14,.2f}  {row.formula}")
    print(f"  {'Total':<12} {sum(frame['amount']):>16,.2f}  (the sum of the {len(frame)} lines)")
    return 0


def _bench(args: argparse.Namespace, open_engine: OpenEngine) -> int:
    from .bench import run_comp_bench

    run_comp_bench(args.path, args.opportunities, args.repeat, args.reuse)
    return 0
