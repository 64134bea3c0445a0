"""Admin page sessions, kept server side; the browser holds only a random id.

A session is created by signing in with an admin token and ends when it expires (a fixed
lifetime from sign-in) or at sign-out. Each carries its own CSRF token, which the page sends
back in a header on every state-changing request. Failed sign-ins are throttled per address.

Where sessions live follows the log: in a small SQLite file beside the log (so the workers of
`serve --workers N` share them), or in Redis when the service uses Redis (so every instance
behind a load balancer does). Session ids are stored only as SHA-256 digests. `MemorySessions`
keeps them in one process (tests, embedding).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..datadir import create_private_file, make_private_dir

MAX_SESSIONS = 10_000
FAILURE_WINDOW = 600.0
MAX_FAILURES = 20


class SessionStoreError(Exception):
    """Sessions cannot be read or written (the store is down)."""


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    name: str
    """The admin token's name (never the token)."""
    csrf: str
    created: float
    expires: float

    def csrf_ok(self, presented: str | None) -> bool:
        """Constant-time check of the CSRF token a request carries."""
        return bool(presented) and hmac.compare_digest(presented.encode(), self.csrf.encode())


def new_session(name: str, now: float, lifetime: float) -> Session:
    return Session(secrets.token_urlsafe(32), name, secrets.token_urlsafe(32), now,
                   now + lifetime)


def digest(session_id: str) -> str:
    """What is stored for a session id: a leaked store gives no usable cookie."""
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


class SessionStore(Protocol):
    async def create(self, name: str) -> Session:
        """A new session for the admin token named `name`."""

    async def get(self, session_id: str | None) -> Session | None:
        """The live session with this id, or None (unknown, signed out or expired)."""

    async def end(self, session_id: str) -> None:
        """Sign out: the id is never accepted again."""

    async def throttled(self, address: str) -> bool:
        """True when `address` failed to sign in too often lately."""

    async def failed(self, address: str) -> None:
        """Count a failed sign-in from `address`."""

    async def close(self) -> None: ...


@dataclass
class MemorySessions:
    """Sessions in this process only, bounded; expired ones go when met or when space is
    needed."""

    lifetime: float
    clock: Callable[[], float] = time.time
    _sessions: dict[str, Session] = field(default_factory=dict)
    _failures: dict[str, list[float]] = field(default_factory=dict)

    async def create(self, name: str) -> Session:
        now = self.clock()
        if len(self._sessions) >= MAX_SESSIONS:
            for key in [k for k, s in self._sessions.items() if s.expires <= now]:
                del self._sessions[key]
            while len(self._sessions) >= MAX_SESSIONS:  # the oldest go first
                self._sessions.pop(next(iter(self._sessions)))
        session = new_session(name, now, self.lifetime)
        self._sessions[digest(session.id)] = session
        return session

    async def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        key = digest(session_id)
        session = self._sessions.get(key)
        if session is not None and session.expires <= self.clock():
            del self._sessions[key]
            return None
        return session

    async def end(self, session_id: str) -> None:
        self._sessions.pop(digest(session_id), None)

    def __len__(self) -> int:
        return len(self._sessions)

    async def throttled(self, address: str) -> bool:
        now = self.clock()
        recent = [t for t in self._failures.get(address, ()) if t > now - FAILURE_WINDOW]
        if recent:
            self._failures[address] = recent
        else:
            self._failures.pop(address, None)
        return len(recent) >= MAX_FAILURES

    async def failed(self, address: str) -> None:
        if len(self._failures) > MAX_SESSIONS:
            self._failures.clear()  # bounded memory beats a perfect memory of failures
        self._failures.setdefault(address, []).append(self.clock())

    async def close(self) -> None:
        self._sessions.clear()


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS sessions (key TEXT PRIMARY KEY, name TEXT NOT NULL,"
    " csrf TEXT NOT NULL, created REAL NOT NULL, expires REAL NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS failures (address TEXT NOT NULL, ts REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS failures_address ON failures (address, ts)",
)


class SQLiteSessions:
    """Sessions in a SQLite file: shared by every worker process on this data directory."""

    def __init__(self, path: Path, lifetime: float, clock: Callable[[], float] = time.time
                 ) -> None:
        self.path = path
        self.lifetime = lifetime
        self.clock = clock
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            make_private_dir(self.path.parent)
            create_private_file(self.path)  # 0600 before SQLite makes its -wal/-shm alike
            conn = sqlite3.connect(self.path, timeout=5.0, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            for statement in _SCHEMA:
                conn.execute(statement)
            self.path.chmod(0o600)
            self._conn = conn
        return self._conn

    async def _run(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        def locked() -> Any:
            with self._lock:
                try:
                    return work(self._connection())
                except sqlite3.Error as exc:
                    raise SessionStoreError(f"console sessions in {self.path}: {exc}") from exc
        return await asyncio.to_thread(locked)

    async def create(self, name: str) -> Session:
        now = self.clock()
        session = new_session(name, now, self.lifetime)

        def insert(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM sessions WHERE expires <= ?", (now,))
            conn.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                         (digest(session.id), name, session.csrf, now, session.expires))
        await self._run(insert)
        return session

    async def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        row = await self._run(lambda conn: conn.execute(
            "SELECT name, csrf, created, expires FROM sessions WHERE key = ? AND expires > ?",
            (digest(session_id), self.clock())).fetchone())
        return None if row is None else Session(session_id, *row)

    async def end(self, session_id: str) -> None:
        await self._run(lambda conn: conn.execute("DELETE FROM sessions WHERE key = ?",
                                                  (digest(session_id),)))

    async def throttled(self, address: str) -> bool:
        since = self.clock() - FAILURE_WINDOW

        def count(conn: sqlite3.Connection) -> int:
            conn.execute("DELETE FROM failures WHERE ts <= ?", (since,))
            return conn.execute("SELECT COUNT(*) FROM failures WHERE address = ?",
                                (address,)).fetchone()[0]
        return await self._run(count) >= MAX_FAILURES

    async def failed(self, address: str) -> None:
        await self._run(lambda conn: conn.execute("INSERT INTO failures VALUES (?, ?)",
                                                  (address, self.clock())))

    async def close(self) -> None:
        def shut() -> None:
            with self._lock:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None
        await asyncio.to_thread(shut)


class RedisSessions:
    """Sessions in Redis: shared by every service instance using it; expiry by key TTL."""

    def __init__(self, url: str, lifetime: float, *, prefix: str = "mg",
                 timeout: float = 1.0) -> None:
        from ..store.redis import connect

        self.lifetime = lifetime
        self.prefix = prefix
        self._client = connect(url, timeout=timeout)

    def _key(self, kind: str, value: str) -> str:
        return f"{self.prefix}:console:{kind}:{value}"

    async def _call(self, operation: Any) -> Any:
        from redis.exceptions import RedisError

        try:
            return await operation
        except (RedisError, OSError) as exc:
            raise SessionStoreError(f"console sessions in Redis: {exc}") from exc

    async def create(self, name: str) -> Session:
        session = new_session(name, time.time(), self.lifetime)
        value = json.dumps({"name": name, "csrf": session.csrf, "created": session.created,
                            "expires": session.expires})
        await self._call(self._client.set(self._key("session", digest(session.id)), value,
                                          px=int(self.lifetime * 1000)))
        return session

    async def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        raw = await self._call(self._client.get(self._key("session", digest(session_id))))
        if raw is None:
            return None
        data = json.loads(raw)
        if data["expires"] <= time.time():
            return None
        return Session(session_id, data["name"], data["csrf"], data["created"], data["expires"])

    async def end(self, session_id: str) -> None:
        await self._call(self._client.delete(self._key("session", digest(session_id))))

    async def throttled(self, address: str) -> bool:
        count = await self._call(self._client.get(self._key("failures", address)))
        return int(count or 0) >= MAX_FAILURES

    async def failed(self, address: str) -> None:
        key = self._key("failures", address)
        await self._call(self._client.incr(key))
        await self._call(self._client.expire(key, int(FAILURE_WINDOW), nx=True))

    async def close(self) -> None:
        await self._client.aclose()


def session_store(settings: Any) -> SessionStore:
    """Sessions where the log is: Redis when the service uses it, else beside the SQLite log."""
    lifetime = settings.session_minutes * 60.0
    if settings.redis_url:
        return RedisSessions(settings.redis_url, lifetime,
                             timeout=max(1.0, settings.redis_timeout))
    return SQLiteSessions(Path(settings.data_dir) / "console.sqlite3", lifetime)
