"""Users: bcrypt-hashed, validated, linked to people, and the scope each role gets."""

import threading

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
    cookie_key_file,
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


def session_version(store, username):
    return store.entry(username)["session_version"]


def test_reset_password_unlocks_and_ends_every_session(store):
    store.add("ann", "Ann", "", "long enough", "leader", None)
    store.lock("ann")
    before = session_version(store, "ann")
    store.reset_password("ann", "another long one")
    entry = store.entry("ann")
    assert not entry["locked"] and check_password("another long one", entry["password"])
    assert entry["session_version"] > before


@pytest.mark.parametrize(
    ("change", "ends_sessions"),
    [
        (lambda s: s.set_role("ann", "admin", None), True),
        (lambda s: s.lock("ann"), True),
        (lambda s: s.end_sessions("ann"), True),
        (lambda s: s.unlock("ann"), False),
    ],
    ids=["set-role", "lock", "sign-out-everywhere", "unlock"],
)
def test_changes_that_end_sessions_bump_the_version(store, change, ends_sessions):
    store.add("ann", "Ann", "", "long enough", "leader", None)
    before = session_version(store, "ann")
    change(store)
    assert (session_version(store, "ann") > before) is ends_sessions


def test_passwords_over_72_bytes_are_refused_with_a_clear_message(store):
    with pytest.raises(UserError, match="at most 72 bytes"):
        store.add("ann", "Ann", "", "x" * 73, "leader", None)
    with pytest.raises(UserError, match="at most 72 bytes"):
        store.add("ann", "Ann", "", "é" * 37, "leader", None)  # 37 characters, 74 bytes
    store.add("ann", "Ann", "", "x" * 72, "leader", None)
    with pytest.raises(UserError, match="at most 72 bytes"):
        store.reset_password("ann", "y" * 100)
    assert check_password("x" * 72, store.entry("ann")["password"])
    assert not check_password("x" * 72 + "more", store.entry("ann")["password"])  # bcrypt would ignore the tail


def test_concurrent_changes_lose_no_update(store):
    """Threads adding users and bumping sessions at once: every add and every bump is in the file."""
    store.add("ann", "Ann", "", "long enough", "leader", None)
    hashed = store.entry("ann")["password"]

    def add_many(worker: int) -> None:
        for i in range(8):
            with store._editing() as data:  # the same locked path add() takes, without 8 bcrypt hashes
                data["credentials"]["usernames"][f"u{worker}-{i}"] = {"password": hashed, "roles": ["leader"]}

    def bump_many() -> None:
        for _ in range(20):
            store.end_sessions("ann")

    threads = [threading.Thread(target=add_many, args=(w,)) for w in range(3)] + [threading.Thread(target=bump_many) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store.users()) == 1 + 3 * 8
    assert session_version(store, "ann") == 1 + 2 * 20


def test_the_users_file_is_private(store):
    store.add("ann", "Ann", "", "long enough", "leader", None)
    assert store.path.stat().st_mode & 0o777 == 0o600


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


def test_a_reader_changing_its_copy_changes_nothing_and_every_edit_of_the_file_is_seen(store):
    """The parsed file is kept between reads (UserStore.config): a caller's copy is its own, and a file changed
    by hand at once, to the same length in the same moment, is read again."""
    store.add("ann", "Ann", "", "long enough", "leader", None)
    store.config()["credentials"]["usernames"].clear()
    assert [u.username for u in store.users()] == ["ann"]
    text = store.path.read_text()
    store.path.write_text(text.replace("name: Ann", "name: Bob"))
    assert store.get("ann").name == "Bob"
    store.path.write_text(text)
    assert store.get("ann").name == "Ann"


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
    assert main(["users", "--file", path, "lock", "boss"]) == 0
    assert UserStore(path).entry("boss")["locked"]
    assert main(["users", "--file", path, "unlock", "boss"]) == 0
    assert main(["users", "--file", path, "sign-out", "boss"]) == 0
    assert not UserStore(path).entry("boss")["locked"] and UserStore(path).entry("boss")["session_version"] == 4
    assert main(["users", "--file", path, "reset-password", "boss", "--password", "x" * 80]) == 2
    assert "at most 72 bytes" in capsys.readouterr().err
    assert main(["users", "--file", path, "list"]) == 0
    assert "boss" in capsys.readouterr().out
    assert main(["users", "--file", path, "add", "newrep", "--role", "rep", "--password", "long enough"]) == 2
    assert "linked to a person" in capsys.readouterr().err


def test_each_duckdb_warehouse_keeps_its_users_beside_it(tmp_path, monkeypatch):
    monkeypatch.delenv("SPM_USERS_FILE", raising=False)
    assert users_file(warehouse=f"duckdb:///{tmp_path}/a/w.duckdb") == tmp_path / "a" / "w.users.yaml"
    assert users_file(warehouse=f"duckdb:///{tmp_path}/a/v.duckdb") == tmp_path / "a" / "v.users.yaml"  # same folder
    assert users_file(tmp_path / "x.yaml", f"duckdb:///{tmp_path}/w.duckdb") == tmp_path / "x.yaml"
    assert users_file(warehouse="postgresql://u@h/db") == DEFAULT_USERS_FILE
    monkeypatch.setenv("SPM_USERS_FILE", str(tmp_path / "env.yaml"))
    assert users_file(warehouse=f"duckdb:///{tmp_path}/w.duckdb") == tmp_path / "env.yaml"


def test_the_folder_shared_users_file_becomes_the_embedded_warehouses_only(tmp_path, monkeypatch):
    """Migration: data/users.yaml and data/.cookie_key from before are spm.duckdb's, renamed on first use;
    another warehouse in the same folder starts with no users instead of inheriting them."""
    monkeypatch.delenv("SPM_USERS_FILE", raising=False)
    UserStore(tmp_path / "users.yaml").add("boss", "Boss", "", "long enough", "leader", None)
    (tmp_path / ".cookie_key").write_text("old-key")
    assert UserStore(warehouse=f"duckdb:///{tmp_path}/empty.duckdb").users() == []
    assert (tmp_path / "users.yaml").exists()  # not another warehouse's to take
    embedded = UserStore(warehouse=f"duckdb:///{tmp_path}/spm.duckdb")
    assert embedded.path == tmp_path / "spm.users.yaml" and [u.username for u in embedded.users()] == ["boss"]
    assert cookie_key_file(embedded.path).read_text() == "old-key"  # signed-in browsers stay signed in
    assert not (tmp_path / "users.yaml").exists() and not (tmp_path / ".cookie_key").exists()
    (tmp_path / "users.yaml").write_text("credentials: {usernames: {}}\n")  # e.g. written by an old process
    assert [u.username for u in UserStore(warehouse=f"duckdb:///{tmp_path}/spm.duckdb").users()] == ["boss"]


def test_users_takes_url_and_file_before_or_after_the_action(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("SPM_USERS_FILE", raising=False)
    url = f"duckdb:///{tmp_path}/w.duckdb"
    assert main(["users", "add", "boss", "--role", "leader", "--password", "long enough", "--url", url]) == 0
    assert [u.username for u in UserStore(tmp_path / "w.users.yaml").users()] == ["boss"]
    assert main(["users", "--url", url, "list"]) == 0 and "boss" in capsys.readouterr().out
    assert main(["users", "list", "--url", url]) == 0 and "boss" in capsys.readouterr().out
    other = str(tmp_path / "other.yaml")
    assert main(["users", "--file", other, "add", "ana", "--role", "leader", "--password", "long enough"]) == 0
    assert main(["users", "list", "--file", other]) == 0
    out = capsys.readouterr().out
    assert "ana" in out and "boss" not in out


def test_a_display_account_needs_no_person_and_sees_no_one(tmp_path, tiny_engine):
    """A screen on the sales floor shows contest boards only: its scope holds nobody."""
    store = UserStore(tmp_path / "users.yaml")
    store.add("screen", "Sales floor", "screen@example.com", "a-long-enough-password", "display", None)
    assert viewer_scope(tiny_engine(), store.get("screen")) == Scope.nobody()
