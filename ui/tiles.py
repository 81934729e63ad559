"""KPI tiles: the value, its change against a like-for-like baseline (spm_core.comparison), and on
hover the definition and what the change compares with."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from spm_core.comparison import AGAINST
from spm_core.kpis import CATALOGUE

from . import format as fmt
from . import warehouse
from .context import PageContext


def display_value(name: str, row: pd.Series) -> str:
    """The tile text, with SPEC's wording for the empty cases ("no quota", "covered")."""
    value = row[name]
    if name == "quota" and (fmt.is_missing(value) or float(value) == 0):  # not "$0": nobody set one
        return "no quota"
    if fmt.is_missing(value):
        if name in ("attainment", "projected_attainment", "pacing_attainment") and row.get("quota", 1) == 0:
            return "no quota"
        if name == "coverage" and row.get("quota", 1) == 0:  # nothing to cover: not "covered"
            return "no quota"
        if name == "coverage" and row.get("quota_remaining", 1) == 0:
            return "covered"
    return fmt.by_unit(CATALOGUE[name].unit, value)


def delta_text(name: str, now: object, before: object) -> str | None:
    if fmt.is_missing(now) or fmt.is_missing(before):
        return None
    change = float(now) - float(before)
    unit = CATALOGUE[name].unit
    if unit == "percent":
        return f"{change * 100:+.1f} pts"
    text = fmt.by_unit(unit, abs(change))
    return ("+" if change >= 0 else "-") + text  # Streamlit picks the arrow from an ASCII sign


def kpi_tiles(
    ctx: PageContext,
    names: Sequence[str],
    per_row: int = 4,
    against: Sequence[str] = ("previous",),
    key: str = "tiles",
) -> pd.Series:
    """Draw tiles for KPIs over the filtered period, each with its change against the chosen baseline
    (a picker when `against` offers several); returns the current values (for pages that reuse them)."""
    chosen = against[0]
    if len(against) > 1:
        chosen = st.segmented_control(
            "Compare with", against, format_func=AGAINST.__getitem__, default=against[0], required=True, key=f"{key}_against"
        )
    helpers = [n for n in ("quota", "quota_remaining") if n not in names]
    wanted = (*names, *helpers)
    now = warehouse.kpis(ctx.wh.engine, ctx.wh.version, wanted, ctx.filters, ctx.scope, (), ctx.wh.as_of).iloc[0]
    before = warehouse.comparison(ctx.wh.engine, ctx.wh.version, tuple(names), ctx.filters, ctx.scope, ctx.wh.as_of, chosen)
    columns = st.columns(per_row)
    for i, name in enumerate(names):
        k = CATALOGUE[name]
        shown = display_value(name, now)
        columns[i % per_row].metric(
            k.label,
            shown,
            delta=None if shown == "no quota" else delta_text(name, now[name], before.values[name]),
            delta_color="normal" if k.higher_is_better else "inverse",
            help=f"{k.help}\n\n{before.notes[name]}",
            border=True,
        )
    return now
