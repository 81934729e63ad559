"""The quota planning page's pieces: tables, downloads and the one way it writes (through
ui.warehouse.writable, since the app's own engine is read-only). Numbers come from spm_core.planning."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from spm_core.filters import Scope
from spm_core.planning.files import plan_frame
from spm_core.planning.model import PlanError
from ui import warehouse
from ui.context import context, set_context
from ui.downloads import csv_download, xlsx_download
from ui.text import md

NOTICE = "planning_notice"


def write(action: Callable[[Engine], object], done: str) -> None:
    """Run a planning change on a read-write engine; on success rerun with `done` shown, else say why
    (nothing was written: every spm_core.planning change is one transaction)."""
    ctx = context()
    ok = False
    try:
        with warehouse.writable() as engine:
            action(engine)
        ok = True
    except PlanError as exc:
        st.error(md(exc))
    except warehouse.WRITE_FAILURES as exc:
        st.error(warehouse.refusal(exc))
    # writable() closed the read-only engine: reopen it now, as AppTest reruns a page without the frame.
    set_context(replace(ctx, wh=warehouse.current()))
    if ok:
        st.session_state[NOTICE] = done
        st.rerun()


def show_notice() -> None:
    done = st.session_state.pop(NOTICE, None)
    if done:
        st.success(md(done), icon=":material/check_circle:")


def allocation_table(frame: pd.DataFrame) -> None:
    """The allocation rows with their trace (the rule that produced each amount) and the quota after ramp."""
    shown = frame.assign(locked=frame["locked"].astype(bool))[
        ["name", "kind", "depth", "amount", "ramp", "ramped", "method", "locked", "reason", "rule"]
    ]
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={
            "name": "Name",
            "kind": st.column_config.TextColumn("Team, rep or seat", help="A planned seat is a hire the plan counts on (TBH)."),
            "depth": st.column_config.NumberColumn("Level", help="0 is the top of the plan, 1 the level below, ..."),
            "amount": st.column_config.NumberColumn("Quota", format="%.2f", help="The allocation, before ramp."),
            "ramp": st.column_config.TextColumn("Ramp %", help="% of quota by month of tenure (month 1 = the hire month)."),
            "ramped": st.column_config.NumberColumn(
                "Quota after ramp", format="%.2f", help="Σ over the period's months of quota × the month's ramp factor."
            ),
            "method": "Method",
            "locked": st.column_config.CheckboxColumn("Locked", help="An override: allocation keeps it."),
            "reason": "Reason",
            "rule": st.column_config.TextColumn("How it was computed", width="large"),
        },
    )


def downloads(engine: Engine, sid: int, scope: Scope) -> None:
    """The plan as CSV and XLSX: only the rows the viewer may see."""
    frame = plan_frame(engine, sid, scope)
    left, right = st.columns(2)
    with left:
        csv_download("Download the plan (CSV)", frame, f"plan_{sid}.csv", "plan_csv")
    with right:
        xlsx_download("Download the plan (XLSX)", frame, f"plan_{sid}.xlsx", "plan_xlsx")
