"""Users: bcrypt-hashed, validated, linked to people, and the scope each role gets."""

import pytest

from spm_core.cli import main
from spm_core.db import make_engine
from spm_core.demo import DemoSpec, build_demo
from spm_core.filters import Scope
from spm_core.users import (
    DEFAULT_USERS_FILE,
    DEMO_PASSWORDS,
    UserError,
    UserStore,
    check_password,
    create_demo_users,
    users_file,
    viewer_scope,
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    engine = make_engine(f"duckdb:///{tmp_path_factory.mktemp('users')}/w.duckdb")
    build_demo(engine, DemoSpec(opportunities=800, seed=5))
    return engine


@pytest.fixture
def store(tmp_path):
    return UserStore(tmp_path / "users.yaml")


def test_passwords_are_stored_only_as_bcrypt_hashes(store):
    store.add("ann", "Ann", "ann@example.com", "correct horse", "leader", None)
    text = store.path.read_text()
    assert "correct horse" not in text
    hashed = store.config()["credentials"]["usernames"]["ann"]["password"]
    assert hashed.startswith("$2b$") and check_password("correct horse", hashed)


def test_short_passwords_unknown_roles_and_bad_usernames_are_refused(store):
    with pytest.raises(UserError, match="at least 8"):
        store.add("ann", "Ann", "", "short", "leader", None)
    with pytest.raises(UserError, match="Unknown role"):
        store.add("ann", "Ann", "", "long enough", "boss", None)
    with pytest.raises(UserError, match="username"):
        store.add("Ann Smith!", "Ann", "", "long enough", "leader", None)
    assert store.users() == []


def test_reps_and_managers_must_be_linked_to_a_person(store):
    with pytest.raises(UserError, match="linked to a person"):
        store.add("rep1", "Rep", "", "long enough", "rep", None)


def test_duplicate_usernames_are_refused_case_insensitively(store):
    store.add("ann", "Ann", "", "long enough", "leader", None)
    with pytest.raises(UserError, match="taken"):
        store.add("ANN", "Ann", "", "long enough", "leader", None)


def test_reset_password_also_unlocks(store):
    store.add("ann", "Ann", "", "long enough", "leader", None)
    store.record_failed_attempts({"usernames": {"ann": {"failed_login_attempts": 5}}})
    assert store.config()["credentials"]["usernames"]["ann"]["failed_login_attempts"] == 5
    store.reset_password("ann", "another long one")
    entry = store.config()["credentials"]["usernames"]["ann"]
    assert entry["failed_login_attempts"] == 0 and check_password("another long one", entry["password"])


def test_set_role_and_remove(store):
    store.add("ann", "Ann", "", "long enough", "leader", None)
    assert store.set_role("ann", "manager", 3).role == "manager"
    store.remove("ann")
    assert store.get("ann") is None
    with pytest.raises(UserError, match="No user"):
        store.remove("ann")


def test_a_broken_users_file_is_a_clear_error(store):
    store.path.write_text("credentials: [unclosed")
    with pytest.raises(UserError, match="not valid YAML"):
        store.users()


def test_scope_per_role(engine, store):
    created = {u: (role, pw) for u, role, pw in create_demo_users(engine, store.path)}
    assert set(created) == set(DEMO_PASSWORDS)
    users = {u.username: u for u in store.users()}
    assert viewer_scope(engine, users["leader"]) == Scope.everyone()
    assert viewer_scope(engine, users["admin"]) == Scope.everyone()
    assert viewer_scope(engine, users["manager"]) == Scope.subtree(users["manager"].person_id)
    assert viewer_scope(engine, users["rep"]) == Scope.only(users["rep"].person_id)


def test_a_user_whose_person_is_gone_sees_nothing(engine, store):
    store.add("ghost", "Ghost", "", "long enough", "rep", 999_999)
    assert viewer_scope(engine, store.get("ghost")) == Scope.nobody()


def test_demo_users_are_created_once(engine, store):
    assert create_demo_users(engine, store.path)
    assert create_demo_users(engine, store.path) == []


def test_cli_users_round_trip(tmp_path, capsys):
    path = str(tmp_path / "u.yaml")
    assert main(["users", "--file", path, "add", "boss", "--role", "leader", "--password", "long enough"]) == 0
    assert main(["users", "--file", path, "set-role", "boss", "--role", "admin"]) == 0
    assert main(["users", "--file", path, "list"]) == 0
    assert "boss" in capsys.readouterr().out
    assert main(["users", "--file", path, "add", "newrep", "--role", "rep", "--password", "long enough"]) == 2
    assert "linked to a person" in capsys.readouterr().err


def test_each_duckdb_warehouse_keeps_its_users_beside_it(tmp_path, monkeypatch):
    monkeypatch.delenv("SPM_USERS_FILE", raising=False)
    assert users_file(warehouse=f"duckdb:///{tmp_path}/a/w.duckdb") == tmp_path / "a" / "users.yaml"
    assert users_file(tmp_path / "x.yaml", f"duckdb:///{tmp_path}/w.duckdb") == tmp_path / "x.yaml"
    assert users_file(warehouse="postgresql://u@h/db") == DEFAULT_USERS_FILE
    monkeypatch.setenv("SPM_USERS_FILE", str(tmp_path / "env.yaml"))
    assert users_file(warehouse=f"duckdb:///{tmp_path}/w.duckdb") == tmp_path / "env.yaml"
