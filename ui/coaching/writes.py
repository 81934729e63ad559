"""Writing from a coaching or contest page: through ui.warehouse.writable(), with one way of failing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import streamlit as st
from sqlalchemy.engine import Engine

from spm_core.coaching.notes import NoteError
from spm_core.coaching.scorecard_settings import ScorecardError
from spm_core.contests.model import ContestError
from ui import warehouse
from ui.context import context, set_context
from ui.text import md

# Inputs the engines refuse, each with a message meant for the person who typed them; anything else is a bug
# and is not dressed up as their mistake.
REFUSALS = (ScorecardError, NoteError, ContestError)


def write(change: Callable[[Engine], None], done: str) -> None:
    """Run `change` on a read-write engine; on success remember `done` for the next run and rerun, on a
    refused input (REFUSALS) or a database error show why. The session's read-only engine is
    reopened either way (writable() closed it)."""
    ctx = context()
    try:
        with warehouse.writable() as engine:
            change(engine)
    except REFUSALS as exc:
        st.error(md(exc))
        return
    except warehouse.WRITE_FAILURES as exc:
        st.error(warehouse.refusal(exc))
        return
    finally:
        set_context(replace(ctx, wh=warehouse.current()))
    st.session_state["coaching_saved"] = done
    st.rerun()


def saved_notice() -> None:
    """The confirmation of the last save, shown once."""
    done = st.session_state.pop("coaching_saved", None)
    if done:
        st.success(md(done))
