"""`LocalState`: the shared state of a single process, kept in memory (used with SQLite)."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

log = logging.getLogger(__name__)

ReloadCallback = Callable[[str], Awaitable[None]]


def sliding_window_allows(
    counts: tuple[int, int, int], now: float, limit: int, window_s: float
) -> tuple[bool, tuple[int, int, int]]:
    """Sliding-window rate limit: `(allowed, new_counts)` from `(window, current, previous)`.

    The estimate is the current window's count plus the previous window's count weighted by how
    much of it the sliding window still covers. Refused requests are not counted.

    >>> allowed, state = sliding_window_allows((0, 0, 0), 10.0, 2, 10.0)
    >>> allowed, state
    (True, (1, 1, 0))
    >>> sliding_window_allows(state, 10.5, 2, 10.0)[0]
    True
    >>> sliding_window_allows((1, 2, 0), 11.0, 2, 10.0)[0]
    False
    """
    window = math.floor(now / window_s)
    stored, current, previous = counts
    if stored != window:
        previous = current if stored == window - 1 else 0
        current = 0
    elapsed = (now - window * window_s) / window_s
    if previous * (1 - elapsed) + current + 1 > limit:
        return False, (window, current, previous)
    return True, (window, current + 1, previous)


class LocalState:
    """In-process SharedState: bounded LRU scan cache with TTL, rate limits, reload callbacks."""

    def __init__(
        self,
        *,
        max_scans: int = 10_000,
        max_clients: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._scans: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._windows: OrderedDict[str, tuple[int, int, int]] = OrderedDict()
        self._max_scans = max_scans
        self._max_clients = max_clients
        self._clock = clock
        self._callbacks: list[ReloadCallback] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Nothing to open."""

    async def close(self) -> None:
        """Stop listening for reloads; waits for callbacks already running."""
        self._callbacks.clear()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def get_scan(self, sha256: str) -> dict | None:
        """The cached scan result, if present and not expired."""
        entry = self._scans.get(sha256)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._scans[sha256]
            return None
        self._scans.move_to_end(sha256)
        return dict(entry[1])

    async def put_scan(self, sha256: str, result: Mapping[str, Any], ttl: int) -> None:
        """Cache a result; the least recently used entry goes when the cache is full."""
        self._scans[sha256] = (self._clock() + ttl, dict(result))
        self._scans.move_to_end(sha256)
        while len(self._scans) > self._max_scans:
            self._scans.popitem(last=False)

    async def rate_limit(self, client: str, limit: int, window_s: float) -> bool:
        """Sliding-window limit per client (see `sliding_window_allows`)."""
        return self.rate_limit_nowait(client, limit, window_s)

    def rate_limit_nowait(self, client: str, limit: int, window_s: float) -> bool:
        """`rate_limit`, which in process never has to wait."""
        counts = self._windows.get(client, (0, 0, 0))
        allowed, counts = sliding_window_allows(counts, self._clock(), limit, window_s)
        self._windows[client] = counts
        self._windows.move_to_end(client)
        while len(self._windows) > self._max_clients:
            self._windows.popitem(last=False)
        return allowed

    async def publish_reload(self, version: str) -> None:
        """Run every subscribed callback (in its own task) with `version`."""
        for callback in list(self._callbacks):
            task = asyncio.create_task(self._deliver(callback, version))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def subscribe_reload(self, callback: ReloadCallback) -> None:
        """Register a callback for reload messages."""
        self._callbacks.append(callback)

    def health(self) -> dict:
        """Sizes of the in-memory tables."""
        return {"state": "local", "scans": len(self._scans), "clients": len(self._windows)}

    @staticmethod
    async def _deliver(callback: ReloadCallback, version: str) -> None:
        try:
            await callback(version)
        except Exception:
            log.exception("reload callback failed for version %s", version)
