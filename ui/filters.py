"""The sidebar filter bar every page shares, kept in the session and mirrored in the URL.

A link reproduces the view: ?period=last_quarter&team=3,4 or ?from=2026-01-01&to=2026-02-15.
A parameter that cannot be used (unknown id, bad date, unknown period) is dropped with a visible
notice; it never breaks the page.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from spm_core.dimensions import FilterOptions, filter_options
from spm_core.filters import PERIOD_NAMES, Filters, Period, Scope

from .text import md
from .warehouse import Warehouse

PERIOD_LABELS = {
    "this_month": "This month",
    "last_month": "Last month",
    "this_quarter": "This quarter",
    "last_quarter": "Last quarter",
    "this_year": "This year",
    "last_year": "Last year",
    "custom": "Custom range",
}
# URL parameter -> (Filters field, label)
PEOPLE_PARAMS = {
    "team": ("teams", "Team"),
    "manager": ("managers", "Manager"),
    "segment": ("segments", "Segment"),
    "region": ("regions", "Region"),
    "product": ("products", "Product"),
    "rep": ("reps", "Rep"),
}
DEFAULT_PERIOD = "this_quarter"
# Parameters a page reads and checks itself (contests, TV mode): kept in the URL, not reported as unknown.
PAGE_PARAMS = ("contest", "tv", "boards", "every")


@st.cache_data(show_spinner=False, max_entries=256)
def _options(_wh: Warehouse, version: str, scope: Scope) -> FilterOptions:
    return filter_options(_wh.engine, scope)


def _parse_ids(raw: str, known: dict[int, str]) -> tuple[list[int], list[str]]:
    ids, bad = [], []
    for part in filter(None, (p.strip() for p in raw.split(","))):
        if part.isdigit() and int(part) in known:
            ids.append(int(part))
        else:
            bad.append(part)
    return ids, bad


def _load_from_url(options: FilterOptions, as_of: date) -> list[str]:
    """Seed the session's filter widgets from the query string; return notices (Markdown, the link's values
    escaped) for what was dropped."""
    params, state, notices = st.query_params, st.session_state, []
    period = params.get("period", DEFAULT_PERIOD)
    start, end = params.get("from"), params.get("to")
    if start or end:
        try:
            custom = Period(date.fromisoformat(start or ""), date.fromisoformat(end or ""))
            state["f_period"], state["f_range"] = "custom", (custom.start, custom.end)
        except ValueError as exc:
            notices.append(f"Ignored the date range in the link ({md(start or '?')} to {md(end or '?')}): {md(exc)}")
            state["f_period"] = DEFAULT_PERIOD
    elif period in PERIOD_NAMES:
        state["f_period"] = period
    else:
        notices.append(f"Ignored the unknown period {md(repr(period))} in the link; showing this quarter.")
        state["f_period"] = DEFAULT_PERIOD
    for param, (field, label) in PEOPLE_PARAMS.items():
        if param in params:
            ids, bad = _parse_ids(params[param], getattr(options, field))
            state[f"f_{param}"] = ids
            if bad:
                notices.append(f"Ignored {label.lower()} {', '.join(map(md, bad))} from the link: not found or not visible to you.")
    known = {"period", "from", "to", *PEOPLE_PARAMS, *PAGE_PARAMS}
    unknown = sorted(set(params) - known)
    if unknown:
        notices.append(f"Ignored unknown link parameter(s): {', '.join(map(md, unknown))}.")
    return notices


def _write_url(period_name: str, period: Period, chosen: dict[str, list[int]]) -> None:
    wanted: dict[str, str] = {}
    if period_name == "custom":
        wanted.update({"from": period.start.isoformat(), "to": period.end.isoformat()})
    elif period_name != DEFAULT_PERIOD:
        wanted["period"] = period_name
    wanted.update({param: ",".join(map(str, ids)) for param, ids in chosen.items() if ids})
    wanted.update({param: st.query_params[param] for param in PAGE_PARAMS if param in st.query_params})
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)


def _custom_period(as_of: date) -> Period:
    picked = st.session_state.get("f_range") or ()
    if len(picked) == 2:
        return Period(picked[0], picked[1])
    if len(picked) == 1:  # the user has picked the start and not yet the end
        return Period(picked[0], picked[0])
    return Period.quarter(as_of)


def filter_bar(wh: Warehouse, scope: Scope) -> Filters:
    """Draw the filters in the sidebar and return them as spm_core Filters."""
    options = _options(wh, wh.version, scope)
    state = st.session_state
    if state.get("f_loaded_for") != (wh.version, scope):
        state["f_notices"] = _load_from_url(options, wh.as_of)
        state["f_loaded_for"] = (wh.version, scope)
    with st.sidebar:
        st.subheader("Filters")
        for notice in state.get("f_notices", []):
            st.warning(notice, icon=":material/link_off:")
        period_name = st.selectbox("Period", list(PERIOD_LABELS), format_func=PERIOD_LABELS.__getitem__, key="f_period")
        if period_name == "custom":
            if "f_range" not in state:
                quarter = Period.quarter(wh.as_of)
                state["f_range"] = (quarter.start, quarter.end)
            st.date_input("From – to", key="f_range", format="YYYY-MM-DD")
            period = _custom_period(wh.as_of)
        else:
            period = Period.named(period_name, wh.as_of)
        st.caption(f"{period.start:%d %b %Y} – {period.end:%d %b %Y}")
        chosen: dict[str, list[int]] = {}
        for param, (field, label) in PEOPLE_PARAMS.items():
            known = getattr(options, field)
            if f"f_{param}" in state:  # drop ids no longer offered (e.g. after a data reload)
                state[f"f_{param}"] = [i for i in state[f"f_{param}"] if i in known]
            chosen[param] = st.multiselect(
                label, list(known), format_func=known.__getitem__, key=f"f_{param}", placeholder=f"All {label.lower()}s"
            )
    _write_url(period_name, period, chosen)
    return Filters(period, **{PEOPLE_PARAMS[p][0]: frozenset(ids) for p, ids in chosen.items()})
