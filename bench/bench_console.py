"""IT console benchmark: prints figures, asserts nothing.

    python3 bench/bench_console.py [--rows 1000000] [--stores sqlite,redis] [--redis-url URL]
                                   [--exports-only] [--repeat N] [--keep DIR]

For each store, `--rows` log records spread over the last 7 days are loaded, then `meetguard
serve` runs on that data (a real process) and the benchmark talks to it over HTTP as the admin
page does, with a signed-in session:

1. a filtered 24-hour query's first page (`/admin/api/logs?since=24h&class=warned`, and with a
   host filter), cold then warm (median and p95 of 20);
2. the dashboard's stats for 7 days (`/admin/api/stats?since=7d`, six-hourly and hourly);
3. full CSV and NDJSON exports of every record (console and `/v1/logs`): rows per second, the
   ratio to the store's own export (measured first, without HTTP or encoding: the ceiling), the
   service's CPU time and its peak RSS during the export (bounded memory), and the load average
   (the machine is shared: repeat with `--repeat`, compare ratios).

Goals (issues 5 and 20): first page < 100 ms, stats < 300 ms, export >= 100,000 rows/s.
`--keep DIR` loads the records once into DIR and reuses them on later runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
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
EXPORT_GOAL = 100_000
"""Rows per second an export must reach (issue 20)."""
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


async def measure_http(service: ServiceProcess, store_rate: float, *, exports_only: bool,
                       repeat: int) -> None:
    base = service.url
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(f"{base}/admin/api/session", json={"token": ADMIN_TOKEN}) as r:
            assert r.status == 200, await r.text()

        def get(path: str) -> Callable[[], Awaitable[object]]:
            async def op() -> object:
                async with http.get(base + path) as response:
                    assert response.status == 200, await response.text()
                    return await response.read()
            return op

        for label, path, goal, runs in () if exports_only else (
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
        print(f"  exports (goal >= {EXPORT_GOAL:,} rows/s; store alone {store_rate:,.0f} rows/s):")
        for _ in range(repeat):
            for fmt in ("csv", "ndjson"):
                await export(http, service, f"/admin/api/logs?since=8d&format={fmt}",
                             f"console {fmt.upper()}", store_rate)
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        for _ in range(repeat):
            for fmt in ("csv", "ndjson"):
                await export(http, service, f"/v1/logs?since=8d&format={fmt}",
                             f"/v1/logs {fmt.upper()}", store_rate)


async def export(http: aiohttp.ClientSession, service: ServiceProcess, path: str, label: str,
                 store_rate: float) -> None:
    pid = service.process.pid if service.process else None
    rss_before = reset_peak_rss(pid)
    cpu_before = cpu_seconds(pid)
    started = time.perf_counter()
    lines = 0
    first_byte = None
    async with http.get(service.url + path,
                        timeout=aiohttp.ClientTimeout(total=None)) as response:
        assert response.status == 200, await response.text()
        async for chunk in response.content.iter_chunked(1 << 20):
            if first_byte is None:
                first_byte = time.perf_counter() - started
            lines += chunk.count(b"\n")
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds(pid) - cpu_before
    rows = lines - (1 if "csv" in path else 0)
    rate = rows / elapsed
    verdict = "meets" if rate >= EXPORT_GOAL else "MISSES"
    print(f"  {label:16} {rows:,} rows in {elapsed:5.1f} s = {rate:9,.0f} rows/s "
          f"({verdict} >= {EXPORT_GOAL:,}; {rate / store_rate:4.2f} x the store alone), "
          f"first byte {(first_byte or 0) * 1000:.0f} ms, service CPU {cpu:.1f} s "
          f"({rows / max(cpu, 0.01):,.0f} rows per CPU-s), RSS {rss_before / 1024:.0f} MB, "
          f"peak {peak_rss(pid) / 1024:.0f} MB, load {os.getloadavg()[0]:.2f}")


def reset_peak_rss(pid: int | None) -> int:
    """The process's RSS in kB now; its peak (VmHWM) is reset to it where Linux allows."""
    if pid is None:
        return 0
    with contextlib.suppress(OSError):  # (not Linux, or not allowed: the peak is since start)
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    return _status_kb(pid, "VmRSS")


def peak_rss(pid: int | None) -> int:
    return 0 if pid is None else _status_kb(pid, "VmHWM")


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of the process (Linux), 0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, TypeError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def store_export(store: LogStore) -> float:
    """The store's export alone: no HTTP, no encoding. Returns rows/s."""
    started = time.perf_counter()
    rows = 0
    async for _ in store.export(LogQuery(since=time.time() - 8 * DAY)):
        rows += 1
    elapsed = time.perf_counter() - started
    print(f"  {'store.export() alone, no HTTP/encoding':46} {rows:,} rows in {elapsed:5.1f} s = "
          f"{rows / elapsed:9,.0f} rows/s, load {os.getloadavg()[0]:.2f}")
    return rows / elapsed


async def bench(name: str, make_store: Callable[[], LogStore], service: ServiceProcess,
                rows: int, *, loaded: bool = False, exports_only: bool = False,
                repeat: int = 1) -> None:
    print(f"== {name}: {rows:,} records over 7 days")
    async with make_store() as store:
        if not loaded:
            await load(store, rows)
        store_rate = await store_export(store)
    service.start(timeout=120)
    try:
        await measure_http(service, store_rate, exports_only=exports_only, repeat=repeat)
    finally:
        service.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--stores", default="sqlite,redis")
    parser.add_argument("--redis-url", help="an existing, empty Redis (default: start one)")
    parser.add_argument("--dir", type=Path, help="work directory (default: a temporary one)")
    parser.add_argument("--keep", type=Path,
                        help="SQLite: load the records once into this directory, reuse them after")
    parser.add_argument("--exports-only", action="store_true", help="skip pages and stats")
    parser.add_argument("--repeat", type=int, default=1, help="times each export runs")
    args = parser.parse_args()
    stores = args.stores.split(",")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp)
        options = {"exports_only": args.exports_only, "repeat": args.repeat}
        if "sqlite" in stores:
            data = args.keep or root / "sqlite"
            data.mkdir(parents=True, exist_ok=True)
            marker = data / f"loaded-{args.rows}"
            asyncio.run(bench("SQLite", lambda: SQLiteLogStore(data / "meetguard.sqlite3"),
                              ServiceProcess(data), args.rows, loaded=marker.exists(),
                              **options))
            if args.keep:
                marker.touch()
        if "redis" in stores:
            run_redis(root, args.rows, args.redis_url, options)


def run_redis(root: Path, rows: int, url: str | None, options: dict) -> None:
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
            ServiceProcess(data, env={"MEETGUARD_REDIS_URL": url}), rows, **options))
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
