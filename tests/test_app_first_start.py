"""The app's first start creates the embedded demo warehouse and its demo sign-ins by itself."""

from pathlib import Path

from apptest_support import run_page, sign_in
from streamlit.testing.v1 import AppTest

from spm_core import warehouse as wh_module
from spm_core.db import create_schema, make_engine
from spm_core.users import UserStore

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_first_start_creates_the_demo_warehouse_and_demo_users(tmp_path, monkeypatch, capfd):
    target = tmp_path / "data" / "spm.duckdb"
    users = tmp_path / "data" / "spm.users.yaml"  # the warehouse's own users file, named after it
    monkeypatch.setenv("SPM_WAREHOUSE_URL", f"duckdb:///{target}")
    monkeypatch.delenv("SPM_USERS_FILE", raising=False)
    monkeypatch.setenv("SPM_COOKIE_KEY", "first-start-test-cookie-key-32-bytes-long")
    monkeypatch.setattr(wh_module, "FIRST_START_OPPORTUNITIES", 3000)
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    assert target.exists() and not [p for p in target.parent.glob("*.tmp") if p.is_file()]  # built aside, then renamed
    assert (target.parent / "spm.duckdb.tmp").is_dir()  # where readers spill: made owner-only (test_file_modes.py)
    assert not (tmp_path / "data" / "users.yaml").exists()  # never shared with other warehouses in data/
    assert {u.role for u in UserStore(users).users()} == {"admin", "leader", "manager", "rep", "comp_admin"}
    assert "leader-demo-2026" in capfd.readouterr().out  # the demo passwords are printed on first start
    assert "$2b$" in users.read_text() and "leader-demo-2026" not in users.read_text()  # only bcrypt hashes stored
    sign_in(at, "leader")
    assert not at.exception
    assert {"Bookings", "Quota attainment", "Open pipeline", "Win rate"} <= {m.label for m in at.metric}


def test_a_warehouse_url_that_cannot_be_opened_shows_an_error_not_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("SPM_WAREHOUSE_URL", "postgresql://nobody@127.0.0.1:1/none")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert any("cannot be opened" in e.value for e in at.error)


def test_a_warehouse_without_users_says_how_to_create_the_first_admin_for_it(tmp_path, monkeypatch):
    url = f"duckdb:///{tmp_path}/real.duckdb"
    engine = make_engine(url)
    create_schema(engine)
    engine.dispose()
    at = run_page(monkeypatch, url, user=None, users_file=tmp_path / "nobody.yaml")
    assert not at.exception
    assert any(f"python -m spm_core users add NAME --role admin --url {url}" in e.value for e in at.error)
