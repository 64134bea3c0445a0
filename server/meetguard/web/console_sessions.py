"""Admin page sessions: kept in memory, server side; the browser holds only a random id.

A session is created by signing in with an admin token and ends when it expires (a fixed
lifetime from sign-in) or at sign-out. Each carries its own CSRF token, which the page sends
back in a header on every state-changing request. Failed sign-ins are throttled per address.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_SESSIONS = 10_000
FAILURE_WINDOW = 600.0
MAX_FAILURES = 20


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


@dataclass
class SessionStore:
    """Sessions by id, bounded; expired ones are dropped when met or when space is needed."""

    lifetime: float
    clock: Callable[[], float] = time.time
    _sessions: dict[str, Session] = field(default_factory=dict)
    _failures: dict[str, list[float]] = field(default_factory=dict)

    def create(self, name: str) -> Session:
        now = self.clock()
        if len(self._sessions) >= MAX_SESSIONS:
            self._prune(now)
            while len(self._sessions) >= MAX_SESSIONS:  # the oldest go first
                self._sessions.pop(next(iter(self._sessions)))
        session = Session(secrets.token_urlsafe(32), name, secrets.token_urlsafe(32), now,
                          now + self.lifetime)
        self._sessions[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id, or None (unknown, signed out or expired)."""
        if not session_id:
            return None
        session = self._sessions.get(session_id)
        if session is None:
            return None
        if session.expires <= self.clock():
            del self._sessions[session_id]
            return None
        return session

    def end(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._sessions)

    def _prune(self, now: float) -> None:
        for sid in [s.id for s in self._sessions.values() if s.expires <= now]:
            del self._sessions[sid]

    # -- sign-in throttling ---------------------------------------------------------------------

    def throttled(self, address: str) -> bool:
        """True when `address` failed to sign in too often lately."""
        now = self.clock()
        recent = [t for t in self._failures.get(address, ()) if t > now - FAILURE_WINDOW]
        if recent:
            self._failures[address] = recent
        else:
            self._failures.pop(address, None)
        return len(recent) >= MAX_FAILURES

    def failed(self, address: str) -> None:
        if len(self._failures) > MAX_SESSIONS:
            self._failures.clear()  # bounded memory beats a perfect memory of failures
        self._failures.setdefault(address, []).append(self.clock())
