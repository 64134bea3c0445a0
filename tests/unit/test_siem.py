"""SIEM hand-off: RFC 5424 messages, and records reaching a real syslog receiver (UDP and TCP
sockets the tests open on loopback) from the service and from `meetguard logs --follow`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from tests.support.redis import free_port
from tests.support.service import ADMIN_TOKEN, CLIENT_KEY, ServiceProcess, client_headers

from meetguard.settings import load_settings
from meetguard.siem import SyslogError, Tail, parse_target, syslog_message
from meetguard.timefmt import rfc3339
from meetguard.web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
# RFC 5424 section 6: HEADER SP STRUCTURED-DATA [SP MSG]
RFC5424 = re.compile(
    r"^<(?P<pri>\d{1,3})>1 (?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (?P<host>[!-~]{1,255}) "
    r"(?P<app>[!-~]{1,48}) (?P<proc>[!-~]{1,128}) (?P<msgid>[!-~]{1,32}) (?P<sd>-) (?P<msg>.*)$",
    re.DOTALL)


def parse(message: bytes) -> tuple[re.Match[str], dict[str, Any]]:
    match = RFC5424.match(message.decode("ascii"))
    assert match, message
    return match, json.loads(match["msg"])


# -- the message ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("record", "pri"), [
    ({"action": "block", "kind": "link"}, 16 * 8 + 4),
    ({"action": "warn", "kind": "link"}, 16 * 8 + 5),
    ({"action": "allow", "kind": "file"}, 16 * 8 + 6),
    ({"action": None, "kind": "event", "event": "override"}, 16 * 8 + 5),
    # a retro-hunt finding: someone clicked what is now blocked
    ({"action": None, "kind": "retro", "event": "newly-flagged",
      "detail": {"old_action": "allow", "new_action": "block"}}, 16 * 8 + 4),
    ({"action": None, "kind": "retro", "event": "retrohunt-run", "detail": {}}, 16 * 8 + 5),
])
def test_priority_follows_the_action(record: dict, pri: int) -> None:
    match, payload = parse(syslog_message({"id": "01J", "ts": 1767323045.25, **record}))
    assert int(match["pri"]) == pri
    assert match["ts"] == "2026-01-02T03:04:05.250Z"
    assert (match["app"], match["msgid"]) == ("meetguard", record["kind"])
    assert payload["id"] == "01J"


def test_a_hostile_record_stays_one_ascii_line_and_round_trips() -> None:
    record = {"id": "01J", "ts": 1.0, "kind": "link", "action": "block",
              "target": "https://x.example/\n<14>1 forged - - - - -\x1b[31m\u202egnp.exe",
              "user": "Nguyễn Văn A", "codes": ["known-bad"], "detail": {"k": [1, None]}}
    message = syslog_message(record, hostname="host with spaces\n", procid=42)
    assert b"\n" not in message and b"\x1b" not in message and message.isascii()
    match, payload = parse(message)
    assert match["host"] == "hostwithspaces"
    assert payload == record


@pytest.mark.parametrize("text", ["siem:514", "http://siem:514", "udp://siem", "tcp://:601",
                                  "udp://siem:0", "udp://siem:70000", "tcp://a b:601"])
def test_bad_targets_say_the_expected_form(text: str) -> None:
    with pytest.raises(SyslogError, match="udp://host:port or tcp://host:port"):
        parse_target(text)


@pytest.mark.parametrize(("batches", "expected"), [
    # in time order, each once
    ([[("a", 101.0)], [("a", 101.0), ("b", 102.0)]], ["a", "b"]),
    # committed late but inside the look-back window: still delivered, in time order
    ([[("b", 105.0)], [("a", 103.0), ("b", 105.0), ("c", 106.0)]], ["b", "a", "c"]),
    # older than the start: never
    ([[("old", 99.0), ("new", 100.5)]], ["new"]),
])
def test_tail_delivers_each_record_once(batches: list, expected: list[str]) -> None:
    tail = Tail(start=100.0, lookback=5.0)
    seen = []
    for batch in batches:
        seen += [r["id"] for r in tail.accept([{"id": i, "ts": ts} for i, ts in batch])]
    assert seen == expected


# -- receivers on loopback -----------------------------------------------------------------------


class UdpReceiver(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.messages.append(data)


async def udp_receiver() -> tuple[asyncio.DatagramTransport, UdpReceiver, int]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        UdpReceiver, local_addr=("127.0.0.1", 0))
    return transport, protocol, transport.get_extra_info("sockname")[1]


class TcpReceiver:
    """A syslog-over-TCP receiver reading RFC 6587 octet-counted frames."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.server: asyncio.Server | None = None
        self.port = 0
        self.clients: list[asyncio.StreamWriter] = []

    async def start(self, port: int = 0) -> TcpReceiver:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", port)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.clients.append(writer)
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                length = int((await reader.readuntil(b" "))[:-1])
                self.messages.append(await reader.readexactly(length))
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.clients:  # a restart drops the connections too
            writer.close()
        await self.server.wait_closed()


async def wait_for(predicate, seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        while not predicate():  # noqa: ASYNC110 (polls what another task receives)
            await asyncio.sleep(0.05)


def settings(data_dir: Path, **flags: Any):
    return load_settings({"data_dir": str(data_dir), "client_keys": f"tests:{CLIENT_KEY}",
                          "admin_tokens": f"it:{ADMIN_TOKEN}",
                          **{k: str(v) for k, v in flags.items()}}, environ={})


@contextlib.asynccontextmanager
async def service(data_dir: Path, **flags: Any) -> AsyncIterator[TestClient]:
    client = TestClient(TestServer(create_app(settings(data_dir, **flags))))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


async def check(client: TestClient, urls: list[str]) -> list[dict]:
    response = await client.post("/v1/links/check", json={"urls": urls},
                                 headers=client_headers())
    assert response.status == 200
    return (await response.json())["verdicts"]


# -- the service's forwarder ---------------------------------------------------------------------


async def test_udp_every_record_reaches_the_siem_once(tmp_path: Path) -> None:
    transport, receiver, port = await udp_receiver()
    try:
        async with service(tmp_path / "data", syslog=f"udp://127.0.0.1:{port}") as client:
            verdicts = await check(client, ["https://zoom.us/j/1", "https://zo0m.us/j/2",
                                            "https://emeeting.mic.gov.vn/r"])
            await wait_for(lambda: len(receiver.messages) >= 3)
            await asyncio.sleep(1.2)  # two more polls: nothing is sent twice
        parsed = [parse(m) for m in receiver.messages]
        assert sorted(p["id"] for _, p in parsed) == sorted(v["id"] for v in verdicts)
        by_action = {p["action"]: int(m["pri"]) % 8 for m, p in parsed}
        assert by_action == {"warn": 5, "block": 4, "allow": 6}
        assert (tmp_path / "data" / "syslog.position").is_file()
    finally:
        transport.close()


async def test_tcp_reconnects_after_the_siem_restarts_and_loses_nothing(tmp_path: Path) -> None:
    receiver = await TcpReceiver().start()
    async with service(tmp_path / "data", syslog=f"tcp://127.0.0.1:{receiver.port}") as client:
        first = await check(client, ["https://zoom.us/j/1"])
        await wait_for(lambda: len(receiver.messages) == 1)
        await receiver.stop()
        later = await check(client, ["https://teams.microsoft.com/l/1", "https://a.example/"])
        await asyncio.sleep(1.0)  # the forwarder fails against the closed port, and retries
        messages = receiver.messages
        receiver = await TcpReceiver().start(receiver.port)
        try:
            await wait_for(lambda: len(receiver.messages) >= 2, seconds=20)
        finally:
            await receiver.stop()
    payloads = [parse(m)[1] for m in messages + receiver.messages]
    assert sorted(p["id"] for p in payloads) == sorted(v["id"] for v in first + later)
    assert all(p["time"] == rfc3339(p["ts"]) for p in payloads)  # (UTC: the default zone)


async def test_a_restart_resumes_where_forwarding_stopped(tmp_path: Path) -> None:
    data = tmp_path / "data"
    receiver = await TcpReceiver().start()
    target = f"tcp://127.0.0.1:{receiver.port}"
    try:
        async with service(data, syslog=target) as client:
            sent = await check(client, ["https://zoom.us/j/1"])
            await wait_for(lambda: len(receiver.messages) == 1)
        async with service(data) as client:  # forwarding off: logged, not sent
            missed = await check(client, ["https://zoom.us/j/2", "https://b.example/"])
        async with service(data, syslog=target):
            await wait_for(lambda: len(receiver.messages) == 3)
            await asyncio.sleep(1.0)
        ids = [parse(m)[1]["id"] for m in receiver.messages]
        assert ids[0] == sent[0]["id"] and sorted(ids[1:]) == sorted(v["id"] for v in missed)
    finally:
        await receiver.stop()


async def test_two_workers_on_one_data_directory_forward_once(tmp_path: Path) -> None:
    transport, receiver, port = await udp_receiver()
    data = tmp_path / "data"
    try:
        async with service(data, syslog=f"udp://127.0.0.1:{port}") as one, \
                service(data, syslog=f"udp://127.0.0.1:{port}") as two:
            verdicts = await check(one, ["https://zoom.us/j/1"]) + await check(two, [
                "https://zoom.us/j/2"])
            await wait_for(lambda: len(receiver.messages) >= 2)
            await asyncio.sleep(1.2)
        ids = [parse(m)[1]["id"] for m in receiver.messages]
        assert sorted(ids) == sorted(v["id"] for v in verdicts)
    finally:
        transport.close()


# -- meetguard logs --follow ---------------------------------------------------------------------


class Lines:
    """Lines a child process prints, collected by a thread (stdout never blocks the test)."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait(self, n: int, timeout: float = 15.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.lines) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.lines

    def stop(self) -> str:
        """Stop the child; returns what it wrote on stderr."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self._thread.join(timeout=10)
        assert self.process.stdout is not None and self.process.stderr is not None
        errors = self.process.stderr.read()
        self.process.stdout.close()
        self.process.stderr.close()
        return errors


def follow(*args: str) -> Lines:
    command = [sys.executable, "-m", "meetguard.cli", "logs", "--follow", "--interval", "0.2",
               *args]
    return Lines(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, cwd=ROOT, env=clean_environment()))


def clean_environment() -> dict[str, str]:
    """This environment without MEETGUARD_* settings (the test says what it wants)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("MEETGUARD_")}


def post_links(base: str, urls: list[str]) -> list[dict]:
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 (the test's own service on loopback)
        base + "/v1/links/check", data=json.dumps({"urls": urls}).encode(),
        headers={**client_headers(), "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
        return json.loads(response.read())["verdicts"]


@pytest.fixture(scope="module")
def running(tmp_path_factory) -> ServiceProcess:
    svc = ServiceProcess(tmp_path_factory.mktemp("svc")).start()
    yield svc
    svc.stop()


def test_follow_a_running_service_prints_new_records_as_ndjson(running: ServiceProcess) -> None:
    before = post_links(running.url, ["https://before.example/"])
    # From a time after `before`, however long the follower takes to start on a busy machine.
    start = time.time() + 0.001
    tail = follow("--url", running.url, "--token", ADMIN_TOKEN, "--format", "ndjson",
                  "--class", "warned", "--since", repr(start))
    try:
        now = post_links(running.url, ["https://zoom.us/j/1", "https://x.example/",
                                       "https://teams.microsoft.com/l/2"])
        lines = tail.wait(2)
        # one batch shares one time stamp: (ts, id) order among them is the ids' order
        assert [json.loads(line)["id"] for line in lines] == sorted([now[0]["id"], now[2]["id"]])
        assert before[0]["id"] not in "".join(lines)
    finally:
        tail.stop()


def test_follow_the_local_database_from_a_time(running: ServiceProcess) -> None:
    first = post_links(running.url, ["https://one.example/", "https://two.example/"])
    tail = follow("--db", str(running.data_dir / "meetguard.sqlite3"), "--since", "10m",
                  "--format", "jsonl", "--host", "one.example")
    try:
        lines = tail.wait(1)
        assert json.loads(lines[0])["id"] == first[0]["id"]
        more = post_links(running.url, ["https://sub.one.example/"])
        lines = tail.wait(2)
        assert [json.loads(x)["id"] for x in lines] == [first[0]["id"], more[0]["id"]]
    finally:
        tail.stop()


def test_follow_can_forward_to_syslog(running: ServiceProcess) -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(15)
        port = receiver.getsockname()[1]
        tail = follow("--url", running.url, "--token", ADMIN_TOKEN,
                      "--syslog", f"udp://127.0.0.1:{port}", "--since", repr(time.time()))
        try:
            verdict = post_links(running.url, ["https://zo0m.us/j/9"])[0]
            match, payload = parse(receiver.recv(65535))
            assert payload["id"] == verdict["id"] and int(match["pri"]) % 8 == 4
        finally:
            tail.stop()


def test_follow_refuses_what_makes_no_sense(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "meetguard.cli", "logs", "--follow", "--limit",
                           "5", "--url", f"http://127.0.0.1:{free_port()}", "--token", "x"],
                          capture_output=True, text=True, timeout=30, cwd=ROOT, check=False)
    assert done.returncode == 1 and "drop --until and --limit" in done.stderr
    done = subprocess.run([sys.executable, "-m", "meetguard.cli", "logs", "--follow",
                           "--syslog", "siem:514", "--db", str(tmp_path / "none.sqlite3")],
                          capture_output=True, text=True, timeout=30, cwd=ROOT, check=False)
    assert done.returncode == 1 and "udp://host:port" in done.stderr
