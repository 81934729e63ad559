"""The sign-in decisions, without Streamlit: a password at the form, and a session (from a cookie or
already open) checked again on every page run.

Every answer to a wrong try is the same sentence whether or not the username exists, after the same
bcrypt work (an unknown name is checked against a dummy hash), and both count towards the delay.
What is specific to an account (an admin's lock, a demo password on real data) is said only to
someone who typed its right password.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import bcrypt

from spm_core.users import DEMO_PASSWORDS, User, UserStore, check_password

from .throttle import Attempts

WRONG = "Wrong username or password."
LOCKED = "This account is locked by an admin. Ask an admin to unlock it."
GONE = "This account no longer exists. Ask an admin."
ENDED = "Your session has ended (signed out elsewhere, or an admin changed this account). Sign in again."
DEMO_ON_REAL_DATA = (
    "This account still has its public demo password, and the warehouse now holds real data, so it "
    "cannot sign in. An admin sets a new password with `python -m spm_core users reset-password {username}` "
    "(or on the Users page from another admin account)."
)


def wait_message(seconds: float) -> str:
    return f"Too many failed sign-ins. Try again in {math.ceil(seconds)} seconds."


@functools.cache
def _dummy_hash() -> bytes:
    """A hash of nothing anyone can type, at the default cost: unknown usernames cost the same."""
    return bcrypt.hashpw(b"\0no user\0", bcrypt.gensalt())


@dataclass(frozen=True)
class SignIn:
    user: User | None  # None: refused
    version: int = 0  # the account's session version, to carry in the cookie
    message: str | None = None  # why not, for the person at the form


def with_password(
    store: UserStore, attempts: Attempts, username: str, password: str, client: str | None, real_data: bool
) -> SignIn:
    """Check a password typed at the form."""
    username = username.strip().lower()
    wait = attempts.wait_seconds(username, client)
    if wait > 0:
        return SignIn(None, message=wait_message(wait))
    entry = store.entry(username)
    hashed = entry["password"] if entry else _dummy_hash().decode()
    if not (check_password(password, hashed) and entry is not None):
        attempts.record_failure(username, client)
        wait = attempts.wait_seconds(username, client)
        return SignIn(None, message=WRONG if wait <= 0 else f"{WRONG} {wait_message(wait)}")
    attempts.clear(username)
    if password == DEMO_PASSWORDS.get(username):  # also catches users files from before the demo flag
        entry = {**entry, "demo_password": True}
    problem = account_problem(entry, username, real_data)
    if problem:
        return SignIn(None, message=problem)
    return SignIn(store.get(username), int(entry.get("session_version", 1)))


def with_session(store: UserStore, username: str, version: int, real_data: bool) -> SignIn:
    """Check a session (a cookie's claim, or one already open) against the users file as it is now."""
    entry = store.entry(username)
    if entry is None:
        return SignIn(None, message=GONE)
    if int(entry.get("session_version", 1)) != version:
        return SignIn(None, message=ENDED)
    problem = account_problem(entry, username, real_data)
    if problem:
        return SignIn(None, message=problem)
    return SignIn(store.get(username), version)


def account_problem(entry: dict, username: str, real_data: bool) -> str | None:
    if entry.get("locked"):
        return LOCKED
    if entry.get("demo_password") and real_data:
        return DEMO_ON_REAL_DATA.format(username=username)
    return None
