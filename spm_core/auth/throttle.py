"""Failed sign-ins slow the next try down instead of locking the account.

After FREE_TRIES failures in a row for an account (or MANY more from one client address), each
further try must wait a delay that doubles per failure, up to a cap. A stranger guessing passwords is
slowed to a crawl, yet the real user is never kept out longer than the cap, and no admin is needed to
undo it. Counts are kept for any name typed, known or not, so the answers do not reveal which
usernames exist. They live in their own small file beside the users file (the users file is not
rewritten on every wrong guess), under a file lock, forgotten an hour after the last failure, and the
file holds at most MAX_ENTRIES names and addresses.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from spm_core.files import write_private

FORGET_AFTER_S = 3600
MAX_ENTRIES = 10_000
MAX_NAME_LENGTH = 64


@dataclass(frozen=True)
class Policy:
    free_tries: int
    first_delay_s: float
    max_delay_s: float

    def delay(self, failures: int) -> float:
        """How long after the last failure the next try must wait."""
        if failures < self.free_tries:
            return 0.0
        return min(self.first_delay_s * 2 ** (failures - self.free_tries), self.max_delay_s)


ACCOUNT = Policy(free_tries=5, first_delay_s=15, max_delay_s=300)
CLIENT = Policy(free_tries=20, first_delay_s=15, max_delay_s=900)


def attempts_file(users_path: Path) -> Path:
    return users_path.with_name(f"{users_path.stem}.signin-attempts.json")


class Attempts:
    """Failure counts per account and per client address."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = FileLock(str(path) + ".lock")

    @staticmethod
    def keys(username: str, client: str | None) -> dict[str, Policy]:
        keys = {"user:" + username.strip().lower()[:MAX_NAME_LENGTH]: ACCOUNT}
        if client:
            keys["client:" + client[:MAX_NAME_LENGTH]] = CLIENT
        return keys

    def _read(self) -> dict[str, dict[str, float]]:
        try:
            return json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def wait_seconds(self, username: str, client: str | None, now: float | None = None) -> float:
        """Seconds before this account may be tried again from this client (0: now)."""
        now = time.time() if now is None else now
        counts = self._read()
        waits = [0.0]
        for key, policy in self.keys(username, client).items():
            entry = counts.get(key)
            if entry and now - entry["last"] < FORGET_AFTER_S:
                waits.append(entry["last"] + policy.delay(int(entry["failures"])) - now)
        return max(waits)

    def failures(self, username: str) -> int:
        entry = self._read().get(next(iter(self.keys(username, None))))
        return int(entry["failures"]) if entry else 0

    def record_failure(self, username: str, client: str | None, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._edit(now) as counts:
            for key in self.keys(username, client):
                entry = counts.get(key) or {"failures": 0}
                counts[key] = {"failures": int(entry["failures"]) + 1, "last": now}

    def clear(self, username: str) -> None:
        """A right password (or an admin's reset) forgets the account's failures, not the client's."""
        with self._edit(time.time()) as counts:
            counts.pop(next(iter(self.keys(username, None))), None)

    @contextmanager
    def _edit(self, now: float) -> Iterator[dict[str, dict[str, float]]]:
        """The counts to change in place, with entries past FORGET_AFTER_S dropped; written back
        (newest MAX_ENTRIES only) when the block ends without an error."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            counts = {k: v for k, v in self._read().items() if now - v["last"] < FORGET_AFTER_S}
            yield counts
            newest = sorted(counts.items(), key=lambda kv: kv[1]["last"], reverse=True)[:MAX_ENTRIES]
            write_private(self.path, json.dumps(dict(newest)))
