"""What the frame (app.py) hands to every page: the warehouse, the viewer's scope, the filters."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

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
    return st.session_state["page_context"]
