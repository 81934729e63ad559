"""Time each dashboard page on a demo warehouse at scale, as a signed-in leader, with a warm process
and cold caches (st.cache_data cleared before each timed run): what a user waits for after
changing a filter nobody has asked for yet.

    python scripts/page_timings.py --opportunities 1000000      # builds /tmp/spm_pages_1000000.duckdb once

Prints seconds per page (median of --repeat runs) and the process's peak RSS.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    url = warehouse(args.opportunities)
    os.environ.update(
        SPM_WAREHOUSE_URL=url, SPM_USERS_FILE=str(users_file(warehouse=url)), SPM_COOKIE_KEY="timing-cookie-key-0123456789abcdef"
    )
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300).run()
    at.text_input[0].input("leader")
    at.text_input[1].input(DEMO_PASSWORDS["leader"])
    next(b for b in at.button if b.label == "Login").click()
    at.run().run()  # the second run is the one a browser's cookie component triggers after sign-in
    print(f"{args.opportunities:,} opportunities; leader; warm process, caches cleared before each run")
    print(f"{'page':<14}{'median s':>10}{'min s':>8}")
    for page in PAGES:
        at.switch_page(f"pages/{page}.py").run()  # warm-up: imports, engine, first compile
        assert not at.exception, at.exception
        runs = []
        for _ in range(args.repeat):
            st.cache_data.clear()
            started = time.perf_counter()
            at.run()
            runs.append(time.perf_counter() - started)
            assert not at.exception, at.exception
        print(f"{page:<14}{statistics.median(runs):>10.2f}{min(runs):>8.2f}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
