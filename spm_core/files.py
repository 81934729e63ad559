"""Files only their owner can read: the warehouse and DuckDB's write-ahead log.

The warehouse holds every deal and quota, so it is created 600 like the users file. DuckDB takes no file
mode: it creates the database on first connect and the .wal on each write after a checkpoint, with the
process umask. So whatever writes a DuckDB file does it inside private_umask().
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

PRIVATE_UMASK = 0o077  # files 600, folders 700


@contextmanager
def private_umask() -> Iterator[None]:
    """Files and folders created meanwhile (by this process: the umask is per process) are the owner's only."""
    previous = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(previous)

