"""The service's runtime state: the policy in force and everything the handlers share.

Handlers reach it through `request.app[SERVICE]` (`keys.py`); `app.py` builds it from settings.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..classify import Classifier
from ..policy import Policy, load_policy
from ..quietlog import QuietLog
from ..room_details import load_room_details, room_details_document
from ..signatures import default_signatures_dir
from ..store.base import LogRecord, LogStore, SharedState, StoreError
from .answers import PreparedLink, preparer
from .auth import KeyRing
from .metrics import Metrics

log = logging.getLogger("meetguard.service")
SLOW_LOG_WRITE_SECONDS = 1.0
"""A log write this long is logged (at most once a minute): answers waited for the store."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One policy with its classifier (and its cache): swapped together, atomically."""

    policy: Policy
    classifier: Classifier
    links: Callable[[str], PreparedLink]
    """url -> the verdict prepared for answers and records (cached)."""
    loaded_at: float
    policy_document: bytes = b""  # GET /v1/policy body, built once per snapshot
    etag: str = ""


class PolicyHolder:
    """The policy in force. A reload builds the new snapshot off the event loop, then swaps;
    a broken signature file raises and leaves the current snapshot serving."""

    def __init__(self, policy: Policy, settings: Any) -> None:
        self._settings = settings
        self._lock = asyncio.Lock()
        self.current = self._snapshot(policy)

    def _snapshot(self, policy: Policy) -> Snapshot:
        policy.warm()
        document = policy_document(policy, self._settings)
        body = orjson.dumps(document)
        etag = '"' + policy.version + "-" + _digest(body) + '"'
        gc.freeze()  # the snapshot lives long: keep it out of every collection (tail latency)
        return Snapshot(policy, Classifier(policy), preparer(policy), time.time(), body, etag)

    async def reload(self, directory: Path) -> tuple[str, str]:
        """Load `directory` and swap it in; returns (previous version, new version)."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            policy = await loop.run_in_executor(None, load_policy, directory)
            snapshot = await loop.run_in_executor(None, self._snapshot, policy)
            previous, self.current = self.current, snapshot
            return previous.policy.version, snapshot.policy.version


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:12]


def policy_document(policy: Policy, settings: Any) -> dict[str, Any]:
    """What the extension caches: enough to decide known domains offline and instantly."""
    platforms = [p.to_dict() for p in policy.platforms]
    return {
        "version": policy.version,
        "platforms": platforms,
        "organisation_domains": [d for p in policy.platforms if p.id == "organisation"
                                 for d in p.domains],
        "known_bad_domains": policy.known_bad.domains(),
        "shorteners": policy.shorteners.domains(),
        "webmail_hosts": list(settings.webmail_hosts),
        "fail_mode": settings.fail_mode,
        "actions": {c.value: a.value for c, a in policy.actions.by_class.items()},
        "click_through": {c.value: v for c, v in policy.actions.click_through.items()},
        "override_ttl_seconds": policy.actions.override_ttl_seconds,
        "verdict_ttl_seconds": policy.actions.verdict_ttl_seconds,
        "advisory": {"en": policy.advisory.en, "vi": policy.advisory.vi},
        # The send-time guard's definitions (a broken room_details.toml fails the snapshot).
        "room_details": room_details_document(load_room_details(policy.directory), policy),
    }


@dataclass
class Service:
    """Everything the handlers share, reached through `request.app[SERVICE]`."""

    settings: Any
    policies: PolicyHolder
    store: LogStore
    state: SharedState
    keys: KeyRing
    metrics: Metrics = field(default_factory=Metrics)
    scan_pool: ThreadPoolExecutor | None = None
    scan_slots: asyncio.Semaphore | None = None
    signatures_dir: Path = field(default_factory=default_signatures_dir)
    started_at: float = field(default_factory=time.time)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    callers: dict[tuple[str, str | None, str | None], Any] = field(default_factory=dict)
    """Authenticated callers by their headers (see `middlewares.MAX_KNOWN_CALLERS`)."""
    slow_writes: QuietLog = field(default_factory=lambda: QuietLog(log))
    store_errors: QuietLog = field(default_factory=lambda: QuietLog(log))
    """Store errors answered 503 (a full disk fails every request: one line a minute)."""
    retrohunts: Any = None
    """`Retrohunts`: re-checks the log after each reload and on demand."""

    async def log(self, records: list[LogRecord], counted: dict[str, int]) -> None:
        """Store records (durable before return) and add to counters."""
        if records:
            started = time.perf_counter()
            await self.store.append(records)
            self._observe_write(time.perf_counter() - started)
        if counted:
            await self.store.count(counted)
        counts: dict[tuple[str, str, str], int] = {}
        for r in records:
            key = (r.kind, r.verdict_class or "", r.action or "")
            counts[key] = counts.get(key, 0) + 1
        for (kind, verdict_class, action), n in counts.items():
            self.metrics.inc("meetguard_verdicts_total",
                             (("kind", kind), ("class", verdict_class), ("action", action)), n)

    def _observe_write(self, seconds: float) -> None:
        """How long answers waited for their records to be durable: a slow disk, a lock held
        by another program on the SQLite file, or a slow Redis shows here first."""
        self.metrics.observe("meetguard_log_write_seconds", (), seconds)
        if seconds >= SLOW_LOG_WRITE_SECONDS:
            self.slow_writes.warning("a log write took %.2f s: answers waited for the store (its"
                                     " disk, a lock another program holds on the database, or"
                                     " Redis)", seconds)

    async def reload(self, *, announce: bool) -> tuple[str, str]:
        previous, new = await self.policies.reload(self.signatures_dir)
        if previous != new:
            log.info("signatures reloaded", extra={"previous": previous, "version": new})
        if self.retrohunts is not None:
            self.retrohunts.after_reload()  # who already clicked what is now known bad
        if announce:
            try:
                await self.state.publish_reload(new)
            except StoreError as exc:
                log.warning("could not announce the reload to other instances: %s", exc)
        return previous, new
