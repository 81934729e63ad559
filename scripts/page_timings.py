"""Time each dashboard page on a demo warehouse at scale, as a signed-in leader, and each compensation
page as its usual viewer (a rep, a first-line manager, the comp admin), with a warm process and cold
caches (st.cache_data cleared before each timed run): what a user waits for after changing a filter
nobody has asked for yet.

    python scripts/page_timings.py --opportunities 1000000      # builds /tmp/spm_pages_1000000.duckdb once
    python scripts/page_timings.py --only my_commissions --only comp_team --only comp_admin

Prints seconds per page (median and minimum of --repeat runs), the CPU seconds the process spent (all
threads, DuckDB's included: on a shared machine the wall time also holds the wait for a core), and the
process's peak RSS.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from spm_core.db import make_engine  # noqa: E402
from spm_core.demo import DemoSpec, build_demo  # noqa: E402
from spm_core.users import DEMO_PASSWORDS, create_demo_users, users_file  # noqa: E402

PAGES = ("overview", "pipeline", "attainment", "leaderboard", "forecast", "activities", "scorecard", "coaching", "one_on_ones", "contests")
# Who opens which pages: the dashboards as the leader (everyone in scope), each compensation page as its
# usual viewer (a rep's own statement, a first-line manager's team, the comp admin's queue).
SIGN_INS = {"leader": PAGES, "rep": ("my_commissions",), "teamlead": ("comp_team",), "comp_admin": ("comp_admin",)}
AS_OF = date(2026, 11, 23)


def warehouse(opportunities: int) -> str:
    path = Path(f"/tmp/spm_pages_{opportunities}.duckdb")
    url = f"duckdb:///{path}"
    if not path.exists():
        started = time.perf_counter()
        engine = make_engine(url)
        build_demo(engine, DemoSpec(opportunities=opportunities, activities=opportunities * 5, seed=11, as_of=AS_OF))
        create_demo_users(engine)
        engine.dispose()
        print(f"built {path} in {time.perf_counter() - started:.1f} s")
    return url


def signed_in(username: str) -> AppTest:
    """The app in this process, signed in as a demo user (a new AppTest: one session per user)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    at.text_input[0].input(username)
    at.text_input[1].input(DEMO_PASSWORDS[username])
    next(b for b in at.button if b.label == "Login").click()
    at.run().run()  # the second run is the one a browser's cookie component triggers after sign-in
    assert not at.exception, at.exception
    return at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", action="append", metavar="PAGE", help="time only this page (repeat for several)")
    args = parser.parse_args()
    url = warehouse(args.opportunities)
    os.environ.update(
        SPM_WAREHOUSE_URL=url, SPM_USERS_FILE=str(users_file(warehouse=url)), SPM_COOKIE_KEY="timing-cookie-key-0123456789abcdef"
    )
    print(f"{args.opportunities:,} opportunities; warm process, caches cleared before each run")
    print(f"{'page':<16}{'as':<12}{'median s':>10}{'min s':>8}{'cpu s':>8}")
    for username, pages in SIGN_INS.items():
        pages = [p for p in pages if not args.only or p in args.only]
        at = signed_in(username) if pages else None
        for page in pages:
            at.switch_page(f"pages/{page}.py").run()  # warm-up: imports, engine, first compile
            assert not at.exception, at.exception
            runs, cpu = [], []
            for _ in range(args.repeat):
                st.cache_data.clear()
                started, used = time.perf_counter(), time.process_time()
                at.run()
                runs.append(time.perf_counter() - started)
                cpu.append(time.process_time() - used)
                assert not at.exception, at.exception
            print(f"{page:<16}{username:<12}{statistics.median(runs):>10.2f}{min(runs):>8.2f}{statistics.median(cpu):>8.2f}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
