"""Warehouses and a page runner for Streamlit AppTest tests of the pages.

The fixtures are registered for every test by conftest.py (pytest_plugins); import run_page and AS_OF.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from spm_core.db import create_schema, make_engine
from spm_core.demo import DemoSpec, build_demo
from spm_core.transfer import copy_warehouse
from spm_core.users import DEMO_PASSWORDS, UserStore, create_demo_users
from ui.auth import SESSION_KEY

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
MAVEN = ROOT.parent / "shared" / "datasets" / "maven_crm"
AS_OF = date(2026, 11, 23)


@pytest.fixture(scope="session")
def demo_url(tmp_path_factory) -> str:
    """A small demo warehouse generated for 2026-11-23 (so numbers do not move with the calendar)."""
    url = f"duckdb:///{tmp_path_factory.mktemp('app_demo')}/demo.duckdb"
    engine = make_engine(url)
    build_demo(engine, DemoSpec(opportunities=6000, activities=18000, seed=3, as_of=AS_OF))
    create_demo_users(engine, users_path(url))
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def app_url(engine_kind: str, demo_url: str, new_warehouse_url) -> str:
    """demo_url on the engine under test (conftest's engine_kind): the DuckDB file itself, or a PostgreSQL
    database copied from it, with the same users (the app finds them through SPM_USERS_FILE, as on a server)."""
    return on_engine(demo_url, engine_kind, new_warehouse_url)


def on_engine(url: str, engine_kind: str, new_warehouse_url) -> str:
    """A DuckDB test warehouse on the engine under test: itself, or a PostgreSQL copy sharing its users file."""
    if engine_kind == "duckdb":
        return url
    copied = new_warehouse_url()
    source, target = make_engine(url, read_only=True), make_engine(copied)
    try:
        copy_warehouse(source, target)
    finally:
        source.dispose()
        target.dispose()
    _USERS_FILES[copied] = users_path(url)
    return copied


@pytest.fixture(scope="session")
def empty_url(tmp_path_factory) -> str:
    """A warehouse with the schema and no rows at all."""
    url = f"duckdb:///{tmp_path_factory.mktemp('app_empty')}/empty.duckdb"
    engine = make_engine(url)
    create_schema(engine)
    engine.dispose()
    add_unlinked_users(url)
    return url


@pytest.fixture(scope="session")
def maven_url(tmp_path_factory) -> str:
    """The real Maven CRM dataset: no history, no quotas, no segments."""
    if not MAVEN.exists():
        pytest.skip("the shared Maven dataset is not beside this checkout")
    from spm_core.loaders.maven import load_maven

    url = f"duckdb:///{tmp_path_factory.mktemp('app_maven')}/maven.duckdb"
    engine = make_engine(url)
    load_maven(engine, MAVEN)
    engine.dispose()
    add_unlinked_users(url)
    return url


def private_copy(url: str, folder: Path) -> str:
    """A copy of a test warehouse and its users file in `folder`, for a test that writes to either."""
    source = Path(url.removeprefix("duckdb:///"))
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, folder / source.name)
    copied = f"duckdb:///{folder / source.name}"
    shutil.copy(users_path(url), users_path(copied))
    return copied


@pytest.fixture
def copy_url(tmp_path: Path, demo_url: str) -> str:
    """A private copy of the session's demo warehouse (and its users file) that a test may change."""
    return private_copy(demo_url, tmp_path / "warehouse")


@pytest.fixture
def named_downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """file name -> bytes of every file the app offers for download while the test runs (to check what
    leaves; AppTest keeps no media files after a run); a file built on click (a deferred download) is built
    here at once. In the order the buttons are drawn."""
    files: dict[str, bytes] = {}
    add, add_deferred = MediaFileManager.add, MediaFileManager.add_deferred

    def record(self, data, mimetype, coordinates, file_name=None, is_for_static_download=False):
        if is_for_static_download:
            files[file_name or f"unnamed-{len(files)}"] = data
        return add(self, data, mimetype, coordinates, file_name, is_for_static_download)

    def record_deferred(self, build, mimetype, coordinates, file_name=None, **kwargs):
        files[file_name or f"unnamed-{len(files)}"] = build()
        return add_deferred(self, build, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add", record)
    monkeypatch.setattr(MediaFileManager, "add_deferred", record_deferred)
    return files


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The bytes of every file the app offers for download while the test runs (to check what leaves),
    in the order the buttons are drawn, a button drawn again on a rerun listed again; a file built on
    click (a deferred download) is built here at once."""
    files: list[bytes] = []
    add, add_deferred = MediaFileManager.add, MediaFileManager.add_deferred

    def record(self, path_or_data, *args, **kwargs):
        if kwargs.get("is_for_static_download"):
            files.append(path_or_data)
        return add(self, path_or_data, *args, **kwargs)

    def record_deferred(self, build, *args, **kwargs):
        files.append(build())
        return add_deferred(self, build, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add", record)
    monkeypatch.setattr(MediaFileManager, "add_deferred", record_deferred)
    return files


_USERS_FILES: dict[str, Path] = {}  # a PostgreSQL test warehouse's users file: its DuckDB source's


def users_path(url: str) -> Path:
    """Each test warehouse has its own users file beside it (spm_core.users.users_file); a PostgreSQL copy
    shares its source's (on_engine)."""
    if url in _USERS_FILES:
        return _USERS_FILES[url]
    database = Path(url.removeprefix("duckdb:///"))
    return database.with_name(f"{database.stem}.users.yaml")


# Warehouses that are not the demo refuse the public demo passwords: their users have their own.
OWN_PASSWORDS = {"admin": "admin-own-password", "leader": "leader-own-password"}


def add_unlinked_users(url: str) -> None:
    """An admin and a leader (who need no person) for warehouses without demo people."""
    store = UserStore(users_path(url))
    for username, password in OWN_PASSWORDS.items():
        store.add(username, username.title(), f"{username}@example.com", password, username, None)


def password_for(users_file: Path, username: str) -> str:
    """The demo password of a demo account, else the test's own password for that user."""
    entry = UserStore(users_file).entry(username) or {}
    return DEMO_PASSWORDS[username] if entry.get("demo_password") else OWN_PASSWORDS.get(username, "")


def sign_in(at: AppTest, username: str, password: str | None = None) -> AppTest:
    """Fill the sign-in form (labels Username / Password, button Login) and submit."""
    at.text_input[0].input(username)
    at.text_input[1].input(DEMO_PASSWORDS.get(username, "") if password is None else password)
    next(b for b in at.button if b.label == "Login").click()
    at.run()
    if SESSION_KEY in at.session_state:
        at.run()  # in a browser the cookie component's reply reruns the app into the dashboards
    return at


def run_page(
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    page: str | None = None,
    params: dict[str, str] | None = None,
    timeout: float = 60,
    user: str | None = "leader",
    users_file: Path | None = None,
) -> AppTest:
    """Run the app against a warehouse signed in as `user` (None: stay at the login form), optionally
    with URL parameters, and switch to pages/<page>.py. A test that changes users passes its own copy
    of the users file."""
    monkeypatch.setenv("SPM_WAREHOUSE_URL", url)
    monkeypatch.setenv("SPM_USERS_FILE", str(users_file or users_path(url)))
    monkeypatch.setenv("SPM_COOKIE_KEY", "test-cookie-key-of-at-least-32-bytes!")
    at = AppTest.from_file(APP, default_timeout=timeout)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.run()
    if user is not None and not at.exception:
        sign_in(at, user, password_for(users_file or users_path(url), user))
    if page is not None and not at.exception:
        at.switch_page(f"pages/{page}.py").run()
    return at


def raise_dispute(at: AppTest, comment: str) -> AppTest:
    """A rep on My commissions raises a dispute on the first line offered; the page after the click."""
    line = int(at.selectbox(key="my_dispute_line").options[0].removeprefix("line "))
    at.selectbox(key="my_dispute_line").select(line)
    at.text_area(key="my_dispute_comment").input(comment)
    next(b for b in at.button if b.label == "Raise a dispute").click()
    return at.run()
