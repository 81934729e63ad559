"""A throwaway PostgreSQL 15 cluster for the tests: `initdb` in a temp dir, started on a free port, stopped
at the end of the session. Registered by conftest.py (pytest_plugins).

PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` user that Debian's
package creates. `SPM_SKIP_POSTGRES=1` skips the PostgreSQL half of the suite; otherwise a missing
PostgreSQL fails the tests that need it (scripts/test.sh installs it).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

PG_BIN = Path(os.environ.get("SPM_PG_BIN", "/usr/lib/postgresql/15/bin"))
SKIP_ENV = "SPM_SKIP_POSTGRES"
# A test cluster holds nothing worth keeping: no crash safety, small memory.
SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "shared_buffers=64MB", "max_connections=200")


@dataclass(frozen=True)
class Cluster:
    root: Path
    port: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"


def _as_owner(argv: list[str]) -> list[str]:
    """Run as `postgres` when we are root (initdb and postgres refuse root)."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_cluster() -> Cluster:
    """initdb + pg_ctl start in a new temp dir (outside pytest's root-only temp tree, so `postgres` can use it)."""
    if not (PG_BIN / "initdb").exists():
        raise RuntimeError(f"PostgreSQL 15 is not installed ({PG_BIN}): apt-get install -y postgresql, or set {SKIP_ENV}=1")
    root = Path(tempfile.mkdtemp(prefix="spm_pg_"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data = root / "data"
    subprocess.run(_as_owner([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                              "--no-instructions", "--no-sync"]), check=True, capture_output=True)
    for _ in range(5):  # another process may take the free port first
        port = _free_port()
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 " + " ".join(f"-c {s}" for s in SETTINGS)
        started = subprocess.run(_as_owner([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w",
                                            "-o", options, "start"]), capture_output=True, text=True)
        if started.returncode == 0:
            return Cluster(root, port)
    raise RuntimeError(f"PostgreSQL did not start: {(root / 'log').read_text()[-2000:]}")


def stop_cluster(cluster: Cluster) -> None:
    subprocess.run(_as_owner([str(PG_BIN / "pg_ctl"), "-D", str(cluster.root / "data"), "-m", "immediate", "stop"]),
                   capture_output=True)
    shutil.rmtree(cluster.root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"PostgreSQL skipped ({SKIP_ENV}=1)")
    cluster = start_cluster()
    yield cluster
    stop_cluster(cluster)


@pytest.fixture(scope="session")
def pg_database(pg_cluster: Cluster) -> Iterator[Callable[[], str]]:
    """A factory of new, empty databases on the session's cluster; returns each one's URL."""
    admin = sa.create_engine(pg_cluster.url(), isolation_level="AUTOCOMMIT")

    def create() -> str:
        name = f"w_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        return pg_cluster.url(name)

    yield create
    admin.dispose()
