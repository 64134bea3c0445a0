"""The real service for tests: in process on a real socket, or as a `meetguard serve` process
that a test can kill -9 and start again on the same data directory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
from tests.support.redis import free_port

CLIENT_KEY = "test-client-key-0123456789abcdef"
ADMIN_TOKEN = "test-admin-token-0123456789abcdef"
ROOT = Path(__file__).resolve().parents[2]


def client_headers(install: str = "install-1", **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {CLIENT_KEY}", "X-MeetGuard-Install": install, **extra}


def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


class ServiceProcess:
    """`meetguard serve` in a child process on a free loopback port."""

    def __init__(self, data_dir: Path, *, env: Mapping[str, str] | None = None,
                 args: tuple[str, ...] = (), port: int | None = None,
                 log: Path | None = None, umask: int = -1) -> None:
        """`log`: where its output goes (default: service.log in `data_dir`, which then
        exists before the service starts); `umask`: the process's (-1: this one's)."""
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = args
        self.env = {**os.environ, "MEETGUARD_CLIENT_KEYS": f"tests:{CLIENT_KEY}",
                    "MEETGUARD_ADMIN_TOKENS": f"it:{ADMIN_TOKEN}", **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None
        self.log = log or data_dir / "service.log"
        self.umask = umask

    def start(self, timeout: float = 20.0) -> ServiceProcess:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "meetguard.cli", "serve", "--port", str(self.port),
                   "--data-dir", str(self.data_dir), *self.args]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                            env=self.env, cwd=ROOT, start_new_session=True,
                                            umask=self.umask)
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float) -> None:
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"meetguard serve exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"meetguard serve did not become ready: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """kill -9: no shutdown handler runs."""
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> int | None:
        """SIGTERM: the graceful path."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def signal(self, signum: int) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signum)


async def check(session: aiohttp.ClientSession, base: str, urls: list[str],
                context: str = "click", **headers: str) -> dict[str, Any]:
    async with session.post(f"{base}/v1/links/check", json={"urls": urls, "context": context},
                            headers=client_headers(**headers)) as response:
        assert response.status == 200, await response.text()
        return await response.json()
