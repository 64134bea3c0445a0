"""Hygiene report benchmark: prints figures, asserts nothing.

    python3 bench/bench_report.py [--rows 1000000] [--stores sqlite,redis] [--people 20000]

For each store, `--rows` log records over the last 7 days (bench_console's mix, nine in ten
with a user label among `--people`) are loaded; `meetguard serve` runs on that data and
`GET /v1/reports/people?since=8d` is timed over HTTP, cold then warm (median of 5), with how
many people and counted records it found. SQLite answers with one aggregate query over its two
tables; Redis with one filtered export per count.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tests.support.service import ADMIN_TOKEN, ServiceProcess  # noqa: E402

from bench_console import DAY, append_all, make_records  # noqa: E402
from meetguard.store.base import LogStore  # noqa: E402
from meetguard.store.redis import RedisLogStore  # noqa: E402
from meetguard.store.sqlite import SQLiteLogStore  # noqa: E402


def labelled(records, people: int):
    """Nine records in ten carry a user label (one per install, as a deployment sets it)."""
    out = []
    for r in records:
        number = int(r.client.split("-")[1])
        out.append(r._replace(user=f"user{number % people}" if number % 10 else None))
    return out


async def load(store: LogStore, rows: int, people: int) -> None:
    end = time.time() - 60
    start = end - 7 * DAY
    chunk = 50_000
    started = time.perf_counter()
    for i in range(0, rows, chunk):
        n = min(chunk, rows - i)
        records = labelled(make_records(n, start=start + 7 * DAY * i / rows,
                                        span=7 * DAY * n / rows, seed=i), people)
        await asyncio.gather(*(append_all(store, records[k::4]) for k in range(4)))
        print(f"\r  loaded {i + n:>9,}", end="", flush=True)
    print(f"\r  loaded {rows:,} records in {time.perf_counter() - started:.0f} s")
    if isinstance(store, SQLiteLogStore):
        indexing = time.perf_counter()
        moved = await store.index_inbox()
        print(f"  indexed {moved:,} inbox rows in {time.perf_counter() - indexing:.1f} s")


async def measure(base: str, runs: int = 6) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    times = []
    async with aiohttp.ClientSession(headers=headers) as http:
        for _ in range(runs):
            started = time.perf_counter()
            async with http.get(f"{base}/v1/reports/people?since=8d",
                                timeout=aiohttp.ClientTimeout(total=None)) as response:
                assert response.status == 200, await response.text()
                doc = await response.json()
            times.append((time.perf_counter() - started) * 1000)
    counted = sum(doc["totals"].values())
    print(f"  GET /v1/reports/people?since=8d: {len(doc['people']):,} people, {counted:,} "
          f"counted records, {len(doc['weeks'])} weeks")
    print(f"  cold {times[0]:.0f} ms, warm median {statistics.median(times[1:]):.0f} ms "
          f"(min {min(times[1:]):.0f}, max {max(times[1:]):.0f})")


async def bench(name: str, make_store, service: ServiceProcess, rows: int, people: int) -> None:
    print(f"== {name}: {rows:,} records over 7 days")
    async with make_store() as store:
        await load(store, rows, people)
    service.start(timeout=120)
    try:
        await measure(service.url)
    finally:
        service.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--stores", default="sqlite")
    parser.add_argument("--dir", type=Path, help="work directory (default: a temporary one)")
    args = parser.parse_args()
    stores = args.stores.split(",")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp)
        if "sqlite" in stores:
            data = root / "sqlite"
            data.mkdir()
            asyncio.run(bench("SQLite", lambda: SQLiteLogStore(data / "meetguard.sqlite3"),
                              ServiceProcess(data), args.rows, args.people))
        if "redis" in stores:
            from tests.support.redis import RedisServer

            server = RedisServer(root / "redis")
            server.start()
            data = root / "redis-data"
            data.mkdir()
            try:
                asyncio.run(bench(
                    f"Redis ({server.url})",
                    lambda: RedisLogStore(server.url, spool_path=data / "spool.jsonl",
                                          timeout=5.0),
                    ServiceProcess(data, env={"MEETGUARD_REDIS_URL": server.url}), args.rows,
                    args.people))
            finally:
                server.stop()


if __name__ == "__main__":
    main()
