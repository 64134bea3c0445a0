"""IT console benchmark: prints figures, asserts nothing.

    python3 bench/bench_console.py [--rows 1000000] [--stores sqlite,redis] [--redis-url URL]

For each store, `--rows` log records spread over the last 7 days are loaded, then `meetguard
serve` runs on that data (a real process) and the benchmark talks to it over HTTP as the admin
page does, with a signed-in session:

1. a filtered 24-hour query's first page (`/admin/api/logs?since=24h&class=warned`, and with a
   host filter), cold then warm (median and p95 of 20);
2. the dashboard's stats for 7 days (`/admin/api/stats?since=7d`, six-hourly and hourly);
3. a full CSV export of every record (`/admin/api/logs?format=csv`), rows per second, and the
   store's own export without HTTP or CSV, to show where the time goes.

Goals (issue 5): first page < 100 ms, stats < 300 ms, export >= 100,000 rows/s.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.service import ADMIN_TOKEN, ServiceProcess  # noqa: E402

from meetguard.store.base import LogQuery, LogRecord, LogStore, new_record_id  # noqa: E402
from meetguard.store.redis import RedisLogStore  # noqa: E402
from meetguard.store.sqlite import SQLiteLogStore  # noqa: E402

DAY = 86_400
UNKNOWN_HOSTS = [f"h{i}.example{i % 50}.org" for i in range(5000)]
PLATFORMS = [("zoom", "zoom.us"), ("zoom", "us02web.zoom.us"), ("teams", "teams.microsoft.com"),
             ("google-meet", "meet.google.com"), ("webex", "webex.com")]
APPROVED = [("emeeting-mic", "emeeting.mic.gov.vn"), ("vmeet", "vmeet.example.gov.vn")]


def make_records(n: int, *, start: float, span: float, seed: int) -> list[LogRecord]:
    """Verdicts and events as a ministry's service logs them, in time order."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        ts = start + span * i / n + rng.random()
        cls = rng.choices(("approved", "warned", "unknown"), (45, 25, 30))[0]
        if cls == "approved":
            platform, host = rng.choice(APPROVED)
            action, codes = "allow", ("approved-platform",)
        elif cls == "warned":
            platform, host = rng.choice(PLATFORMS)
            action, codes = "warn", ("warned-platform",)
        else:
            platform, host = None, rng.choice(UNKNOWN_HOSTS)
            action = rng.choices(("allow", "warn", "block"), (85, 10, 5))[0]
            codes = ("unknown-origin",) if action == "allow" else ("unknown-origin",
                                                                   "impersonation")
        kind = rng.choices(("link", "file", "event"), (88, 4, 8))[0]
        context = "download" if kind == "file" else rng.choice(("click", "navigation"))
        event = rng.choice(("override", "warning-shown", "go-back")) if kind == "event" else None
        out.append(LogRecord(
            id=new_record_id(ts), ts=ts, kind=kind, client=f"pc-{rng.randrange(20_000)}",
            user=None, context=context,
            verdict_class=cls, action=action, platform=platform, host=host,
            target=f"https://{host}/j/{rng.randrange(10**9)}?pwd=[redacted]", codes=codes,
            rules=(f"platform:{platform}",) if platform else (), policy_version="0123456789abcdef",
            event=event, detail={"key": "tests", "severities": ["low"] * len(codes)},
        ))  # fmt: skip
    return out


async def load(store: LogStore, rows: int) -> float:
    """Append `rows` records over the last 7 days; returns rows/s."""
    end = time.time() - 60
    start = end - 7 * DAY
    chunk = 50_000
    started = time.perf_counter()
    for i in range(0, rows, chunk):
        records = make_records(min(chunk, rows - i), start=start + 7 * DAY * i / rows,
                               span=7 * DAY * min(chunk, rows - i) / rows, seed=i)
        # four appenders, as several requests at once would
        await asyncio.gather(*(append_all(store, records[k::4]) for k in range(4)))
        print(f"\r  loaded {i + len(records):>9,}", end="", flush=True)
    elapsed = time.perf_counter() - started
    print(f"\r  loaded {rows:,} records in {elapsed:.0f} s ({rows / elapsed:,.0f} rows/s)")
    if isinstance(store, SQLiteLogStore):
        # A week of real traffic is indexed in the service's idle moments long before anyone
        # asks; a bulk load is not. Index it now, and say how fast that went.
        indexing = time.perf_counter()
        moved = await store.index_inbox()
        took = time.perf_counter() - indexing
        print(f"  indexed {moved:,} inbox rows in {took:.1f} s ({moved / took:,.0f} rows/s)")
    return rows / elapsed


async def append_all(store: LogStore, records: list[LogRecord]) -> None:
    for j in range(0, len(records), 1000):
        await store.append(records[j:j + 1000])


async def timed(op: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await op()
    return (time.perf_counter() - started) * 1000


def report(label: str, times: list[float], goal: float) -> None:
    cold, warm = times[0], sorted(times[1:])
    p95 = warm[int(len(warm) * 0.95) - 1] if len(warm) > 1 else warm[0]
    verdict = "meets" if statistics.median(warm) < goal else "MISSES"
    print(f"  {label:46} cold {cold:7.1f} ms   warm median {statistics.median(warm):7.1f} ms"
          f"  p95 {p95:7.1f} ms   ({verdict} < {goal:.0f} ms)")


async def measure_http(base: str) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(f"{base}/admin/api/session", json={"token": ADMIN_TOKEN}) as r:
            assert r.status == 200, await r.text()

        def get(path: str) -> Callable[[], Awaitable[object]]:
            async def op() -> object:
                async with http.get(base + path) as response:
                    assert response.status == 200, await response.text()
                    return await response.read()
            return op

        for label, path, goal, runs in (
            ("first page: 24h, class=warned", "/admin/api/logs?since=24h&class=warned&limit=100",
             100, 21),
            ("first page: 24h, host=zoom.us", "/admin/api/logs?since=24h&host=zoom.us&limit=100",
             100, 21),
            ("first page: 24h, class=unknown action=block",
             "/admin/api/logs?since=24h&class=unknown&action=block&limit=100", 100, 21),
            ("stats: 7 days, six-hourly (dashboard)", "/admin/api/stats?since=7d", 300, 6),
            ("stats: 7 days, hourly", "/admin/api/stats?since=7d&bucket=3600", 300, 6),
        ):
            report(label, [await timed(get(path)) for _ in range(runs)], goal)
        await export(http, base, "/admin/api/logs?since=8d&format=csv", "console CSV export")
        await export(http, base, "/admin/api/logs?since=8d&format=ndjson",
                     "console NDJSON export")
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        await export(http, base, "/v1/logs?since=8d&format=csv", "/v1/logs CSV (for comparison)")


async def export(http: aiohttp.ClientSession, base: str, path: str, label: str) -> None:
    started = time.perf_counter()
    lines = 0
    first_byte = None
    async with http.get(base + path, timeout=aiohttp.ClientTimeout(total=None)) as response:
        assert response.status == 200, await response.text()
        async for chunk in response.content.iter_chunked(1 << 20):
            if first_byte is None:
                first_byte = time.perf_counter() - started
            lines += chunk.count(b"\n")
    elapsed = time.perf_counter() - started
    rows = lines - (1 if "csv" in path else 0)
    verdict = "meets" if rows / elapsed >= 100_000 else "MISSES"
    print(f"  {label:46} {rows:,} rows in {elapsed:5.1f} s = {rows / elapsed:9,.0f} rows/s, "
          f"first byte {first_byte * 1000:.0f} ms  ({verdict} >= 100,000 rows/s)")


async def store_export(store: LogStore) -> None:
    """The store's export alone: no HTTP, no encoding."""
    started = time.perf_counter()
    rows = 0
    async for _ in store.export(LogQuery(since=time.time() - 8 * DAY)):
        rows += 1
    elapsed = time.perf_counter() - started
    print(f"  {'store.export() alone, no HTTP/CSV':46} {rows:,} rows in {elapsed:5.1f} s = "
          f"{rows / elapsed:9,.0f} rows/s")


async def bench(name: str, make_store: Callable[[], LogStore], service: ServiceProcess,
                rows: int) -> None:
    print(f"== {name}: {rows:,} records over 7 days")
    async with make_store() as store:
        await load(store, rows)
    service.start(timeout=120)
    try:
        await measure_http(service.url)
    finally:
        service.stop()
    async with make_store() as store:
        await store_export(store)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--stores", default="sqlite,redis")
    parser.add_argument("--redis-url", help="an existing, empty Redis (default: start one)")
    parser.add_argument("--dir", type=Path, help="work directory (default: a temporary one)")
    args = parser.parse_args()
    stores = args.stores.split(",")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp)
        if "sqlite" in stores:
            data = root / "sqlite"
            data.mkdir()
            asyncio.run(bench("SQLite", lambda: SQLiteLogStore(data / "meetguard.sqlite3"),
                              ServiceProcess(data), args.rows))
        if "redis" in stores:
            run_redis(root, args.rows, args.redis_url)


def run_redis(root: Path, rows: int, url: str | None) -> None:
    server = None
    if url is None:
        from tests.support.redis import RedisServer

        server = RedisServer(root / "redis")
        server.start()
        url = server.url
    data = root / "redis-data"
    data.mkdir()
    try:
        asyncio.run(bench(
            f"Redis ({url})",
            lambda: RedisLogStore(url, spool_path=data / "spool" / "records.jsonl", timeout=5.0),
            ServiceProcess(data, env={"MEETGUARD_REDIS_URL": url}), rows))
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
