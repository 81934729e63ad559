"""Cached period reviews for the reports page, keyed like ui.warehouse's (warehouse version, filters, scope,
as_of): a choice recomputes, a reloaded warehouse invalidates."""

from __future__ import annotations

from datetime import date

import streamlit as st
from sqlalchemy.engine import Engine

from spm_core.filters import Filters, Scope
from spm_core.reports.files import review_pdf, review_xlsx
from spm_core.reports.review import Review, build_review


@st.cache_data(show_spinner="Computing the review…", max_entries=32)
def review(_engine: Engine, version: str, filters: Filters, scope: Scope, as_of: date) -> Review:
    return build_review(_engine, filters, scope, as_of)


@st.cache_data(show_spinner=False, max_entries=32)
def xlsx(_engine: Engine, version: str, filters: Filters, scope: Scope, as_of: date) -> bytes:
    return review_xlsx(_engine, review(_engine, version, filters, scope, as_of))


@st.cache_data(show_spinner="Drawing the PDF…", max_entries=32)
def pdf(_engine: Engine, version: str, filters: Filters, scope: Scope, as_of: date) -> bytes:
    return review_pdf(_engine, review(_engine, version, filters, scope, as_of))

