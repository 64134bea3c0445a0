"""Times as people and tools read them: RFC 3339 with milliseconds, in UTC or the configured zone.

Records keep the epoch `ts` (what the stores index and sort on); this is the text shown beside
it in CSV, NDJSON, the API and the CLI. Exports write a million of these, so the text of each
minute is computed once and shared by the records of that minute.
"""

from __future__ import annotations

import functools
import math
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def parse_zone(name: str) -> tzinfo:
    """An IANA zone name (`Asia/Ho_Chi_Minh`) or `UTC`; ValueError saying what was wrong.

    >>> parse_zone("UTC") is UTC, parse_zone("Asia/Ho_Chi_Minh").key
    (True, 'Asia/Ho_Chi_Minh')
    """
    text = str(name).strip()
    if text.upper() in ("UTC", "Z", "ETC/UTC"):
        return UTC
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{text!r} is not an IANA time zone (e.g. UTC, Asia/Ho_Chi_Minh)"
                         ) from None


def rfc3339(ts: float, zone: tzinfo = UTC) -> str:
    """`ts` (unix seconds) as RFC 3339 with milliseconds and the zone's offset at that moment.

    >>> rfc3339(1767323045.2509)
    '2026-01-02T03:04:05.250+00:00'
    >>> rfc3339(1780621987.123, parse_zone("Asia/Ho_Chi_Minh"))
    '2026-06-05T08:13:07.123+07:00'
    """
    # datetime.fromtimestamp's rounding (to the microsecond, half to even), then milliseconds.
    frac, whole = math.modf(ts)
    micro = round(frac * 1e6)
    second = int(whole)
    if micro >= 1_000_000:
        second, micro = second + 1, micro - 1_000_000
    elif micro < 0:
        second, micro = second - 1, micro + 1_000_000
    minute, sec = divmod(second, 60)
    prefix, offset = _minute(minute, zone)
    if prefix is None:  # an offset with seconds (old local mean times): no shared minute text
        local = datetime.fromtimestamp(second, zone)
        return f"{local.strftime('%Y-%m-%dT%H:%M:%S')}.{micro // 1000:03d}{offset}"
    return f"{prefix}{_SECONDS[sec]}{_MILLIS[micro // 1000]}{offset}"


# Seconds and milliseconds as text from tables: format specs took half of `rfc3339`'s time.
_SECONDS = tuple(f":{second:02d}." for second in range(60))
_MILLIS = tuple(f"{milli:03d}" for milli in range(1000))


@functools.lru_cache(maxsize=4096)
def _minute(minute: int, zone: tzinfo) -> tuple[str | None, str]:
    # Every real offset change falls on a whole minute, so a minute's text and offset are one.
    local = datetime.fromtimestamp(minute * 60, zone)
    delta = local.utcoffset()
    seconds = int(delta.total_seconds()) if delta is not None else 0
    sign, seconds = ("-", -seconds) if seconds < 0 else ("+", seconds)
    hours, rest = divmod(seconds, 3600)
    offset = f"{sign}{hours:02d}:{rest // 60:02d}"
    if rest % 60:
        return None, offset + f":{rest % 60:02d}"
    return local.strftime("%Y-%m-%dT%H:%M"), offset
