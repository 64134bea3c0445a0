"""The local spool: durable appends, a size bound, replay files, torn lines."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tests.support.disk import fill, small_disk

from meetguard.store.base import StoreError
from meetguard.store.spool import PROBE_SECONDS, Spool

__all__ = ["small_disk"]


async def entries_of(spool: Spool, path: Path) -> list[dict]:
    return [e async for batch in spool.read(path, batch=2) for e in batch]


async def test_entries_written_are_read_back_in_order(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "sub" / "spool.jsonl", 10_000)
    await spool.open()
    await spool.write([{"n": 1}, {"n": 2}])
    await spool.write([{"n": 3, "text": "Cuộc họp"}])
    assert spool.size() == (tmp_path / "sub" / "spool.jsonl").stat().st_size
    path = await spool.take()
    assert path is not None
    await spool.write([{"n": 4}])  # goes to a fresh file while the taken one is replayed
    assert await entries_of(spool, path) == [{"n": 1}, {"n": 2}, {"n": 3, "text": "Cuộc họp"}]
    await spool.finish(path)
    path = await spool.take()
    assert path is not None
    assert await entries_of(spool, path) == [{"n": 4}]
    await spool.finish(path)
    assert spool.size() == 0
    assert await spool.take() is None


async def test_the_bound_counts_both_files(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.jsonl", 30)
    await spool.open()
    await spool.write([{"n": "x" * 10}])
    await spool.take()
    with pytest.raises(StoreError) as err:
        await spool.write([{"n": "y" * 10}])
    assert err.value.code == "spool-full"


async def test_an_interrupted_replay_is_taken_first_and_torn_lines_skipped(tmp_path: Path) -> None:
    (tmp_path / "spool.jsonl.replay").write_bytes(b'{"n": 1}\n{"n": 2}\n{"n": 3')
    (tmp_path / "spool.jsonl").write_bytes(b'{"n": 4}\n')
    spool = Spool(tmp_path / "spool.jsonl", 10_000)
    await spool.open()
    assert spool.size() == 34
    path = await spool.take()
    assert path == tmp_path / "spool.jsonl.replay"
    assert await entries_of(spool, path) == [{"n": 1}, {"n": 2}]
    await spool.finish(path)
    assert spool.size() == 9


async def test_a_write_the_disk_refuses_leaves_no_torn_entry(small_disk: Path) -> None:
    spool = Spool(small_disk / "spool" / "spool.jsonl", 64 * 1024 * 1024)
    await spool.open()
    await spool.write([{"n": 1}])
    filler = small_disk / "filler"
    fill(filler)
    with pytest.raises(StoreError) as err:  # bigger than anything left: part of it may land
        await spool.write([{"n": 2, "text": "x" * 200_000}])
    assert err.value.code == "store-unavailable"
    assert "No space left on device" in (spool.refusal() or "")
    assert (small_disk / "spool" / "spool.jsonl").read_bytes() == b'{"n":1}\n'  # cut off again
    filler.unlink()
    await asyncio.sleep(PROBE_SECONDS + 0.05)
    await spool.check_room()
    assert spool.refusal() is None  # room again: found without a write
    await spool.write([{"n": 3}])
    path = await spool.take()
    assert path is not None
    assert await entries_of(spool, path) == [{"n": 1}, {"n": 3}]
    assert sorted(p.name for p in (small_disk / "spool").iterdir()) == ["spool.jsonl.replay"]
