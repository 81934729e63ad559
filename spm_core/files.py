"""Files only their owner can read: the warehouse, DuckDB's write-ahead log, the app's settings.

The warehouse holds every deal and quota, so it is created 600 like the users file. DuckDB takes no file
mode: it creates the database on first connect and the .wal on each write after a checkpoint, with the
process umask. So whatever writes a DuckDB file does it inside private_umask(); a small file written in
one go goes through write_private().
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PRIVATE_UMASK = 0o077  # files 600, folders 700


@contextmanager
def private_umask() -> Iterator[None]:
    """Files and folders created meanwhile (by this process: the umask is per process) are the owner's only."""
    previous = os.umask(PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(previous)



def write_private(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically (a crash leaves the old file or the new one, never half of
    one), mode 600 from the moment the file exists: mkstemp creates it so, and os.replace keeps it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
