"""The aiohttp application factory and the service's runtime state.

`create_app(settings)` builds everything from settings; tests and embedders may inject a store,
shared state or policy. Nothing is module-level: two apps in one process share nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from ..classify import Classifier
from ..policy import Policy, load_policy
from ..room_details import load_room_details, room_details_document
from ..signatures import default_signatures_dir
from ..store.base import LogRecord, LogStore, SharedState, StoreError
from ..store.memory import LocalState
from ..store.sqlite import SQLiteLogStore
from .answers import PreparedLink, preparer
from .auth import KeyRing
from .metrics import Metrics
from .retrohunts import Retrohunts, describe_metrics

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
    slow_writes_quiet_until: float = 0.0
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
        if seconds >= SLOW_LOG_WRITE_SECONDS and time.monotonic() >= self.slow_writes_quiet_until:
            self.slow_writes_quiet_until = time.monotonic() + 60
            log.warning("a log write took %.2f s: answers waited for the store (its disk, a"
                        " lock another program holds on the database, or Redis)", seconds)

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


SERVICE = web.AppKey("service", Service)


def create_app(
    settings: Any,
    *,
    store: LogStore | None = None,
    state: SharedState | None = None,
    policy: Policy | None = None,
    keys: KeyRing | None = None,
) -> web.Application:
    """The service's application. Resources open in `cleanup_ctx` and close with the app."""
    from .middlewares import middlewares
    from .routes import setup_routes

    signatures = Path(settings.signatures) if settings.signatures else default_signatures_dir()
    service = Service(
        settings=settings,
        policies=PolicyHolder(policy or load_policy(signatures), settings),
        store=store or _default_store(settings),
        state=state or _default_state(settings),
        keys=keys or KeyRing.from_settings(settings.client_keys, settings.admin_tokens),
        signatures_dir=signatures,
    )
    app = web.Application(
        middlewares=middlewares(),
        client_max_size=max(settings.max_upload_bytes, settings.max_body_bytes) + 1024,
    )
    service.retrohunts = Retrohunts(service)
    app[SERVICE] = service
    setup_routes(app)
    app.cleanup_ctx.append(_resources)
    _describe_metrics(service)
    return app


def _default_store(settings: Any) -> LogStore:
    data_dir = Path(settings.data_dir)
    if settings.redis_url:
        from ..store.redis import RedisLogStore

        return RedisLogStore(settings.redis_url, retention_days=settings.retention_days,
                             spool_path=data_dir / "spool" / "records.jsonl",
                             spool_max_bytes=settings.spool_max_bytes,
                             timeout=settings.redis_timeout)
    return SQLiteLogStore(data_dir / "meetguard.sqlite3", retention_days=settings.retention_days,
                          synchronous=settings.sqlite_synchronous.upper(),
                          inbox_rows=settings.sqlite_inbox_rows,
                          inline_commits=settings.workers == 1)


def _default_state(settings: Any) -> SharedState:
    if settings.redis_url:
        from ..store.redis import RedisState

        return RedisState(settings.redis_url, timeout=settings.redis_timeout)
    return LocalState()


async def _resources(app: web.Application) -> AsyncIterator[None]:
    service = app[SERVICE]
    await service.store.start()
    await service.state.start()
    service.scan_pool = ThreadPoolExecutor(max_workers=service.settings.max_concurrent_scans,
                                           thread_name_prefix="meetguard-scan")
    service.scan_slots = asyncio.Semaphore(service.settings.max_concurrent_scans)
    service.state.subscribe_reload(_reload_from_channel(service))
    retention = asyncio.create_task(service.store.run_retention(3600.0),
                                    name="meetguard-retention")
    service.tasks.add(retention)
    try:
        yield
    finally:
        tasks = list(service.tasks)  # (a task leaves the set as it ends)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await service.state.close()
        await service.store.close()  # flushes: every answered record is committed
        service.scan_pool.shutdown(wait=False, cancel_futures=True)


def _reload_from_channel(service: Service):
    async def on_message(version: str) -> None:
        if version == service.policies.current.policy.version:
            return
        try:
            await service.reload(announce=False)
        except Exception as exc:
            log.error("reload announced by another instance failed here: %s", exc)
    return on_message


def _describe_metrics(service: Service) -> None:
    m = service.metrics
    m.describe("meetguard_requests_total", "counter", "HTTP requests by route and status.")
    m.describe("meetguard_request_duration_seconds", "histogram", "HTTP request latency.")
    m.describe("meetguard_log_write_seconds", "histogram",
               "How long answers waited for their records to be durable in the log.")
    m.describe("meetguard_verdicts_total", "counter", "Verdicts and events logged.")
    m.describe("meetguard_counted_total", "counter", "Verdicts counted but not stored.")
    m.describe("meetguard_scans_total", "counter", "File content scans by outcome.")
    m.describe("meetguard_store_queue_depth", "gauge", "Records waiting for the store.")
    m.describe("meetguard_spool_bytes", "gauge", "Bytes waiting in the local spool.")
    m.describe("meetguard_store_inbox_rows", "gauge",
               "SQLite records committed but not indexed yet (indexed when idle).")
    m.describe("meetguard_policy_info", "gauge", "The policy in force (version label).")
    m.gauge("meetguard_store_queue_depth",
            lambda: [((), float(service.store.health().get("queue_depth", 0) or 0))])
    m.gauge("meetguard_spool_bytes",
            lambda: [((), float(service.store.health().get("spool_size", 0) or 0))])
    m.gauge("meetguard_store_inbox_rows",
            lambda: [((), float(service.store.health().get("inbox", 0) or 0))])
    m.gauge("meetguard_policy_info",
            lambda: [((("version", service.policies.current.policy.version),), 1.0)])
    describe_metrics(service)
