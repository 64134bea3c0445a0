"""HTTPS without a proxy: `meetguard serve --tls-cert --tls-key` answers over TLS with the
configured certificate, and a renewed certificate is served after SIGHUP, no restart."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from tests.support.service import ROOT, client_headers
from tests.support.tls import LocalCA, TlsService


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
