"""Query results shared by everyone a server process serves, keyed by the statement itself.

The key is the SQL the warehouse would run plus its bound values, so two people whose pages send the
same statement (same KPIs, filters, period and scope) share one entry, while the viewer's scope, which
every reading function puts into its statement (people.py), keeps different people's results apart
by construction: no caller has to remember to add the scope to a key. Attach a cache to a read-only
engine (the app's); db.read_frame then consults it. A reloaded warehouse is a new engine, with a new
cache. A PostgreSQL warehouse written by another process (an import from the CLI) is not a new engine
here: the app renews the cache with the warehouse's data version each run (data_version.py), which
drops every older entry. Entries also expire after max_age seconds.
Thread-safe: Streamlit serves sessions from threads of one process.
"""

from __future__ import annotations

import hashlib
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine


class ResultCache:
    """A bounded LRU of DataFrames by statement key, with hit and miss counts for the load test."""

    def __init__(self, max_entries: int = 2048, max_age: float = 300.0) -> None:
        self.max_entries, self.max_age = max_entries, max_age
        self.hits = self.misses = 0
        self.generation: tuple[int, ...] = ()
        self._entries: OrderedDict[Hashable, tuple[float, pd.DataFrame]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    @staticmethod
    def key(stmt: sa.Executable, dialect: sa.Dialect) -> Hashable:
        """The statement's shape and its bound values (IN lists included). The shape is SQLAlchemy's own cache
        key, the one its compiled-SQL cache reuses SQL by (equal keys compile to the same SQL for a dialect;
        each engine has its own cache, so one dialect), computed without compiling: compiling a page's larger
        statements took 2-8 ms per read. A statement SQLAlchemy cannot key is keyed by its compiled SQL."""
        cache_key = stmt._generate_cache_key()
        if cache_key is None:
            compiled = stmt.compile(dialect=dialect)
            values = sorted((name, repr(value)) for name, value in compiled.params.items())
            return hashlib.sha256(f"{compiled}\x00{values!r}".encode()).hexdigest()
        return cache_key.key, repr([bound.effective_value for bound in cache_key.bindparams])

    def read(self, engine: Engine, stmt: sa.Executable, run: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """The cached frame for the statement, else run() once and keep it. Callers get a copy: under
        pandas' copy-on-write a shallow one, so a caller adding a column never changes the entry."""
        key = self.key(stmt, engine.dialect)
        with self._lock:
            generation = self.generation
            kept = self._entries.get(key)
            if kept is not None and time.monotonic() - kept[0] <= self.max_age:
                self._entries.move_to_end(key)
                self.hits += 1
                return kept[1].copy(deep=False)
            self.misses += 1
        frame = run()  # outside the lock: other statements go on meanwhile (a concurrent twin may run it too)
        with self._lock:
            if generation == self.generation:  # a statement begun before a renewal may hold older data: not kept
                self._entries[key] = (time.monotonic(), frame)
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return frame.copy(deep=False)

    def renew(self, generation: tuple[int, ...]) -> None:
        """Forget every entry when the warehouse's data version (identity, numbers...) moved on. Only forward
        for one identity: a session that read the version just before a commit and renews just after another
        read the new one changes nothing."""
        with self._lock:
            if generation[:1] != self.generation[:1] or generation > self.generation:
                self.generation = generation
                self._entries.clear()


_ATTACHED: weakref.WeakKeyDictionary[Engine, ResultCache] = weakref.WeakKeyDictionary()


def attach(engine: Engine, cache: ResultCache | None = None) -> ResultCache:
    """Cache every read_frame(engine, ...) from now on (only reads through the engine itself, never
    through a connection, which may be inside a transaction that writes)."""
    _ATTACHED[engine] = cache if cache is not None else ResultCache()  # an empty cache is falsy (len 0)
    return _ATTACHED[engine]


def cache_of(engine: Engine) -> ResultCache | None:
    return _ATTACHED.get(engine)


def clear_all() -> None:
    """Empty every attached cache: what a benchmark's cold run needs besides Streamlit's own caches."""
    for cache in list(_ATTACHED.values()):
        cache.clear()
