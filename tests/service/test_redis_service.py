"""Service instances sharing a real Redis (one redis-server, or a three-node Redis Cluster):
the log, reloads, rate limits and the scan cache are shared; a Redis outage under load costs no
verdict, no record and no duplicate; /readyz tells the operator what is wrong."""

from __future__ import annotations

import asyncio
import collections
import hashlib
import json
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from tests.support import samples
from tests.support.redis import RedisServer, redis_command
from tests.support.service import ROOT, admin_headers, client_headers

from meetguard.web.problems import PROBLEM_BASE

pytestmark = pytest.mark.redis

NO_LIMIT = 10_000_000  # rate_limit_per_minute for load tests


@pytest.fixture(params=["redis", "cluster"])
def redis_url(request: pytest.FixtureRequest) -> str:
    """A Redis for the test: its own redis-server, or the session's three-node cluster (tests
    keep apart there by install ids and names of their own)."""
    if request.param == "redis":
        return request.getfixturevalue("redis_own_server").url
    return request.getfixturevalue("redis_cluster").url


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def check(client: TestClient, urls: list[str], install: str,
                context: str = "click") -> dict[str, Any]:
    async with client.post("/v1/links/check", json={"urls": urls, "context": context},
                           headers=client_headers(install=install)) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def log_ids(service: TestClient, **filters: str) -> list[str]:
    """Ids of every matching record (NDJSON export) through `service`."""
    async with service.get("/v1/logs", params={"format": "ndjson", **filters},
                          headers=admin_headers()) as response:
        assert response.status == 200, await response.text()
        text = await response.text()
    return [json.loads(line)["id"] for line in text.splitlines() if line]


async def readyz(client: TestClient) -> dict[str, Any]:
    async with client.get("/readyz") as response:
        assert response.status == 200
        return await response.json()


async def wait_until_listening(*clients: TestClient) -> None:
    """Until every instance is subscribed to the reload channel (5 s at most)."""
    deadline = time.monotonic() + 5
    for client in clients:
        while not (await readyz(client))["state"]["listening"]:
            assert time.monotonic() < deadline, "the reload listener never subscribed"
            await asyncio.sleep(0.02)


# -- two instances, one Redis --------------------------------------------------------------------


async def test_a_record_written_through_a_is_queried_through_b(
    make_client: Any, redis_url: str
) -> None:
    a = await make_client(redis_url=redis_url)
    b = await make_client(redis_url=redis_url)
    install = unique("pc")
    body = await check(a, ["https://us02web.zoom.us/j/1", "https://emeeting.mic.gov.vn/r/1",
                           "not a url"], install)
    through_a = [v["id"] for v in body["verdicts"]]
    assert sorted(await log_ids(b, client=install)) == sorted(through_a)
    async with b.post("/v1/events", json={"events": [{"type": "override",
                                                      "verdict_id": through_a[0]}]},
                      headers=client_headers(install=install)) as response:
        assert response.status == 202
        event_ids = (await response.json())["ids"]
    assert await log_ids(a, client=install, kind="event") == event_ids
    async with a.get("/v1/logs", params={"client": install, "host": "zoom.us"},
                     headers=admin_headers()) as response:
        (record,) = (await response.json())["items"]
    assert (record["id"], record["platform"], record["class"]) == (through_a[0], "zoom", "warned")


async def test_reload_on_a_reaches_b(make_client: Any, redis_url: str, tmp_path: Path) -> None:
    signatures = tmp_path / "signatures"
    shutil.copytree(ROOT / "signatures", signatures)
    a = await make_client(redis_url=redis_url, signatures=str(signatures))
    b = await make_client(redis_url=redis_url, signatures=str(signatures))
    await wait_until_listening(a, b)
    install = unique("pc")
    domain = unique("reload") + ".example.net"
    url = f"https://{domain}/meeting"
    before = await check(b, [url], install)
    assert before["verdicts"][0]["action"] != "block"
    with (signatures / "domains" / "local.txt").open("a") as handle:
        handle.write(f"\n{domain}\n")
    async with a.post("/v1/admin/reload", headers=admin_headers()) as response:
        assert response.status == 200, await response.text()
        reloaded = await response.json()
    assert reloaded["previous_version"] == before["policy_version"] != reloaded["version"]
    deadline = time.monotonic() + 5
    while (after := await check(b, [url], install))["policy_version"] != reloaded["version"]:
        assert time.monotonic() < deadline, "B never reloaded"
        await asyncio.sleep(0.02)
    verdict = after["verdicts"][0]
    assert verdict["action"] == "block"
    assert "known-bad" in [r["code"] for r in verdict["reasons"]]


async def test_the_rate_limit_is_shared(make_client: Any, redis_url: str) -> None:
    a = await make_client(redis_url=redis_url, rate_limit_per_minute=5)
    b = await make_client(redis_url=redis_url, rate_limit_per_minute=5)
    install = unique("pc")
    statuses = []
    for i in range(8):
        async with (a, b)[i % 2].post("/v1/links/check", json={"urls": ["https://zoom.us/"]},
                                      headers=client_headers(install=install)) as response:
            statuses.append(response.status)
            if response.status == 429:
                assert response.headers["Retry-After"].isdigit()
                assert response.content_type == "application/problem+json"
                assert (await response.json())["type"] == PROBLEM_BASE + "rate-limited"
    assert statuses == [200] * 5 + [429] * 3
    await check(b, ["https://zoom.us/"], unique("pc"))  # another install has its own budget
    assert len(await log_ids(a, client=install)) == 5  # a refused request logs nothing


async def test_the_scan_cache_is_shared(make_client: Any, redis_url: str) -> None:
    a = await make_client(redis_url=redis_url)
    b = await make_client(redis_url=redis_url)
    install = unique("pc")
    page = samples.html_smuggling(filename=unique("Invitation") + ".iso")
    sha = hashlib.sha256(page).hexdigest()
    facts = {"sha256": sha, "size": len(page), "filename": "invite.html", "mime": "text/html"}

    async def file_check(client: TestClient) -> dict[str, Any]:
        async with client.post("/v1/files/check", json=facts,
                               headers=client_headers(install=install)) as response:
            assert response.status == 200, await response.text()
            return (await response.json())["verdict"]

    assert (await file_check(b))["content_wanted"] is True
    async with a.put(f"/v1/files/{sha}/content", data=page,
                     params={"filename": "invite.html", "mime": "text/html"},
                     headers={**client_headers(install=install),
                              "Content-Type": "application/octet-stream"}) as response:
        assert response.status == 200, await response.text()
        scanned = (await response.json())["verdict"]
    assert scanned["scanned"] is True and scanned["action"] != "allow"
    cached = await file_check(b)
    assert cached["content_wanted"] is False and cached["scanned"] is True
    assert (cached["class"], cached["action"]) == (scanned["class"], scanned["action"])
    assert [r["code"] for r in cached["reasons"]] == [r["code"] for r in scanned["reasons"]]


# -- Redis goes away -----------------------------------------------------------------------------


async def test_redis_killed_and_restarted_under_load(
    make_client: Any, redis_own_server: RedisServer
) -> None:
    """kill -9 of redis-server, then a restart on the same AOF, while four clients send: every
    request is answered 200 quickly, and the log ends up with each answered id exactly once."""
    client = await make_client(redis_url=redis_own_server.url, rate_limit_per_minute=NO_LIMIT)
    stop = asyncio.Event()
    answered: list[str] = []
    statuses: collections.Counter[int] = collections.Counter()
    slowest = 0.0

    async def sender(i: int) -> None:
        nonlocal slowest
        n = 0
        while not stop.is_set():
            urls = [f"https://zoom.us/j/{i}{n}", f"https://outage-{i}-{n}.example.com/"]
            start = time.perf_counter()
            async with client.post("/v1/links/check", json={"urls": urls, "context": "click"},
                                   headers=client_headers(install=f"load-{i}")) as response:
                statuses[response.status] += 1
                if response.status == 200:
                    answered.extend(v["id"] for v in (await response.json())["verdicts"])
            slowest = max(slowest, time.perf_counter() - start)
            n += 1

    senders = [asyncio.create_task(sender(i)) for i in range(4)]
    try:
        await asyncio.sleep(0.7)
        before_outage = len(answered)
        await asyncio.to_thread(redis_own_server.kill)
        await asyncio.sleep(1.0)
        during = await readyz(client)
        assert during["store"]["redis"] == "down" and during["store"]["spool_size"] > 0
        assert any("unreachable" in w for w in during["warnings"])
        async with client.get("/v1/logs", headers=admin_headers()) as response:
            assert response.status == 503  # queries need Redis; verdicts do not
            assert (await response.json())["type"] == PROBLEM_BASE + "store-unavailable"
        await asyncio.to_thread(redis_own_server.start)
        in_outage = len(answered) - before_outage
        await asyncio.sleep(1.0)
    finally:
        stop.set()
        await asyncio.gather(*senders)
    assert set(statuses) == {200}, statuses
    assert slowest < 1.0, f"a verdict took {slowest:.2f} s"
    assert before_outage > 20 and in_outage > 20  # load before and during the outage
    deadline = time.monotonic() + 10
    while (ready := await readyz(client))["store"]["spool_size"] or ready["warnings"]:
        assert time.monotonic() < deadline, f"the spool was never replayed: {ready}"
        await asyncio.sleep(0.1)
    logged = collections.Counter(await log_ids(client))
    assert [i for i, n in logged.items() if n > 1] == []
    assert set(logged) == set(answered) and len(answered) == len(set(answered))


async def test_readyz_says_when_redis_has_no_persistence_or_is_down(
    make_client: Any, redis_own_server: RedisServer
) -> None:
    persistent = await make_client(redis_url=redis_own_server.url)
    ready = await readyz(persistent)
    assert (ready["status"], ready["warnings"], ready["store"]["persistence"]) == (
        "ready", [], "aof")
    assert redis_command(redis_own_server.port, "CONFIG", "SET", "appendonly", "no") == "OK"
    volatile = await make_client(redis_url=redis_own_server.url)
    ready = await readyz(volatile)
    assert ready["status"] == "degraded" and ready["store"]["persistence"] == "none"
    assert any("no persistence" in w for w in ready["warnings"])
    redis_own_server.kill()
    await check(volatile, ["https://zoom.us/j/1"], "pc-1")  # verdicts go on: to the spool
    ready = await readyz(volatile)
    assert ready["status"] == "degraded" and ready["store"]["redis"] == "down"
    assert any("unreachable" in w for w in ready["warnings"])
