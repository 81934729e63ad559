"""Time pages under Streamlit's AppTest, signed in as the demo leader (the widest scope) or the page's usual
viewer (spm_core.bench_pages.VIEWERS): the
Streamlit half of `python -m spm_core bench-pages`, run in its own process so spm_core never imports
Streamlit. Prints one `PAGE {json}` line per page.

    python -m ui.page_timer duckdb:////tmp/w.duckdb 3 pipeline forecast

Per page: one uncounted run (imports, engine, first compile), then `repeat` runs with st.cache_data and
the engine's shared statement results (spm_core.result_cache) cleared before each (cold: what a user
waits for after a filter nobody asked for yet) and `repeat` runs without clearing (warm: the same
filters asked again by anyone with the same scope); medians. Peak
memory is this process's RSS high-water mark during the page's runs (reset per page where Linux allows).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

from spm_core import result_cache
from spm_core.bench import _peak_rss_mb, _reset_peak_rss
from spm_core.bench_pages import VIEWERS
from spm_core.users import DEMO_PASSWORDS, users_file

APP = Path(__file__).resolve().parents[1] / "app.py"


def signed_in(url: str, username: str = "leader") -> AppTest:
    os.environ.update(
        SPM_WAREHOUSE_URL=url,
        SPM_USERS_FILE=str(users_file(warehouse=url)),
        SPM_COOKIE_KEY="page-timer-cookie-key-0123456789abcdef",
    )
    at = AppTest.from_file(str(APP), default_timeout=900).run()
    at.text_input[0].input(username)
    at.text_input[1].input(DEMO_PASSWORDS[username])
    next(b for b in at.button if b.label == "Login").click()
    return at.run().run()  # the second run is the one a browser's cookie component triggers after sign-in


def _peak_mb() -> float:
    """VmHWM (which the reset clears, unlike ru_maxrss once Streamlit's script threads have ended), else ru_maxrss."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return _peak_rss_mb()
    line = next((x for x in status.splitlines() if x.startswith("VmHWM:")), None)
    return int(line.split()[1]) / 1024 if line else _peak_rss_mb()


def _timed_run(at: AppTest) -> float:
    started = time.perf_counter()
    at.run()
    seconds = time.perf_counter() - started
    if at.exception:
        raise RuntimeError(f"the page failed: {at.exception}")
    return seconds


def time_page(at: AppTest, page: str, repeat: int) -> dict[str, object]:
    _reset_peak_rss()
    at.switch_page(f"pages/{page}.py").run()
    if at.exception:
        raise RuntimeError(f"{page} failed: {at.exception}")
    cold = []
    for _ in range(repeat):
        st.cache_data.clear()
        result_cache.clear_all()  # the engine's shared statement results too: nobody asked these filters yet
        cold.append(_timed_run(at))
    warm = [_timed_run(at) for _ in range(repeat)]
    return {"page": page, "cold_s": statistics.median(cold), "warm_s": statistics.median(warm), "peak_mb": _peak_mb()}


def main(argv: list[str]) -> None:
    url, repeat, pages = argv[0], int(argv[1]), argv[2:]
    sessions: dict[str, AppTest] = {}
    for page in pages:
        viewer = VIEWERS.get(page, "leader")
        at = sessions.get(viewer) or sessions.setdefault(viewer, signed_in(url, viewer))
        print("PAGE " + json.dumps(time_page(at, page, repeat) | {"viewer": viewer}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
