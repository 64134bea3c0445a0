"""The aiohttp application factory.

`create_app(settings)` builds everything from settings; tests and embedders may inject a store,
shared state or policy. Nothing is module-level: two apps in one process share nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from aiohttp import web

from ..policy import Policy, load_policy
from ..signatures import default_signatures_dir
from ..store.base import LogStore, SharedState
from ..store.memory import LocalState
from ..store.sqlite import SQLiteLogStore
from .auth import KeyRing
from .keys import SERVICE
from .middlewares import middlewares
from .retrohunts import Retrohunts, describe_metrics
from .routes import setup_routes
from .service import PolicyHolder, Service

log = logging.getLogger("meetguard.service")


def create_app(
    settings: Any,
    *,
    store: LogStore | None = None,
    state: SharedState | None = None,
    policy: Policy | None = None,
    keys: KeyRing | None = None,
) -> web.Application:
    """The service's application. Resources open in `cleanup_ctx` and close with the app."""
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
