"""Sign-in with streamlit-authenticator: bcrypt-hashed users from the users file, a signed cookie
whose key comes from secrets or the environment, and a limit on failed attempts.

Every failure is a sentence on screen, never a traceback: wrong password, unknown user, locked
account, an expired cookie (the form simply shows again), or a user whose person left the warehouse.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import NoReturn

import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities.exceptions import LoginError

from spm_core.users import DEMO_PASSWORDS, User, UserError, UserStore, person_exists

from .warehouse import Warehouse

COOKIE_NAME = "spm_auth"
COOKIE_ENV_VAR = "SPM_COOKIE_KEY"
MAX_LOGIN_ATTEMPTS = 5
NOTICE_KEY = "spm_auth_notice"  # a message that must outlive the rerun after a forced sign-out


def cookie_key(store: UserStore) -> str:
    """secrets.toml [auth] cookie_key, else $SPM_COOKIE_KEY, else a random key kept beside the users
    file (created once, never committed: data/ is ignored by git)."""
    try:
        configured = st.secrets.get("auth", {}).get("cookie_key")
    except FileNotFoundError:
        configured = None
    if configured or os.environ.get(COOKIE_ENV_VAR):
        return configured or os.environ[COOKIE_ENV_VAR]
    local = Path(store.path).with_name(".cookie_key")
    if not local.exists():
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_text(secrets.token_urlsafe(32))
        local.chmod(0o600)
    return local.read_text().strip()


def _authenticator(store: UserStore) -> tuple[stauth.Authenticate, dict]:
    """An authenticator over a fresh copy of the users file. It gets the credentials as a dict, not
    the file's path: given a path it would also read the cookie key from that file, and the key
    belongs in secrets."""
    credentials = store.config()["credentials"]
    authenticator = stauth.Authenticate(
        credentials, cookie_name=COOKIE_NAME, cookie_key=cookie_key(store), cookie_expiry_days=7, auto_hash=False
    )
    return authenticator, credentials


def _demo_hint(wh: Warehouse, store: UserStore) -> None:
    demo_users = [u for u in store.users() if u.username in DEMO_PASSWORDS]
    if wh.info.get("source") == "demo" and demo_users:
        with st.expander("Demo sign-ins (demo data only)"):
            st.table(
                {
                    "username": [u.username for u in demo_users],
                    "role": [u.role for u in demo_users],
                    "password": [DEMO_PASSWORDS[u.username] for u in demo_users],
                }
            )


def _sign_out_because(authenticator: stauth.Authenticate, why: str) -> NoReturn:
    """Sign out and start over at the login form, which shows why."""
    st.session_state[NOTICE_KEY] = why
    authenticator.logout(location="unrendered")
    st.rerun()


def sign_in(wh: Warehouse) -> tuple[User, stauth.Authenticate] | None:
    """Show the login form until someone signs in; return the user and the authenticator (for logout)."""
    try:
        store = UserStore(warehouse=wh.url)
        if not store.users():
            st.error(
                "No users are set up yet. Create the first admin with "
                "`python -m spm_core users add NAME --role admin --password ...`."
            )
            return None
        authenticator, credentials = _authenticator(store)
    except UserError as exc:
        st.error(str(exc))
        return None
    heading = st.empty()
    heading.title("SPM dashboard")
    if NOTICE_KEY in st.session_state:
        st.error(st.session_state.pop(NOTICE_KEY))
    try:
        authenticator.login(location="main", max_login_attempts=MAX_LOGIN_ATTEMPTS, key="spm_login")
    except LoginError as exc:
        if st.session_state.get("authentication_status") is None and "not authorized" in str(exc):
            # a still-valid cookie of an account removed since: drop the cookie and say why; stauth keeps
            # the cookie it read for this session, so the form comes back on the next page load
            authenticator.cookie_controller.delete_cookie()
            st.error("This account no longer exists. Ask an admin. Reload the page to sign in as someone else.")
            return None
        store.record_failed_attempts(credentials)
        message = str(exc)
        if "attempts" in message:
            message = "Too many failed sign-ins for this user: the account is locked. Ask an admin to reset the password."
        st.error(message)
        return None
    store.record_failed_attempts(credentials)
    status = st.session_state.get("authentication_status")
    if status is False:
        st.error("Wrong username or password.")
    if not status:
        _demo_hint(wh, store)
        return None
    heading.empty()
    user = store.get(st.session_state.get("username") or "")
    if user is None:
        _sign_out_because(authenticator, "This account no longer exists. Ask an admin.")
    if user.role in ("manager", "rep") and (user.person_id is None or not person_exists(wh.engine, user.person_id)):
        _sign_out_because(
            authenticator,
            f"Your account is linked to a person (id {user.person_id}) who is not in the warehouse any more, "
            "so there is nothing to show. Ask an admin to link your account again.",
        )
    return user, authenticator
