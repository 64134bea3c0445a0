"""`meetguard serve` as an operator runs it (a real process, SQLite in a data directory):
kill -9 under load loses no answered verdict; SIGTERM drains and flushes; SIGHUP reloads the
signatures (and a broken file keeps the old ones); `--workers 2` shares one port; the first
start prints generated keys once."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import aiohttp
from tests.support.service import (
    ADMIN_TOKEN,
    CLIENT_KEY,
    ROOT,
    ServiceProcess,
    admin_headers,
    check,
    client_headers,
)

LOAD_SECONDS = 2.0
CLIENTS = 8
TIMEOUT = aiohttp.ClientTimeout(total=10)


async def send_load(base: str, stop: asyncio.Event, answered: list[str], client: int) -> None:
    """Check links until `stop` (or until the service is gone); keep every id answered 200."""
    counter = itertools.count()
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        while not stop.is_set():
            n = next(counter)
            urls = [f"https://zoom.us/j/{client}{n}{k}" for k in range(1 + n % 4)]
            urls.append(f"https://example-{client}-{n}.com/login")
            try:
                async with session.post(f"{base}/v1/links/check",
                                        json={"urls": urls, "context": "click"},
                                        headers=client_headers(install=f"load-{client}")
                                        ) as response:
                    if response.status != 200:
                        continue
                    body = await response.json()
            except (aiohttp.ClientError, TimeoutError):
                return  # the service went away under us: what it answered is what counts
            answered += [v["id"] for v in body["verdicts"]]


async def load_until(service: ServiceProcess, action: Any) -> tuple[list[str], Any]:
    """Run CLIENTS senders for LOAD_SECONDS, then `action()` (blocking) while they still send;
    returns the ids answered and what `action` returned."""
    stop = asyncio.Event()
    answered: list[str] = []
    tasks = [asyncio.create_task(send_load(service.url, stop, answered, i))
             for i in range(CLIENTS)]
    await asyncio.sleep(LOAD_SECONDS)
    result = await asyncio.to_thread(action)
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=15)
    return answered, result


def ensure_gone(service: ServiceProcess) -> None:
    """kill -9 the service if it still runs (a failed test leaves no process behind)."""
    if service.process is not None and service.process.poll() is None:
        service.kill()


async def logged_ids(base: str) -> list[str]:
    """Every record id in the service's log (NDJSON export)."""
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session, session.get(
            f"{base}/v1/logs", params={"format": "ndjson"}, headers=admin_headers()) as response:
        assert response.status == 200
        text = await response.text()
    return [json.loads(line)["id"] for line in text.splitlines() if line]


async def test_kill_9_under_load_loses_no_answered_verdict(tmp_path: Path) -> None:
    service = ServiceProcess(tmp_path / "data").start()
    try:
        answered, _ = await load_until(service, service.kill)
        assert len(answered) > 50, "the load did not get going"
        assert service.process is not None and service.process.returncode == -signal.SIGKILL
        again = ServiceProcess(tmp_path / "data").start()
        try:
            logged = await logged_ids(again.url)
        finally:
            again.stop()
    finally:
        ensure_gone(service)
    assert len(logged) == len(set(logged)), "a record is in the log twice"
    missing = set(answered) - set(logged)
    assert not missing, f"{len(missing)} of {len(answered)} answered verdicts are not in the log"


async def test_sigterm_finishes_in_flight_requests_and_flushes(tmp_path: Path) -> None:
    service = ServiceProcess(tmp_path / "data").start()
    try:
        answered, status = await load_until(service, service.stop)
        assert status == 0
        assert len(answered) > 50
        assert "flushing the log" in service.log.read_text()
        again = ServiceProcess(tmp_path / "data").start()
        try:
            logged = await logged_ids(again.url)
        finally:
            assert again.stop() == 0
    finally:
        ensure_gone(service)
    assert set(answered) <= set(logged) and len(logged) == len(set(logged))


async def wait_for_version(base: str, url: str, before: str) -> dict[str, Any]:
    """Check `url` until the policy version is not `before` (10 s at most); the last answer."""
    deadline = time.monotonic() + 10
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        while True:
            body = await check(session, base, [url])
            if body["policy_version"] != before or time.monotonic() > deadline:
                return body
            await asyncio.sleep(0.05)


def wait_for_log(service: ServiceProcess, text: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in service.log.read_text():
        assert time.monotonic() < deadline, f"{text!r} never appeared in the service log"
        time.sleep(0.05)


def copy_signatures(tmp_path: Path) -> Path:
    signatures = tmp_path / "signatures"
    shutil.copytree(ROOT / "signatures", signatures)
    return signatures


async def test_sighup_reloads_the_signatures(tmp_path: Path) -> None:
    signatures = copy_signatures(tmp_path)
    service = ServiceProcess(tmp_path / "data", args=("--signatures", str(signatures))).start()
    url = "https://meeting-invite.example.net/j/77"
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            before = (await check(session, service.url, [url]))
        assert "known-bad" not in [r["code"] for r in before["verdicts"][0]["reasons"]]
        with (signatures / "domains" / "local.txt").open("a") as handle:
            handle.write("\nmeeting-invite.example.net\n")
        service.signal(signal.SIGHUP)
        after = await wait_for_version(service.url, url, before["policy_version"])
        assert after["policy_version"] != before["policy_version"]
        verdict = after["verdicts"][0]
        assert "known-bad" in [r["code"] for r in verdict["reasons"]]
        assert verdict["action"] == "block" and verdict["policy_version"] == after["policy_version"]
        assert service.process is not None and service.process.poll() is None
    finally:
        assert service.stop() == 0


async def test_sighup_with_a_broken_signature_file_keeps_the_old_ones(tmp_path: Path) -> None:
    signatures = copy_signatures(tmp_path)
    service = ServiceProcess(tmp_path / "data", args=("--signatures", str(signatures))).start()
    url = "https://broken-reload.example.org/"
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            version = (await check(session, service.url, [url]))["policy_version"]
            (signatures / "yara" / "url" / "broken.yar").write_text("rule broken {\n  strings:\n")
            with (signatures / "domains" / "local.txt").open("a") as handle:
                handle.write("\nbroken-reload.example.org\n")
            service.signal(signal.SIGHUP)
            wait_for_log(service, "SIGHUP reload refused")
            assert "broken.yar" in service.log.read_text()
            still = await check(session, service.url, [url])
            assert still["policy_version"] == version  # the old snapshot keeps serving
            assert still["verdicts"][0]["action"] != "block"
            async with session.get(f"{service.url}/readyz") as response:
                assert (await response.json())["policy_version"] == version
            # fixed: the next SIGHUP takes the domain added meanwhile
            (signatures / "yara" / "url" / "broken.yar").unlink()
            service.signal(signal.SIGHUP)
        fixed = await wait_for_version(service.url, url, version)
        assert fixed["policy_version"] != version and fixed["verdicts"][0]["action"] == "block"
    finally:
        assert service.stop() == 0


async def test_two_workers_serve_one_port(tmp_path: Path) -> None:
    # The kernel may hand most connections to one worker for a while: keep probing /healthz
    # (not rate limited) until both have answered, and send only the 20 checks.
    service = ServiceProcess(tmp_path / "data", args=("--workers", "2"),
                             env={"MEETGUARD_RATE_LIMIT_PER_MINUTE": "100000"}).start()
    try:
        assert service.process is not None
        workers = children(service.process.pid)
        assert len(workers) == 2
        seen: set[int] = set()
        answered: list[str] = []
        connector = aiohttp.TCPConnector(force_close=True)  # a new connection each time
        async with aiohttp.ClientSession(timeout=TIMEOUT, connector=connector) as session:
            deadline = time.monotonic() + 30
            while (len(seen) < 2 or len(answered) < 20) and time.monotonic() < deadline:
                async with session.get(f"{service.url}/healthz") as response:
                    seen.add((await response.json())["pid"])
                if len(answered) < 20:
                    body = await check(session, service.url,
                                       [f"https://zoom.us/j/{len(answered)}"])
                    answered += [v["id"] for v in body["verdicts"]]
        assert seen == workers
        assert set(answered) <= set(await logged_ids(service.url))  # both write the one log
    finally:
        assert service.stop() == 0
    assert children(service.process.pid) == set()


async def test_a_killed_worker_is_replaced(tmp_path: Path) -> None:
    service = ServiceProcess(tmp_path / "data", args=("--workers", "2")).start()
    try:
        assert service.process is not None
        first = children(service.process.pid)
        victim = min(first)
        os.kill(victim, signal.SIGKILL)  # as the out-of-memory killer would
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            now = children(service.process.pid)
            if len(now) == 2 and victim not in now:
                break
            await asyncio.sleep(0.1)
        replacement = (now - first).pop()
        seen: set[int] = set()
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(timeout=TIMEOUT, connector=connector) as session:
            while replacement not in seen and time.monotonic() < deadline:
                async with session.get(f"{service.url}/healthz") as response:
                    seen.add((await response.json())["pid"])
        assert replacement in seen  # the new worker serves
    finally:
        assert service.stop() == 0  # and SIGTERM still ends everything cleanly


def children(pid: int) -> set[int]:
    """The live child processes of `pid` (from /proc, like `ps --ppid`)."""
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid and fields[0] != "Z":
            out.add(int(stat.parent.name))
    return out


KEYS = re.compile(r"client key \(extensions\): (\S+)\n\s+admin token \(IT\):\s+(\S+)")


async def test_first_start_prints_generated_keys_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    no_keys = {"MEETGUARD_CLIENT_KEYS": "", "MEETGUARD_ADMIN_TOKENS": ""}
    service = ServiceProcess(data, env=no_keys).start()
    try:
        printed = KEYS.findall(service.log.read_text())
        assert len(printed) == 1
        client_key, admin_token = printed[0]
        assert len(client_key) >= 32 and len(admin_token) >= 32
        assert {client_key, admin_token}.isdisjoint({CLIENT_KEY, ADMIN_TOKEN})
        stored = (data / "keys.json").read_text()
        assert client_key not in stored and admin_token not in stored  # hashes only
        await use_keys(service.url, client_key, admin_token)
    finally:
        assert service.stop() == 0
    again = ServiceProcess(data, env=no_keys).start()
    try:
        assert len(KEYS.findall(again.log.read_text())) == 1  # still the one from the first start
        assert again.log.read_text().count("generated keys") == 1
        await use_keys(again.url, client_key, admin_token)
    finally:
        assert again.stop() == 0


async def use_keys(base: str, client_key: str, admin_token: str) -> None:
    client = {"Authorization": f"Bearer {client_key}"}
    admin = {"Authorization": f"Bearer {admin_token}"}
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        async with session.post(f"{base}/v1/links/check", json={"urls": ["https://zoom.us/j/5"]},
                                headers=client) as response:
            assert response.status == 200
            verdict_id = (await response.json())["verdicts"][0]["id"]
        async with session.get(f"{base}/v1/logs", headers=admin) as response:
            assert response.status == 200
            assert verdict_id in [r["id"] for r in (await response.json())["items"]]
        async with session.get(f"{base}/v1/logs", headers=client) as response:
            assert response.status == 403
        for key in (CLIENT_KEY, ADMIN_TOKEN):  # the test keys are not configured here
            async with session.get(f"{base}/v1/policy",
                                   headers={"Authorization": f"Bearer {key}"}) as response:
                assert response.status == 401
