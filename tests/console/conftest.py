"""The IT console against the real service: in process on a real socket (API tests), or as a
`meetguard serve` process driven by Debian's Chromium (browser tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from tests.support.redis import redis_server
from tests.support.service import ADMIN_TOKEN, CLIENT_KEY, client_headers

from meetguard.settings import load_settings
from meetguard.web.app import create_app

__all__ = ["redis_server"]


def make_settings(data_dir: Path, **overrides: Any):
    flags = {"data_dir": str(data_dir), "client_keys": f"tests:{CLIENT_KEY}",
             "admin_tokens": f"it:{ADMIN_TOKEN}", **{k: str(v) for k, v in overrides.items()}}
    return load_settings(flags, environ={})


@dataclass
class Console:
    """A signed-in console session on an in-process service."""

    client: TestClient
    csrf: str

    def headers(self, **extra: str) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf, **extra}

    async def json(self, path: str, **params: Any) -> Any:
        response = await self.client.get("/admin/api" + path, params=params)
        assert response.status == 200, await response.text()
        return await response.json()

    async def post(self, path: str, body: Any = None, **headers: str) -> Any:
        kwargs = {"json": body} if body is not None else {}
        return await self.client.post("/admin/api" + path, headers=self.headers(**headers),
                                      **kwargs)

    async def check(self, urls: list[str], context: str = "click", **headers: str) -> dict:
        """Links checked the way the extension checks them (client key, real handler)."""
        response = await self.client.post("/v1/links/check",
                                          json={"urls": urls, "context": context},
                                          headers=client_headers(**headers))
        assert response.status == 200, await response.text()
        return await response.json()


async def sign_in(client: TestClient, token: str = ADMIN_TOKEN) -> str:
    response = await client.post("/admin/api/session", json={"token": token})
    assert response.status == 200, await response.text()
    return (await response.json())["csrf"]


@pytest.fixture
async def make_console(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    clients: list[TestClient] = []

    async def make(signed_in: bool = True, **overrides: Any) -> Console:
        data_dir = overrides.pop("data_dir", None) or tmp_path / f"data{len(clients)}"
        client = TestClient(TestServer(create_app(make_settings(data_dir, **overrides))))
        await client.start_server()
        clients.append(client)
        return Console(client, await sign_in(client) if signed_in else "")

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def console(make_console: Callable[..., Any]) -> Console:
    return await make_console()
