"""How long the Territories map takes to draw in Chromium on a big market: builds the territory bench's market
(N accounts around the demo's cities, K territories) in a temporary DuckDB warehouse with one leader account,
runs `streamlit run app.py` on it, signs in with headless Debian Chromium (Playwright) and times from clicking
Territories in the sidebar until the map's canvas is drawn and the page has finished running, twice (the second
time Streamlit's caches are warm). Prints the accounts, the points the map draws (above ui.territory_view's
MAP_POINTS accounts are grouped per territory and half-degree cell), the seconds and the server's peak RSS;
the last screen goes to test-artifacts/territory_map_timing.png.

    python scripts/territory_map_timing.py --accounts 100000 --territories 40
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spm_core.filters import Scope  # noqa: E402
from spm_core.planning.territories.bench import build  # noqa: E402
from spm_core.planning.territories.measures import account_measures, territories, territory_summary  # noqa: E402
from spm_core.users import UserStore  # noqa: E402
from ui.territory_view import map_points  # noqa: E402

USER, PASSWORD = "maps", "map-timing-password-2026"
WAIT_MS = 600_000
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOT = ROOT / "test-artifacts" / "territory_map_timing.png"  # what was timed, to look at
RUNNING = '[data-testid="stStatusWidgetRunningIcon"]'


def warehouse(folder: Path, accounts: int, count: int) -> tuple[str, Path, int]:
    """The market's warehouse, a users file with one leader, and how many points the map will draw."""
    engine = build(folder / "map.duckdb", accounts, count)
    rows = account_measures(engine, date.today(), Scope.everyone())  # the app's today: this warehouse has no as_of
    points = len(map_points(rows, territory_summary(rows, territories(engine, Scope.everyone()))))
    engine.dispose()
    users = folder / "map.users.yaml"
    UserStore(users).add(USER, "Map Timer", "", PASSWORD, "leader", None)
    return f"duckdb:///{folder / 'map.duckdb'}", users, points


def start_server(url: str, users: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "SPM_WAREHOUSE_URL": url,
        "SPM_USERS_FILE": str(users),
        "SPM_COOKIE_KEY": "map-timing-cookie-key-0123456789abcdef",
    }
    args = ["--server.port", str(port), "--server.headless", "true", "--server.address", "127.0.0.1"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", *args, "--browser.gatherUsageStats", "false"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            if urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).status == 200:
                return proc, base
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError("streamlit did not start")


def settled(page) -> None:
    with contextlib.suppress(PlaywrightTimeout):  # too late to see it start: it may have finished already
        page.wait_for_selector(RUNNING, timeout=3_000)
    page.wait_for_selector(RUNNING, state="detached", timeout=WAIT_MS)


def time_map(page, away: str) -> float:
    """Seconds from clicking Territories in the sidebar until the map's canvas is drawn and the run is over."""
    nav = page.locator('[data-testid="stSidebarNav"]')
    nav.get_by_role("link", name=away).click()
    page.get_by_role("heading", name=away).first.wait_for(timeout=WAIT_MS)
    settled(page)
    started = time.perf_counter()
    nav.get_by_role("link", name="Territories").click()
    page.locator('[data-testid="stVegaLiteChart"]').first.locator("canvas, svg").first.wait_for(timeout=WAIT_MS)
    settled(page)
    return time.perf_counter() - started


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(x for x in status.splitlines() if x.startswith("VmHWM:")).split()[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--territories", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url, users, points = warehouse(Path(folder), args.accounts, args.territories)
        proc, base = start_server(url, users)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"], headless=True)
                page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
                page.goto(base)
                page.get_by_label("Username", exact=True).fill(USER)
                page.get_by_label("Password", exact=True).fill(PASSWORD)
                page.get_by_role("button", name="Login").click()
                page.get_by_role("heading", name="Overview").first.wait_for(timeout=WAIT_MS)
                settled(page)
                cold = time_map(page, "Overview")
                warm = time_map(page, "Overview")
                page.screenshot(path=str(SHOT))
                browser.close()
            rss = peak_rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"{'accounts':>9} {'territories':>11} {'map points':>10} {'first s':>8} {'again s':>8} {'server peak RSS MB':>19}")
    print(f"{args.accounts:>9,} {args.territories:>11} {points:>10,} {cold:>8.1f} {warm:>8.1f} {rss:>19,.0f}")


if __name__ == "__main__":
    main()
