"""Instructions per request under callgrind: the single-URL ratio, free of the machine's noise.

    python3 bench/bench_instructions.py [--requests 2000] [--connections 16] [--stores sqlite,redis]

`bench_http.py` measures throughput in wall-clock time, and on a shared virtual machine the
same figure drifts 20-40% within a minute (the reference alone: 49-78 us of CPU per request
minutes apart), so a change worth 5% cannot be seen there. Here each server runs under
valgrind's callgrind, which counts the instructions the process executes: repeat runs of the
same code agree within ~2%, whatever else the machine does (not exactly: how many records
share one SQLite commit or one Redis call depends on when the requests arrive).

Each server (the reference of `bench_http.py`, then `meetguard serve` with SQLite and with
Redis) gets every URL of a pool once (each verdict cached, as in mail), then exactly
`--requests` single-URL requests at `--connections`, counted: instructions per request and
the reference's count over the service's, the ratio the throughput goal is about (>= 50%).

What it does not see: time in the kernel (socket calls, fsync), cache misses (the service's
working set is far larger than the reference's), and waiting (the event loop asleep while
Redis answers). So the wall-clock ratio runs below this one, and a change can win here and
lose there or the other way round: a second Redis call in flight for any chunk cost +2.6%
instructions here and gained ~10% requests/s in wrk (the loop slept half as often). This is
an upper estimate of the ratio; `bench_http.py` gives the real one. (Cache misses can be
simulated: with valgrind's `--cache-sim=yes` the SQLite and Redis services missed alike per
request, I1 15.3k / 15.2k, D1 8.4k / 9.0k, while with Redis the service takes ~20% more user
time per request in wrk: that part of the gap lies outside the process's own code, e.g. in
the work Redis adds to the load generator's core.) Under callgrind the
service is ~50x slower while the load generator is not, so the number of records per log
write differs from full speed: the Redis line prints how many each append call carried (at
full speed, 16 connections: ~5.2).

The load is sent like wrk's: one write per request on keep-alive connections.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from bench_http import (  # noqa: E402  (bench/ is not a package)
    CLIENT_KEY,
    Server,
    bodies_of,
    meetguard_server,
    redis_server,
    reference_server,
    require_tools,
    url_pool,
    work_directory,
)

STARTUP_SECONDS = 300  # policy loading runs ~50x slower under callgrind


@dataclass
class Count:
    name: str
    per_request: float
    records_per_call: float | None = None


def request_bytes(body: str, port: int) -> bytes:
    """One HTTP request as wrk sends it (`bench_http.lua_script`: the same headers)."""
    data = body.encode()
    head = (f"POST /v1/links/check HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nAuthorization: Bearer {CLIENT_KEY}\r\n"
            f"X-MeetGuard-Install: bench\r\nContent-Length: {len(data)}\r\n\r\n")
    return head.encode() + data


async def send_all(port: int, requests: list[bytes], connections: int) -> None:
    """Every request once, over `connections` keep-alive connections; each must answer 200."""
    queue = iter(requests)

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for request in queue:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                if not head.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(f"answered {head[:60]!r}")
                length = re.search(rb"(?i)content-length:\s*(\d+)", head)
                await reader.readexactly(int(length.group(1)) if length else 0)
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(connections)))


def callgrind(out: Path) -> dict[str, Any]:
    """`Server` options: under callgrind, instrumentation off until asked (start-up is not
    counted)."""
    return {"wrapper": ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                        f"--callgrind-out-file={out}"], "start_seconds": STARTUP_SECONDS}


def control(server: Server, *args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(server.process.pid)], check=True,
                   capture_output=True)


def dumped_total(out: Path, since: float) -> int:
    """The instruction total of the dump written after `since` (callgrind numbers its parts)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for part in sorted(out.parent.glob(out.name + ".*")):
            if part.stat().st_mtime >= since:
                match = re.search(r"^totals:\s+(\d+)", part.read_text(errors="replace"), re.M)
                if match:
                    return int(match.group(1))
        time.sleep(0.5)
    raise RuntimeError(f"no callgrind dump of {out.name} appeared")


def evalsha_calls(redis_url: str | None) -> int:
    if redis_url is None:
        return 0
    import redis

    with contextlib.closing(redis.Redis.from_url(redis_url)) as client:
        return int(client.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0))


def count(server: Server, out: Path, bodies: list[str], args: argparse.Namespace,
          redis_url: str | None = None) -> Count:
    """Instructions per request of `server` (under callgrind, dumping to `out`)."""
    warm = [request_bytes(body, server.port) for body in bodies]
    measured = [warm[i % len(warm)] for i in range(args.requests)]
    asyncio.run(send_all(server.port, warm, args.connections))  # every verdict cached
    control(server, "--instr=on")
    calls = evalsha_calls(redis_url)
    asyncio.run(send_all(server.port, measured, args.connections))
    calls = evalsha_calls(redis_url) - calls
    control(server, "--instr=off")
    since = time.time() - 1
    control(server, "--dump")
    result = Count(server.name, dumped_total(out, since) / args.requests,
                   args.requests / calls if redis_url and calls else None)
    extra = f"  ({result.records_per_call:.1f} records per append call)" \
        if result.records_per_call else ""
    print(f"  {result.name:16} {result.per_request:11,.0f} instructions per request{extra}",
          flush=True)
    return result


def run(args: argparse.Namespace, work: Path) -> None:
    bodies = bodies_of(url_pool(args.pool, hosts=3000, seed=7), 1)
    print(f"== callgrind: {args.requests} single-URL requests at {args.connections} "
          f"connections, after a pool of {args.pool} URLs once", flush=True)
    out = work / "reference.callgrind"
    with reference_server(work, **callgrind(out)) as server:
        reference = count(server, out, bodies, args)
    results = []
    for store in args.stores:
        out = work / f"{store}.callgrind"
        with contextlib.ExitStack() as stack:
            redis_url = stack.enter_context(redis_server(work)).url if store == "redis" else None
            server = stack.enter_context(
                meetguard_server(work, store, redis_url, **callgrind(out)))
            results.append(count(server, out, bodies, args, redis_url))
    print()
    for result in results:
        ratio = reference.per_request / result.per_request
        print(f"{result.name:16} {ratio:6.1%}  (instructions per request: reference"
              f" {reference.per_request:,.0f} / service {result.per_request:,.0f};"
              f" the throughput goal: >= 50%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests counted")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--pool", type=int, default=2000, help="distinct URLs (warmed first)")
    parser.add_argument("--stores", type=lambda s: s.split(","), default=["sqlite", "redis"])
    parser.add_argument("--keep", type=Path, help="work directory to keep (dumps, logs)")
    args = parser.parse_args()
    require_tools("bench_instructions", ("valgrind", "callgrind_control"))
    with work_directory(args.keep, "meetguard-bench-instructions-") as work:
        run(args, work)


if __name__ == "__main__":
    main()
