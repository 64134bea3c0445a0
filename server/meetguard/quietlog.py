"""`QuietLog`: a warning that repeats with every request (a full disk, a slow store) is logged
at most once a minute, the next line saying how many were held back meanwhile."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

QUIET_SECONDS = 60.0


class QuietLog:
    """One kind of warning, logged at most once every `every` seconds (from any thread)."""

    def __init__(self, logger: logging.Logger, every: float = QUIET_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._log = logger
        self._every = every
        self._clock = clock
        self._lock = threading.Lock()  # the SQLite writer's thread warns too
        self._quiet_until = float("-inf")
        self._held = 0

    def warning(self, msg: str, *args: Any) -> bool:
        """Log `msg % args` unless one was logged less than `every` seconds ago (then count it);
        returns whether it was logged."""
        with self._lock:
            now = self._clock()
            if now < self._quiet_until:
                self._held += 1
                return False
            self._quiet_until = now + self._every
            held, self._held = self._held, 0
        if held:
            msg += " (and %d more like it since the last one logged)"
            args = (*args, held)
        self._log.warning(msg, *args, extra={"suppressed": held})
        return True
