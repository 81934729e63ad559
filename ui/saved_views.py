"""The sidebar's saved views: open one, share its link, save the current page + filters under a name.

Drawn by the frame before the filter bar, so that opening a view (a button, or a shared link's `open`
parameter) can clear the filter widgets and let the filter bar read the view's parameters from the URL,
under the viewer's own scope, before any widget is drawn.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import streamlit as st

from spm_core.reports.saved_views import OPEN_PARAM, SavedView, ViewStore
from spm_core.users import User, UserError, users_file

from .filters import PEOPLE_PARAMS
from .text import md
from .warehouse import Warehouse

FILTER_KEYS = ("f_loaded_for", "f_period", "f_range", *(f"f_{p}" for p in PEOPLE_PARAMS))


def _open(target: st.Page, params: dict[str, str]) -> None:
    """Forget the filter widgets' state (so the filter bar reads the URL again) and go to the page."""
    for key in FILTER_KEYS:
        st.session_state.pop(key, None)
    st.switch_page(target, query_params=params)


def _base_url() -> str:
    parts = urlsplit(st.context.url or "")
    return f"{parts.scheme}://{parts.netloc}/" if parts.netloc else "/"


def saved_views(wh: Warehouse, user: User, current: st.Page, pages: list[st.Page]) -> None:
    """Open a shared link's page, then list the user's views and a form to save the current one."""
    by_path = {p.url_path: p for p in pages}
    if OPEN_PARAM in st.query_params:
        wanted = st.query_params[OPEN_PARAM]
        rest = {k: v for k, v in st.query_params.to_dict().items() if k != OPEN_PARAM}
        if wanted in by_path:
            _open(by_path[wanted], rest)
        del st.query_params[OPEN_PARAM]
        st.warning(f"The linked page {md(repr(wanted))} is not one you can open; showing this page instead.")
    store = ViewStore(users_file(None, wh.url))
    with st.expander("Saved views", icon=":material/bookmarks:"):
        for i, view in enumerate(store.views(user.username)):
            _view_row(store, user, view, by_path, i)
        name = st.text_input("Name this view", key="view_name", max_chars=60, placeholder="e.g. EMEA pipeline")
        if st.button("Save current view", key="view_save", disabled=not name.strip()):
            try:
                store.save(user.username, name, current.url_path, st.query_params.to_dict())
                st.rerun()
            except UserError as exc:
                st.error(md(exc))


def _view_row(store: ViewStore, user: User, view: SavedView, by_path: dict[str, st.Page], i: int) -> None:
    target = by_path.get(view.page)
    left, middle, right = st.columns([5, 1, 1])
    if left.button(md(view.name), key=f"view_open_{i}", disabled=target is None, width="stretch"):
        _open(target, dict(view.params))
    with middle.popover("Link", icon=":material/link:", help="Share: anyone who opens it sees it under their own scope"):
        st.code(_base_url() + view.link(), language=None)
    if right.button("", key=f"view_delete_{i}", icon=":material/delete:", help="Delete this view"):
        store.remove(user.username, view.name)
        st.rerun()
