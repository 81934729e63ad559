"""App users: who may sign in, with which role, linked to which person in the warehouse.

Users live in a YAML file in the layout streamlit-authenticator reads (credentials -> usernames ->
name, email, password as a bcrypt hash, roles) plus ours: `person_id`, `session_version` (carried in
every sign-in cookie; bumping it ends every session of the account), `locked` (an admin's explicit
lock) and `demo_password` (the account still has its public demo password). Failed sign-ins are
counted elsewhere (spm_core.auth.throttle), so a guessing stranger never writes this file. The cookie
key is not in this file: it comes from secrets or the environment. Passwords are never stored or
logged in clear: only bcrypt hashes.

Every change is a read-modify-write under a file lock, written to a temporary file and renamed over
the old one: two sessions (or the CLI and the app) never lose each other's update, and a crash never
leaves half a file.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import sqlalchemy as sa
import yaml
from filelock import FileLock
from sqlalchemy.engine import Engine

from .config import PROJECT_ROOT
from .db import read_frame
from .files import write_private
from .filters import Scope
from .schema import person

# planner: builds quota plans; comp_admin: runs compensation (sees what a leader sees); display: a sales-floor screen
ROLES = ("admin", "leader", "planner", "comp_admin", "manager", "rep", "display")
USERS_ENV_VAR = "SPM_USERS_FILE"
# libyaml's safe loader where PyYAML has it: the file is read on every page run (sign-in checks), ~5x faster than pure Python
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DEFAULT_USERS_FILE = PROJECT_ROOT / "data" / "users.yaml"  # for warehouses that are not DuckDB files
SHARED_USERS_NAME = "users.yaml"  # before each DuckDB file had its own, one per folder
SHARED_KEY_NAME = ".cookie_key"
SHARED_FILES_OWNER = "spm.duckdb"  # the embedded warehouse, the only one that inherits the shared files
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further (bcrypt 5 refuses longer input)
log = logging.getLogger(__name__)


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
    """The given path, else $SPM_USERS_FILE, else `<name>.users.yaml` beside a DuckDB warehouse file
    `<name>.duckdb` (so each warehouse has its own users: the demo's public passwords never open
    another warehouse in the same folder), else data/users.yaml."""
    if explicit or os.environ.get(USERS_ENV_VAR):
        return Path(explicit or os.environ[USERS_ENV_VAR])
    if warehouse:
        url = sa.engine.make_url(warehouse)
        if url.drivername.startswith("duckdb") and url.database not in (None, "", ":memory:"):
            database = Path(url.database)
            path = database.with_name(f"{database.stem}.users.yaml")
            if database.name == SHARED_FILES_OWNER:
                _adopt_shared_files(path)
            return path
    return DEFAULT_USERS_FILE


def cookie_key_file(users_path: Path) -> Path:
    """Where the app keeps a generated cookie-signing key: one per users file, so a cookie issued for
    one warehouse is not accepted by another whose users happen to share a name and session version."""
    return users_path.with_name(f".{users_path.stem}.cookie_key")


def _adopt_shared_files(path: Path) -> None:
    """Migration: the folder's shared users.yaml and .cookie_key (from before each warehouse had its
    own) become spm.duckdb's, renamed on first use, so the embedded warehouse keeps its users and
    sign-ins and no other warehouse in the folder inherits them. Linked then unlinked, so a file
    already there is never overwritten and two processes migrating at once agree."""
    for old, new in ((path.with_name(SHARED_USERS_NAME), path), (path.with_name(SHARED_KEY_NAME), cookie_key_file(path))):
        if new.exists() or not old.exists():
            continue
        with contextlib.suppress(FileExistsError, FileNotFoundError):
            os.link(old, new)
            log.warning("Renamed %s to %s: each warehouse file now has its own.", old, new)
        old.unlink(missing_ok=True)


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise UserError(
            f"A password can be at most {MAX_PASSWORD_BYTES} bytes (bcrypt ignores the rest); "
            f"this one is {len(password.encode())}. Non-ASCII characters take 2-4 bytes each."
        )
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def check_password(password: str, hashed: str) -> bool:
    """False for a wrong password, and for one over 72 bytes (never set, so never right), after the
    same bcrypt work either way: how long a check takes says nothing about the password."""
    encoded = password.encode()
    matches = bcrypt.checkpw(encoded[:MAX_PASSWORD_BYTES], hashed.encode())
    return matches and len(encoded) <= MAX_PASSWORD_BYTES


_PARSED: dict[Path, tuple[str, dict]] = {}  # users file -> (its text, parsed)


class UserStore:
    """The YAML users file: read freely (it is always whole), changed only under its lock."""

    def __init__(self, path: str | Path | None = None, warehouse: str | None = None) -> None:
        self.path = users_file(path, warehouse)
        self._lock = FileLock(str(self.path) + ".lock")

    def config(self) -> dict:
        """The file's contents (a copy to change freely), parsed again only when its text changed: the app reads
        it three times per page run, and parsing was 10 % of a run's time at the load test's knee."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return {"credentials": {"usernames": {}}}
        cached = _PARSED.get(self.path)
        if cached is None or cached[0] != text:
            cached = _PARSED[self.path] = (text, self._parse(text))
        return copy.deepcopy(cached[1])

    def _parse(self, text: str) -> dict:
        try:
            data = yaml.load(text, Loader=SAFE_LOADER) or {}
        except yaml.YAMLError as exc:
            raise UserError(f"The users file {self.path} is not valid YAML: {exc}") from exc
        data.setdefault("credentials", {}).setdefault("usernames", {})
        if data["credentials"]["usernames"] is None:
            data["credentials"]["usernames"] = {}
        return data

    def entry(self, username: str) -> dict | None:
        """The stored fields of one user (hash, session version, locks), or None."""
        return self.config()["credentials"]["usernames"].get(username.strip().lower())

    @contextmanager
    def _editing(self) -> Iterator[dict]:
        """The file's contents to change in place; written back when the block ends without an error."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            data = self.config()
            yield data
            write_private(self.path, yaml.safe_dump(data, sort_keys=True))

    def users(self) -> list[User]:
        return [self._user(name, entry) for name, entry in sorted(self.config()["credentials"]["usernames"].items())]

    def get(self, username: str) -> User | None:
        entry = self.entry(username)
        return None if entry is None else self._user(username.strip().lower(), entry)

    @staticmethod
    def _user(username: str, entry: dict) -> User:
        roles = entry.get("roles") or ["rep"]
        pid = entry.get("person_id")
        return User(username, entry.get("name", username), entry.get("email", ""), roles[0], None if pid is None else int(pid))

    def add(
        self, username: str, name: str, email: str, password: str, role: str, person_id: int | None, *, demo: bool = False
    ) -> User:
        username = username.strip().lower()
        if not USERNAME.match(username):
            raise UserError("A username is 2-32 characters: lower-case letters, digits, dot, dash or underscore.")
        _check_role(role, person_id)
        hashed = hash_password(password)
        with self._editing() as data:
            if username in data["credentials"]["usernames"]:
                raise UserError(f"The username {username!r} is taken.")
            data["credentials"]["usernames"][username] = {
                "name": name.strip() or username,
                "email": email.strip(),
                "password": hashed,
                "roles": [role],
                "person_id": person_id,
                "session_version": 1,
                "locked": False,
                "demo_password": demo,
            }
        return self.get(username)

    def _change(self, username: str, *, end_sessions: bool, **changes) -> User:
        with self._editing() as data:
            entry = data["credentials"]["usernames"].get(username.strip().lower())
            if entry is None:
                raise UserError(f"No user {username!r}.")
            entry.update(changes)
            if end_sessions:
                entry["session_version"] = int(entry.get("session_version", 1)) + 1
        return self.get(username)

    def reset_password(self, username: str, password: str) -> User:
        """A new password ends every session signed in with the old one and lifts an admin's lock."""
        return self._change(username, end_sessions=True, password=hash_password(password), locked=False, demo_password=False)

    def set_role(self, username: str, role: str, person_id: int | None) -> User:
        """Sessions end, so nobody keeps a wider scope than their new role gives."""
        _check_role(role, person_id)
        return self._change(username, end_sessions=True, roles=[role], person_id=person_id)

    def lock(self, username: str) -> User:
        """An admin's lock: no sign-in and no session until unlocked or given a new password."""
        return self._change(username, end_sessions=True, locked=True)

    def unlock(self, username: str) -> User:
        return self._change(username, end_sessions=False, locked=False)

    def end_sessions(self, username: str) -> User:
        """Sign out everywhere: every cookie and open session of this user stops working."""
        return self._change(username, end_sessions=True)

    def demo_accounts(self) -> list[str]:
        """Accounts that still have their public demo password: refused once the data is real."""
        return [name for name, entry in sorted(self.config()["credentials"]["usernames"].items()) if entry.get("demo_password")]

    def remove(self, username: str) -> None:
        with self._editing() as data:
            if data["credentials"]["usernames"].pop(username.strip().lower(), None) is None:
                raise UserError(f"No user {username!r}.")


def _check_role(role: str, person_id: int | None) -> None:
    if role not in ROLES:
        raise UserError(f"Unknown role {role!r}; one of {', '.join(ROLES)}.")
    if role in ("manager", "rep") and person_id is None:
        raise UserError(f"A {role} must be linked to a person in the warehouse (their own numbers or team).")


def viewer_scope(engine: Engine | sa.Connection, user: User) -> Scope:
    """What a user may see: admins, leaders, planners and comp admins everything, a manager their whole subtree (any
    depth), a rep only themselves. A manager or rep whose person is not in the warehouse sees nothing, and so
    does a display: it shows contest boards (ranks, names, points), which never go through a scope."""
    if user.role in ("admin", "leader", "planner", "comp_admin"):
        return Scope.everyone()
    if user.role == "display":
        return Scope.nobody()
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
    "comp_admin": "comp-admin-demo-2026",
}


def demo_user_people(engine: Engine | sa.Connection) -> dict[str, tuple[str, int]]:
    """username -> (role, person id): the admin, the leader, a second-line manager (a segment VP,
    several levels above reps), a first-line manager, one of their reps, and the comp admin (the admin's
    person: someone in the company runs compensation)."""
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
        "comp_admin": ("comp_admin", int(admin)),
    }


def create_demo_users(engine: Engine | sa.Connection, path: str | Path | None = None) -> list[tuple[str, str, str]]:
    """Create the demo accounts (if the users file has none yet); returns (username, role, password)."""
    store = UserStore(path, engine.engine.url.render_as_string(hide_password=False))
    if store.users():
        return []
    names = dict(zip(*read_frame(engine, sa.select(person.c.id, person.c.name)).to_dict("list").values(), strict=True))
    created = []
    for username, (role, pid) in demo_user_people(engine).items():
        store.add(username, names[pid], f"{username}@example.com", DEMO_PASSWORDS[username], role, pid, demo=True)
        created.append((username, role, DEMO_PASSWORDS[username]))
    return created
