"""The app's error boundary: a page that fails shows a short message with a reference, never a traceback.

Tracebacks name server paths, SQL statements and data (issue 8), so the user gets a reference to report
and the server log gets the traceback under that same reference. Streamlit's own control flow
(st.stop, st.rerun, st.switch_page raise ScriptControlException subclasses) passes through untouched.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException

LOGGER = logging.getLogger("spm.errors")
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread over the phone


def new_reference() -> str:
    """Six characters, enough to find one failure in a day's log."""
    return "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(6))


@contextmanager
def error_boundary(what: str = "this page") -> Iterator[None]:
    """Run a block; on any error log it with a new reference and show the user that reference."""
    try:
        yield
    except ScriptControlException:  # a BaseException today; stated so a Streamlit change cannot swallow st.stop
        raise
    except Exception:
        reference = new_reference()
        LOGGER.exception("Unexpected error in %s [reference %s]", what, reference)
        st.error(
            f"Something went wrong while showing {what}. Reference: **{reference}**. "
            "Please give this reference to your administrator; the details are in the server log.",
            icon=":material/error:",
        )
