"""Load test: N concurrent signed-in sessions against a local Streamlit server, each opening the five
dashboards and then changing a filter (the period), through Streamlit's own websocket protocol.

    python scripts/load_test.py --sessions 10 25 50 --server-pid $(pgrep -f "streamlit run app.py" | head -1)
    python scripts/load_test.py --sessions 5 --one-page-each --server-pid PID   # five users on five pages
    python scripts/load_test.py --sessions 5 --one-page-each --pages territories,reports,coaching,pulse,pipeline

--one-page-each: session i opens only the i-th of the five dashboards (round robin) and changes its period
there, so five sessions hold five different pages at once: the server's peak memory with every page's
numbers in flight together.

A session is one websocket, as a browser tab opens, speaking the protobuf messages the browser speaks
(BackMsg rerun_script with the page's hash; ForwardMsg until script_finished), signed in by the sign-in
cookie the app itself would have written (a token minted with the app's cookie key for a demo user):
no browser, so the client is not the bottleneck (one Chromium per session used 3.6x the server's CPU).
Time per page is from sending the rerun to the server's script_finished, on localhost. Bounded:
localhost only, at most 50 sessions, each run stops after --timeout seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from spm_core.auth import tokens  # noqa: E402
from spm_core.config import warehouse_url  # noqa: E402
from spm_core.users import UserStore, cookie_key_file, users_file  # noqa: E402

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
MAX_SESSIONS = 50
DASHBOARDS = ("pipeline", "attainment", "leaderboard", "forecast")  # after the overview, the default page
VIEWERS = ("leader", "manager", "teamlead", "rep")  # demo users, round robin: several scopes at once
COOKIE_NAME = "spm_auth"  # ui/auth.py


@dataclass
class Timings:
    seconds: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, page: str, took: float) -> None:
        self.seconds.setdefault(page, []).append(took)


class Session:
    """One browser tab's websocket: rerun a page, wait for the script to finish, count what went wrong."""

    def __init__(self, url: str, cookie: str, timings: Timings) -> None:
        self.url, self.cookie, self.timings = url, cookie, timings
        self.pages: dict[str, str] = {}  # url path -> page script hash, from the navigation message
        self.ws = None

    async def open(self) -> None:
        parts = urlsplit(self.url)
        ws_url = f"ws://{parts.netloc}/_stcore/stream"
        cookie = {"Cookie": f"{COOKIE_NAME}={self.cookie}"}
        self.ws = await connect(  # no client pings: a browser sends none, and a busy server would miss them
            ws_url, additional_headers=cookie, max_size=64 * 1024 * 1024, open_timeout=60, ping_interval=None
        )

    async def run(self, label: str, page_hash: str = "", query: str = "") -> None:
        msg = BackMsg()
        msg.rerun_script.query_string = query
        msg.rerun_script.page_script_hash = page_hash
        started = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        while True:
            fwd = ForwardMsg.FromString(await self.ws.recv())
            kind = fwd.WhichOneof("type")
            if kind == "navigation":
                self.pages = {p.url_pathname: p.page_script_hash for p in fwd.navigation.app_pages}
            elif kind == "delta" and fwd.delta.new_element.WhichOneof("type") == "exception":
                self.timings.errors.append(f"{label}: {fwd.delta.new_element.exception.message[:120]}")
            elif kind == "script_finished":
                if fwd.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                    self.timings.add(label, time.perf_counter() - started)
                    return
                if fwd.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    self.timings.errors.append(f"{label}: script finished with {fwd.script_finished}")
                    return

    async def tour(self, only: str | None = None) -> None:
        """Overview (the default page), the four other dashboards, then the overview for last quarter; with
        `only`, the overview, then that page, then that page for last quarter."""
        await self.open()
        try:
            await self.run("overview")
            if not self.pages:
                self.timings.errors.append("not signed in: no navigation (is the cookie key right?)")
                return
            for page in DASHBOARDS if only is None else (only,) if only != "overview" else ():
                if page not in self.pages:
                    self.timings.errors.append(f"{page}: not in the navigation")
                    continue
                await self.run(page, self.pages[page])
            last = only or "overview"
            await self.run(f"{last}, filter changed", self.pages.get(last, ""), "period=last_quarter")
        finally:
            await self.ws.close()


def cookies(store: UserStore, key: str, count: int) -> list[str]:
    """A valid sign-in token per session, for the demo users in turn (each at their current session version)."""
    versions = {u: int((store.entry(u) or {}).get("session_version", 1)) for u in VIEWERS}
    return [tokens.issue(VIEWERS[i % len(VIEWERS)], versions[VIEWERS[i % len(VIEWERS)]], key) for i in range(count)]


def server_usage(pid: int | None) -> tuple[float, float] | None:
    """(CPU seconds used so far, peak resident MB) of the server process, from /proc."""
    if pid is None:
        return None
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(stat[11]) + int(stat[12])) / 100  # utime + stime, in clock ticks of 1/100 s
    peak = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmHWM"))
    return cpu, int(peak.split()[1]) / 1024


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def one_level(
    url: str, n: int, store: UserStore, key: str, timeout: float, one_page_each: bool = False, pages: tuple[str, ...] = ()
) -> tuple[Timings, float]:
    timings = Timings()
    sessions = [Session(url, cookie, timings) for cookie in cookies(store, key, n)]
    pages = pages or ("overview", *DASHBOARDS)
    tours = [s.tour(pages[i % len(pages)] if one_page_each else None) for i, s in enumerate(sessions)]
    started = time.perf_counter()
    try:
        outcomes = await asyncio.wait_for(asyncio.gather(*tours, return_exceptions=True), timeout)
    except TimeoutError:
        timings.errors.append(f"stopped after {timeout:.0f} s")
        outcomes = []
    for outcome in outcomes:  # a refused connection, a protocol surprise: that session's error, the others go on
        if isinstance(outcome, Exception):
            timings.errors.append(f"{type(outcome).__name__}: {outcome}")
    return timings, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8501")
    parser.add_argument("--sessions", type=int, nargs="+", default=[10, 25, 50])
    parser.add_argument("--warehouse", default=None, help="the app's warehouse URL (finds its users file and cookie key)")
    parser.add_argument("--cookie-key", default=None, help="the app's [auth] cookie_key, when it is configured")
    parser.add_argument("--server-pid", type=int, default=None, help="the streamlit process, for its CPU and peak memory")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds after which a level is stopped")
    parser.add_argument("--one-page-each", action="store_true", help="session i stays on the i-th dashboard (see above)")
    parser.add_argument(
        "--pages", default="", help="with --one-page-each: the pages (URL paths, comma-separated) instead of the dashboards"
    )
    args = parser.parse_args()
    if urlsplit(args.url).hostname not in LOCAL_HOSTS:
        sys.exit("load_test.py runs against localhost only")
    if max(args.sessions) > MAX_SESSIONS or min(args.sessions) < 1:
        sys.exit(f"between 1 and {MAX_SESSIONS} sessions")
    path = users_file(None, warehouse_url(args.warehouse))
    store = UserStore(path)
    key = args.cookie_key or tokens.local_key(cookie_key_file(path))
    print(f"{'sessions':>8} {'page':<26} {'runs':>5} {'p50 s':>7} {'p95 s':>7}")
    for n in args.sessions:
        before = server_usage(args.server_pid)
        timings, wall = asyncio.run(
            one_level(args.url, n, store, key, args.timeout, args.one_page_each, tuple(filter(None, args.pages.split(","))))
        )
        after = server_usage(args.server_pid)
        for page, seconds in timings.seconds.items():
            print(f"{n:>8} {page:<26} {len(seconds):>5} {statistics.median(seconds):>7.2f} {percentile(seconds, 0.95):>7.2f}")
        usage = "" if before is None or after is None else (
            f", server CPU {after[0] - before[0]:.1f} s ({(after[0] - before[0]) / wall:.0%} of one core), peak {after[1]:.0f} MB"
        )
        print(f"{n:>8} {'(all)':<26} wall {wall:.1f} s, errors {len(timings.errors)}{usage}")
        for error in sorted(set(timings.errors))[:5]:
            print(f"{'':>8}   error: {error}")


if __name__ == "__main__":
    main()
