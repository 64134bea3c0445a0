"""The service in process, on a real socket, with a real SQLite file (and real Redis where a
test asks for it)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from tests.support.redis import redis_cluster, redis_own_server, redis_server
from tests.support.service import ADMIN_TOKEN, CLIENT_KEY

from meetguard.settings import Settings, load_settings
from meetguard.web.app import create_app

__all__ = ["redis_cluster", "redis_own_server", "redis_server"]


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    flags = {"data_dir": str(data_dir), "client_keys": f"tests:{CLIENT_KEY}",
             "admin_tokens": f"it:{ADMIN_TOKEN}", **{k: str(v) for k, v in overrides.items()}}
    return load_settings(flags, environ={})


@pytest.fixture
async def make_client(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """Starts the app on a real socket; returns an aiohttp TestClient (closed after the test)."""
    clients: list[TestClient] = []

    async def make(data_dir: Path | None = None, **overrides: Any) -> TestClient:
        settings = make_settings(data_dir or tmp_path / f"data{len(clients)}", **overrides)
        client = TestClient(TestServer(create_app(settings)))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def client(make_client: Callable[..., Any]) -> TestClient:
    return await make_client()
