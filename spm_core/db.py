"""Engines, schema creation, bulk loads and fast reads, for DuckDB and any SQLAlchemy URL."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from . import data_version, result_cache, schema
from .config import warehouse_url


class WarehouseError(RuntimeError):
    """A warehouse that cannot be opened or used, with a message meant for the user."""


def is_duckdb(engine: Engine) -> bool:
    return engine.dialect.name == "duckdb"


def duckdb_path(url: str) -> Path | None:
    """The file behind a duckdb:/// URL, or None for other URLs and in-memory DuckDB."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "duckdb" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def public_url(url: str) -> str:
    """The URL with its password masked: safe to show on a screen anyone can see (the sign-in page)."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def location(url: str) -> str:
    """Where a warehouse is, for messages: a DuckDB file's absolute path (a relative one is resolved
    against the working directory, as DuckDB does), else the URL without its password."""
    path = duckdb_path(url)
    return str(path.resolve()) if path is not None else public_url(url)


def relative_path_warning(url: str) -> str | None:
    """A warning for a DuckDB file given relative to the working directory outside data/: three slashes
    make `duckdb:///tmp/x.duckdb` the file tmp/x.duckdb here, not /tmp/x.duckdb, which is easy to miss."""
    try:
        path = duckdb_path(url)
    except sa.exc.ArgumentError:  # not a URL at all: make_engine says so
        return None
    if path is None or path.is_absolute() or path.parts[:1] == ("data",):
        return None
    return (
        f"{url} is relative to the working directory: the warehouse file is {path.resolve()}. "
        f"For an absolute path write four slashes (duckdb:////{path.as_posix()})."
    )


def make_engine(url: str | None = None, *, read_only: bool = False) -> Engine:
    """An engine for the warehouse URL; read_only lets several processes read one DuckDB file."""
    url = warehouse_url(url)
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise WarehouseError(f"Not a valid warehouse URL: {url!r} ({exc})") from exc
    connect_args: dict = {}
    spill_folder = None
    if parsed.get_backend_name() == "duckdb":
        path = duckdb_path(url)
        if path is not None:
            if read_only and not path.exists():
                raise WarehouseError(f"No warehouse at {path}: run `python -m spm_core init --demo`.")
            path.parent.mkdir(parents=True, exist_ok=True)
            if read_only:  # writers run in files.private_umask(): DuckDB makes their folder owner-only itself
                spill_folder = _private_spill_folder(path)
        if read_only:
            connect_args["read_only"] = True
    try:
        engine = sa.create_engine(url, connect_args=connect_args)
    except (ImportError, sa.exc.NoSuchModuleError) as exc:
        raise WarehouseError(
            f"The database driver for {parsed.drivername} is not installed ({exc}); "
            "install it with pip (e.g. psycopg[binary] for PostgreSQL)."
        ) from exc
    if engine.dialect.name == "duckdb":
        _cache_compiled_statements(type(engine.dialect))
        if read_only:
            _limit_memory(engine, os.environ.get(MEMORY_LIMIT_ENV) or READ_MEMORY_LIMIT)
        if spill_folder is not None:
            _spill_to(engine, spill_folder)
    data_version.track_writes(engine)  # readers in other processes learn of every commit (data_version.py)
    return engine


MEMORY_LIMIT_ENV = "SPM_DUCKDB_MEMORY_LIMIT"
# DuckDB keeps every block it has read cached up to its memory limit, 80 % of RAM by default: a server whose
# users had opened the heaviest pages at 10M opportunities held 1 GB of table blocks and passed 2 GB in all.
# Readers keep at most this much (blocks beyond it are read again from the OS's file cache; large sorts and
# joins spill to <file>.tmp); writers (imports, rebuilds) keep DuckDB's default.
READ_MEMORY_LIMIT = "1GB"


def _limit_memory(engine: Engine, limit: str) -> None:
    """Every connection of the engine sets the DuckDB instance's memory limit (one instance per file and
    process, so the last value set holds for all of them; they all set this one)."""

    @sa.event.listens_for(engine, "connect")
    def _set_limit(dbapi_connection, _record) -> None:
        try:
            dbapi_connection.execute("SET memory_limit = ?", [limit])
        except duckdb.Error as exc:
            raise WarehouseError(f"{MEMORY_LIMIT_ENV}={limit!r} is not a memory size DuckDB takes (e.g. 2GB): {exc}") from exc


def _private_spill_folder(path: Path) -> str | None:
    """DuckDB spills large sorts and joins to <file>.tmp, creating it with the process umask (755, its files
    644: deal names and amounts readable by other local users; readers, capped above, spill at 10M deals).
    Made owner-only here first. Where the warehouse's folder takes no new folder (a read-only mount), a
    private folder in the system's temp instead, returned for the engine to use."""
    folder = path.with_name(f"{path.name}.tmp")
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        folder.chmod(0o700)
    except OSError:
        return _fallback_spill_folder()
    return None


@cache
def _fallback_spill_folder() -> str:
    return tempfile.mkdtemp(prefix="spm-duckdb-spill-")  # 700; one per process


def _spill_to(engine: Engine, folder: str) -> None:
    """Every connection points the DuckDB instance's spill folder at `folder`, unless it already is (DuckDB
    refuses to change it once used, even to the same value)."""

    @sa.event.listens_for(engine, "connect")
    def _set_folder(dbapi_connection, _record) -> None:
        current = dbapi_connection.execute("SELECT current_setting('temp_directory')").fetchone()[0]
        if current != folder:
            dbapi_connection.execute("SET temp_directory = ?", [folder])


def _cache_compiled_statements(dialect: type[sa.Dialect]) -> None:
    """Let SQLAlchemy reuse compiled SQL on DuckDB, as it does on PostgreSQL. duckdb_engine compiles with
    PostgreSQL's compiler (plus a few type names and TRY_CAST, none depending on values) but declares
    supports_statement_cache = False, set in 2022 only to silence SQLAlchemy's warning "until tested"
    (duckdb_engine PR #268): every execution then recompiled its statement, 2 ms for a page's larger ones,
    the bulk of the metrics layer's cost over hand-written SQL. The attribute is read from the dialect's
    own class; the whole test suite runs with it."""
    dialect.supports_statement_cache = True


def analyze(engine: Engine) -> None:
    """Fresh planner statistics after a bulk write (PostgreSQL plans with stale ones until autovacuum runs; at
    1M deals, an import's fact upkeep took 78 s instead of 4 s right after the facts were rebuilt)."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))


def create_schema(engine: Engine) -> None:
    schema.metadata.create_all(engine)


def drop_schema(engine: Engine) -> None:
    schema.metadata.drop_all(engine)


def present_columns(conn: sa.Connection) -> dict[str, set[str]]:
    """Columns per table, from information_schema (reflection fails on duckdb-engine: PITFALLS)."""
    present: dict[str, set[str]] = {}
    for table, column in conn.execute(sa.text("SELECT table_name, column_name FROM information_schema.columns")):
        present.setdefault(table, set()).add(column)
    return present


def missing_columns(conn: sa.Connection, tables: Iterable[sa.Table]) -> list[sa.Column]:
    """The declared columns that tables made before them lack (a table that is missing altogether is
    create_all's to add, not listed here)."""
    present = present_columns(conn)
    return [c for t in tables if t.name in present for c in t.columns if c.name not in present[t.name]]


def add_columns(conn: sa.Connection, columns: Iterable[sa.Column]) -> None:
    """Add columns to existing tables, empty (nullable: rows written before them have no value to give).
    create_all adds missing tables but never columns; this runs on DuckDB and PostgreSQL."""
    for column in columns:
        kind = column.type.compile(dialect=conn.dialect)
        conn.execute(sa.text(f'ALTER TABLE "{column.table.name}" ADD COLUMN IF NOT EXISTS "{column.name}" {kind}'))


def add_new_columns(conn: sa.Connection) -> None:
    """Give a warehouse created before some columns existed those columns (schema.ADDED_COLUMNS), empty.
    Only columns actually missing are altered: on PostgreSQL even a no-op ALTER TABLE locks the table against
    readers until the transaction ends, which inside an import would make every page wait for its commit."""
    add_columns(conn, missing_columns(conn, [schema.metadata.tables[name] for name in schema.ADDED_COLUMNS]))


def has_new_columns(engine: Engine) -> bool:
    """Whether the warehouse has every column of schema.ADDED_COLUMNS (probed: reflection fails on duckdb-engine)."""
    try:
        with engine.connect() as conn:
            for name, columns in schema.ADDED_COLUMNS.items():  # one probe per table: no cross join
                table = schema.metadata.tables[name]
                conn.execute(sa.select(*(table.c[c] for c in columns)).limit(0))
    except sa.exc.DBAPIError:
        return False
    return True


def has_column(conn: Engine | sa.Connection, column: sa.Column) -> bool:
    """Whether a warehouse made before the column existed has it yet (information_schema: DuckDB and PostgreSQL).

    A read-only app never adds columns (add_new_columns runs on writes), so readers of an added column ask first."""
    probe = sa.text("SELECT 1 FROM information_schema.columns WHERE table_name = :table AND column_name = :column")
    params = {"table": column.table.name, "column": column.name}
    if isinstance(conn, sa.Connection):
        return conn.execute(probe, params).first() is not None
    with conn.connect() as opened:
        return opened.execute(probe, params).first() is not None


def has_schema(engine: Engine) -> bool:
    return sa.inspect(engine).has_table(schema.opportunity.name)


def insert_frame(conn: sa.Connection, table: sa.Table, frame: pd.DataFrame | pa.Table) -> None:
    """Append a frame whose columns are a subset of the table's, inside the caller's transaction.

    DuckDB scans the Arrow/pandas object in place (millions of rows a second); other
    warehouses get a bound executemany in chunks.
    """
    columns = list(frame.column_names if isinstance(frame, pa.Table) else frame.columns)
    unknown = set(columns) - set(table.c.keys())
    if unknown:
        raise ValueError(f"{table.name} has no column(s) {sorted(unknown)}")
    if conn.dialect.name == "duckdb":
        raw = conn.connection.driver_connection
        view = f"_load_{table.name}"
        raw.register(view, frame)
        try:
            cols = ", ".join(f'"{c}"' for c in columns)
            raw.execute(f'INSERT INTO "{table.name}" ({cols}) SELECT {cols} FROM "{view}"')
        finally:
            raw.unregister(view)
        return
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        copy_into_postgres(conn, table, frame)
        return
    records = frame.to_pylist() if isinstance(frame, pa.Table) else frame.to_dict("records")
    for start in range(0, len(records), 10_000):
        conn.execute(table.insert(), _none_for_nan(records[start : start + 10_000]))


def arrow_type(column: sa.Column) -> pa.DataType:
    """The Arrow type a column's values travel as between warehouses."""
    kind = column.type
    if isinstance(kind, sa.BigInteger):
        return pa.int64()
    if isinstance(kind, sa.Integer):
        return pa.int32()
    if isinstance(kind, sa.Numeric) and kind.asdecimal and kind.precision is not None:
        return pa.decimal128(kind.precision, kind.scale or 0)  # exact amounts (compensation) stay exact
    if isinstance(kind, sa.Numeric | sa.Float):  # Float is no Numeric in SQLAlchemy 2.1
        return pa.float64()
    if isinstance(kind, sa.DateTime):
        return pa.timestamp("us")
    if isinstance(kind, sa.Date):
        return pa.date32()
    if isinstance(kind, sa.Boolean):
        return pa.bool_()
    return pa.string()


def conform(table: sa.Table, frame: pd.DataFrame | pa.Table) -> pa.Table:
    """The frame as Arrow with each column cast to its schema type (whole floats from pandas become
    integers again, label dictionaries become strings); a lossy cast raises."""
    arrow = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    return arrow.cast(pa.schema([pa.field(name, arrow_type(table.c[name])) for name in arrow.column_names]))


def copy_into_postgres(conn: sa.Connection, table: sa.Table, frame: pd.DataFrame | pa.Table) -> None:
    """PostgreSQL's COPY with CSV that Arrow writes (one round trip per batch, not per row), in the caller's transaction.
    Arrow's CSV quotes every string and leaves NULLs unquoted and empty, which is how COPY tells them apart."""
    arrow = conform(table, frame)
    cols = ", ".join(f'"{c}"' for c in arrow.column_names)
    options = pa_csv.WriteOptions(include_header=False)
    cursor = conn.connection.driver_connection.cursor()
    with cursor, cursor.copy(f'COPY "{table.name}" ({cols}) FROM STDIN (FORMAT csv)') as copy:
        for batch in arrow.to_batches(max_chunksize=50_000):
            buffer = io.BytesIO()
            pa_csv.write_csv(batch, buffer, options)
            copy.write(buffer.getvalue())


def _none_for_nan(rows: Iterable[Mapping]) -> list[dict]:
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()} for r in rows]


def read_frame(conn_or_engine: sa.Connection | Engine, stmt: sa.Executable) -> pd.DataFrame:
    """Run a Core statement with bound parameters and return a DataFrame.

    On DuckDB the result is materialised by the driver as columns (no per-row Python objects),
    which is what keeps the metrics layer within a few percent of raw SQL.
    """
    if isinstance(conn_or_engine, Engine):
        engine = conn_or_engine
        cache = result_cache.cache_of(engine)
        if cache is not None:  # the app's shared results (result_cache.py)
            return cache.read(engine, stmt, lambda: _read_new(engine, stmt))
        return _read_new(engine, stmt)
    return _frame_of(conn_or_engine.execute(stmt))


def _read_new(engine: Engine, stmt: sa.Executable) -> pd.DataFrame:
    with engine.connect() as conn:
        return _frame_of(conn.execute(stmt))


def _frame_of(result: sa.CursorResult) -> pd.DataFrame:
    cursor = result.cursor
    if cursor is not None and hasattr(cursor, "df"):
        return cursor.df()
    return frame_like_duckdb(list(result.keys()), result.fetchall())


def frame_like_duckdb(columns: list[str], rows: Sequence[Sequence]) -> pd.DataFrame:
    """Rows from any other driver with the dtypes DuckDB's DataFrames have, so callers see one shape
    whatever the engine: dates and timestamps as datetime64, decimals as floats, integer and boolean
    columns with NULLs as pandas' nullable dtypes (plain NumPy ones without)."""
    values = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    frame = pd.DataFrame({i: _series_like_duckdb(pa.array(v, from_pandas=True)) for i, v in enumerate(values)})
    frame.columns = columns
    return frame


def _series_like_duckdb(array: pa.Array) -> pd.Series:
    kind = array.type
    if pa.types.is_decimal(kind):
        array = array.cast(pa.float64())
    elif pa.types.is_date(kind):
        array = array.cast(pa.timestamp("us"))
    elif array.null_count and kind in _NULLABLE:
        return array.to_pandas(types_mapper=_NULLABLE.get)
    return array.to_pandas()


_NULLABLE = {pa.int32(): pd.Int32Dtype(), pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}


def get_info(engine: Engine) -> dict[str, str]:
    """The warehouse_info table as a dict (empty when the warehouse has no schema yet)."""
    if not has_schema(engine):
        return {}
    frame = read_frame(engine, sa.select(schema.warehouse_info))
    return dict(zip(frame["key"], frame["value"], strict=True))


def set_info(conn: sa.Connection, values: Mapping[str, object]) -> None:
    info = schema.warehouse_info
    keys = list(values)
    conn.execute(info.delete().where(info.c.key.in_(keys)))
    conn.execute(info.insert(), [{"key": k, "value": str(values[k])} for k in keys])


def dated_arrow(frame: pd.DataFrame) -> pa.Table:
    """Arrow with real DATE columns (pandas only has timestamps) and NULLs, which DuckDB scans in place
    and other warehouses get as None."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.date32()))
    return table
