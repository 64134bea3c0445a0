"""A small file system a test can fill: a 4 MB tmpfs. Mounting needs root, as the browser tests'
policies do: where it cannot mount one the test fails saying why (a skipped test proves nothing,
and CI runs as root)."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs, unmounted after the test."""
    if os.geteuid() != 0:
        pytest.fail("mounting a small tmpfs needs root: run the full-disk tests as root")
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(path: Path) -> int:
    """Write zeros to `path` until the file system is full; returns the bytes written."""
    written = 0
    with path.open("wb", buffering=0) as f:
        for chunk in (b"\0" * 65536, b"\0" * 512):  # then the last few bytes
            with contextlib.suppress(OSError):
                while f.write(chunk):
                    written += len(chunk)
    return written
