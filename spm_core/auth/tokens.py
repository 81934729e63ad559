"""Session tokens for the sign-in cookie: signed (HS256), expiring, and revocable.

A token carries the username and the account's session version at sign-in. Bumping the version in
the users file (sign-out, new password, role change, lock) makes every earlier token worthless, on
every device, at its next page run. Anything that does not decode as exactly such a token (another
algorithm, `alg: none`, a bad signature, missing claims, garbage) is treated as no token at all.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import jwt

ALGORITHM = "HS256"
LIFETIME_DAYS = 7


@dataclass(frozen=True)
class SessionClaim:
    username: str
    version: int
    expires_at: float  # seconds since the epoch


def issue(username: str, version: int, key: str, now: float | None = None) -> str:
    """A signed token for `username` at session `version`, valid for LIFETIME_DAYS."""
    issued = time.time() if now is None else now
    claims = {"sub": username, "ver": int(version), "iat": int(issued), "exp": int(issued + LIFETIME_DAYS * 86400)}
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def read(token: str | None, key: str) -> SessionClaim | None:
    """The claim in a valid, unexpired token signed with `key`; None for anything else."""
    if not token:
        return None
    try:
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], options={"require": ["sub", "ver", "exp"]})
        return SessionClaim(str(claims["sub"]), int(claims["ver"]), float(claims["exp"]))
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        return None


def local_key(path: Path) -> str:
    """A random signing key kept in `path` (mode 600 from creation), made once. Two first sessions at
    the same time agree: the key is written to a temporary file and linked into place, which fails
    for the second one, who then reads the first one's key; nobody ever reads a half-written file."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(32))
            with contextlib.suppress(FileExistsError):  # another session made it first: use theirs
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_text().strip()
