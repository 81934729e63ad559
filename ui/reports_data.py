"""Cached period reviews for the reports page, keyed like ui.warehouse's (warehouse version, filters, scope,
as_of): a choice recomputes, a reloaded warehouse invalidates."""

from __future__ import annotations

from datetime import date

import streamlit as st
from sqlalchemy.engine import Engine

from spm_core.filters import Filters, Scope
from spm_core.reports.files import ReviewFiles, review_files
from spm_core.reports.review import build_review


@st.cache_data(show_spinner="Computing the review…", max_entries=32)
def files(_engine: Engine, version: str, filters: Filters, scope: Scope, as_of: date) -> ReviewFiles:
    """The review and what its files need; the files themselves are written when a download is clicked."""
    return review_files(_engine, build_review(_engine, filters, scope, as_of))
