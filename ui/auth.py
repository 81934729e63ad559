"""Sign-in for the app: the form, the revocable sign-in cookie, and the check on every page run.

The cookie is written by streamlit-authenticator's cookie component (SameSite=Strict; a JavaScript
component cannot make it HttpOnly), but the token in it is ours (spm_core.auth.tokens): it carries
the account's session version, so signing out, a new password, a role change, a lock or a removal
ends every session of that account at its next page run. The form and the decisions are ours too
(spm_core.auth.signin): the library's would lock an account for good after five wrong tries from
anyone, answer unknown usernames faster, and show a traceback for a token of another algorithm.

Every failure is a sentence on screen, never a traceback.
"""

from __future__ import annotations

import contextlib
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import NoReturn

import streamlit as st
from streamlit_authenticator.models import CookieModel

from spm_core.auth import signin, tokens
from spm_core.auth.throttle import Attempts, attempts_file
from spm_core.db import public_url
from spm_core.users import DEMO_PASSWORDS, User, UserError, UserStore, cookie_key_file, person_exists

from .warehouse import Warehouse

COOKIE_NAME = "spm_auth"
COOKIE_ENV_VAR = "SPM_COOKIE_KEY"
SESSION_KEY = "spm_session"  # (username, session version) of the signed-in session
REJECTED_KEY = "spm_rejected_cookie"  # (cookie, why) this session refused: the browser sends it until deleted
NOTICE_KEY = "spm_auth_notice"  # a message that must outlive the rerun after a forced sign-out
DELETE_KEY = "spm_delete_cookie"  # the browser's cookie is dead: the sign-in page deletes it until signed in


def cookie_key(store: UserStore) -> str:
    """secrets.toml [auth] cookie_key, else $SPM_COOKIE_KEY, else a random key kept beside the users
    file, one per users file (created once with mode 600, never committed: git ignores it)."""
    try:
        configured = st.secrets.get("auth", {}).get("cookie_key")
    except FileNotFoundError:
        configured = None
    return configured or os.environ.get(COOKIE_ENV_VAR) or tokens.local_key(cookie_key_file(Path(store.path)))


class SessionCookie:
    """The browser's sign-in cookie. Reads come from the page request's headers (fixed for the life of
    a browser session); writes and deletes go through the cookie component, drawn on every run."""

    def __init__(self) -> None:
        self._component = CookieModel(COOKIE_NAME, None, tokens.LIFETIME_DAYS)

    @staticmethod
    def read() -> str | None:
        return st.context.cookies.get(COOKIE_NAME)

    def write(self, token: str) -> None:
        expires = datetime.now() + timedelta(days=tokens.LIFETIME_DAYS)
        self._component.cookie_manager.set(COOKIE_NAME, token, expires_at=expires)

    def delete(self) -> None:
        self._component.delete_cookie()


def is_signed_in() -> bool:
    return SESSION_KEY in st.session_state


def _store_or_error(wh: Warehouse) -> UserStore | None:
    try:
        store = UserStore(warehouse=wh.url)
        if store.users():
            return store
        url = public_url(wh.url)
        st.error(
            f"No users are set up yet for the warehouse `{url}`. Create the first admin with "
            f"`python -m spm_core users add NAME --role admin --url {url}`."
        )
    except UserError as exc:
        st.error(str(exc))
    return None


def _real_data(wh: Warehouse) -> bool:
    return wh.info.get("source") != "demo"


def _open_session(result: signin.SignIn) -> None:
    st.session_state[SESSION_KEY] = (result.user.username, result.version)
    st.session_state.pop(DELETE_KEY, None)


def _end_session(why: str | None) -> NoReturn:
    """Forget this browser session's sign-in and start over at the form (saying why), which deletes the
    cookie (deleting it here, just before st.rerun, would remove the component before it ran in the
    browser, and the next page load would meet a dead cookie: "Your session has ended")."""
    st.session_state.pop(SESSION_KEY, None)
    st.session_state[REJECTED_KEY] = (SessionCookie.read(), None)
    st.session_state[DELETE_KEY] = True
    if why:
        st.session_state[NOTICE_KEY] = why
    st.rerun()


def _from_cookie(store: UserStore, key: str, real_data: bool) -> signin.SignIn | None:
    """The session in the browser's cookie, if it is still good. A cookie that is not ours (forged,
    another algorithm, expired, garbage) is dropped without a word; a real one that no longer holds
    (revoked, account removed or locked) is dropped with the reason, which stays on the form for as
    long as the browser still sends that cookie (deleting it reruns the page)."""
    token = SessionCookie.read()
    if not token:
        return None
    rejected = st.session_state.get(REJECTED_KEY)
    if rejected is not None and rejected[0] == token:
        if rejected[1]:
            st.error(rejected[1])
        return None
    claim = tokens.read(token, key)
    result = None if claim is None else signin.with_session(store, claim.username, claim.version, real_data)
    if result is not None and result.user is not None:
        return result
    st.session_state[REJECTED_KEY] = (token, None if result is None else result.message)
    st.session_state[DELETE_KEY] = True
    if result is not None:
        st.error(result.message)
    return None


def _client_address() -> str | None:
    """The browser's address as Streamlit sees it (None on localhost, and behind a proxy the proxy's)."""
    address = st.context.ip_address
    return address if isinstance(address, str) else None


def _form(wh: Warehouse, store: UserStore, cookie: SessionCookie, key: str) -> User | None:
    """The sign-in form (labels Username / Password, button Login)."""
    with st.form("spm_login"):
        st.subheader("Login")
        username = st.text_input("Username", autocomplete="off")
        password = st.text_input("Password", type="password", autocomplete="off")
        submitted = st.form_submit_button("Login")
    if not submitted:
        return None
    attempts = Attempts(attempts_file(store.path))
    result = signin.with_password(store, attempts, username, password, _client_address(), _real_data(wh))
    if result.user is None:
        st.error(result.message)
        return None
    _open_session(result)
    # No st.rerun here: it would cut off the component writing the cookie; its reply reruns the app.
    cookie.write(tokens.issue(result.user.username, result.version, key))
    return result.user


def sign_in(wh: Warehouse) -> User | None:
    """The login screen: sign in from the cookie, else show the form; the user once signed in."""
    store = _store_or_error(wh)
    if store is None:
        return None
    cookie, key = SessionCookie(), cookie_key(store)
    st.title("SPM dashboard")
    if NOTICE_KEY in st.session_state:
        st.error(st.session_state.pop(NOTICE_KEY))
    from_cookie = _from_cookie(store, key, _real_data(wh))
    if from_cookie is not None:
        _open_session(from_cookie)
        st.rerun()
    user = _form(wh, store, cookie, key)
    if user is None:
        _demo_hint(wh, store)
        _delete_dead_cookie(cookie)
    return user


def _delete_dead_cookie(cookie: SessionCookie) -> None:
    """Delete a dead cookie (signed out, revoked, not ours) in the browser, on every run of the form until
    someone signs in: a rerun that comes before the browser has loaded the deleting component (the
    cookie component's first reply is one) removes it unrun, so drawing it once is not enough. Never in
    the run that signs in: it would delete the new cookie."""
    if st.session_state.get(DELETE_KEY):
        cookie.delete()


def current_user(wh: Warehouse) -> User | None:
    """The signed-in user, checked again against the users file on every run: a session that was
    ended elsewhere, or whose account was locked, changed or removed, ends here with the reason."""
    store = _store_or_error(wh)
    if store is None:
        return None
    username, version = st.session_state[SESSION_KEY]
    result = signin.with_session(store, username, version, _real_data(wh))
    if result.user is None:
        _end_session(result.message)
    user = result.user
    if user.role in ("manager", "rep") and (user.person_id is None or not person_exists(wh.engine, user.person_id)):
        _end_session(
            f"Your account is linked to a person (id {user.person_id}) who is not in the warehouse any more, "
            "so there is nothing to show. Ask an admin to link your account again.",
        )
    return user


def sign_out(wh: Warehouse, user: User) -> NoReturn:
    """Sign out everywhere: this account's cookies in every browser stop working, not only this one."""
    with contextlib.suppress(UserError):  # removed meanwhile: nothing left to revoke
        UserStore(warehouse=wh.url).end_sessions(user.username)
    _end_session(None)


def _demo_hint(wh: Warehouse, store: UserStore) -> None:
    """The public demo sign-ins, on the demo warehouse only and only while they still work."""
    if _real_data(wh):
        return
    demo = set(store.demo_accounts())
    demo_users = [u for u in store.users() if u.username in demo and u.username in DEMO_PASSWORDS]
    if demo_users:
        with st.expander("Demo sign-ins (demo data only)"):
            st.table(
                {
                    "username": [u.username for u in demo_users],
                    "role": [u.role for u in demo_users],
                    "password": [DEMO_PASSWORDS[u.username] for u in demo_users],
                }
            )
