"""Who acts, which period and person the URL asks for (validated, with a notice), and writes.

Pages read through the app's read-only engine; a change goes through ui.warehouse.writable() in one
transaction with its audit entry (spm_core.comp writes both), and the page reruns with a notice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import sqlalchemy as sa
import streamlit as st

from spm_core.comp.audit import Actor, CompError
from spm_core.comp.periods import parse_period, period_label
from spm_core.comp.schema import ensure_schema
from spm_core.filters import Period
from ui import warehouse
from ui.comp import data
from ui.context import PageContext, set_context
from ui.text import md

NOTICE = "comp_notice"


def actor(ctx: PageContext) -> Actor:
    user = ctx.user
    return Actor(user.username, user.role, ctx.scope, user.person_id)


def require(ctx: PageContext, roles: tuple[str, ...], what: str) -> None:
    """Navigation hides the page from other roles; this guards a direct link. Also stops on a warehouse
    without the compensation tables."""
    if ctx.user is None or ctx.user.role not in roles:
        st.error(f"{what} is not available to your role.")
        st.stop()
    if not data.is_ready(ctx.wh.engine, ctx.wh.version):
        st.info("Compensation is not set up in this warehouse yet: save a plan and calculate a period first.")
        st.stop()


def show_notice() -> None:
    if message := st.session_state.pop(NOTICE, None):
        st.success(md(message), icon=":material/check:")


def period_from_url(periods: list[Period], default: Period) -> Period:
    """?period=2026-Q3 when it names one of `periods`; else a notice and the default."""
    wanted = st.query_params.get("period")
    if wanted is None:
        return default
    try:
        period = parse_period(wanted)
    except ValueError:
        period = None
    if period not in periods:
        st.warning(f"Ignored period={md(wanted)}: not a period you can open here.")
        return default
    return period


def pick_period(periods: list[Period], default: Period, key: str) -> Period:
    """A period select box, starting at the URL's period (validated) or the default."""
    options = periods if default in periods else [default, *periods]
    start = period_from_url(options, default)
    return st.selectbox("Period", options, index=options.index(start), format_func=period_label, key=key)


def person_from_url(allowed: dict[int, str]) -> int | None:
    """?person=<id> when it is someone the viewer may open; otherwise a notice (and None)."""
    wanted = st.query_params.get("person")
    if wanted is None:
        return None
    if wanted.isdigit() and int(wanted) in allowed:
        return int(wanted)
    st.warning(f"Ignored person={md(wanted)}: no statement of that person that you may see.")
    return None


def reopened(ctx: PageContext) -> PageContext:
    """The page context on the reopened read-only warehouse, after writable() closed this session's
    engine (a closed engine used again would reconnect outside the cache, and hold the file)."""
    fresh = replace(ctx, wh=warehouse.current())
    set_context(fresh)
    return fresh


def write(ctx: PageContext, change: Callable[[sa.Connection], str | None], done: str = "") -> None:
    """Run one change in a read-write transaction; rerun with its message (or `done` when it returns
    none), or show why it was refused (nothing is written then)."""
    try:
        with warehouse.writable() as engine:
            ensure_schema(engine)
            with engine.begin() as conn:
                message = change(conn)
    except CompError as exc:
        reopened(ctx)
        st.error(md(str(exc)))
        return
    except warehouse.WRITE_FAILURES as exc:
        reopened(ctx)
        st.error(warehouse.refusal(exc))
        return
    reopened(ctx)
    st.session_state[NOTICE] = message or done
    st.rerun()
