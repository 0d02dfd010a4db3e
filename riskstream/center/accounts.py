"""Users, sessions and API tokens of the console, in one SQLite file readable only by its owner.

Passwords are argon2id hashes (argon2-cffi defaults). A session is a random token held in an
httpOnly cookie; only its SHA-256 is stored, with its CSRF token, last use and whether it was
revoked. API tokens (bearer, for integrators) are stored the same way.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from riskstream.alarms.roles import Role

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, hash TEXT NOT NULL, role TEXT NOT NULL,
    district TEXT NOT NULL DEFAULT '', disabled INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, user TEXT NOT NULL, csrf TEXT NOT NULL,
    created REAL NOT NULL, last_seen REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0,
    address TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS tokens (id TEXT PRIMARY KEY, user TEXT NOT NULL, label TEXT NOT NULL,
    created REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
"""
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")


class AccountError(ValueError):
    """A user-facing problem with an account command (bad name, unknown user, ...)."""


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    district: str = ""  # district operators only

    def sees(self, district: str) -> bool:
        return self.role.city_wide or district == self.district


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    session_id: str  # the stored hash: names the session in the audit, never the cookie value


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    def __init__(self, path: Path, idle_s: float = 1800.0, max_s: float = 12 * 3600.0,
                 clock: Callable[[], float] = time.time) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fresh = not path.exists()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        if fresh:
            os.chmod(path, 0o600)
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._hasher = PasswordHasher()
        self._dummy = self._hasher.hash(secrets.token_hex(8))  # equal work for unknown users
        self.idle_s, self.max_s, self.clock = idle_s, max_s, clock

    # -- users ----------------------------------------------------------------------------

    def add_user(self, name: str, password: str, role: Role | str, district: str = "") -> User:
        role = Role(role)
        if not name or not set(name) <= _NAME_CHARS or len(name) > 64:
            raise AccountError("user names are 1-64 of a-z 0-9 . _ -")
        if len(password) < 10:
            raise AccountError("passwords need at least 10 characters")
        if role is Role.DISTRICT_OPERATOR and not district:
            raise AccountError("a district operator needs --district")
        with self._lock:
            if self._db.execute("SELECT 1 FROM users WHERE name=?", (name,)).fetchone():
                raise AccountError(f"user {name} exists")
            self._db.execute("INSERT INTO users VALUES (?,?,?,?,0,?)",
                             (name, self._hasher.hash(password), role.value, district, self.clock()))
        return User(name, role, district)

    def has_admin(self) -> bool:
        row = self._db.execute("SELECT 1 FROM users WHERE role=? AND disabled=0",
                               (Role.ADMIN.value,)).fetchone()
        return row is not None

    def disable(self, name: str) -> None:
        with self._lock:
            if not self._db.execute("UPDATE users SET disabled=1 WHERE name=?", (name,)).rowcount:
                raise AccountError(f"no user {name}")
            self._db.execute("UPDATE sessions SET revoked=1 WHERE user=?", (name,))
            self._db.execute("UPDATE tokens SET revoked=1 WHERE user=?", (name,))

    def users(self) -> list[tuple[User, bool]]:
        rows = self._db.execute("SELECT name, role, district, disabled FROM users ORDER BY name")
        return [(User(n, Role(r), d), bool(x)) for n, r, d, x in rows.fetchall()]

    def _user(self, name: str) -> User | None:
        row = self._db.execute("SELECT role, district FROM users WHERE name=? AND disabled=0",
                               (name,)).fetchone()
        return User(name, Role(row[0]), row[1]) if row else None

    def check_password(self, name: str, password: str) -> User | None:
        row = self._db.execute("SELECT hash FROM users WHERE name=? AND disabled=0",
                               (name,)).fetchone()
        try:
            self._hasher.verify(row[0] if row else self._dummy, password)
        except (VerificationError, InvalidHashError):
            return None
        return self._user(name) if row else None

    # -- sessions -------------------------------------------------------------------------

    def open_session(self, user: User, address: str) -> tuple[str, Session]:
        """A new session: (cookie value, session)."""
        token, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(32), self.clock()
        with self._lock:
            self._db.execute("INSERT INTO sessions VALUES (?,?,?,?,?,0,?)",
                             (_digest(token), user.name, csrf, now, now, address[:64]))
        return token, Session(user, csrf, _digest(token))

    def session(self, token: str) -> Session | None:
        """The live session of a cookie value (touching it: the user is active), or None:
        unknown, revoked, idle too long or too old."""
        found = self.peek(token)
        if found is not None:
            with self._lock:
                self._db.execute("UPDATE sessions SET last_seen=? WHERE id=?",
                                 (self.clock(), found.session_id))
        return found

    def peek(self, token: str) -> Session | None:
        """The live session of a cookie value, without counting it as activity (the live
        stream asks this: an open page alone does not keep a session alive)."""
        if not token:
            return None
        sid, now = _digest(token), self.clock()
        row = self._db.execute("SELECT user, csrf, created, last_seen, revoked FROM sessions "
                               "WHERE id=?", (sid,)).fetchone()
        if row is None or row[4] or now - row[3] > self.idle_s or now - row[2] > self.max_s:
            return None
        user = self._user(row[0])
        return Session(user, row[1], sid) if user is not None else None

    def revoke(self, token: str) -> None:
        with self._lock:
            self._db.execute("UPDATE sessions SET revoked=1 WHERE id=?", (_digest(token),))

    # -- API tokens -----------------------------------------------------------------------

    def new_token(self, name: str, label: str) -> str:
        if self._user(name) is None:
            raise AccountError(f"no active user {name}")
        token = "rst_" + secrets.token_urlsafe(32)
        with self._lock:
            self._db.execute("INSERT INTO tokens VALUES (?,?,?,?,0)",
                             (_digest(token), name, label, self.clock()))
        return token

    def token_user(self, token: str) -> User | None:
        row = self._db.execute("SELECT user FROM tokens WHERE id=? AND revoked=0",
                               (_digest(token),)).fetchone()
        return self._user(row[0]) if row else None
