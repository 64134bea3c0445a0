"""The extension in Chromium against the service speaking HTTPS itself (`tls_cert`), with the
organisation's CA trusted by enterprise policy (`CACertificates`), not by a flag that turns
certificate checks off."""

from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
from pathlib import Path

from tests.support.service import CLIENT_KEY
from tests.support.tls import LocalCA, TlsService


def test_extension_checks_links_over_https_with_the_ca_from_policy(playwright, site, h,
                                                                   tmp_path):
    if os.geteuid() != 0:
        raise AssertionError("writing Chromium's enterprise policy needs root")
    ca = LocalCA.create()
    ca.issue(tmp_path / "cert.pem", tmp_path / "key.pem")
    service = TlsService(tmp_path / "data", ca, tmp_path / "cert.pem", tmp_path / "key.pem")
    service.start()
    profile = Path(tempfile.mkdtemp(prefix="meetguard-https-"))
    trust = h.POLICY_DIR / f"meetguard-test-ca-{os.getpid()}.json"
    # Not a webmail host here: no hover batch (whose allow verdicts are cached, not logged)
    # answers the click before the click's own check.
    values = {"serverUrl": service.url, "apiKey": CLIENT_KEY, "language": "en",
              "webmailHosts": ["other-mail.example.org"]}
    args = [a for a in h.chromium_args(site.port) if a != "--ignore-certificate-errors"]
    try:
        with h.managed_policy(values):
            trust.write_text(json.dumps({"CACertificates": [base64.b64encode(ca.der()).decode()]}))
            ctx = playwright.chromium.launch_persistent_context(
                str(profile / "profile"), headless=True, executable_path=h.CHROMIUM,
                args=args, env={**os.environ, "TMPDIR": str(tmp_path)})
            try:
                sw = h.service_worker(ctx)
                h.wait_for_policy(sw)  # the snapshot came from https://127.0.0.1 (CA by policy)
                page = ctx.new_page()
                page.goto(f"http://{h.WEBMAIL_HOST}/inbox")  # the fixture page, plain http
                page.click("#unknown")  # checked by the service before the page leaves
                # (the destination itself has the fixture's self-signed certificate: this
                # browser, rightly, does not open it)
                logged = h.poll(lambda: _logged(service, "docs.example.net"))
                assert logged, "the click's check did not reach the HTTPS service"
            finally:
                ctx.close()
    finally:
        trust.unlink(missing_ok=True)
        service.stop()
        shutil.rmtree(profile, ignore_errors=True)


def _logged(service: TlsService, host: str) -> list:
    import urllib.request

    from tests.support.service import ADMIN_TOKEN

    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{service.url}/v1/logs?host={host}", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    with urllib.request.urlopen(request, context=service.context, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())["items"]
