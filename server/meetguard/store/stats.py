"""Assembling the `stats()` answer from counters, shared by every store."""

from __future__ import annotations

from collections import Counter

from meetguard.verdict import Action, VerdictClass

TOP_HOSTS = 20
BLOCKED_DOWNLOAD_EVENTS = ("download-blocked", "download-removed")
_CLASSES = tuple(c.value for c in VerdictClass)
_ACTIONS = tuple(a.value for a in Action)
_KINDS = ("link", "file", "event")
"""Kinds always in the totals; `retro` (retro-hunt findings) shows once there is one."""


def _zeros(names: tuple[str, ...]) -> dict[str, int]:
    return dict.fromkeys(names, 0)


class StatsBuilder:
    """Collects counts for hours in `[start, end)` into the `LogStore.stats` shape.

    >>> b = StatsBuilder(0, 7200, 3600)
    >>> b.add_class(3600, "warned", 2); b.add_event("override", 1)
    >>> out = b.result()
    >>> out["buckets"][1]["class"]["warned"], out["totals"]["class"]["warned"], out["overrides"]
    (2, 2, 1)
    """

    def __init__(self, start: int, end: int, bucket_seconds: int) -> None:
        self._bucket = bucket_seconds
        first = start // bucket_seconds * bucket_seconds
        self._buckets = {
            ts: {"ts": ts, "class": _zeros(_CLASSES), "action": _zeros(_ACTIONS)}
            for ts in range(first, end, bucket_seconds)
        }
        self._class = _zeros(_CLASSES)
        self._action = _zeros(_ACTIONS)
        self._kind = _zeros(_KINDS)
        self._platforms: Counter[str] = Counter()
        self._hosts: Counter[tuple[str, str]] = Counter()
        self._events: Counter[str] = Counter()
        self._codes: Counter[str] = Counter()
        self._hover_allow = 0

    def _bucket_of(self, ts: int) -> dict:
        return self._buckets[ts // self._bucket * self._bucket]

    def add_class(self, ts: int, verdict_class: str, n: int) -> None:
        """Count `n` verdicts of a class in the hour (or bucket) starting at `ts`."""
        if verdict_class:
            bucket = self._bucket_of(ts)["class"]
            bucket[verdict_class] = bucket.get(verdict_class, 0) + n
            self._class[verdict_class] = self._class.get(verdict_class, 0) + n

    def add_action(self, ts: int, action: str, n: int) -> None:
        """Count `n` verdicts with an action in the hour (or bucket) starting at `ts`."""
        if action:
            bucket = self._bucket_of(ts)["action"]
            bucket[action] = bucket.get(action, 0) + n
            self._action[action] = self._action.get(action, 0) + n

    def add_kind(self, kind: str, n: int) -> None:
        self._kind[kind] = self._kind.get(kind, 0) + n

    def add_platform(self, platform: str, n: int) -> None:
        if platform:
            self._platforms[platform] += n

    def add_event(self, event: str, n: int) -> None:
        if event:
            self._events[event] += n

    def add_code(self, code: str, n: int) -> None:
        self._codes[code] += n

    def add_hover_allow(self, n: int) -> None:
        self._hover_allow += n

    def add_host(self, host: str, verdict_class: str, n: int) -> None:
        self._hosts[(host, verdict_class)] += n

    def result(self) -> dict:
        """The stats dict (see `LogStore.stats`)."""
        hosts = sorted(self._hosts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_HOSTS]
        platforms = sorted(self._platforms.items(), key=lambda kv: (-kv[1], kv[0]))
        return {
            "buckets": list(self._buckets.values()),
            "totals": {"class": self._class, "action": self._action, "kind": self._kind},
            "top_hosts": [
                {"host": h, "class": c or None, "count": n} for (h, c), n in hosts if n > 0
            ],
            "top_platforms": [{"platform": p, "count": n} for p, n in platforms if n > 0],
            "overrides": self._events["override"],
            "blocked_downloads": sum(self._events[e] for e in BLOCKED_DOWNLOAD_EVENTS),
            "impersonation": self._codes["impersonation"],
            "hover_allow": self._hover_allow,
        }
