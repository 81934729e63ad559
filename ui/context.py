"""What the frame (app.py) hands to every page: the warehouse, the viewer's scope, the filters."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from spm_core.filters import Filters, Scope
from spm_core.users import User

from .warehouse import Warehouse


@dataclass(frozen=True)
class PageContext:
    wh: Warehouse
    scope: Scope
    filters: Filters
    viewer_id: int | None  # the signed-in person, for "my rank"; None when not linked to a person
    user: User | None = None
    # Leaderboards rank everyone's reps; what a rep sees of their values is spm_core.leaderboard.Audience's call.
    leaderboard_scope: Scope = Scope.everyone()


def set_context(ctx: PageContext) -> None:
    st.session_state["page_context"] = ctx


def context() -> PageContext:
    """What app.py set for this session. Until the first st.navigation call of a server process,
    Streamlit runs a pages/ file named in the URL by itself, without app.py (its old multipage mode): a
    fresh server's first visit to /pipeline would skip sign-in. Such a run finds no context (app.py never
    ran in this new session) and starts over as the app, at the same address, so the link still opens
    after sign-in. (AppTest also runs page files alone, but after a first full run that set the context.)"""
    if "page_context" not in st.session_state and PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False  # what st.navigation does: app.py runs from now on
        st.rerun()
    return st.session_state["page_context"]
