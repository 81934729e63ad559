"""A throwaway PostgreSQL server for the compensation tests: the engine must give the same lines there.

Started once per session from the machine's initdb/pg_ctl (as the postgres user when run as root),
listening only on a Unix socket in a temporary folder, and stopped at the end; each warehouse is a new
database on it. Skipped where PostgreSQL or its driver is not installed.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from spm_core.db import make_engine


def _as_owner(cmd: list[str]) -> list[str]:
    return ["su", "postgres", "-c", " ".join(cmd)] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """host=...&port=... of a running server, for a URL's query string."""
    pytest.importorskip("psycopg")
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL (initdb, pg_ctl) is not installed")
    folder = Path(tempfile.mkdtemp(prefix="spm_comp_pg_"))  # not under pytest's folder: postgres must reach it
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data, port = folder / "data", 55000 + os.getpid() % 1000
    try:
        subprocess.run(_as_owner([initdb, "-D", str(data), "-A", "trust", "-U", "postgres"]), check=True, capture_output=True)
        options = f"'-p {port} -k {folder} -c listen_addresses= -c fsync=off'"
        subprocess.run(_as_owner([pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"]), check=True,
                       capture_output=True)
        yield f"host={folder}&port={port}"
    finally:
        subprocess.run(_as_owner([pg_ctl, "-D", str(data), "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


_numbers = itertools.count()


def new_database(server: str) -> Engine:
    """An engine on a new, empty database of the server."""
    name = f"comp_{os.getpid()}_{next(_numbers)}"
    admin = sa.create_engine(f"postgresql+psycopg://postgres@/postgres?{server}", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return make_engine(f"postgresql+psycopg://postgres@/{name}?{server}")
