"""HTTPS without a proxy: `meetguard serve --tls-cert --tls-key` answers over TLS with the
configured certificate, and a renewed certificate is served after SIGHUP, no restart."""

from __future__ import annotations

import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from tests.support.service import ROOT, ServiceProcess, client_headers
from tests.support.tls import LocalCA


class TlsService(ServiceProcess):
    """The service over HTTPS; the test's CA is the only one trusted."""

    def __init__(self, data_dir: Path, ca: LocalCA, cert: Path, key: Path) -> None:
        super().__init__(data_dir, args=("--tls-cert", str(cert), "--tls-key", str(key)))
        self.url = f"https://127.0.0.1:{self.port}"
        self.context = ssl.create_default_context(cadata=ca.pem().decode())

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"meetguard serve exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1,  # noqa: S310
                                            context=self.context) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"meetguard serve did not become ready: {self.log.read_text()[-2000:]}")

    def presented(self) -> x509.Certificate:
        """The certificate a new connection is given (verified against the test CA)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as raw, \
                self.context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))


@pytest.fixture
def ca() -> LocalCA:
    return LocalCA.create()


def test_https_answers_and_a_renewed_certificate_is_served_after_sighup(tmp_path: Path,
                                                                         ca: LocalCA) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    first = ca.issue(cert, key)
    service = TlsService(tmp_path / "data", ca, cert, key).start()
    try:
        assert service.presented().serial_number == first.serial_number
        request = urllib.request.Request(  # noqa: S310 - loopback
            service.url + "/v1/links/check", method="POST",
            data=b'{"urls": ["https://zoom.us/j/1"], "context": "click"}',
            headers={**client_headers(), "Content-Type": "application/json"})
        with urllib.request.urlopen(request, context=service.context,  # noqa: S310
                                    timeout=10) as response:
            assert response.status == 200 and b'"warned"' in response.read()
        assert b"serving on https://" in service.log.read_bytes()

        renewed = ca.issue(cert, key)  # the renewal lands in the same files
        assert service.presented().serial_number == first.serial_number  # not before SIGHUP
        service.signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while service.presented().serial_number != renewed.serial_number:
            assert time.monotonic() < deadline, "the renewed certificate was never served"
            time.sleep(0.1)

        key.write_text("not a key")  # a broken renewal: logged, the current one stays
        service.signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while b"the TLS certificate does not load" not in service.log.read_bytes():
            assert time.monotonic() < deadline, "the broken renewal was not logged"
            time.sleep(0.1)
        assert service.presented().serial_number == renewed.serial_number
    finally:
        service.stop()


@pytest.mark.parametrize(("args", "message"), [
    (("--tls-cert", "{cert}"), "tls_cert and tls_key go together"),
    (("--tls-cert", "{cert}", "--tls-key", "{cert}"), "do not load"),
    (("--tls-cert", "/nonexistent.pem", "--tls-key", "{key}"), "do not load"),
])
def test_tls_settings_that_cannot_work_stop_the_start(tmp_path: Path, ca: LocalCA,
                                                      args: tuple[str, ...],
                                                      message: str) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    ca.issue(cert, key)
    argv = [a.format(cert=cert, key=key) for a in args]
    done = subprocess.run([sys.executable, "-m", "meetguard.cli", "serve", "--port", "0",
                           "--data-dir", str(tmp_path / "data"), *argv],
                          capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)
    assert done.returncode != 0 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_the_test_ca_signs_what_it_issues(tmp_path: Path, ca: LocalCA) -> None:
    leaf = ca.issue(tmp_path / "c.pem", tmp_path / "k.pem")
    leaf.verify_directly_issued_by(ca.cert)
    serialization.load_pem_private_key((tmp_path / "k.pem").read_bytes(), password=None)
