"""Fixtures for the store tests: every contract test runs on SQLite, Redis and Redis Cluster."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from tests.support.redis import redis_cluster, redis_own_server, redis_server

from meetguard.store.base import LogStore
from meetguard.store.redis import RedisLogStore
from meetguard.store.sqlite import SQLiteLogStore

__all__ = ["redis_cluster", "redis_own_server", "redis_server"]  # fixtures used by the tests

BACKENDS = [
    pytest.param("sqlite"),
    pytest.param("sqlite-threaded"),  # as with --workers N: every commit by the writer thread
    pytest.param("sqlite-indexed"),
    pytest.param("redis", marks=pytest.mark.redis),
    pytest.param("cluster", marks=pytest.mark.redis),
]

StoreFactory = Callable[..., LogStore]


class IndexedSQLiteLogStore(SQLiteLogStore):
    """SQLite with every appended record moved out of the inbox at once, so the contract runs
    on the indexed table and the counters too (the plain store mostly reads its inbox)."""

    async def append(self, records: Any) -> None:
        await super().append(records)
        await self.index_inbox()

    async def count(self, counters: Any, *, ts: float | None = None) -> None:
        await super().count(counters, ts=ts)
        await self.index_inbox()


def unique_prefix() -> str:
    """A key prefix of its own for each test, so tests can share one Redis."""
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture(params=BACKENDS)
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """Builds an unstarted store on the backend the test is parametrised with."""
    backend: str = request.param
    if backend == "sqlite":
        return lambda **kw: SQLiteLogStore(tmp_path / "log.db", **kw)
    if backend == "sqlite-threaded":
        return lambda **kw: SQLiteLogStore(tmp_path / "log.db", inline_commits=False, **kw)
    if backend == "sqlite-indexed":
        return lambda **kw: IndexedSQLiteLogStore(tmp_path / "log.db", **kw)
    server: Any = request.getfixturevalue("redis_server" if backend == "redis" else "redis_cluster")
    prefix = unique_prefix()

    def make(**kw: Any) -> LogStore:
        kw.setdefault("spool_path", tmp_path / "spool.jsonl")
        return RedisLogStore(server.url, prefix=prefix, **kw)

    return make


@pytest.fixture
async def store(make_store: StoreFactory) -> AsyncIterator[LogStore]:
    """A started store, closed after the test."""
    log_store = make_store()
    await log_store.start()
    yield log_store
    await log_store.close()
