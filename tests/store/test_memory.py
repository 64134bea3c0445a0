"""LocalState: the shared state of a single process."""

from __future__ import annotations

import asyncio

from meetguard.store.base import SharedState
from meetguard.store.memory import LocalState


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_it_is_a_shared_state() -> None:
    assert isinstance(LocalState(), SharedState)


async def test_scan_cache_expires_and_is_bounded() -> None:
    clock = Clock()
    state = LocalState(max_scans=2, clock=clock)
    await state.put_scan("a", {"action": "block"}, ttl=10)
    await state.put_scan("b", {"action": "allow"}, ttl=100)
    assert await state.get_scan("a") == {"action": "block"}  # now the most recently used
    await state.put_scan("c", {"action": "warn"}, ttl=100)
    assert await state.get_scan("b") is None  # least recently used, evicted
    clock.now += 11
    assert await state.get_scan("a") is None  # expired
    assert await state.get_scan("c") == {"action": "warn"}


async def test_rate_limit_slides() -> None:
    clock = Clock()
    state = LocalState(clock=clock)
    assert [await state.rate_limit("pc-1", 3, 10) for _ in range(4)] == [True] * 3 + [False]
    assert await state.rate_limit("pc-2", 3, 10)
    clock.now += 10  # next window: the previous one still counts almost fully
    assert not await state.rate_limit("pc-1", 3, 10)
    clock.now += 5  # half way: 3 * 0.5 + 0 + 1 <= 3
    assert await state.rate_limit("pc-1", 3, 10)
    clock.now += 100
    assert [await state.rate_limit("pc-1", 3, 10) for _ in range(3)] == [True] * 3


async def test_reload_reaches_subscribers_until_close() -> None:
    state = LocalState()
    got: asyncio.Queue[str] = asyncio.Queue()
    state.subscribe_reload(got.put)

    async def broken(version: str) -> None:
        raise RuntimeError("a failing callback must not stop the others")

    state.subscribe_reload(broken)
    await state.publish_reload("v2")
    assert await asyncio.wait_for(got.get(), 1) == "v2"
    await state.close()
    await state.publish_reload("v3")
    await asyncio.sleep(0)
    assert got.empty()
