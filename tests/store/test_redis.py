"""RedisLogStore and RedisState beyond the contract: outages, the spool, shared state."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis
from tests.support.redis import RedisClusterNodes, RedisServer

from meetguard.store.base import LogQuery, LogRecord, SharedState, StoreError
from meetguard.store.redis import RedisLogStore, RedisState, score_of
from meetguard.store.spool import Spool

pytestmark = pytest.mark.redis


def records(n: int, client: str = "pc-1") -> list[LogRecord]:
    now = time.time()
    return [
        LogRecord.new("link", client, ts=now - i * 0.001, verdict_class="unknown", action="warn",
                      context="click", host=f"h{i % 7}.example.org")
        for i in range(n)
    ]  # fmt: skip


async def eventually(check: Callable[[], Awaitable[bool] | bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def prefix() -> str:
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture
async def own_store(redis_own_server: RedisServer, tmp_path: Path) -> AsyncIterator[RedisLogStore]:
    store = RedisLogStore(
        redis_own_server.url, spool_path=tmp_path / "spool.jsonl", retry_interval=0.05
    )
    await store.start()
    yield store
    await store.close()


async def test_kill_9_during_appends_spools_then_replays_each_record_once(
    redis_own_server: RedisServer, own_store: RedisLogStore
) -> None:
    batch = records(600)
    slowest = 0.0

    async def writer() -> None:
        nonlocal slowest
        for i in range(0, len(batch), 10):
            started = time.monotonic()
            await own_store.append(batch[i : i + 10])
            slowest = max(slowest, time.monotonic() - started)
            await asyncio.sleep(0.003)

    task = asyncio.create_task(writer())
    await asyncio.sleep(0.08)
    await asyncio.to_thread(redis_own_server.kill)
    await task
    assert slowest < 1.5  # appends never stalled on the dead server
    assert own_store.health()["redis"] == "down"
    lines = own_store.spool.path.read_bytes().splitlines()
    spooled = sum(len(json.loads(line)["records"]) for line in lines)
    assert 0 < spooled < len(batch)  # the kill came in the middle
    with pytest.raises(StoreError) as err:
        await own_store.query(LogQuery())
    assert err.value.code == "store-unavailable"

    await asyncio.to_thread(redis_own_server.restart)
    await eventually(lambda: own_store.health()["spool_size"] == 0)
    stored = [r async for r in own_store.export(LogQuery())]
    assert sorted(r.id for r in stored) == sorted(r.id for r in batch)  # each exactly once
    stats = await own_store.stats(time.time() - 3600, time.time() + 1)
    assert stats["totals"]["kind"]["link"] == len(batch)
    assert own_store.health()["redis"] == "up"


@pytest.mark.parametrize("round_", range(4))  # where close finds the writer is timing
async def test_close_writes_the_whole_backlog_to_redis(
    redis_server: RedisServer, tmp_path: Path, round_: int
) -> None:
    """Once `close` returns, every queued record is in Redis and every caller answered
    (none failed over to the spool on a client closed under a write)."""
    store = RedisLogStore(redis_server.url, spool_path=tmp_path / "s.jsonl", prefix=prefix())
    await store.start()
    batch = records(3000 + 100 * round_)
    appends = [asyncio.create_task(store.append(batch[i : i + 100]))
               for i in range(0, len(batch), 100)]  # fmt: skip
    await asyncio.sleep(0)  # every append is queued
    await store.close()
    client = Redis.from_url(redis_server.url)
    try:
        assert await client.hlen(store.keys.records) == len(batch)
        assert await client.zcard(store.keys.time) == len(batch)
    finally:
        await client.aclose()
    assert all(append.done() for append in appends)
    await asyncio.gather(*appends)
    assert store.spool.size() == 0


async def test_a_second_call_goes_out_while_another_is_in_redis_and_no_third(
    redis_own_server: RedisServer, tmp_path: Path
) -> None:
    """While one append call is held in Redis, the next append goes out on a second call,
    whatever its size (the service does not wait on Redis with records in hand); a third waits
    for one of the two. Every record is then stored once."""
    store = RedisLogStore(redis_own_server.url, spool_path=tmp_path / "s.jsonl",
                          prefix=prefix(), timeout=5.0)  # fmt: skip
    admin = Redis.from_url(redis_own_server.url, decode_responses=True)

    async def held(n: int) -> bool:
        """Whether exactly `n` append calls are held in Redis."""
        clients = await admin.client_list()
        return sum(1 for c in clients if "b" in c["flags"] and c["cmd"] == "evalsha") == n

    await store.start()
    try:
        await store.append(records(1))  # the script is loaded: held calls are appends only
        await admin.client_pause(10_000, all=False)  # holds every write
        first = asyncio.create_task(store.append(records(1)))
        await eventually(lambda: held(1))
        second = asyncio.create_task(store.append(records(5)))
        await eventually(lambda: held(2))
        third = asyncio.create_task(store.append(records(200)))
        await asyncio.sleep(0.2)
        assert await held(2)
        assert not (first.done() or second.done() or third.done())
        await admin.client_unpause()
        await asyncio.gather(first, second, third)
        assert await admin.hlen(store.keys.records) == 1 + 1 + 5 + 200
        assert store.spool.size() == 0
    finally:
        await admin.client_unpause()
        await admin.aclose()
        await store.close()


async def test_appends_go_on_after_a_script_flush_and_a_killed_connection(
    redis_own_server: RedisServer, tmp_path: Path
) -> None:
    """The append script's own connections: a script Redis forgot (restart, SCRIPT FLUSH) is
    loaded again, and a connection Redis closed is replaced; neither sends records to the
    spool, and each is stored once."""
    store = RedisLogStore(redis_own_server.url, spool_path=tmp_path / "s.jsonl", prefix=prefix())
    admin = Redis.from_url(redis_own_server.url, decode_responses=True)
    await store.start()
    try:
        await store.append(records(3))
        await admin.script_flush()
        await store.append(records(3))
        killed = await admin.client_kill_filter(_type="normal", skipme=True)
        assert killed >= 1
        await store.append(records(3))
        # two calls in flight leave two connections; both killed, one append finds them stale
        await asyncio.gather(store.append(records(200)), store.append(records(200)))
        await admin.client_kill_filter(_type="normal", skipme=True)
        await store.append(records(3))
        assert await admin.hlen(store.keys.records) == 9 + 400 + 3
        assert store.spool.size() == 0 and store.health()["redis"] == "up"
    finally:
        await admin.aclose()
        await store.close()


async def test_an_error_reply_spools_the_records_then_they_are_stored_once(
    redis_own_server: RedisServer, tmp_path: Path
) -> None:
    """Redis answering the append with an error (here out of memory) is a Redis that cannot
    take records: they wait in the spool, and are stored once when it can again."""
    store = RedisLogStore(redis_own_server.url, spool_path=tmp_path / "s.jsonl",
                          prefix=prefix(), retry_interval=0.05)  # fmt: skip
    admin = Redis.from_url(redis_own_server.url, decode_responses=True)
    await store.start()
    try:
        await store.append(records(2))
        await admin.config_set("maxmemory", "1")  # with noeviction: every write is refused
        refused = records(3)
        await store.append(refused)  # answered: the records are in the spool
        assert store.health()["redis"] == "down" and store.spool.size() > 0
        await admin.config_set("maxmemory", "0")
        await eventually(lambda: store.spool.size() == 0)
        await store.append(records(4))
        assert await admin.hlen(store.keys.records) == 2 + 3 + 4
        assert {r.id for r in refused} <= set(await admin.hkeys(store.keys.records))
    finally:
        await admin.config_set("maxmemory", "0")
        await admin.aclose()
        await store.close()


async def test_started_while_redis_is_down_then_catches_up(
    redis_own_server: RedisServer, tmp_path: Path
) -> None:
    redis_own_server.kill()
    spool_path = tmp_path / "s.jsonl"
    store = RedisLogStore(redis_own_server.url, spool_path=spool_path, retry_interval=0.05)
    await store.start()
    try:
        assert store.health()["redis"] == "down"
        batch = records(5)
        await store.append(batch)
        await store.count({"hover:allow:approved": 3})
        await asyncio.to_thread(redis_own_server.start)
        await eventually(lambda: store.health()["spool_size"] == 0)
        assert {r.id for r in (await store.query(LogQuery())).items} == {r.id for r in batch}
        assert (await store.stats(time.time() - 3600, time.time() + 1))["hover_allow"] == 3
    finally:
        await store.close()


async def test_a_full_spool_refuses_records(redis_own_server: RedisServer, tmp_path: Path) -> None:
    store = RedisLogStore(
        redis_own_server.url, spool_path=tmp_path / "s.jsonl", spool_max_bytes=2000
    )
    await store.start()
    try:
        redis_own_server.kill()

        async def fill() -> None:
            for _ in range(20):
                await store.append(records(3))

        with pytest.raises(StoreError) as err:
            await fill()
        assert err.value.code == "spool-full"
        assert 0 < store.health()["spool_size"] <= 2000
    finally:
        await store.close()


async def test_a_spool_left_by_an_earlier_run_is_replayed_once(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    batch = records(4)
    spool = Spool(tmp_path / "s.jsonl", 1 << 20)
    await spool.open()
    entry = {"records": [r.to_dict() for r in batch]}
    counted = {"counters": {"hover:allow:warned": 2}, "ts": time.time(), "id": "e1"}
    await spool.write([entry, counted, entry, counted])  # written twice: a replay cut short
    async with RedisLogStore(
        redis_server.url, spool_path=tmp_path / "s.jsonl", prefix=prefix(), retry_interval=0.05
    ) as store:
        await eventually(lambda: store.health()["spool_size"] == 0)
        assert len((await store.query(LogQuery())).items) == 4
        assert (await store.stats(time.time() - 3600, time.time() + 1))["hover_allow"] == 2


async def test_health_reports_persistence(redis_server: RedisServer, tmp_path: Path) -> None:
    async with RedisLogStore(redis_server.url, spool_path=tmp_path / "s", prefix=prefix()) as s:
        assert s.health() == {
            "store": "redis",
            "redis": "up",
            "queue_depth": 0,
            "spool_size": 0,
            "persistence": "aof",
        }
        await s.client.config_set("appendonly", "no")
        try:
            await s._probe()
            assert s.health()["persistence"] == "none"
        finally:
            await s.client.config_set("appendonly", "yes")


async def test_purge_leaves_no_index_entries(redis_server: RedisServer, tmp_path: Path) -> None:
    p = prefix()
    async with RedisLogStore(redis_server.url, spool_path=tmp_path / "s", prefix=p) as store:
        await store.append(records(50))
        assert await store.purge(time.time() + 1) == 50
        leftovers = [k async for k in store.client.scan_iter(match=f"{{{p}}}:ix:*")]
        assert leftovers == []
        assert await store.client.hlen(f"{{{p}}}:rec") == 0


@pytest.fixture(params=["redis", "cluster"])
def shared_url(request: pytest.FixtureRequest) -> str:
    server: RedisServer | RedisClusterNodes = request.getfixturevalue(
        "redis_server" if request.param == "redis" else "redis_cluster"
    )
    return server.url


@pytest.fixture
async def two_states(shared_url: str) -> AsyncIterator[tuple[RedisState, RedisState]]:
    """Two instances sharing one Redis (or Cluster), as two service processes would."""
    p = prefix()
    a, b = RedisState(shared_url, prefix=p), RedisState(shared_url, prefix=p)
    await a.start()
    await b.start()
    yield a, b
    await a.close()
    await b.close()


async def test_scan_cache_is_shared(two_states: tuple[RedisState, RedisState]) -> None:
    a, b = two_states
    assert isinstance(a, SharedState)
    sha = "AB" * 32
    assert await b.get_scan(sha) is None
    await a.put_scan(sha, {"action": "block", "rules": ["file_lnk_dropper"]}, ttl=60)
    assert await b.get_scan(sha.lower()) == {"action": "block", "rules": ["file_lnk_dropper"]}
    assert 0 < await b.client.ttl(b.keys.scan(sha)) <= 60


async def test_rate_limit_is_shared(two_states: tuple[RedisState, RedisState]) -> None:
    a, b = two_states
    allowed = [await s.rate_limit("pc-1", 5, 3600) for s in (a, b, a, b, a, b, a)]
    assert allowed == [True] * 5 + [False] * 2
    assert await b.rate_limit("pc-2", 5, 3600)


async def test_far_from_the_limit_tokens_are_spent_without_asking_redis(
    two_states: tuple[RedisState, RedisState],
) -> None:
    a, _ = two_states
    window = int(time.time() // 3600)
    assert await a.rate_limit("pc-1", 8000, 3600)
    assert int(await a.client.get(a.keys.rate("pc-1", window))) == 1000  # one grant, counted
    for _ in range(999):
        assert a.rate_limit_nowait("pc-1", 8000, 3600)
    assert a.rate_limit_nowait("pc-1", 8000, 3600) is None  # spent: the next one asks again
    assert int(await a.client.get(a.keys.rate("pc-1", window))) == 1000


async def test_shared_tokens_never_let_more_than_the_limit_through(
    two_states: tuple[RedisState, RedisState],
) -> None:
    a, b = two_states
    allowed = [await s.rate_limit("pc-1", 40, 3600) for _ in range(40) for s in (a, b)]
    # Tokens one instance holds are counted: the other may be refused a few early, never late.
    assert 40 - 40 // 8 <= sum(allowed) <= 40
    assert allowed[: 40 - 40 // 8] == [True] * (40 - 40 // 8)


async def test_requests_asking_at_once_keep_every_token_granted(
    two_states: tuple[RedisState, RedisState],
) -> None:
    """A client with a few requests in flight (an extension checking a message's links) gets
    its whole limit: each request that asked Redis got a grant, and every token granted is
    counted there, so none may be dropped here."""
    a, _ = two_states
    allowed = 0
    for _ in range(40):
        burst = await asyncio.gather(*(a.rate_limit("pc-1", 80, 3600) for _ in range(4)))
        allowed += sum(burst)
        if not all(burst):
            break
    assert allowed == 80


async def test_reload_message_reaches_every_instance(
    two_states: tuple[RedisState, RedisState],
) -> None:
    a, b = two_states
    got: dict[str, asyncio.Queue[str]] = {"a": asyncio.Queue(), "b": asyncio.Queue()}
    for name, state in (("a", a), ("b", b)):
        state.subscribe_reload(lambda v, q=got[name]: q.put(v))
    await eventually(lambda: a.listening and b.listening)
    await a.publish_reload("sha256:v2")
    for name in got:
        assert await asyncio.wait_for(got[name].get(), 5) == "sha256:v2"


async def test_reload_published_during_an_outage_is_caught_up(
    redis_own_server: RedisServer,
) -> None:
    p = prefix()
    publisher = RedisState(redis_own_server.url, prefix=p)
    listener = RedisState(redis_own_server.url, prefix=p, reconnect_interval=0.05)
    await publisher.start()
    await listener.start()
    try:
        got: asyncio.Queue[str] = asyncio.Queue()
        listener.subscribe_reload(got.put)
        await eventually(lambda: listener.listening)
        await asyncio.to_thread(redis_own_server.restart)  # kill -9, then back
        await publisher.publish_reload("sha256:v3")  # perhaps before the listener is back
        assert await asyncio.wait_for(got.get(), 10) == "sha256:v3"
    finally:
        await publisher.close()
        await listener.close()


async def test_shared_state_degrades_when_redis_is_down(redis_own_server: RedisServer) -> None:
    async with RedisState(redis_own_server.url, prefix=prefix()) as state:
        redis_own_server.kill()
        assert await state.get_scan("ab" * 32) is None
        await state.put_scan("ab" * 32, {"action": "allow"}, ttl=60)
        assert await state.rate_limit("pc-1", 1, 60)  # fails open
        with pytest.raises(StoreError) as err:
            await state.publish_reload("v")
        assert err.value.code == "store-unavailable"


@pytest.mark.parametrize("cut_short", [False, True])
async def test_a_log_scored_in_seconds_is_moved_to_milliseconds(
    redis_server: RedisServer, tmp_path: Path, cut_short: bool
) -> None:
    """A log written before scores were milliseconds: every record still queries by time,
    and purge keeps what is inside the retention. A move cut short (the service stopped
    in the middle: one index moved, the time index partly) is finished at the next start."""
    name = prefix()
    written = records(40)
    old = RedisLogStore(redis_server.url, prefix=name, spool_path=tmp_path / "a.jsonl")
    await old.start()
    await old.append(written)
    # Rewrite every index as the earlier layout had it: id -> ts in seconds.
    indexes = [key async for key in old.client.scan_iter(match=f"{old.keys.tag}:ix:*")]
    by_id = {r.id: r.ts for r in written}
    for key in indexes:
        members = await old.client.zrange(key, 0, -1)
        await old.client.zadd(key, {m: by_id[m] for m in members})
    if cut_short:
        moved = next(k for k in indexes if k != old.keys.time)
        await old.client.zadd(moved, {m: score_of(by_id[m])
                                      for m in await old.client.zrange(moved, 0, -1)})
        first = await old.client.zrange(old.keys.time, 0, 9)  # the lowest scores go first
        await old.client.zadd(old.keys.time, {m: score_of(by_id[m]) for m in first})
    assert (await old.client.zrange(old.keys.time, 0, 0, withscores=True))[0][1] < 1e11
    await old.close()

    store = RedisLogStore(redis_server.url, prefix=name, spool_path=tmp_path / "b.jsonl")
    await store.start()
    try:
        for key in indexes:  # each member once in milliseconds, none moved twice
            scored = await store.client.zrange(key, 0, -1, withscores=True)
            assert all(s == score_of(by_id[m]) for m, s in scored), key
        newest = sorted(written, key=lambda r: (r.ts, r.id), reverse=True)
        since = newest[19].ts
        page = await store.query(LogQuery(since=since, limit=100, host="example.org"))
        assert page.items == newest[:20]
        assert await store.purge(time.time() - 3600) == 0
        assert len((await store.query(LogQuery(limit=100))).items) == 40
    finally:
        await store.close()
