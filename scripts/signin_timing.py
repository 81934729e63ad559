"""How long a wrong sign-in takes for a real username and for an unknown one (they must not differ:
the difference would tell a stranger which usernames exist). Prints the median of N tries each.

    python scripts/signin_timing.py --tries 12
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from spm_core.auth import signin
from spm_core.auth.throttle import Attempts, attempts_file
from spm_core.users import UserStore


def median_seconds(store: UserStore, attempts: Attempts, username: str, tries: int) -> float:
    times = []
    for _ in range(tries):
        attempts.path.unlink(missing_ok=True)  # time the check, not the delay after five failures
        start = time.perf_counter()
        signin.with_password(store, attempts, username, "a-wrong-password", None, real_data=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=12)
    tries = parser.parse_args().tries
    store = UserStore(Path(tempfile.mkdtemp()) / "users.yaml")
    store.add("ann", "Ann", "", "ann-password-1", "leader", None)
    attempts = Attempts(attempts_file(store.path))
    median_seconds(store, attempts, "warm-up", 1)
    for username in ("ann", "nobody"):
        print(f"{username:<8} {'real' if store.get(username) else 'unknown':<8} {median_seconds(store, attempts, username, tries):.3f} s")


if __name__ == "__main__":
    main()
