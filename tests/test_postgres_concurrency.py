"""An import on a shared PostgreSQL warehouse while the app reads it: readers see the old numbers until the
import commits, then the new ones, through the app's own caches (ui/warehouse.py: the data version read per
run, the result cache, st.cache_data); and two imports at once never lose or half-write rows.

The import is paused inside its transaction (after it wrote everything, before it commits) by wrapping the
last step apply_import takes there."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from spm_core import metrics
from spm_core.db import make_engine, read_frame
from spm_core.filters import Filters, Period, Scope
from spm_core.importing import apply as apply_module
from spm_core.importing import apply_import, preview
from spm_core.schema import opportunity
from ui import warehouse

Q1 = Filters(Period(date(2026, 1, 1), date(2026, 3, 31)))
AS_OF = date(2026, 6, 30)
HEADER = '"Opportunity Owner","Account Name","Opportunity Name","Opportunity ID","Stage","Amount","Close Date","Created Date"'


def export(amounts: dict[int, int], owner: str = "Ann Lee") -> bytes:
    """A Salesforce report of won Q1 deals: {deal number: amount}."""
    rows = [f'"{owner}","Acme","Deal {n}","006DEAL{n:09d}","Closed Won","{amount}","2026-03-{n:02d}","2026-01-05"'
            for n, amount in amounts.items()]
    return "\n".join([HEADER, *rows, ""]).encode()


def run_import(engine: Engine, data: bytes) -> None:
    apply_import(engine, preview(engine, "salesforce_opportunities", {"deals.csv": data}))


def fresh_bookings(url: str) -> float:
    """Q1 bookings read by a new engine with no cache at all: what the database holds for a new reader."""
    engine = make_engine(url)
    try:
        return float(metrics.query(engine, ["bookings"], Q1, Scope.everyone(), as_of=AS_OF).iloc[0, 0])
    finally:
        engine.dispose()


class Paused:
    """Makes the next apply_import stop inside its transaction until released."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.inside, self.release = threading.Event(), threading.Event()
        original = apply_module.set_info

        def set_info_then_wait(conn, values) -> None:
            original(conn, values)
            if not self.inside.is_set():  # only the first import to get here waits
                self.inside.set()
                assert self.release.wait(60), "the test never released the paused import"

        monkeypatch.setattr(apply_module, "set_info", set_info_then_wait)

    def start(self, target, *args) -> threading.Thread:
        errors: list[BaseException] = []

        def run() -> None:
            try:
                target(*args)
            except BaseException as exc:  # noqa: BLE001 - handed to the test thread
                errors.append(exc)

        thread = threading.Thread(target=run, daemon=True)
        thread.errors = errors  # type: ignore[attr-defined]
        thread.start()
        return thread


@pytest.fixture
def shared(pg_database, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A PostgreSQL warehouse holding three won Q1 deals (600 in all), which the app (ui.warehouse) is pointed at."""
    url = pg_database()
    engine = make_engine(url)
    run_import(engine, export({1: 100, 2: 200, 3: 300}))
    engine.dispose()
    monkeypatch.setenv("SPM_WAREHOUSE_URL", url)
    warehouse._open.clear()
    yield url
    warehouse._open.clear()


def app_bookings() -> tuple[str, float]:
    """What a page run gets: the warehouse at its current version, then Q1 bookings through the cached kpis."""
    wh = warehouse.current()
    frame = warehouse.kpis(wh.engine, wh.version, ("bookings",), Q1, Scope.everyone(), (), AS_OF)
    return wh.version, float(frame.iloc[0, 0])


def test_readers_see_the_old_numbers_until_the_import_commits_then_the_new(shared, monkeypatch):
    before_version, before = app_bookings()
    assert before == 600
    paused = Paused(monkeypatch)
    writer = make_engine(shared)
    importing = paused.start(run_import, writer, export({1: 100, 2: 250, 4: 1000}))  # one changed, one new
    assert paused.inside.wait(60)
    during_version, during = app_bookings()
    assert (during_version, during) == (before_version, 600)
    assert fresh_bookings(shared) == 600  # not the cache's doing: the database shows no uncommitted row
    wh = warehouse.current()
    assert float(metrics.query(wh.engine, ["bookings"], Q1, Scope.everyone(), as_of=AS_OF).iloc[0, 0]) == 600
    paused.release.set()
    importing.join(60)
    assert not importing.is_alive() and not importing.errors
    after_version, after = app_bookings()
    assert after_version != before_version
    assert after == 100 + 250 + 300 + 1000 == fresh_bookings(shared)
    wh = warehouse.current()  # the result cache below st.cache_data dropped its old entries too
    assert float(metrics.query(wh.engine, ["bookings"], Q1, Scope.everyone(), as_of=AS_OF).iloc[0, 0]) == 1650
    writer.dispose()


def test_a_second_import_waits_for_the_first_and_no_row_is_lost_or_doubled(shared, monkeypatch):
    paused = Paused(monkeypatch)
    first_engine, second_engine = make_engine(shared), make_engine(shared)
    first = paused.start(run_import, first_engine, export({2: 250, 4: 1000}))
    assert paused.inside.wait(60)
    second = paused.start(run_import, second_engine, export({2: 275, 5: 50}, owner="Bo Ray"))  # a new rep too
    second.join(2)
    assert second.is_alive()  # waiting for the first to commit, not writing beside it
    assert fresh_bookings(shared) == 600
    paused.release.set()
    first.join(60)
    second.join(60)
    assert not first.is_alive() and not second.is_alive()
    assert not first.errors and not second.errors
    rows = read_frame(first_engine, sa.select(opportunity.c.source_id, opportunity.c.amount, opportunity.c.id))
    assert rows["id"].is_unique
    assert dict(zip(rows["source_id"], rows["amount"], strict=True)) == {
        "006DEAL000000001": 100, "006DEAL000000002": 275, "006DEAL000000003": 300,
        "006DEAL000000004": 1000, "006DEAL000000005": 50,
    }
    assert fresh_bookings(shared) == 1725
    assert app_bookings()[1] == 1725
    first_engine.dispose()
    second_engine.dispose()


def test_a_write_from_another_process_shows_on_the_apps_next_run(shared, tmp_path):
    """The CLI in a process of its own (as an admin runs it beside the app): the next page run sees it."""
    import subprocess
    import sys

    before_version, before = app_bookings()
    assert before == 600
    (tmp_path / "more.csv").write_bytes(export({6: 400}))
    done = subprocess.run([sys.executable, "-m", "spm_core", "import", "salesforce_opportunities",
                           str(tmp_path / "more.csv"), "--url", shared], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    version, after = app_bookings()
    assert version != before_version and after == 1000


def test_only_committed_writes_move_the_version_and_other_tools_show_within_the_period(shared, monkeypatch):
    from spm_core import data_version

    engine = make_engine(shared)
    database, writes, period = data_version.version(engine)
    with engine.begin() as conn:  # a read that ends in a commit
        conn.execute(sa.select(opportunity.c.id)).all()
    assert data_version.version(engine) == (database, writes, period)
    with engine.connect() as conn:  # a write rolled back
        conn.execute(sa.update(opportunity).values(amount=opportunity.c.amount + 1))
        conn.rollback()
    assert data_version.version(engine)[1] == writes
    with engine.begin() as conn:
        conn.execute(sa.update(opportunity).values(amount=opportunity.c.amount + 1))
    assert data_version.version(engine)[1] == writes + 1
    outside = sa.create_engine(shared)  # psql or an ETL tool: not an spm_core engine, moves no counter
    with outside.begin() as conn:
        conn.execute(sa.update(opportunity).values(amount=opportunity.c.amount + 1))
    outside.dispose()
    assert data_version.version(engine)[1] == writes + 1
    later = (period + 1) * data_version.OUTSIDE_WRITES_SECONDS
    assert data_version.version(engine, now=later) == (database, writes + 1, period + 1)  # every cache key turns over
    engine.dispose()


def test_two_first_writers_at_once_both_commit_and_count(pg_database):
    """A new database: writer A has created the version table but not committed when writer B commits. B
    waits for A (not fails on PostgreSQL's catalog, which lost B's whole write before), and both count."""
    from spm_core import data_version

    url = pg_database()
    outside = sa.create_engine(url)  # not an spm_core engine: creates no version table
    with outside.begin() as conn:
        conn.execute(sa.text("CREATE TABLE note (id integer)"))
    outside.dispose()
    engine = make_engine(url)
    a = engine.connect()
    a.execute(sa.text("INSERT INTO note VALUES (1)"))
    data_version._bump_if_written(a)  # what a's commit runs first: the table now exists, uncommitted
    outcome: dict[str, object] = {}

    def write_b() -> None:
        try:
            with engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO note VALUES (2)"))
            outcome["b"] = "committed"
        except Exception as exc:  # noqa: BLE001  the failure itself is the finding (raised in the commit hook, unwrapped)
            outcome["b"] = exc

    b = threading.Thread(target=write_b)
    b.start()
    b.join(timeout=2)
    assert b.is_alive()  # B waits for A's lock
    a.connection.dbapi_connection.commit()  # A's commit, its bump already done
    a.close()
    b.join(timeout=30)
    assert outcome == {"b": "committed"}
    with engine.connect() as conn:
        assert sorted(conn.execute(sa.text("SELECT id FROM note")).scalars()) == [1, 2]
    assert data_version.version(engine)[1] == 2
    engine.dispose()
