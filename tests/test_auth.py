"""Signing in without Streamlit: revocable tokens, a growing delay instead of a lock, the same answer
and the same work for unknown usernames, admin locks, and demo passwords on real data."""

from __future__ import annotations

import base64
import json
import os
import threading
import time

import jwt
import pytest

from spm_core.auth import signin, tokens
from spm_core.auth.throttle import ACCOUNT, CLIENT, Attempts, attempts_file
from spm_core.users import DEMO_PASSWORDS, UserStore

KEY = "a-test-signing-key-of-at-least-32-bytes"


@pytest.fixture
def store(tmp_path) -> UserStore:
    store = UserStore(tmp_path / "users.yaml")
    store.add("ann", "Ann", "", "ann-password-1", "leader", None)
    return store


@pytest.fixture
def attempts(store) -> Attempts:
    return Attempts(attempts_file(store.path))


def b64(part: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


# Tokens


def test_a_token_round_trips_with_its_session_version():
    claim = tokens.read(tokens.issue("ann", 3, KEY), KEY)
    assert (claim.username, claim.version) == ("ann", 3)
    assert claim.expires_at == pytest.approx(time.time() + tokens.LIFETIME_DAYS * 86400, abs=5)


@pytest.mark.parametrize(
    "token",
    [
        b64({"alg": "none", "typ": "JWT"}) + "." + b64({"sub": "ann", "ver": 1, "exp": time.time() + 3600}) + ".",
        jwt.encode({"sub": "ann", "ver": 1, "exp": time.time() + 3600}, KEY, algorithm="HS512"),
        jwt.encode({"sub": "ann", "ver": 1, "exp": time.time() + 3600}, "another-key-of-at-least-32-bytes!!"),
        jwt.encode({"sub": "ann", "ver": 1, "exp": time.time() - 10}, KEY),
        jwt.encode({"username": "ann", "exp_date": time.time() + 3600}, KEY),  # the old cookie's claims
        jwt.encode({"sub": "ann", "ver": "x", "exp": time.time() + 3600}, KEY),
        "not.a.token",
        "%%%",
        "",
        "a" * 10_000,
    ],
    ids=["alg-none", "hs512", "forged", "expired", "old-format", "bad-version", "garbage", "junk", "empty", "huge"],
)
def test_anything_but_a_valid_token_reads_as_no_token(token):
    assert tokens.read(token, KEY) is None


def test_the_local_key_is_private_from_creation_and_shared_by_racing_first_sessions(tmp_path, monkeypatch):
    path = tmp_path / "data" / ".cookie_key"
    modes: list[int] = []
    real_open = os.open

    def spying_open(file, flags, mode=0o777, *args, **kwargs):
        modes.append(mode)
        return real_open(file, flags, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", spying_open)
    keys: list[str] = []
    threads = [threading.Thread(target=lambda: keys.append(tokens.local_key(path))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(keys)) == 1 and len(keys[0]) >= 32
    assert path.stat().st_mode & 0o777 == 0o600
    assert modes and set(modes) == {0o600}
    assert [p.name for p in path.parent.iterdir()] == [".cookie_key"]  # no temporary files left behind


# Sessions


def test_a_session_holds_until_its_version_is_bumped(store):
    version = store.entry("ann")["session_version"]
    assert signin.with_session(store, "ann", version, real_data=False).user.username == "ann"
    store.end_sessions("ann")
    assert signin.with_session(store, "ann", version, real_data=False).message == signin.ENDED
    assert signin.with_session(store, "ann", version + 1, real_data=False).user is not None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.reset_password("ann", "a-new-password"), signin.ENDED),
        (lambda s: s.set_role("ann", "admin", None), signin.ENDED),
        (lambda s: s.lock("ann"), signin.ENDED),
        (lambda s: s.remove("ann"), signin.GONE),
    ],
    ids=["reset-password", "role-change", "lock", "removal"],
)
def test_every_account_change_ends_earlier_sessions(store, change, message):
    claim = tokens.read(tokens.issue("ann", store.entry("ann")["session_version"], KEY), KEY)
    change(store)
    assert signin.with_session(store, claim.username, claim.version, real_data=False).message == message


def test_a_locked_account_keeps_no_session_even_at_its_new_version(store):
    store.lock("ann")
    assert signin.with_session(store, "ann", store.entry("ann")["session_version"], False).message == signin.LOCKED


# Passwords at the form


def test_the_right_password_signs_in_and_returns_the_session_version(store, attempts):
    result = signin.with_password(store, attempts, " ANN ", "ann-password-1", None, real_data=False)
    assert result.user.username == "ann" and result.version == store.entry("ann")["session_version"]


def test_failures_slow_the_account_down_then_the_real_user_gets_in(store, attempts, monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    for _ in range(ACCOUNT.free_tries - 1):
        assert signin.with_password(store, attempts, "ann", "wrong", None, False).message == signin.WRONG
    fifth = signin.with_password(store, attempts, "ann", "wrong", None, False).message
    assert fifth.startswith(signin.WRONG) and "Try again in 15 seconds" in fifth
    refused = signin.with_password(store, attempts, "ann", "ann-password-1", None, False)
    assert refused.user is None and "Try again in 15 seconds" in refused.message
    assert attempts.failures("ann") == ACCOUNT.free_tries  # a try during the wait is not counted
    now[0] += 16
    assert signin.with_password(store, attempts, "ann", "ann-password-1", None, False).user is not None
    assert attempts.failures("ann") == 0


def test_the_delay_doubles_up_to_a_cap_and_is_forgotten_after_an_hour(store, attempts, monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    waits = []
    for _ in range(12):
        signin.with_password(store, attempts, "ann", "wrong", None, False)
        waits.append(round(attempts.wait_seconds("ann", None)))
        now[0] += waits[-1]
    assert waits[:8] == [0, 0, 0, 0, 15, 30, 60, 120] and set(waits[9:]) == {ACCOUNT.max_delay_s}
    now[0] += 3600
    assert attempts.wait_seconds("ann", None) == 0
    signin.with_password(store, attempts, "ann", "wrong", None, False)
    assert attempts.failures("ann") == 1  # counting starts over


def test_one_client_guessing_many_names_is_slowed_too(store, attempts, monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])
    for i in range(CLIENT.free_tries):
        signin.with_password(store, attempts, f"name{i}", "wrong", "203.0.113.9", False)
    assert "Try again" in signin.with_password(store, attempts, "ann", "ann-password-1", "203.0.113.9", False).message
    assert signin.with_password(store, attempts, "ann", "ann-password-1", "198.51.100.7", False).user is not None


def test_unknown_and_real_usernames_get_the_same_answer_after_the_same_work(store, attempts, monkeypatch):
    checks: list[str] = []
    real_check = signin.check_password
    monkeypatch.setattr(signin, "check_password", lambda pw, hashed: checks.append(hashed[:7]) or real_check(pw, hashed))
    answers = {}
    for name in ("ann", "nobody"):
        answers[name] = [signin.with_password(store, attempts, name, "wrong", None, False).message for _ in range(6)]
    assert answers["ann"] == answers["nobody"]
    assert len(checks) == 2 * ACCOUNT.free_tries and {c[:4] for c in checks} == {"$2b$"}  # bcrypt each time both ways
    assert len({c[4:7] for c in checks}) == 1  # at the same cost


def test_an_admin_lock_is_said_only_to_someone_with_the_right_password(store, attempts):
    store.lock("ann")
    assert signin.with_password(store, attempts, "ann", "wrong", None, False).message == signin.WRONG
    assert signin.with_password(store, attempts, "ann", "ann-password-1", None, False).message == signin.LOCKED
    store.unlock("ann")
    assert signin.with_password(store, attempts, "ann", "ann-password-1", None, False).user is not None


def test_demo_passwords_stop_working_when_the_data_is_real(tmp_path, attempts):
    store = UserStore(tmp_path / "users.yaml")
    store.add("admin", "Admin", "", DEMO_PASSWORDS["admin"], "admin", None, demo=True)
    assert signin.with_password(store, attempts, "admin", DEMO_PASSWORDS["admin"], None, real_data=False).user
    refused = signin.with_password(store, attempts, "admin", DEMO_PASSWORDS["admin"], None, real_data=True)
    assert refused.user is None and "users reset-password admin" in refused.message
    version = store.entry("admin")["session_version"]
    assert signin.with_session(store, "admin", version, real_data=True).user is None  # open sessions end too
    store.reset_password("admin", "my-own-password")
    assert signin.with_password(store, attempts, "admin", "my-own-password", None, real_data=True).user


def test_a_users_file_from_before_the_demo_flag_is_still_caught(tmp_path, attempts):
    store = UserStore(tmp_path / "users.yaml")
    store.add("admin", "Admin", "", DEMO_PASSWORDS["admin"], "admin", None)  # no demo flag stored
    assert signin.with_password(store, attempts, "admin", DEMO_PASSWORDS["admin"], None, real_data=True).user is None


def test_the_attempts_file_stays_bounded_and_private(store, attempts, monkeypatch):
    monkeypatch.setattr("spm_core.auth.throttle.MAX_ENTRIES", 5)
    for i in range(8):
        attempts.record_failure(f"user{i}" + "x" * 500, None)
    counts = json.loads(attempts.path.read_text())
    assert len(counts) == 5 and max(len(k) for k in counts) <= 5 + 64
    assert attempts.path.stat().st_mode & 0o777 == 0o600
