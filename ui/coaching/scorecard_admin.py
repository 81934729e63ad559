"""The admin's scorecard settings: weights, caps and monthly targets per KPI, and personal targets."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from spm_core.coaching.scorecard_settings import QUOTA_TARGET, SCORABLE, Component, save_components, set_target
from spm_core.kpis import CATALOGUE

from .writes import write


def components_form(current: tuple[Component, ...]) -> None:
    """One row per scorable KPI: weight % (0 leaves it out), monthly target, cap %. Saved as a whole."""
    by_kpi = {c.kpi: c for c in current}
    with st.form("scorecard_settings"):
        st.caption(
            "Weights in % must add up to 100; a weight of 0 leaves the KPI out. Monthly target 0 for bookings "
            "uses each person's quota. Cap: the most a component can count, in % of its target."
        )
        chosen = []
        for kpi in SCORABLE:
            c = by_kpi.get(kpi)
            weight_col, target_col, cap_col = st.columns(3)
            weight = weight_col.number_input(
                f"{CATALOGUE[kpi].label}: weight %", 0.0, 100.0, round((c.weight if c else 0.0) * 100, 4), key=f"sc_w_{kpi}"
            )
            target = target_col.number_input(
                "Monthly target", 0.0, value=float((c.monthly_target or 0.0) if c else 0.0), key=f"sc_t_{kpi}"
            )
            cap = cap_col.number_input("Cap %", 1.0, 1000.0, (c.cap if c else 1.5) * 100, key=f"sc_c_{kpi}")
            if weight > 0:
                quota = kpi == QUOTA_TARGET and target == 0
                chosen.append(Component(kpi, weight / 100, None if quota else target, cap / 100))
        if st.form_submit_button("Save scorecard"):
            write(lambda engine: save_components(engine, chosen), "Scorecard saved.")


def personal_target_form(reps: pd.DataFrame, current: tuple[Component, ...]) -> None:
    """Set one rep's monthly target for one KPI (0: back to the default)."""
    names = dict(zip(reps["rep_id"], reps["rep"], strict=True))
    with st.form("scorecard_personal"):
        rep_col, kpi_col, target_col = st.columns(3)
        rep_id = rep_col.selectbox("Rep", list(names), format_func=names.__getitem__, key="sc_p_rep")
        kpi = kpi_col.selectbox("KPI", [c.kpi for c in current], format_func=lambda k: CATALOGUE[k].label, key="sc_p_kpi")
        target = target_col.number_input("Monthly target (0: the default)", 0.0, key="sc_p_target")
        if st.form_submit_button("Save personal target"):
            value = None if target == 0 else target
            write(lambda engine: set_target(engine, int(rep_id), kpi, value), f"Personal target saved for {names[rep_id]}.")
