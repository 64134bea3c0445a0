"""The data directory is private: the log in it says who visited what.

The directory is created 0700 and every file the service makes in it 0600, whatever the
process umask: a umask can only take bits away, so each file is created with its mode asked for
(and set again exactly, in case the umask took owner bits too). SQLite gives its `-wal` and
`-shm` files the mode of the database file, so the database file is created here, empty,
before SQLite opens it. An operator's existing directory keeps its mode: when others may read
or write it, `warn_if_open` says so once at start, with the fix.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("meetguard.service")

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def make_private_dir(path: Path) -> bool:
    """Create `path` 0700 (missing parents as the umask says); returns whether it was created.
    An existing directory is left as it is."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=PRIVATE_DIR)
    except FileExistsError:
        return False
    os.chmod(path, PRIVATE_DIR)
    return True


def create_private_file(path: Path) -> bool:
    """Create `path` empty and 0600 unless it exists; returns whether it was created."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)
    return True


def open_private(path: Path, flags: int) -> int:
    """`os.open(path, flags | O_CREAT)`; a file it creates is 0600 (`create_private_file`)."""
    create_private_file(path)
    return os.open(path, flags | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE)


def open_to_others(path: Path) -> str | None:
    """The mode of directory `path` as octal text when group or others have any access to it."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    return f"{mode:04o}" if mode & 0o077 else None


def warn_if_open(path: Path) -> bool:
    """Log one warning when the existing data directory `path` is open to others; returns
    whether it did. The mode is the operator's to change: it is never changed here."""
    mode = open_to_others(path)
    if mode is None:
        return False
    fix = f"chmod 700 {path}"
    log.warning("the data directory %s is open to other users (mode %s): it holds the log of who"
                " visited what and the key hashes; run `%s`", path, mode, fix,
                extra={"path": str(path), "mode": mode, "fix": fix})
    return True
