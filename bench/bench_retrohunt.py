"""Retro-hunt benchmark: prints figures, asserts nothing.

    python3 bench/bench_retrohunt.py [--records 1000000] [--targets 300000] [--workers 2]
                                     [--rate 200] [--connections 4] [--keep DIR]

1. A SQLite log of `--records` link records over 7 days, on `--targets` distinct targets
   (every one logged at least once, popular ones often: 20,000 installs clicking), written
   with the store's own insert and indexing (kept in `--keep` and reused when it exists).
2. `meetguard serve` on it, with a copy of the signatures; single-URL checks at
   `--rate` per second over `--connections` connections (each a different URL from a pool of
   20,000, so verdicts are classified, not only cached) for a few seconds: p50/p99/max while
   no run goes on.
3. 1% of the logged hosts added to `domains/local.txt`, the service reloaded (automatic run
   off), then `POST /v1/admin/retrohunt {"since": "7d"}`, timed, with the same single-URL load
   going on: the run's seconds, its summary, and p50/p99/max of the checks meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from meetguard.store.base import LogRecord, new_record_ids
from meetguard.store.sqlite import connect_writer, index_inbox, insert_records, migrate

ROOT = Path(__file__).resolve().parent.parent
CLIENT_KEY = secrets.token_hex(16)  # keys of this run only
ADMIN_TOKEN = secrets.token_hex(16)
DAY = 86400.0
WORDS = ["mail", "docs", "files", "portal", "share", "cloud", "meet", "news", "shop", "data",
         "secure", "login", "web", "app", "info", "support", "media", "static", "cdn", "go"]


def hosts(n: int, rng: random.Random) -> list[str]:
    """`n` plausible unknown hosts (none of them a look-alike of anything protected)."""
    out = set()
    while len(out) < n:
        out.add(f"{rng.choice(WORDS)}{rng.randrange(10**6)}.{rng.choice(WORDS)}"
                f"{rng.randrange(1000)}.org")
    return sorted(out)


def targets(n: int, host_list: list[str], rng: random.Random) -> list[str]:
    return [f"https://{rng.choice(host_list)}/{rng.choice(WORDS)}/{i}?ref={rng.randrange(10**6)}"
            for i in range(n)]


def build_log(db: Path, n_records: int, n_targets: int) -> list[str]:
    """Write the log (if not there yet); returns its hosts."""
    rng = random.Random(19)
    host_list = hosts(max(1000, n_targets // 10), rng)
    if db.exists():
        return host_list
    target_list = targets(n_targets, host_list, rng)
    started = time.perf_counter()
    conn = connect_writer(db)
    migrate(conn)
    now = time.time()
    chunk = 50_000
    for first in range(0, n_records, chunk):
        records = []
        for i in range(first, min(first + chunk, n_records)):
            # Every target at least once, then a skewed choice (some links go to many people).
            t = i if i < n_targets else int(n_targets * rng.random() ** 3)
            ts = now - 7 * DAY + 7 * DAY * i / n_records
            install = rng.randrange(20_000)
            records.append(LogRecord(
                new_record_ids(ts, 1)[0], ts, "link", f"pc-{install}", f"user-{install}",
                "click", "unknown", "allow", None, target_list[t].split("/")[2],
                target_list[t], ("unknown-origin",), (), "bench-0"))
        conn.execute("BEGIN IMMEDIATE")
        insert_records(conn, records)
        conn.execute("COMMIT")
    while True:
        conn.execute("BEGIN IMMEDIATE")
        moved = index_inbox(conn, 100_000)
        conn.execute("COMMIT")
        if moved < 100_000:
            break
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    print(f"log written: {n_records:,} records on {n_targets:,} targets in "
          f"{time.perf_counter() - started:.0f} s ({db})")
    return host_list


class Service:
    def __init__(self, data: Path, signatures: Path, workers: int) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "MEETGUARD_CLIENT_KEYS": f"bench:{CLIENT_KEY}",
               "MEETGUARD_ADMIN_TOKENS": f"it:{ADMIN_TOKEN}", "MEETGUARD_RETROHUNT_DAYS": "0",
               "MEETGUARD_RETROHUNT_WORKERS": str(workers),
               "MEETGUARD_RATE_LIMIT_PER_MINUTE": "10000000",
               "MEETGUARD_SIGNATURES": str(signatures)}
        self.log = (data / "bench-service.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "meetguard.cli", "serve", "--port", str(self.port),
             "--data-dir", str(data)], env=env, stdout=self.log, stderr=subprocess.STDOUT)

    async def ready(self, session: aiohttp.ClientSession) -> None:
        for _ in range(300):
            try:
                async with session.get(self.url + "/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise RuntimeError("the service did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)
        self.log.close()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def checks(session: aiohttp.ClientSession, url: str, stop: asyncio.Event,
                 connections: int, rate: float) -> list[tuple[float, float]]:
    """Single-URL checks at `rate` per second over `connections` connections (each sends its
    next one on time, or at once when late), until `stop`; (latency in ms, when it was sent)."""
    rng = random.Random(7)
    pool = targets(20_000, hosts(2000, rng), rng)
    headers = {"Authorization": f"Bearer {CLIENT_KEY}", "X-MeetGuard-Install": "bench"}
    latencies: list[tuple[float, float]] = []

    interval = connections / rate

    async def one(offset: int) -> None:
        i = offset
        due = time.perf_counter() + interval * offset / connections
        while not stop.is_set():
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            due += interval
            body = {"urls": [pool[i % len(pool)]], "context": "click"}
            started = time.perf_counter()
            async with session.post(url + "/v1/links/check", json=body,
                                    headers=headers) as response:
                await response.read()
            latencies.append(((time.perf_counter() - started) * 1000, started))
            i += connections
    await asyncio.gather(*(one(c) for c in range(connections)))
    return latencies


def describe(name: str, checked: list[tuple[float, float]]) -> str:
    if not checked:
        return f"{name}: no checks"
    ordered = sorted(ms for ms, _ in checked)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"{name}: {len(ordered):,} single-URL checks, p50 {statistics.median(ordered):.2f} ms"
            f", p99 {p99:.2f} ms, max {ordered[-1]:.1f} ms")


async def measure(args: argparse.Namespace, work: Path) -> None:
    data = work / f"data-{args.records}-{args.targets}"
    data.mkdir(parents=True, exist_ok=True)
    host_list = build_log(data / "meetguard.sqlite3", args.records, args.targets)
    with tempfile.TemporaryDirectory() as tmp:
        signatures = Path(tmp) / "signatures"
        shutil.copytree(ROOT / "signatures", signatures)
        service = Service(data, signatures, args.workers)
        timeout = aiohttp.ClientTimeout(total=None)
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                await service.ready(session)
                stop = asyncio.Event()
                idle = asyncio.create_task(checks(session, service.url, stop, args.connections,
                                            args.rate))
                await asyncio.sleep(args.idle_seconds)
                stop.set()
                print(describe("idle", await idle))

                bad = random.Random(3).sample(host_list, len(host_list) // 100)
                with (signatures / "domains" / "local.txt").open("a") as handle:
                    handle.write("\n" + "\n".join(bad) + "\n")
                async with session.post(service.url + "/v1/admin/reload",
                                        headers=admin) as response:
                    assert response.status == 200, await response.text()

                stop = asyncio.Event()
                during = asyncio.create_task(checks(session, service.url, stop,
                                                    args.connections, args.rate))
                started = time.perf_counter()
                async with session.post(service.url + "/v1/admin/retrohunt",
                                        json={"since": "8d"}, headers=admin) as response:
                    body = await response.read()
                wall = time.perf_counter() - started
                stop.set()
                latencies = await during
                # Parsed once the load is over: megabytes of findings parsed on this loop
                # would show as slow checks of the service.
                answer = json.loads(body)
                if response.status != 200:
                    print(f"retro-hunt failed: {answer}")
                    return
                s = answer["summary"]
                people = len({p for f in answer["findings"] for p in f["people"]})
                print(f"retro-hunt ({args.workers} worker process(es)): {s['records']:,} records,"
                      f" {s['targets']:,} distinct targets re-checked in {s['seconds']:.1f} s "
                      f"(answer after {wall:.1f} s; classification {s['cpu_seconds']:.1f} CPU "
                      f"seconds); {s['findings']:,} findings ({s['new_findings']:,} new), "
                      f"{people:,} people; load average now {os.getloadavg()[0]:.1f}")
                print(describe("during the run", latencies))
                slowest = sorted(latencies, reverse=True)[:8]
                print("slowest checks (ms @ seconds into the run): " + ", ".join(
                    f"{ms:.0f} @ {at - started:.1f}" for ms, at in slowest))
        finally:
            service.stop()
    conn = sqlite3.connect(data / "meetguard.sqlite3")
    conn.execute("DELETE FROM records WHERE kind = 'retro'")  # the next run finds them again
    conn.execute("DELETE FROM inbox WHERE kind = 'retro'")
    conn.commit()
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--targets", type=int, default=300_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--rate", type=float, default=200.0,
                        help="single-URL checks per second meanwhile (default 200)")
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    parser.add_argument("--keep", type=Path, default=Path(tempfile.gettempdir()) /
                        "meetguard-bench-retrohunt", help="where the log is kept between runs")
    args = parser.parse_args()
    args.keep.mkdir(parents=True, exist_ok=True)
    print(f"cores: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    asyncio.run(measure(args, args.keep))


if __name__ == "__main__":
    main()
