"""Audit-log store benchmarks: prints figures, asserts nothing.

    python3 bench/bench_store.py [--rows 20000] [--stats-rows 1000000] [--redis-url URL]

1. Appends to SQLiteLogStore under 64 concurrent appenders (batches of 1 and of 100), each append
   awaiting its COMMIT (group commit), against the reference: raw `executemany` of 100 rows per
   commit on the same schema in WAL, no queue, no futures.
2. The same appends to RedisLogStore (a redis-server the benchmark starts, or --redis-url).
3. `stats()` over 7 days of `--stats-rows` SQLite records, and a few page queries on them.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import closing
from pathlib import Path

from meetguard.store.base import LogQuery, LogRecord, LogStore, new_record_id
from meetguard.store.redis import RedisLogStore
from meetguard.store.sqlite import _INSERT, SQLiteLogStore, _row_of, connect_writer, migrate

ROOT = Path(__file__).resolve().parent.parent
APPENDERS = 64
HOSTS = [f"h{i}.example{i % 50}.org" for i in range(5000)] + ["us02web.zoom.us", "zoom.us"]


def make_records(n: int, *, start: float, span: float, seed: int = 1) -> list[LogRecord]:
    """Realistic-looking verdict and event records over `[start, start + span)`, in time order
    give or take a second (as they arrive from a live service)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        ts = start + span * i / n + rng.random()
        kind = rng.choices(["link", "file", "event"], [85, 5, 10])[0]
        cls = rng.choices(["approved", "warned", "unknown"], [50, 20, 30])[0]
        action = {"approved": "allow", "warned": "warn"}.get(cls)
        action = action or rng.choice(["allow", "warn", "block"])
        out.append(LogRecord(
            id=new_record_id(ts), ts=ts, kind=kind, client=f"pc-{rng.randrange(20000)}",
            user=None, context=rng.choice(["click", "hover", "navigation", "download"]),
            verdict_class=cls, action=action,
            platform=rng.choice([None, "zoom", "teams", "meet", "vmeet"]), host=rng.choice(HOSTS),
            target="https://example.org/path?x=[redacted]", codes=("unknown-origin",),
            policy_version="sha256:0123456789abcdef",
            event="override" if kind == "event" and rng.random() < 0.3 else None,
        ))  # fmt: skip
    return out


async def concurrent_appends(store: LogStore, records: Sequence[LogRecord], batch: int) -> float:
    """Rows/s with `APPENDERS` tasks each appending its share in batches of `batch`."""
    shares = [records[i::APPENDERS] for i in range(APPENDERS)]

    async def appender(share: Sequence[LogRecord]) -> None:
        for i in range(0, len(share), batch):
            await store.append(share[i : i + batch])

    started = time.perf_counter()
    await asyncio.gather(*(appender(s) for s in shares))
    return len(records) / (time.perf_counter() - started)


def reference_executemany(path: Path, records: Sequence[LogRecord]) -> float:
    """Rows/s for raw executemany, 100 rows per commit: same schema and pragmas (WAL,
    synchronous=NORMAL), no counters, no queue, no futures, one thread."""
    with closing(connect_writer(path)) as conn:
        conn.execute("BEGIN")
        migrate(conn)
        conn.execute("COMMIT")
        started = time.perf_counter()
        for i in range(0, len(records), 100):
            conn.execute("BEGIN")
            conn.executemany(_INSERT, [_row_of(r) for r in records[i : i + 100]])
            conn.execute("COMMIT")
        return len(records) / (time.perf_counter() - started)


async def bench_sqlite(tmp: Path, rows: int) -> None:
    print(f"== SQLite appends, {rows} rows, {APPENDERS} concurrent appenders")
    now = time.time()
    reference = reference_executemany(tmp / "ref.db", make_records(rows, start=now, span=3600))
    print(f"reference executemany, 100 rows/commit: {reference:10.0f} rows/s")
    for batch in (1, 100):
        async with SQLiteLogStore(tmp / f"group-{batch}.db") as store:
            records = make_records(rows, start=now, span=3600, seed=batch)
            rate = await concurrent_appends(store, records, batch)
            commits = store.health()["transactions"]
        print(
            f"SQLiteLogStore, batches of {batch:3}:      {rate:10.0f} rows/s  "
            f"({rate / reference:.2f} x reference, {commits} transactions)"
        )


async def bench_redis(tmp: Path, rows: int, url: str | None) -> None:
    server = None
    if url is None:
        sys.path.insert(0, str(ROOT))
        from tests.support.redis import RedisServer

        server = RedisServer(tmp / "redis")
        server.start()
        url = server.url
    print(f"== Redis appends ({url}), {rows} rows, {APPENDERS} concurrent appenders")
    try:
        for batch in (1, 100):
            prefix = "bench" + uuid.uuid4().hex[:8]
            spool = tmp / f"spool-{batch}"
            async with RedisLogStore(url, spool_path=spool, prefix=prefix) as store:
                records = make_records(rows, start=time.time(), span=3600, seed=batch)
                rate = await concurrent_appends(store, records, batch)
                stats_ms = await timed(lambda s=store: s.stats(time.time() - 7200, time.time()))
                await store.purge(time.time() + 7200)
            print(f"RedisLogStore, batches of {batch:3}:       {rate:10.0f} rows/s  "
                  f"(stats of them: {stats_ms:.0f} ms)")  # fmt: skip
    finally:
        if server is not None:
            server.stop()


BLOCKED_FILES = LogQuery(action="block", kind="file")


async def drain(records: AsyncIterator[LogRecord]) -> int:
    return sum([1 async for _ in records])


async def timed(op: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await op()
    return (time.perf_counter() - started) * 1000


async def bench_stats(tmp: Path, rows: int) -> None:
    print(f"== SQLite stats over 7 days of {rows} records")
    end = (time.time() // 3600) * 3600
    start = end - 7 * 86_400
    overrides = LogQuery(event="override", since=end - 86_400)
    zoom_day = LogQuery(host="zoom.us", since=end - 86_400)
    async with SQLiteLogStore(tmp / "stats.db") as store:
        started = time.perf_counter()
        for i in range(0, rows, 50_000):
            chunk = make_records(min(50_000, rows - i), start=start, span=7 * 86_400, seed=i)
            for j in range(0, len(chunk), 1000):
                await store.append(chunk[j : j + 1000])
        elapsed = time.perf_counter() - started
        print(f"loaded in {elapsed:.1f} s ({rows / elapsed:.0f} rows/s, batches of 1000)")
        for label, op in [
            ("stats 7 days, hourly buckets", lambda: store.stats(start, end)),
            ("stats 7 days, daily buckets", lambda: store.stats(start, end, 86_400)),
            ("stats 24 hours, hourly", lambda: store.stats(end - 86_400, end)),
            ("query newest 100", lambda: store.query(LogQuery())),
            ("query host=zoom.us", lambda: store.query(LogQuery(host="zoom.us"))),
            ("query action=block kind=file", lambda: store.query(BLOCKED_FILES)),
            ("query client=pc-7", lambda: store.query(LogQuery(client="pc-7"))),
            ("query event=override, 1 day", lambda: store.query(overrides)),
            ("export host=zoom.us, 1 day", lambda: drain(store.export(zoom_day))),
        ]:  # fmt: skip
            times = [await timed(op) for _ in range(3)]
            print(f"{label:32} first {times[0]:7.1f} ms, then {min(times[1:]):7.1f} ms")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="rows per append benchmark")
    parser.add_argument("--stats-rows", type=int, default=1_000_000, help="0 to skip")
    parser.add_argument("--redis-url", help="an existing Redis (default: start redis-server)")
    parser.add_argument("--dir", type=Path, help="work directory (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        await bench_sqlite(Path(tmp), args.rows)
        await bench_redis(Path(tmp), args.rows, args.redis_url)
        if args.stats_rows:
            await bench_stats(Path(tmp), args.stats_rows)


if __name__ == "__main__":
    asyncio.run(main())
