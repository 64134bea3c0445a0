"""Times people write in filters: `24h`, `7d`, ISO 8601, or unix seconds."""

from __future__ import annotations

import math
import re
import time
from datetime import UTC, datetime

_RELATIVE = re.compile(r"^(\d{1,6})([smhdw])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_time(text: str, *, now: float | None = None) -> float:
    """Unix seconds for `text`; a relative span means that long before now.

    >>> parse_time("24h", now=100_000.0)
    13600.0
    >>> parse_time("2026-01-02T03:04:05Z")
    1767323045.0
    >>> parse_time("1700000000")
    1700000000.0
    """
    text = text.strip()
    now = time.time() if now is None else now
    relative = _RELATIVE.match(text)
    if relative:
        return now - int(relative.group(1)) * _UNIT[relative.group(2)]
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(value) or not 0 <= value < 2**40:
            raise ValueError("out of range")
        return value
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()
