"""Admin: who may sign in, their role, the person each one is linked to, and their sessions."""

import pandas as pd
import sqlalchemy as sa
import streamlit as st

from spm_core.auth.throttle import Attempts, attempts_file
from spm_core.db import read_frame
from spm_core.schema import person
from spm_core.users import MAX_PASSWORD_BYTES, MIN_PASSWORD_LENGTH, ROLES, UserError, UserStore
from ui.context import context

ctx = context()
if ctx.user is None or ctx.user.role != "admin":  # navigation hides this page; this guards a direct link
    st.error("Only admins manage users.")
    st.stop()

store = UserStore(warehouse=ctx.wh.url)
people = read_frame(ctx.wh.engine, sa.select(person.c.id, person.c.name, person.c.role).order_by(person.c.name))
person_label = {int(i): f"{n} ({r}, id {i})" for i, n, r in zip(people["id"], people["name"], people["role"], strict=True)}
st.title("Users")
config = store.config()["credentials"]["usernames"]
attempts = Attempts(attempts_file(store.path))
st.dataframe(
    pd.DataFrame(
        [
            {
                "username": u.username,
                "name": u.name,
                "email": u.email,
                "role": u.role,
                "person": person_label.get(u.person_id, "— not in the warehouse —" if u.person_id else ""),
                "locked": bool(config[u.username].get("locked")),
                "failed sign-ins": attempts.failures(u.username),
                "demo password": bool(config[u.username].get("demo_password")),
            }
            for u in store.users()
        ]
    ),
    hide_index=True,
    width="stretch",
)


def person_picker(key: str, default: int | None = None) -> int | None:
    choices = [None, *person_label]
    index = choices.index(default) if default in choices else 0
    return st.selectbox(
        "Linked person",
        choices,
        index=index,
        key=key,
        format_func=lambda i: "— none (admins and leaders only) —" if i is None else person_label[i],
    )


def attempt(action, success: str) -> None:
    try:
        action()
    except UserError as exc:
        st.error(str(exc))
    else:
        st.success(success)
        st.rerun()


add, reset, change, sessions, remove = st.tabs(
    ["Add a user", "Reset a password", "Change role", "Sessions and locks", "Remove a user"]
)
with add, st.form("admin_add_user", clear_on_submit=True):
    username = st.text_input("Username")
    name = st.text_input("Full name")
    email = st.text_input("Email")
    role = st.selectbox("Role", ROLES, index=ROLES.index("rep"))
    pid = person_picker("admin_add_person")
    password = st.text_input("Password", type="password", help=f"{MIN_PASSWORD_LENGTH} characters to {MAX_PASSWORD_BYTES} bytes.")
    if st.form_submit_button("Add user"):
        attempt(lambda: store.add(username, name, email, password, role, pid), f"Added {username}.")
usernames = [u.username for u in store.users()]
with reset, st.form("admin_reset_password", clear_on_submit=True):
    who = st.selectbox("User", usernames, key="admin_reset_user")
    password = st.text_input(
        "New password", type="password", help="Also unlocks the account and signs it out everywhere."
    )
    if st.form_submit_button("Reset password"):
        attempt(lambda: store.reset_password(who, password), f"New password set for {who}.")
with change:
    who = st.selectbox("User", usernames, key="admin_role_user")
    current = store.get(who) if who else None
    with st.form("admin_change_role"):
        role = st.selectbox("Role", ROLES, index=ROLES.index(current.role) if current else 0)
        pid = person_picker("admin_role_person", current.person_id if current else None)
        if st.form_submit_button("Save role"):
            attempt(lambda: store.set_role(who, role, pid), f"{who} is now {role}.")
with sessions:
    st.caption(
        "Failed sign-ins never lock an account: each try after the fifth waits longer (15 s, doubling, "
        "at most 5 minutes), and the count is forgotten an hour after the last failure. A lock here is "
        "yours to lift. Signing out everywhere, a lock, a new password or a role change ends every open "
        "session of the account at its next click."
    )
    with st.form("admin_sessions"):
        who = st.selectbox("User", usernames, key="admin_sessions_user")
        out, lock, unlock = st.columns(3)
        if out.form_submit_button("Sign out everywhere"):
            attempt(lambda: store.end_sessions(who), f"{who} is signed out everywhere.")
        if lock.form_submit_button("Lock"):
            if who == ctx.user.username:
                st.error("You cannot lock your own account.")
            else:
                attempt(lambda: store.lock(who), f"{who} is locked and signed out everywhere.")
        if unlock.form_submit_button("Unlock"):
            attempt(lambda: store.unlock(who), f"{who} is unlocked.")
with remove, st.form("admin_remove_user"):
    who = st.selectbox("User", [u for u in usernames if u != ctx.user.username], key="admin_remove_user")
    if st.form_submit_button("Remove user", type="primary") and who:
        attempt(lambda: store.remove(who), f"Removed {who}.")
