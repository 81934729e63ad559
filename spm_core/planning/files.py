"""A plan as a file (CSV or XLSX) and back. The export holds only the rows the viewer may see; the writers
are spm_core.exports' (to_csv_bytes, to_xlsx_bytes), so no cell is a live formula. An import turns every changed amount into an
override (a reason per changed row is mandatory) or a new target, then reallocates: all or nothing."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..filters import Scope
from .model import Override, PlanError, to_cents
from .rights import Planner
from .scenarios import allocation, change_rules, load_spec

HEADER = {
    "person_id": "Person ID",
    "name": "Name",
    "kind": "Kind",
    "parent_id": "Manager ID",
    "depth": "Level",
    "amount": "Amount",
    "method": "Method",
    "reason": "Reason",
    "rule": "Rule",
}


def plan_frame(engine: Engine | sa.Connection, sid: int, scope: Scope) -> pd.DataFrame:
    """The scenario's rows in scope, with the file's column names."""
    frame = allocation(engine, sid, scope)[list(HEADER)]
    return frame.rename(columns=HEADER)


def read_plan_file(name: str, data: bytes) -> pd.DataFrame:
    """Person ID, Amount and Reason from an uploaded CSV or XLSX (other columns are ignored)."""
    try:
        if name.lower().endswith(".xlsx"):
            frame = pd.read_excel(io.BytesIO(data), dtype=str, engine="openpyxl")
        else:
            frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    except (ValueError, KeyError, OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"{name} cannot be read as a plan ({exc}).") from exc
    missing = [c for c in ("Person ID", "Amount") if c not in frame.columns]
    if missing:
        raise PlanError(f"{name} has no column {' or '.join(missing)}: export a plan to see the layout.")
    if "Reason" not in frame.columns:
        frame["Reason"] = ""
    return frame[["Person ID", "Amount", "Reason"]].fillna("")


def import_plan(engine: Engine, sid: int, frame: pd.DataFrame, by: Planner, as_of: date) -> int:
    """Apply a file's amounts to a draft; returns how many values changed. Errors name the file's rows."""
    spec = load_spec(engine, sid)
    current = allocation(engine, sid, Scope.everyone()).set_index("person_id")["cents"]
    overrides = {o.person_id: o for o in spec.rules.overrides}
    target = spec.rules.target_cents
    problems, changed = [], 0
    for line, (pid_text, amount_text, reason) in enumerate(frame.itertuples(index=False), start=2):
        try:
            pid, cents = int(str(pid_text).strip()), to_cents(amount_text)
        except (ValueError, PlanError):
            problems.append(f"row {line}: {pid_text!r} / {amount_text!r} is not a person id and an amount")
            continue
        if pid not in current.index:
            problems.append(f"row {line}: unknown person {pid} for this plan")
        elif cents < 0:
            problems.append(f"row {line}: a quota cannot be negative")
        elif cents != current[pid]:
            changed += 1
            if pid == spec.root_id:
                target = cents
            elif not str(reason).strip():
                problems.append(f"row {line}: a changed amount needs a reason")
            else:
                overrides[pid] = Override(pid, cents, str(reason).strip())
    if problems:
        raise PlanError("Nothing was imported: " + "; ".join(problems[:20]) + ("; …" if len(problems) > 20 else "") + ".")
    rules = replace(spec.rules, target_cents=target, overrides=tuple(overrides.values()))
    change_rules(engine, sid, rules, by, as_of)
    return changed
