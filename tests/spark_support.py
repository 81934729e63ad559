"""Apache Spark in local mode for the tests: one small SparkSession per test session, the demo warehouse
loaded into Spark tables from Parquet, and a SQLAlchemy engine that runs the metrics layer on it.

No SQLAlchemy driver talks to a local SparkSession (databricks-sqlalchemy's driver needs a Databricks SQL
warehouse over HTTP), so the engine pairs the Databricks dialect (Spark SQL, as a Databricks URL
compiles it) with the few lines of DB-API below, which hand each statement and its bound parameters to
`spark.sql(sql, args=...)`: the SQL Spark runs is exactly what a Databricks URL would send.

Needs Java 17 (Debian's openjdk-17-jre-headless, installed by scripts/test.sh) and the pyspark package;
`SPM_SKIP_SPARK=1` skips the Spark tests.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from spm_core import schema

SKIP_ENV = "SPM_SKIP_SPARK"
TABLES = ("opportunity", "opportunity_history", "account", "person", "quota", "activity", "stage", "team", "product", "region",
          "segment", "warehouse_info", "forecast_submission",
          # the stored history numbers (history_facts.py, period_facts.py), which the engines read when present
          "deal_stage", "deal_current_stage", "pipeline_change_fact", "forecast_cohort_fact", "period_open_at_start",
          "stage_win_fact", "forecast_accuracy_fact", "stint_median_fact")

# ---------------------------------------------------------------- DB-API over a SparkSession (PEP 249, the part SQLAlchemy uses)

apilevel, threadsafety, paramstyle = "2.0", 1, "named"


class Error(Exception):
    pass


class Warning(Exception):  # noqa: A001 - PEP 249 names it so
    pass


class InterfaceError(Error):
    pass


class DatabaseError(Error):
    pass


class ProgrammingError(DatabaseError):  # SQLAlchemy wraps it by name, so "table not found" reaches the dialect
    pass


DataError = OperationalError = IntegrityError = InternalError = NotSupportedError = DatabaseError


class Cursor:
    def __init__(self, spark) -> None:
        self._spark = spark
        self.description: list[tuple] | None = None
        self.rowcount, self.arraysize = -1, 1
        self._rows: list[tuple] = []

    def execute(self, sql: str, parameters: Mapping[str, object] | None = None) -> None:
        try:
            frame = self._spark.sql(sql, args=dict(parameters) if parameters else None)
            self._rows = [tuple(row) for row in frame.collect()]
        except Exception as exc:  # Spark's AnalysisException and friends, as the DB-API error SQLAlchemy wraps
            raise ProgrammingError(str(exc).splitlines()[0]) from exc
        self.description = [(f.name, None, None, None, None, None, None) for f in frame.schema.fields]
        self.rowcount = len(self._rows)

    def executemany(self, sql: str, seq: Sequence[Mapping[str, object]]) -> None:
        for parameters in seq:
            self.execute(sql, parameters)

    def fetchall(self) -> list[tuple]:
        rows, self._rows = self._rows, []
        return rows

    def fetchmany(self, size: int | None = None) -> list[tuple]:
        size = size or self.arraysize
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    def fetchone(self) -> tuple | None:
        return self._rows.pop(0) if self._rows else None

    def close(self) -> None:
        self._rows = []


class Connection:
    def __init__(self, spark) -> None:
        self._spark = spark

    def cursor(self) -> Cursor:
        return Cursor(self._spark)

    def commit(self) -> None:  # Spark SQL reads have no transaction
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A local SparkSession sized for a shared 2-core machine: 1 GB driver, 2 shuffle partitions, no UI,
    its catalog in memory and its warehouse folder in a temporary directory."""
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"Spark skipped ({SKIP_ENV}=1)")
    if shutil.which("java") is None:
        pytest.fail("Java is not installed: apt-get install openjdk-17-jre-headless (scripts/test.sh does), "
                    f"or set {SKIP_ENV}=1 to skip the Spark tests")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]").appName("spm-tests")
        .config("spark.driver.memory", "1g").config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.adaptive.enabled", "false").config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.codegen.wholeStage", "false")  # tiny data: compiling Java per stage costs more than it saves
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")  # a short-lived JVM
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark_warehouse")))
        .getOrCreate()
    )  # fmt: skip
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def spark_engine(session) -> Engine:
    """A SQLAlchemy engine with the Databricks dialect whose statements run on the local SparkSession
    (tables in its default database, as a Databricks URL names them with ?catalog=...&schema=...)."""
    url = "databricks://?catalog=spark_catalog&schema=default"
    return sa.create_engine(url, module=sys.modules[__name__], creator=lambda: Connection(session))


def load_into_spark(session, source: Engine, folder: Path) -> None:
    """Each table of the warehouse (DuckDB) written to Parquet, then made a Spark table over that file."""
    with source.connect() as conn:
        raw = conn.connection.driver_connection
        for name in TABLES:
            path = folder / name
            path.mkdir()
            columns = ", ".join(f'"{c.name}"' for c in schema.metadata.tables[name].c)
            raw.execute(f"COPY (SELECT {columns} FROM \"{name}\") TO '{path / 'part-0.parquet'}' (FORMAT parquet)")
            session.sql(f"DROP TABLE IF EXISTS {name}")
            session.sql(f"CREATE TABLE {name} USING parquet LOCATION '{path}'")


@pytest.fixture(scope="session")
def demo_spark(spark, demo_duckdb: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The demo warehouse (tests/conftest.py) in Spark tables, behind a Databricks-dialect engine."""
    load_into_spark(spark, demo_duckdb, tmp_path_factory.mktemp("spark_parquet"))
    engine = spark_engine(spark)
    yield engine
    engine.dispose()
