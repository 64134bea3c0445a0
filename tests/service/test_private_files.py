"""The data directory is private whatever the umask: `meetguard serve` started with umask 000
creates it 0700, and everything it makes inside (the SQLite log and its -wal/-shm, key hashes,
console sessions, the syslog position and lock, the Redis spool) 0600. An operator's existing
directory open to others keeps its mode and gets one warning with the fix."""

from __future__ import annotations

import json
import re
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from tests.support.redis import RedisServer
from tests.support.service import ServiceProcess, check

URLS = ["https://zoom.us/j/123456789?pwd=secret", "https://example.com/login"]


def modes(root: Path) -> dict[str, str]:
    """Every path under `root` (itself included) -> its mode in octal."""
    found = {".": f"{stat.S_IMODE(root.stat().st_mode):04o}"}
    for path in sorted(root.rglob("*")):
        found[str(path.relative_to(root))] = f"{stat.S_IMODE(path.lstat().st_mode):04o}"
    return found


def not_private(root: Path) -> dict[str, str]:
    """The paths under `root` that are not 0700 (directories) or 0600 (files)."""
    wrong = {}
    for name, mode in modes(root).items():
        path = root / name
        want = "0700" if path.is_dir() else "0600"
        if mode != want:
            wrong[name] = mode
    return wrong


def wait_for(path: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


@pytest.fixture
def syslog_port() -> Iterator[int]:
    """A UDP socket standing in for the SIEM (what it receives is not looked at here)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def generated_keys(log: Path) -> tuple[str, str]:
    """The client key and admin token a first start printed (no keys configured)."""
    text = log.read_text()
    client = re.search(r"client key \(extensions\): (\S+)", text)
    admin = re.search(r"admin token \(IT\): +(\S+)", text)
    assert client and admin, text
    return client[1], admin[1]


async def use_everything(base: str, client_key: str, admin_token: str) -> None:
    """Checks (records in the log) and a console sign-in (a session in console.sqlite3)."""
    async with aiohttp.ClientSession() as session:
        for _ in range(3):
            async with session.post(f"{base}/v1/links/check", json={"urls": URLS},
                                    headers={"Authorization": f"Bearer {client_key}",
                                             "X-MeetGuard-Install": "install-1"}) as r:
                assert r.status == 200, await r.text()
        async with session.post(f"{base}/admin/api/session", json={"token": admin_token}) as r:
            assert r.status == 200, await r.text()


async def test_everything_the_service_creates_is_private_under_umask_000(
        tmp_path: Path, syslog_port: int) -> None:
    data = tmp_path / "var" / "meetguard"
    # No keys configured: the first start generates them and keeps their hashes (keys.json).
    service = ServiceProcess(data, log=tmp_path / "service.log", umask=0o000,
                             env={"MEETGUARD_SYSLOG": f"udp://127.0.0.1:{syslog_port}",
                                  "MEETGUARD_CLIENT_KEYS": "", "MEETGUARD_ADMIN_TOKENS": ""})
    service.start()
    try:
        await use_everything(service.url, *generated_keys(service.log))
        wait_for(data / "syslog.position")  # the forwarder sent the records
        running = modes(data)
        assert {"meetguard.sqlite3", "meetguard.sqlite3-wal", "meetguard.sqlite3-shm",
                "console.sqlite3", "keys.json", "syslog.position", "syslog.lock"} <= set(running)
        assert not_private(data) == {}, running
    finally:
        assert service.stop() == 0
    assert not_private(data) == {}, modes(data)
    assert "open to other users" not in service.log.read_text()  # it made the directory


async def test_the_redis_spool_is_private_under_umask_000(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    data = tmp_path / "data"
    service = ServiceProcess(data, log=tmp_path / "service.log", umask=0o000,
                             env={"MEETGUARD_REDIS_URL": redis.url})
    try:
        service.start()
        async with aiohttp.ClientSession() as session:
            await check(session, service.url, URLS)  # through Redis
            redis.kill()
            await check(session, service.url, URLS)  # into the spool
        assert (data / "spool" / "records.jsonl").stat().st_size > 0
        assert not_private(data) == {}, modes(data)
    finally:
        service.stop()
        redis.stop()


async def test_an_existing_directory_open_to_others_is_warned_about_not_changed(
        tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o755)
    service = ServiceProcess(data, log=tmp_path / "service.log", umask=0o022)
    service.start()
    try:
        async with aiohttp.ClientSession() as session:
            await check(session, service.url, URLS)
    finally:
        assert service.stop() == 0
    assert stat.S_IMODE(data.stat().st_mode) == 0o755  # the operator's to change
    warnings = [json.loads(line) for line in service.log.read_text().splitlines()
                if "open to other users" in line]
    assert len(warnings) == 1, warnings
    assert warnings[0]["level"] == "warning"
    assert warnings[0]["path"] == str(data)
    assert warnings[0]["mode"] == "0755"
    assert warnings[0]["fix"] == f"chmod 700 {data}"
    # What it created inside is private all the same.
    assert {k: v for k, v in not_private(data).items() if k != "."} == {}
