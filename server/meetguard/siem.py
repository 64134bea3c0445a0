"""SIEM hand-off: records as RFC 5424 syslog messages (JSON payload), and tailing the log.

- `syslog_message(record)` is one RFC 5424 message: PRI from the action (block: warning, warn:
  notice, allow: informational), the record's time, MSGID the record kind, and the record as
  ASCII JSON in MSG (every control character escaped, so one record is always one line).
- `SyslogSender` sends them to `udp://host:port` (one datagram each, RFC 5426) or
  `tcp://host:port` (octet-counting framing, RFC 6587), reconnecting after failures.
- `Tail` turns repeated "everything since T" reads of the log into "each new record once, in
  time order", with a look-back window for records committed a little out of order.
- `Forwarder` runs in the service when the `syslog` setting names a target: it tails the log
  store and sends each new record. With several workers on one data directory a file lock lets
  one of them forward; its position is kept in `syslog.position` so a restart resumes.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import re
import socket
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .datadir import make_private_dir, open_private

log = logging.getLogger("meetguard.siem")

FACILITY_LOCAL0 = 16
SEVERITY = {"block": 4, "warn": 5, "allow": 6}  # warning, notice, informational
EVENT_SEVERITY = 5
APP_NAME = "meetguard"
MAX_UDP_PAYLOAD = 65_000
_TARGET = re.compile(r"^(udp|tcp)://(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$")


class SyslogError(ValueError):
    """A syslog target that cannot be used; the message says the expected form."""


@dataclass(frozen=True, slots=True)
class SyslogTarget:
    protocol: str  # udp | tcp
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.protocol}://{self.host}:{self.port}"


def parse_target(text: str) -> SyslogTarget:
    """`udp://host:port` or `tcp://host:port`.

    >>> parse_target("tcp://siem.example:601")
    SyslogTarget(protocol='tcp', host='siem.example', port=601)
    >>> parse_target("udp://[::1]:514").host
    '::1'
    >>> parse_target("siem:514")
    Traceback (most recent call last):
    ...
    meetguard.siem.SyslogError: syslog target 'siem:514' must be udp://host:port or tcp://host:port
    """
    match = _TARGET.match(text.strip())
    if not match or not 0 < int(match.group(3)) < 65536:
        raise SyslogError(f"syslog target {text!r} must be udp://host:port or tcp://host:port")
    return SyslogTarget(match.group(1), match.group(2).strip("[]"), int(match.group(3)))


def _header_field(text: str, limit: int) -> str:
    """PRINTUSASCII only, no spaces, bounded; NILVALUE when empty (RFC 5424 section 6)."""
    clean = "".join(c for c in text if 33 <= ord(c) <= 126)[:limit]
    return clean or "-"


def syslog_message(record: Mapping[str, Any], *, hostname: str | None = None,
                   procid: int | None = None, facility: int = FACILITY_LOCAL0) -> bytes:
    """One RFC 5424 message for a log record (a `LogRecord.to_dict()`).

    >>> msg = syslog_message({"id": "01J", "ts": 0.5, "kind": "link", "action": "block",
    ...                       "target": "https://x.example/\\n<script>"}, hostname="h", procid=7)
    >>> msg.decode()
    '<132>1 1970-01-01T00:00:00.500Z h meetguard 7 link - {"id":"01J","ts":0.5,"kind":"link","action":"block","target":"https://x.example/\\\\n<script>"}'
    """
    action = record.get("action")
    if not action and record.get("kind") == "retro":  # a retro-hunt finding: its new action
        action = (record.get("detail") or {}).get("new_action")
    severity = SEVERITY.get(action, EVENT_SEVERITY) if action else EVENT_SEVERITY
    when = datetime.fromtimestamp(float(record.get("ts") or time.time()), UTC)
    stamp = when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    header = " ".join((
        f"<{facility * 8 + severity}>1", stamp,
        _header_field(hostname if hostname is not None else socket.gethostname(), 255),
        APP_NAME, _header_field(str(procid if procid is not None else os.getpid()), 128),
        _header_field(str(record.get("kind") or ""), 32), "-",
    ))
    # ASCII JSON: receivers need not guess an encoding, and no raw newline can split a record.
    payload = json.dumps(dict(record), ensure_ascii=True, separators=(",", ":"), default=str)
    return f"{header} {payload}".encode("ascii")


def octet_counted(message: bytes) -> bytes:
    """RFC 6587 octet-counting frame for syslog over TCP.

    >>> octet_counted(b"<14>1 - - - - - - hi")
    b'20 <14>1 - - - - - - hi'
    """
    return str(len(message)).encode() + b" " + message


class SyslogSender:
    """Sends messages to one target; TCP reconnects on the next send after a failure."""

    def __init__(self, target: SyslogTarget, *, timeout: float = 5.0) -> None:
        self.target = target
        self.timeout = timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._udp: asyncio.DatagramTransport | None = None

    async def send(self, messages: Iterable[bytes]) -> None:
        """Send every message, or raise OSError (the caller retries the same batch later)."""
        if self.target.protocol == "udp":
            transport = await self._datagram()
            for message in messages:
                transport.sendto(message[:MAX_UDP_PAYLOAD])
            return
        writer = await self._stream()
        try:
            writer.write(b"".join(octet_counted(m) for m in messages))
            await asyncio.wait_for(writer.drain(), self.timeout)
        except (OSError, TimeoutError) as exc:
            await self.close()
            raise OSError(f"syslog {self.target}: {exc or type(exc).__name__}") from exc

    async def _datagram(self) -> asyncio.DatagramTransport:
        if self._udp is None or self._udp.is_closing():
            loop = asyncio.get_running_loop()
            self._udp, _ = await loop.create_datagram_endpoint(
                asyncio.DatagramProtocol, remote_addr=(self.target.host, self.target.port))
        return self._udp

    async def _stream(self) -> asyncio.StreamWriter:
        # A receiver never writes: end of input means it closed (restarted, say). Writing
        # into that half-closed connection would "succeed" and lose the batch, so reconnect.
        if self._reader is not None and self._reader.at_eof():
            await self.close()
        if self._writer is None or self._writer.is_closing():
            try:
                self._reader, self._writer = await asyncio.wait_for(
                    asyncio.open_connection(self.target.host, self.target.port), self.timeout)
            except (OSError, TimeoutError) as exc:
                raise OSError(f"syslog {self.target}: cannot connect: "
                              f"{exc or type(exc).__name__}") from exc
        return self._writer

    async def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        self._reader = None
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 1.0)


class Tail:
    """Each record once, oldest first, from repeated reads of "every record since `since`".

    Records can be committed slightly out of time order (several writers, clock skew, a spool
    replay): each read goes back `lookback` seconds before the newest record seen, and ids
    already seen in that window are dropped.

    >>> tail = Tail(start=100.0, lookback=5.0)
    >>> [r["id"] for r in tail.accept([{"id": "b", "ts": 106.0}, {"id": "a", "ts": 99.0}])]
    ['b']
    >>> tail.since()
    101.0
    >>> [r["id"] for r in tail.accept([{"id": "b", "ts": 106.0}, {"id": "c", "ts": 102.0}])]
    ['c']
    """

    def __init__(self, start: float, lookback: float = 10.0, seen: Iterable[str] = (),
                 floor: float | None = None) -> None:
        self.high = start
        self.lookback = lookback
        self.floor = start if floor is None else floor  # nothing older is ever returned
        self._seen: dict[str, float] = dict.fromkeys(seen, start)

    def since(self) -> float:
        return max(self.floor, self.high - self.lookback)

    def accept(self, records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """The records not seen before, in (ts, id) order; remembers them."""
        since = self.since()
        fresh = [r for r in records if r["id"] not in self._seen and r["ts"] >= since]
        fresh.sort(key=lambda r: (r["ts"], r["id"]))
        for record in fresh:
            self._seen[record["id"]] = record["ts"]
            self.high = max(self.high, record["ts"])
        horizon = self.since()
        self._seen = {k: ts for k, ts in self._seen.items() if ts >= horizon}
        return fresh

    def state(self) -> dict[str, Any]:
        return {"high": self.high, "seen": sorted(self._seen)}


Fetch = Callable[[float], Awaitable[list[Mapping[str, Any]]]]


class Forwarder:
    """Tails the log through `fetch(since)` and sends new records to a syslog target."""

    def __init__(self, fetch: Fetch, sender: SyslogSender, *, position: Path | None = None,
                 interval: float = 1.0, lookback: float = 10.0) -> None:
        self.fetch = fetch
        self.sender = sender
        self.position = position
        self.interval = interval
        self.tail = self._resume(lookback)
        self.sent = 0
        self.failures = 0
        self._pending: list[Mapping[str, Any]] = []

    def _resume(self, lookback: float) -> Tail:
        if self.position is not None and self.position.is_file():
            try:
                state = json.loads(self.position.read_text(encoding="utf-8"))
                high = float(state["high"])
                return Tail(high, lookback, [str(s) for s in state["seen"]],
                            floor=high - lookback)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("syslog position %s unreadable, starting from now: %s",
                            self.position, exc)
        return Tail(time.time(), lookback)

    async def step(self) -> int:
        """One poll: fetch, send what is new; returns how many were sent."""
        if not self._pending:
            self._pending = self.tail.accept(await self.fetch(self.tail.since()))
        if not self._pending:
            return 0
        hostname = socket.gethostname()
        for start in range(0, len(self._pending), 500):
            chunk = self._pending[start:start + 500]
            await self.sender.send([syslog_message(r, hostname=hostname) for r in chunk])
        sent, self._pending = len(self._pending), []
        self.sent += sent
        self._save()
        return sent

    def _save(self) -> None:
        if self.position is None:
            return
        tmp = self.position.with_suffix(".tmp")
        with os.fdopen(open_private(tmp, os.O_WRONLY | os.O_TRUNC), "w", encoding="utf-8") as f:
            f.write(json.dumps(self.tail.state()))
        os.replace(tmp, self.position)

    async def run(self) -> None:
        """Poll until cancelled; failures are logged and retried (the batch is kept)."""
        while True:
            try:
                await self.step()
                self.failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.failures += 1
                if self.failures in (1, 10) or self.failures % 100 == 0:
                    log.warning("syslog forwarding failed (%d in a row), retrying: %s",
                                self.failures, exc)
            await asyncio.sleep(self.interval if self.failures == 0
                                else min(30.0, self.interval * 2 ** min(self.failures, 5)))


class LeaderLock:
    """An exclusive, non-blocking lock on a file: one forwarder per data directory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        make_private_dir(self.path.parent)
        fd = open_private(self.path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the lock
            self._fd = None


async def run_forwarder(forwarder: Forwarder, lock: LeaderLock, retry: float = 5.0) -> None:
    """Forward while holding `lock`; wait for it while another process holds it."""
    try:
        while not lock.acquire():  # noqa: ASYNC110 (a file lock has no event to wait on)
            await asyncio.sleep(retry)
        log.info("forwarding log records to syslog %s", forwarder.sender.target)
        await forwarder.run()
    finally:
        lock.release()
        await forwarder.sender.close()
