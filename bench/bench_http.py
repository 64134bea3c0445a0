"""HTTP benchmark of the verdict service with Debian's `wrk` on loopback. Prints; asserts nothing.

    python3 bench/bench_http.py [--duration 8] [--warmup 2] [--rounds 3] [--connections 1,16,64]
                                [--skip-redis] [--stores sqlite,redis]
                                [--loads single,batch,batch-cold,sustained] [--keep DIR]

The server under test runs pinned to core 0 (`taskset -c 0`), wrk pinned to core 1 (`taskset
-c 1`, one thread); the redis-server (AOF on, as in production) shares core 1 with wrk, so the
service's core does nothing but serve. Every run:

  * reference: a minimal aiohttp JSON endpoint (this file, `--serve-reference`): reads the same
    POST body, parses it with orjson, answers a small JSON document; measured in turns with each
    store's single-URL figures, which are printed as a ratio to it (the machine's speed drifts
    over a run, so a ratio to a reference measured minutes apart says little);
  * `meetguard serve` with SQLite, then with Redis: `POST /v1/links/check` with one URL per
    request (a different one each time, from a pool of 10,000 mail-like URLs) at 1, 16 and 64
    connections: requests/s, p50 and p99 (wrk --latency);
  * batches of 100 URLs per request at 16 connections: URLs/s, from the same pool (verdicts
    mostly cached in process, as in real mail) and from a pool of 300,000 URLs (more than the
    verdict cache holds: every URL classified afresh);
  * SQLite "sustained": the cached batches again with the inbox kept at 1,000 rows
    (`MEETGUARD_SQLITE_INBOX_ROWS`), so every commit also indexes: what the service keeps up
    for good, where the other SQLite figures are what it takes in a burst (up to a million
    records, the default inbox) with indexing left for idle moments.

Before the loads, the floors under the batch goals are measured on this machine, as the issue
measured them on its own: `executemany` of 100 rows per commit into a plain SQLite table in WAL,
and XADD pipelined 100 at a time (redis-py) into the AOF-on redis-server, both on the service's
core. Each batch goal is printed as it stands and scaled by floor here / floor there.

Each figure also gives the CPU time per URL of the server process (all threads) and, with
Redis, of redis-server: what it cost, apart from waiting. Redis's figure bounds what one Redis
takes from every instance together (the log lives in one slot). `busy` is the server's CPU time
over the load's wall time: near 100% the figure is bound by the service's own work (only less
work per request raises it), well under it by waiting (on Redis, on the disk, on wrk).

Each load starts its own server on an empty data directory, so one load's records do not
weigh on the next. Every verdict is logged (context `click`): SQLite commits each record
before its answer, Redis acknowledges it. The rate limit is raised out of the way (one install
id sends everything).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLIENT_KEY = "bench-client-key-0123456789abcdef"
ADMIN_TOKEN = "bench-admin-token-0123456789abcdef"  # noqa: S105 (a local benchmark's)
SERVER_CORE, LOAD_CORE = "0", "1"
GOALS = {"ratio": 0.5, "p99_ms": 5.0, "batch_sqlite": 80_000, "batch_redis": 40_000}
# What the issue measured for the floors under the batch goals, on its machine: SQLite in WAL
# with 100 rows per commit, and pipelined XADD. The same floors are measured here in the same
# run, so each batch goal is also printed scaled to this machine (goal x floor here / floor
# there): the absolute goals were set on a machine ~2x faster than some this runs on.
ISSUE_FLOORS = {"sqlite": 370_000, "redis": 55_000}
FLOOR_ROWS = 50_000


@dataclass
class Result:
    target: str
    store: str
    load: str
    connections: int
    requests_s: float
    urls_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    server_us: float = float("nan")  # the server process's CPU time per URL (all its threads)
    redis_us: float = float("nan")  # redis-server's CPU time per URL
    busy: float = float("nan")  # the server's CPU time over the load's wall time (1.0: a core)
    ratios: tuple[float, ...] = ()  # single URL: to the reference, each round in turns


class CpuMeter:
    """CPU seconds the server process (and redis-server, when given) spent over one load: per
    URL, they say what a figure cost where throughput alone mixes cost with waiting."""

    def __init__(self, pid: int, redis_url: str | None) -> None:
        self.pid, self.redis_url = pid, redis_url
        self.server_s = self.redis_s = float("nan")

    def __enter__(self) -> CpuMeter:
        self._server0, self._redis0 = _process_cpu(self.pid), _redis_cpu(self.redis_url)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server_s = _process_cpu(self.pid) - self._server0
        self.redis_s = _redis_cpu(self.redis_url) - self._redis0

    def per_url(self, urls: float) -> tuple[float, float]:
        return 1e6 * self.server_s / urls, 1e6 * self.redis_s / urls


def wait_until_idle(server: Server, timeout: float = 120.0) -> None:
    """Until the server process uses under 2% of a core over half a second."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = _process_cpu(server.process.pid)
        time.sleep(0.5)
        if _process_cpu(server.process.pid) - before < 0.01:
            return
    print(f"  ({server.name} still busy after {timeout:.0f} s: measuring anyway)", flush=True)


def _process_cpu(pid: int) -> float:
    """User + system seconds of a process, all threads (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _redis_cpu(url: str | None) -> float:
    if url is None:
        return float("nan")
    import redis

    with contextlib.closing(redis.Redis.from_url(url)) as client:
        info = client.info("cpu")
    # with the AOF rewrites' forks (counted as each one ends): the log's cost too
    return sum(float(info[f"used_cpu_{kind}"]) for kind in
               ("user", "sys", "user_children", "sys_children"))


# -- load ----------------------------------------------------------------------------------------


def url_pool(count: int, hosts: int, seed: int) -> list[str]:
    """Distinct mail-like URLs: `bench_core.mail_corpus` (Zipf-like hosts, platform links,
    Safe Links wrappers), so both benchmarks classify the same kind of traffic."""
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_core import mail_corpus

    return mail_corpus(count, hosts, seed)


def lua_script(path: Path, bodies: list[str]) -> Path:
    """A wrk script sending `bodies` in turn (each wrk thread from its own offset)."""
    items = []
    for body in bodies:
        level = 1
        while f"]{'=' * level}]" in body:
            level += 1
        items.append(f"[{'=' * level}[{body}]{'=' * level}]")
    path.write_text(
        "local bodies = {\n" + ",\n".join(items) + "\n}\n"
        "local n, i = #bodies, 0\n"
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {CLIENT_KEY}"\n'
        'wrk.headers["X-MeetGuard-Install"] = "bench"\n'
        "function request()\n"
        "  i = i + 1\n"
        '  return wrk.format(nil, "/v1/links/check", nil, bodies[(i % n) + 1])\n'
        "end\n",
        encoding="utf-8",
    )
    return path


def bodies_of(urls: list[str], per_request: int) -> list[str]:
    return [json.dumps({"urls": urls[i:i + per_request], "context": "click"}, ensure_ascii=False)
            for i in range(0, len(urls) - per_request + 1, per_request)]


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(output: str) -> tuple[float, float, float, int]:
    """(requests/s, p50 ms, p99 ms, non-2xx + socket errors) from `wrk --latency` output."""
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    percentiles = {}
    for pct, value, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.M):
        percentiles[pct] = float(value) * _UNIT_MS[unit]
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       output)
    if socket:
        errors += sum(int(n) for n in socket.groups())
    return rate, percentiles.get("50", float("nan")), percentiles.get("99", float("nan")), errors


def run_wrk(url: str, script: Path, connections: int, seconds: float) -> str:
    command = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{connections}",
               f"-d{max(1, round(seconds))}s", "--timeout", "10s", "--latency", "-s",
               str(script), url]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr or done.stdout}")
    return done.stdout


# -- servers -------------------------------------------------------------------------------------


class Server:
    """A server process pinned to SERVER_CORE, stopped with SIGTERM (kill -9 if it hangs).
    `wrapper` runs it under another program (callgrind: `bench_instructions.py`), which may
    take `start_seconds` to answer."""

    def __init__(self, name: str, command: list[str], port: int, log: Path,
                 env: dict[str, str] | None = None, wrapper: Sequence[str] = (),
                 start_seconds: float = 30) -> None:
        self.name, self.port, self.log = name, port, log
        self.url = f"http://127.0.0.1:{port}"
        with log.open("ab") as out:
            self.process = subprocess.Popen(["taskset", "-c", SERVER_CORE, *wrapper, *command],
                                            stdout=out, stderr=subprocess.STDOUT,
                                            env={**os.environ, **(env or {})}, cwd=ROOT,
                                            start_new_session=True)
        deadline = time.monotonic() + start_seconds
        while True:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{name} did not start: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1):  # noqa: S310
                    return
            except OSError:
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reference_server(work: Path, **options: Any) -> Server:
    """The reference; `options` go to `Server` (wrapper, start_seconds)."""
    port = free_port()
    return Server("reference", [sys.executable, __file__, "--serve-reference", str(port)], port,
                  work / "reference.log", **options)


def meetguard_server(work: Path, store: str, redis_url: str | None,
                     extra_env: dict[str, str] | None = None, **options: Any) -> Server:
    port = free_port()
    data = work / f"data-{store}"
    shutil.rmtree(data, ignore_errors=True)
    env = {"MEETGUARD_CLIENT_KEYS": f"bench:{CLIENT_KEY}",
           "MEETGUARD_ADMIN_TOKENS": f"bench:{ADMIN_TOKEN}",
           "MEETGUARD_RATE_LIMIT_PER_MINUTE": "10000000", "MEETGUARD_LOG_LEVEL": "warning",
           **(extra_env or {})}
    if redis_url:
        env["MEETGUARD_REDIS_URL"] = redis_url
    command = [sys.executable, "-m", "meetguard.cli", "serve", "--port", str(port),
               "--data-dir", str(data)]
    return Server(f"meetguard-{store}", command, port, work / f"meetguard-{store}.log", env,
                  **options)


def serve_reference(port: int) -> None:
    """The reference: the least an aiohttp JSON endpoint does for the same request."""
    import orjson
    from aiohttp import web

    async def check(request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        answer = {"verdicts": [{"url": url, "action": "allow"} for url in body["urls"]]}
        return web.Response(body=orjson.dumps(answer), content_type="application/json")

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(body=b'{"status":"ok"}', content_type="application/json")

    app = web.Application()
    app.router.add_post("/v1/links/check", check)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


# -- the run -------------------------------------------------------------------------------------


def measure(server: Server, store: str, load: str, script: Path, connections: int,
            per_request: int, args: argparse.Namespace, redis_url: str | None = None) -> Result:
    """One figure: wrk for `args.duration` seconds, with what it cost in CPU per URL."""
    url = server.url + "/v1/links/check"
    with CpuMeter(server.process.pid, redis_url) as meter:
        started = time.monotonic()
        output = run_wrk(url, script, connections, args.duration)
        elapsed = time.monotonic() - started
    rate, p50, p99, errors = parse_wrk(output)
    server_us, redis_us = meter.per_url(rate * per_request * elapsed)
    busy = meter.server_s / elapsed
    result = Result(server.name.split("-")[0], store, load, connections, rate,
                    rate * per_request, p50, p99, errors, server_us, redis_us, busy)
    cost = f"  server {server_us:5.1f} us/URL busy {busy:4.0%}" + (
        f"  redis {redis_us:5.1f} us/URL" if redis_url else "")
    print(f"  {result.target:9} {store:6} {load:9} c={connections:<3} {result.urls_s:9.0f} URLs/s"
          f"  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms{cost}", flush=True)
    return result


def measure_single(reference: Server, server: Server, store: str, script: Path,
                   args: argparse.Namespace, redis_url: str | None = None) -> list[Result]:
    """The reference and the service in turns, a pair per round: the machine's speed drifts
    (seen here: the same figure 20-40% apart a minute later), so each ratio is to a reference
    measured just before. At 16 connections (the goal) `args.rounds` pairs, and the pair with
    the median ratio is the one reported; one pair elsewhere."""
    for target in (reference, server):
        run_wrk(target.url + "/v1/links/check", script, 16, args.warmup)  # warm: caches, pages
    out = []
    for connections in args.connections:
        pairs = []
        for _ in range(args.rounds if connections == 16 else 1):
            # The service's work left over (SQLite indexes its inbox once idle) must not run
            # on the reference's core while the reference is measured.
            wait_until_idle(server)
            ref = measure(reference, store, "1 URL", script, connections, 1, args)
            mine = measure(server, store, "1 URL", script, connections, 1, args, redis_url)
            pairs.append((mine.requests_s / ref.requests_s, ref, mine))
        ratios = tuple(ratio for ratio, _, _ in pairs)
        _, ref, mine = sorted(pairs, key=lambda pair: pair[0])[len(pairs) // 2]
        out += [ref, dataclasses.replace(mine, ratios=ratios)]
    return out


def measure_batch(server: Server, store: str, script: Path, load: str,
                  args: argparse.Namespace, redis_url: str | None = None) -> Result:
    run_wrk(server.url + "/v1/links/check", script, 16, args.warmup)
    return measure(server, store, load, script, 16, 100, args, redis_url)


# -- the floors under the batch goals ------------------------------------------------------------


def floor_documents(n: int) -> list[tuple[str, float, bytes]]:
    """(id, ts, document) of `n` log records as the service writes them (~400 bytes each)."""
    sys.path.insert(0, str(ROOT / "bench"))
    import orjson

    from bench_store import make_records

    return [(r.id, r.ts, orjson.dumps(r.to_dict()))
            for r in make_records(n, start=time.time(), span=3600)]


@contextlib.contextmanager
def pinned_to_server_core() -> Iterator[None]:
    """Run this process on the service's core, as the service would be."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {int(SERVER_CORE)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def sqlite_floor(work: Path, docs: list[tuple[str, float, bytes]]) -> float:
    """Rows/s: `executemany` of 100 rows per commit into a plain (id, ts, document) table in WAL,
    synchronous=NORMAL: the least a log of these records costs SQLite."""
    import sqlite3

    path = work / "floor.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("CREATE TABLE log (id TEXT NOT NULL, ts REAL NOT NULL, doc BLOB NOT NULL)")
        with pinned_to_server_core():
            started = time.perf_counter()
            for i in range(0, len(docs), 100):
                conn.execute("BEGIN")
                conn.executemany("INSERT INTO log VALUES (?, ?, ?)", docs[i : i + 100])
                conn.execute("COMMIT")
            return len(docs) / (time.perf_counter() - started)
    finally:
        conn.close()


def redis_floor(url: str, docs: list[tuple[str, float, bytes]]) -> float:
    """Entries/s: XADD of each record's document, 100 per pipeline (redis-py), to the AOF-on
    redis-server of the benchmark."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        with pinned_to_server_core():
            started = time.perf_counter()
            for i in range(0, len(docs), 100):
                pipe = client.pipeline(transaction=False)
                for rid, _, doc in docs[i : i + 100]:
                    pipe.xadd("{mg}:floor", {"id": rid, "doc": doc})
                pipe.execute()
            return len(docs) / (time.perf_counter() - started)
    finally:
        client.close()


def measure_floors(work: Path, stores: list[str]) -> dict[str, float]:
    docs = floor_documents(FLOOR_ROWS)
    floors = {}
    if "sqlite" in stores:
        floors["sqlite"] = sqlite_floor(work, docs)
    if "redis" in stores:
        with redis_server(work) as server:
            floors["redis"] = redis_floor(server.url, docs)
    for store, rate in floors.items():
        what = "SQLite WAL, 100 rows/commit" if store == "sqlite" else "pipelined XADD"
        print(f"  floor {store:6} {what:28} {rate:9.0f} /s   ({rate / ISSUE_FLOORS[store]:.2f} x"
              f" the issue's {ISSUE_FLOORS[store]:,})", flush=True)
    return floors


@contextlib.contextmanager
def redis_server(work: Path) -> Iterator[Any]:
    """A fresh redis-server (AOF on, as in production) on the load generator's core."""
    sys.path.insert(0, str(ROOT))
    from tests.support.redis import RedisServer

    shutil.rmtree(work / "redis", ignore_errors=True)
    server = RedisServer(work / "redis")
    server.start()
    assert server.process is not None
    subprocess.run(["taskset", "-pc", LOAD_CORE, str(server.process.pid)], check=True,
                   capture_output=True)
    try:
        yield server
    finally:
        server.stop()


def print_table(results: list[Result], floors: dict[str, float]) -> None:
    print()
    print(f"{'target':10} {'store':7} {'load':9} {'conns':>5} {'req/s':>9} {'URLs/s':>9} "
          f"{'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'server us/URL':>13} {'busy':>5} "
          f"{'redis us/URL':>12}")
    for r in results:
        redis_us = "" if math.isnan(r.redis_us) else f"{r.redis_us:12.1f}"
        print(f"{r.target:10} {r.store:7} {r.load:9} {r.connections:5} {r.requests_s:9.0f} "
              f"{r.urls_s:9.0f} {r.p50_ms:7.2f} {r.p99_ms:7.2f} {r.errors:6} "
              f"{r.server_us:13.1f} {r.busy:5.0%} {redis_us}")
    reference = {(r.store, r.connections): r for r in results if r.target == "reference"}
    print("(each reference row was measured just before the same store's single-URL row; at"
          " 16 connections the pair with the median ratio of the rounds)")
    print()
    for r in results:
        paired = reference.get((r.store, r.connections))
        if r.target != "meetguard" or r.load != "1 URL" or paired is None:
            continue
        ratio = r.requests_s / paired.requests_s
        line = f"{r.store:6} 1 URL c={r.connections:<3} {ratio:6.1%} of the reference"
        if len(r.ratios) > 1:
            line += f" (rounds: {', '.join(f'{x:.1%}' for x in r.ratios)})"
        if r.connections == 16:
            ok = ratio >= GOALS["ratio"] and r.p99_ms < GOALS["p99_ms"]
            line += (f"   goal: >= {GOALS['ratio']:.0%} with p99 < {GOALS['p99_ms']:.0f} ms"
                     f"  -> {'met' if ok else 'MISSED'}")
        print(line)
    for r in results:
        if r.target == "meetguard" and r.load.startswith("100"):
            goal = GOALS["batch_sqlite" if r.store == "sqlite" else "batch_redis"]
            line = (f"{r.store:6} {r.load:9} {r.urls_s:9.0f} URLs/s   goal: >= {goal:,} URLs/s"
                    f"  -> {'met' if r.urls_s >= goal else 'MISSED'}")
            if r.store in floors:
                scaled = goal * floors[r.store] / ISSUE_FLOORS[r.store]
                line += (f";  scaled to this machine's floor: >= {scaled:,.0f}"
                         f"  -> {'met' if r.urls_s >= scaled else 'MISSED'}")
            print(line)
            if not math.isnan(r.redis_us):
                # Every instance's records go through the one Redis (the log is one slot).
                print(f"{'':6} {'':9} Redis spent {r.redis_us:.1f} us per URL: one Redis core"
                      f" takes ~{1e6 / r.redis_us:,.0f} URLs/s from all instances together")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=3,
                        help="reference/service pairs at 16 connections (the median is kept)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up load")
    parser.add_argument("--connections", type=lambda s: [int(c) for c in s.split(",")],
                        default=[1, 16, 64])
    parser.add_argument("--skip-redis", action="store_true")
    parser.add_argument("--stores", type=lambda s: s.split(","), default=["sqlite", "redis"],
                        help="stores to measure (comma-separated: sqlite,redis)")
    parser.add_argument("--loads", type=lambda s: s.split(","), default=None,
                        help="loads to run (single,batch,batch-cold,sustained; default all)")
    parser.add_argument("--keep", type=Path, help="work directory to keep (logs, databases)")
    parser.add_argument("--serve-reference", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_reference:
        serve_reference(args.serve_reference)
        return
    require_tools("bench_http", ("wrk", "taskset"))
    if (os.cpu_count() or 1) < 2:
        print("bench_http: fewer than 2 cores: server and load share one", file=sys.stderr)
    with work_directory(args.keep, "meetguard-bench-http-") as work:
        run(work, args)


def require_tools(bench: str, tools: tuple[str, ...]) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            sys.exit(f"{bench}: `{tool}` is missing (scripts/bench installs it)")


@contextlib.contextmanager
def work_directory(keep: Path | None, prefix: str) -> Iterator[Path]:
    """`keep` (created if need be and kept), or a temporary directory removed afterwards."""
    work = keep or Path(tempfile.mkdtemp(prefix=prefix))
    work.mkdir(parents=True, exist_ok=True)
    try:
        yield work
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)


def run(work: Path, args: argparse.Namespace) -> None:
    single = url_pool(10_000, hosts=3000, seed=7)
    cold = url_pool(300_000, hosts=20_000, seed=9)
    scripts = {"single": lua_script(work / "single.lua", bodies_of(single, 1)),
               "batch": lua_script(work / "batch.lua", bodies_of(single, 100)),
               "batch-cold": lua_script(work / "batch-cold.lua", bodies_of(cold, 100))}
    print(f"== wrk on core {LOAD_CORE}, servers on core {SERVER_CORE}, "
          f"{args.duration:.0f} s per figure (after {args.warmup:.0f} s warm-up); "
          f"load average {os.getloadavg()[0]:.2f} (other work on the machine skews every figure)",
          flush=True)
    results: list[Result] = []
    stores = [s for s in args.stores if not (args.skip_redis and s == "redis")]
    floors = measure_floors(work, stores)
    # (name for --loads, wrk script, label, extra environment)
    batches = [("batch", "batch", "100 URLs", None), ("batch-cold", "batch-cold", "100 cold", None)]
    for store in stores:
        loads = [("single", "single", "1 URL", None), *batches]
        if store == "sqlite":
            loads.append(("sustained", "batch", "100 sust.",
                          {"MEETGUARD_SQLITE_INBOX_ROWS": "1000"}))
        for load_name, name, load, env in loads:
            if args.loads and load_name not in args.loads:
                continue
            with contextlib.ExitStack() as stack:
                redis_url = stack.enter_context(redis_server(work)).url if store == "redis" \
                    else None
                server = stack.enter_context(meetguard_server(work, store, redis_url, env))
                if name == "single":
                    reference = stack.enter_context(reference_server(work))
                    results += measure_single(reference, server, store, scripts[name], args,
                                              redis_url)
                else:
                    results.append(measure_batch(server, store, scripts[name], load, args,
                                                 redis_url))
    print_table(results, floors)
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
