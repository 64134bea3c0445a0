"""`Spool`: a bounded, fsync'd JSON-lines file holding what could not be written to Redis yet.

Entries are appended (and fsync'd) to `path`. To replay, `take()` renames the file to
`path + ".replay"`, so new entries go to a fresh file while the old one is read; `finish()`
deletes it once every entry in it has been written. A replay interrupted by a crash is found and
finished at the next start; entries carry ids, so writing one twice changes nothing.

A write the disk refuses (full) is cut off the file again, so the entries written after it stay
readable; until a write succeeds the spool reports the refusal (`refusal`: /readyz).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any

from meetguard.datadir import make_private_dir, open_private
from meetguard.quietlog import QuietLog
from meetguard.store.base import StoreError

log = logging.getLogger(__name__)


PROBE_SECONDS = 1.0
"""While the spool's disk refuses writes, how often `refusal` checks whether it has room again."""


def _append_durably(path: Path, data: bytes) -> None:
    """Append and fsync; a new file's directory entry is fsync'd too. A write that fails is
    cut off again: a torn entry would swallow the next one written after it. (Unbuffered: a
    buffered file would write what it still holds when closed, after the cut.)"""
    created = not path.exists()
    fd = open_private(path, os.O_WRONLY | os.O_APPEND)
    try:
        size = os.fstat(fd).st_size
        try:
            _write_all(fd, data)
            os.fsync(fd)
        except OSError:
            os.ftruncate(fd, size)  # (frees blocks: cannot fail for want of room)
            raise
    finally:
        os.close(fd)
    if created:
        _fsync_dir(path.parent)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _has_room(path: Path, size: int) -> bool:
    """Whether `size` bytes can be written next to the spool now (a file written, then deleted)."""
    try:
        fd = open_private(path, os.O_WRONLY | os.O_TRUNC)
        try:
            _write_all(fd, bytes(size))
        finally:
            os.close(fd)
            path.unlink(missing_ok=True)
    except OSError:
        return False
    return True


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _read_lines(f: IO[bytes], n: int) -> list[bytes]:
    lines = []
    for _ in range(n):
        line = f.readline()
        if not line:
            break
        lines.append(line)
    return lines


def _decode(line: bytes) -> dict[str, Any] | None:
    """One entry; None for a torn line (a crash during the write that would have held it)."""
    try:
        entry = json.loads(line)
    except ValueError:
        log.warning("spool: skipping a line that is not JSON (%d bytes)", len(line))
        return None
    return entry if isinstance(entry, dict) else None


class Spool:
    """Append-only JSON-lines spool bounded to `max_bytes` (both files together)."""

    def __init__(self, path: str | Path, max_bytes: int) -> None:
        self.path = Path(path)
        self.replay_path = self.path.with_name(self.path.name + ".replay")
        self.max_bytes = max_bytes
        self._lock = asyncio.Lock()
        self._size = 0
        self._refused: str | None = None  # why the last write failed, until one succeeds
        self._refused_bytes = 0  # the size of that write, when the disk refused it
        self._next_probe = 0.0
        self._failures = QuietLog(log)

    async def open(self) -> None:
        """Create the directory and account for what earlier runs left behind."""
        await asyncio.to_thread(make_private_dir, self.path.parent)
        sizes = await asyncio.to_thread(
            lambda: [_file_size(self.path), _file_size(self.replay_path)]
        )
        self._size = sum(sizes)

    def size(self) -> int:
        """Bytes waiting to be replayed."""
        return self._size

    async def write(self, entries: list[dict[str, Any]]) -> None:
        """Append entries durably; StoreError("spool-full") when they would pass the bound."""
        data = b"".join(
            json.dumps(e, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
            for e in entries
        )
        async with self._lock:
            if self._size + len(data) > self.max_bytes:
                self._refused, self._refused_bytes = "the spool is full (spool_max_bytes)", 0
                raise StoreError("spool-full", f"the log spool {self.path} is full")
            try:
                await asyncio.to_thread(_append_durably, self.path, data)
            except OSError as exc:
                self._refused = f"the spool cannot be written: {exc.strerror or exc}"
                self._refused_bytes = min(len(data), 1 << 20)
                self._next_probe = time.monotonic() + PROBE_SECONDS
                self._failures.warning("log spool %s: %s", self.path, self._refused)
                raise StoreError("store-unavailable",
                                 f"the log spool {self.path} cannot be written: {exc}") from exc
            self._size += len(data)
            self._refused = None

    def refusal(self) -> str | None:
        """Why the spool refused its last write (None: it took it, or it has room again)."""
        return self._refused

    async def check_room(self) -> None:
        """When the disk refused the last write, find out (at most once a second, off the event
        loop) whether a write that big fits again: with Redis down no request may come to find
        out (a load balancer sends none while the service is not ready). The Redis store's
        background task calls this."""
        if not self._refused_bytes or time.monotonic() < self._next_probe:
            return
        self._next_probe = time.monotonic() + PROBE_SECONDS
        probe = self.path.with_name(".room-probe")
        if await asyncio.to_thread(_has_room, probe, self._refused_bytes):
            self._refused, self._refused_bytes = None, 0

    async def take(self) -> Path | None:
        """The file to replay next (an interrupted replay first), or None when nothing waits."""
        async with self._lock:
            return await asyncio.to_thread(self._take)

    def _take(self) -> Path | None:
        if self.replay_path.exists():
            return self.replay_path
        if _file_size(self.path) == 0:
            return None
        self.path.rename(self.replay_path)
        _fsync_dir(self.path.parent)
        return self.replay_path

    async def read(self, path: Path, batch: int = 200) -> AsyncIterator[list[dict[str, Any]]]:
        """The entries of a taken file, `batch` lines at a time (constant memory)."""
        f = await asyncio.to_thread(path.open, "rb")
        try:
            while lines := await asyncio.to_thread(_read_lines, f, batch):
                yield [e for line in lines if (e := _decode(line)) is not None]
        finally:
            await asyncio.to_thread(f.close)

    async def finish(self, path: Path) -> None:
        """Every entry of a taken file has been written: delete it."""
        async with self._lock:
            size = await asyncio.to_thread(_file_size, path)
            await asyncio.to_thread(path.unlink, missing_ok=True)
            self._size = max(0, self._size - size)
            if self._refused_bytes == 0:  # a full spool has room again
                self._refused = None
