"""Altair charts drawn with each distinct Vega-Lite spec validated once per server process, not on every run.

Altair validates a chart against the Vega-Lite JSON schema when it builds each part (its debug mode) and
again when Streamlit serialises it. On a warm page (every number already cached) that validation was
most of what a run cost: ~20 ms per chart, 0.1 s of the pipeline page's five charts at 10M opportunities.
A spec identical to one validated before is valid again (the spec names its data by a hash of the data),
so only specs not seen before are validated: a new chart or new numbers still fail loudly, in the page
tests as in production. Debug mode only makes tracebacks of invalid charts more detailed.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

import altair as alt
import streamlit as st
from altair.utils import schemapi

schemapi.disable_debug_mode()  # no validation of every part as it is built; the whole spec is validated below

MAX_VALIDATED = 4096  # spec hashes kept; a spec forgotten is just validated again
_validated: set[str] = set()
_lock = threading.Lock()


class _ValidatedOnce:
    """What st.altair_chart reads of a chart (its to_dict), validating the spec only the first time it is seen."""

    def __init__(self, chart: alt.TopLevelMixin) -> None:
        self.chart = chart

    def to_dict(self) -> dict[str, Any]:
        spec = self.chart.to_dict(validate=False)
        key = hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()
        with _lock:
            seen = key in _validated
        if not seen:
            self.chart.to_dict(validate=True)  # raises Altair's SchemaValidationError, as st.altair_chart would
            with _lock:
                if len(_validated) >= MAX_VALIDATED:
                    _validated.clear()
                _validated.add(key)
        return spec


def show_chart(chart: alt.TopLevelMixin, **kwargs: Any) -> None:
    """st.altair_chart(chart, **kwargs), validating the chart's spec once rather than on every run."""
    st.altair_chart(_ValidatedOnce(chart), **kwargs)
