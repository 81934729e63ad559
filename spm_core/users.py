"""App users: who may sign in, with which role, linked to which person in the warehouse.

Users live in a YAML file in the layout streamlit-authenticator reads (credentials -> usernames ->
name, email, password as a bcrypt hash, roles, failed_login_attempts) plus our `person_id`. The
cookie key is not in this file: it comes from secrets or the environment. Passwords are never
stored or logged in clear: only bcrypt hashes.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Engine

from .config import PROJECT_ROOT
from .db import read_frame
from .filters import Scope
from .schema import person

ROLES = ("admin", "leader", "manager", "rep")
USERS_ENV_VAR = "SPM_USERS_FILE"
DEFAULT_USERS_FILE = PROJECT_ROOT / "data" / "users.yaml"
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
MIN_PASSWORD_LENGTH = 8


class UserError(ValueError):
    """A user operation that cannot be done, with a message meant for the person asking."""


@dataclass(frozen=True)
class User:
    username: str
    name: str
    email: str
    role: str
    person_id: int | None


def users_file(explicit: str | Path | None = None, warehouse: str | None = None) -> Path:
    """The given path, else $SPM_USERS_FILE, else users.yaml beside a DuckDB warehouse file (so each
    warehouse has its own users: demo accounts of one never land in another), else data/users.yaml."""
    if explicit or os.environ.get(USERS_ENV_VAR):
        return Path(explicit or os.environ[USERS_ENV_VAR])
    if warehouse:
        url = sa.engine.make_url(warehouse)
        if url.drivername.startswith("duckdb") and url.database not in (None, "", ":memory:"):
            return Path(url.database).with_name("users.yaml")
    return DEFAULT_USERS_FILE


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def check_password(password: str, hashed: str) -> bool:
    return bcrypt.checkpw(password.encode(), hashed.encode())


class UserStore:
    """The YAML users file: read, change, and write back atomically (a crash never leaves half a file)."""

    def __init__(self, path: str | Path | None = None, warehouse: str | None = None) -> None:
        self.path = users_file(path, warehouse)

    def config(self) -> dict:
        if not self.path.exists():
            return {"credentials": {"usernames": {}}}
        try:
            data = yaml.safe_load(self.path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise UserError(f"The users file {self.path} is not valid YAML: {exc}") from exc
        data.setdefault("credentials", {}).setdefault("usernames", {})
        if data["credentials"]["usernames"] is None:
            data["credentials"]["usernames"] = {}
        return data

    def _write(self, data: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".users-", suffix=".yaml")
        with os.fdopen(handle, "w") as out:
            yaml.safe_dump(data, out, sort_keys=True)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    def users(self) -> list[User]:
        return [self._user(name, entry) for name, entry in sorted(self.config()["credentials"]["usernames"].items())]

    def get(self, username: str) -> User | None:
        entry = self.config()["credentials"]["usernames"].get(username.lower())
        return None if entry is None else self._user(username.lower(), entry)

    @staticmethod
    def _user(username: str, entry: dict) -> User:
        roles = entry.get("roles") or ["rep"]
        pid = entry.get("person_id")
        return User(username, entry.get("name", username), entry.get("email", ""), roles[0], None if pid is None else int(pid))

    def add(self, username: str, name: str, email: str, password: str, role: str, person_id: int | None) -> User:
        username = username.strip().lower()
        if not USERNAME.match(username):
            raise UserError("A username is 2-32 characters: lower-case letters, digits, dot, dash or underscore.")
        _check_role(role, person_id)
        data = self.config()
        if username in data["credentials"]["usernames"]:
            raise UserError(f"The username {username!r} is taken.")
        data["credentials"]["usernames"][username] = {
            "name": name.strip() or username,
            "email": email.strip(),
            "password": hash_password(password),
            "roles": [role],
            "person_id": person_id,
            "failed_login_attempts": 0,
            "logged_in": False,
        }
        self._write(data)
        return self._user(username, data["credentials"]["usernames"][username])

    def _change(self, username: str, **changes) -> User:
        data = self.config()
        entry = data["credentials"]["usernames"].get(username.lower())
        if entry is None:
            raise UserError(f"No user {username!r}.")
        entry.update(changes)
        self._write(data)
        return self._user(username.lower(), entry)

    def reset_password(self, username: str, password: str) -> User:
        """A new password also lifts a lock from too many failed attempts."""
        return self._change(username, password=hash_password(password), failed_login_attempts=0)

    def set_role(self, username: str, role: str, person_id: int | None) -> User:
        _check_role(role, person_id)
        return self._change(username, roles=[role], person_id=person_id)

    def record_failed_attempts(self, credentials: dict) -> None:
        """Write back failed sign-in counts that the sign-in form changed in its copy of the
        credentials, so the limit holds across reruns, sessions and restarts."""
        data = self.config()
        changed = False
        for username, entry in data["credentials"]["usernames"].items():
            seen = (credentials.get("usernames", {}).get(username) or {}).get("failed_login_attempts", 0)
            if seen != entry.get("failed_login_attempts", 0):
                entry["failed_login_attempts"] = seen
                changed = True
        if changed:
            self._write(data)

    def remove(self, username: str) -> None:
        data = self.config()
        if data["credentials"]["usernames"].pop(username.lower(), None) is None:
            raise UserError(f"No user {username!r}.")
        self._write(data)


def _check_role(role: str, person_id: int | None) -> None:
    if role not in ROLES:
        raise UserError(f"Unknown role {role!r}; one of {', '.join(ROLES)}.")
    if role in ("manager", "rep") and person_id is None:
        raise UserError(f"A {role} must be linked to a person in the warehouse (their own numbers or team).")


def viewer_scope(engine: Engine | sa.Connection, user: User) -> Scope:
    """What a user may see: admins and leaders everything, a manager their whole subtree (any depth),
    a rep only themselves. A manager or rep whose person is not in the warehouse sees nothing."""
    if user.role in ("admin", "leader"):
        return Scope.everyone()
    if user.person_id is None or not person_exists(engine, user.person_id):
        return Scope.nobody()
    return Scope.subtree(user.person_id) if user.role == "manager" else Scope.only(user.person_id)


def person_exists(engine: Engine | sa.Connection, person_id: int) -> bool:
    return not read_frame(engine, sa.select(person.c.id).where(person.c.id == person_id)).empty


# Demo accounts: printed on first start and listed in the README. For the demo warehouse only.
DEMO_PASSWORDS = {
    "admin": "admin-demo-2026",
    "leader": "leader-demo-2026",
    "manager": "manager-demo-2026",
    "teamlead": "teamlead-demo-2026",
    "rep": "rep-demo-2026",
}


def demo_user_people(engine: Engine | sa.Connection) -> dict[str, tuple[str, int]]:
    """username -> (role, person id): the admin, the leader, a second-line manager (a segment VP,
    several levels above reps), a first-line manager and one of their reps."""
    people = read_frame(engine, sa.select(person.c.id, person.c.role, person.c.manager_id).order_by(person.c.id))
    admin = people[people["role"] == "admin"]["id"].iloc[0]
    leader = people[people["role"] == "leader"]["id"].iloc[0]
    vp = people[people["manager_id"] == leader]["id"].iloc[0]
    reps = people[people["role"] == "rep"]
    first_rep = reps.iloc[0]
    team_lead = int(first_rep["manager_id"])
    return {
        "admin": ("admin", int(admin)),
        "leader": ("leader", int(leader)),
        "manager": ("manager", int(vp)),
        "teamlead": ("manager", team_lead),
        "rep": ("rep", int(first_rep["id"])),
    }


def create_demo_users(engine: Engine | sa.Connection, path: str | Path | None = None) -> list[tuple[str, str, str]]:
    """Create the demo accounts (if the users file has none yet); returns (username, role, password)."""
    store = UserStore(path, engine.engine.url.render_as_string(hide_password=False))
    if store.users():
        return []
    names = dict(zip(*read_frame(engine, sa.select(person.c.id, person.c.name)).to_dict("list").values(), strict=True))
    created = []
    for username, (role, pid) in demo_user_people(engine).items():
        store.add(username, names[pid], f"{username}@example.com", DEMO_PASSWORDS[username], role, pid)
        created.append((username, role, DEMO_PASSWORDS[username]))
    return created
