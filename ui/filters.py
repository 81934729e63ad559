"""The sidebar filter bar every page shares, kept in the session and mirrored in the URL.

A link reproduces the view: ?period=last_quarter&team=3,4 or ?from=2026-01-01&to=2026-02-15.
A parameter that cannot be used (unknown id, bad date, unknown period) is dropped with a visible
notice; it never breaks the page.
"""

from __future__ import annotations

import re
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
# Custom dates outside these are typing mistakes or probes; they would also take the previous-period and
# forecast arithmetic past the calendar's ends.
EARLIEST, LATEST = date(1900, 1, 1), date(2200, 12, 31)
# Ids are ASCII digits only: str.isdigit() also accepts '²' or '٣', which int() then rejects or reads as
# another number; 18 digits keep int() clear of its 4,300-digit limit and inside BIGINT.
_ID = re.compile(r"[0-9]{1,18}")
SHOWN_CHARACTERS = 40  # of an ignored value echoed in a notice
# Parameters a page reads and checks itself (contests, TV mode, quota planning): kept in the URL, not reported as unknown.
PAGE_PARAMS = ("contest", "tv", "boards", "every", "scenario")


@st.cache_data(show_spinner=False, max_entries=256)
def _options(_wh: Warehouse, version: str, scope: Scope) -> FilterOptions:
    return filter_options(_wh.engine, scope)


def parse_id(text: str) -> int | None:
    """An id written in plain decimal digits, else None: the one integer parse for URL parameters."""
    return int(text) if _ID.fullmatch(text) else None


def _cut(value: str, limit: int = SHOWN_CHARACTERS) -> str:
    """A value from the link cut short, so a huge one cannot flood the sidebar."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _shown(value: str, limit: int = SHOWN_CHARACTERS) -> str:
    """A value from the link as a notice echoes it: cut short and escaped for Markdown."""
    return md(_cut(value, limit))


def _parse_ids(raw: str, known: dict[int, str]) -> tuple[list[int], list[str]]:
    ids, bad = [], []
    for part in filter(None, (p.strip() for p in raw.split(","))):
        parsed = parse_id(part)
        if parsed is not None and parsed in known:
            ids.append(parsed)
        else:
            bad.append(_cut(part))
    return ids, bad


def _custom_range(start: str, end: str) -> Period:
    """The link's from/to as a Period between EARLIEST and LATEST, or a ValueError saying why not."""
    period = Period(date.fromisoformat(start), date.fromisoformat(end))
    if period.start < EARLIEST or period.end > LATEST:
        raise ValueError(f"dates must lie between {EARLIEST} and {LATEST}")
    return period


def _single(name: str, notices: list[str]) -> str | None:
    """The last value of a parameter that takes one; a notice for the values ignored before it."""
    values = st.query_params.get_all(name)
    if len(values) > 1:
        notices.append(f"Ignored the extra {name!r} value(s) {', '.join(map(_shown, values[:-1]))} in the link; used the last.")
    return values[-1] if values else None


def _load_from_url(options: FilterOptions, as_of: date) -> list[str]:
    """Seed the session's filter widgets from the query string; return notices (Markdown, the link's values
    escaped) for what was dropped."""
    params, state, notices = st.query_params, st.session_state, []
    period = _single("period", notices)
    start, end = _single("from", notices), _single("to", notices)
    if start or end:
        try:
            custom = _custom_range(start or "", end or "")
            state["f_period"], state["f_range"] = "custom", (custom.start, custom.end)
        except ValueError as exc:
            shown = f"{_shown(start or '?')} to {_shown(end or '?')}"
            notices.append(f"Ignored the date range in the link ({shown}): {_shown(str(exc), 3 * SHOWN_CHARACTERS)}; showing this quarter.")
            state["f_period"] = DEFAULT_PERIOD
        if period is not None:
            notices.append(f"Ignored the period {_shown(repr(period))} in the link: its date range comes first.")
    elif period is None or period in PERIOD_NAMES:
        state["f_period"] = period or DEFAULT_PERIOD
    else:
        notices.append(f"Ignored the unknown period {_shown(repr(period))} in the link; showing this quarter.")
        state["f_period"] = DEFAULT_PERIOD
    for param, (field, label) in PEOPLE_PARAMS.items():
        if param in params:  # ?rep=1&rep=2 means the same as ?rep=1,2
            ids, bad = _parse_ids(",".join(params.get_all(param)), getattr(options, field))
            state[f"f_{param}"] = ids
            if bad:
                notices.append(f"Ignored {label.lower()} {', '.join(map(md, bad))} from the link: not found or not visible to you.")
    known = {"period", "from", "to", *PEOPLE_PARAMS, *PAGE_PARAMS}
    unknown = sorted(set(params) - known)
    if unknown:
        notices.append(f"Ignored unknown link parameter(s): {', '.join(map(_shown, unknown))}.")
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
    """Draw the filters in the sidebar and return them as spm_core Filters.

    Each widget's default (index=/default=/value=) is its current value, not the first option. Streamlit
    sends a value set through session state to the browser in one run only; a browser that mounts the
    widget from a later run (the sign-in cookie's rerun often follows within milliseconds) takes the
    widget's default and sends that back as the user's choice at the next click (seen in Chromium:
    ?period=this_month on the next page). persist_state="session" keeps the values on pages that do not
    draw the bar, so the dashboards show the same filters when the user comes back."""
    options = _options(wh, wh.version, scope)
    state = st.session_state
    # Seed the widgets from the link on a new warehouse or scope, or when their state was cleared (a saved
    # view opened): the link mirrors the filters.
    if state.get("f_loaded_for") != (wh.version, scope) or "f_period" not in state:
        state["f_notices"] = _load_from_url(options, wh.as_of)
        state["f_loaded_for"] = (wh.version, scope)
    with st.sidebar:
        st.subheader("Filters")
        for notice in state.get("f_notices", []):
            st.warning(notice, icon=":material/link_off:")
        periods = list(PERIOD_LABELS)
        period_name = st.selectbox(
            "Period", periods, index=periods.index(state["f_period"]), format_func=PERIOD_LABELS.__getitem__, key="f_period",
            persist_state="session",
        )
        if period_name == "custom":
            if "f_range" not in state:
                quarter = Period.quarter(wh.as_of)
                state["f_range"] = (quarter.start, quarter.end)
            st.date_input("From – to", value=state["f_range"], key="f_range", format="YYYY-MM-DD", min_value=EARLIEST,
                          max_value=LATEST, persist_state="session")
            period = _custom_period(wh.as_of)
        else:
            period = Period.named(period_name, wh.as_of)
        st.caption(f"{period.start:%d %b %Y} – {period.end:%d %b %Y}")
        chosen: dict[str, list[int]] = {}
        for param, (field, label) in PEOPLE_PARAMS.items():
            known = getattr(options, field)
            picked = state.get(f"f_{param}", [])
            kept = [i for i in picked if i in known]  # drop ids no longer offered (e.g. after a data reload)
            if kept != picked:
                state[f"f_{param}"] = kept
            chosen[param] = st.multiselect(
                label, list(known), default=kept, format_func=known.__getitem__, key=f"f_{param}",
                placeholder=f"All {label.lower()}s", persist_state="session",
            )
    _write_url(period_name, period, chosen)
    return Filters(period, **{PEOPLE_PARAMS[p][0]: frozenset(ids) for p, ids in chosen.items()})


def no_filter_bar(wh: Warehouse) -> Filters:
    """For pages the filters do not apply to (admin, planning, pulse): no bar, this quarter unfiltered. The
    filter widgets keep their values meanwhile (persist_state="session")."""
    return Filters(Period.named(DEFAULT_PERIOD, wh.as_of))
