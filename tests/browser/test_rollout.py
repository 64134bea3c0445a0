"""The rollout as IT does it, in Debian's Chromium with no --load-extension: a signing key, a
pack, `meetguard serve` hosting it (`extension_dir`), the Linux policy written by
`meetguard extension policy`, and Chromium installing the extension from the service by itself.
Then a newer pack is served and an update check installs it."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

# Chromium closes DevTools' view of pages of extensions installed by policy unless policy says
# DevTools are allowed: the test's own policy file (not part of what the kit writes for IT).
DEVTOOLS_ALLOWED = {"DeveloperToolsAvailability": 1}


def kit(h, *args: str | Path) -> str:
    done = subprocess.run([*h.meetguard_command(), "extension", *map(str, args)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@contextlib.contextmanager
def chromium_policies(h, write_policy) -> Iterator[None]:
    """The kit's policy file and the test's DevTools one in Chromium's policy directory, under
    the browser tests' lock; both removed afterwards."""
    h.POLICY_DIR.mkdir(parents=True, exist_ok=True)
    kit_file = h.POLICY_DIR / f"meetguard-rollout-{os.getpid()}.json"
    devtools = h.POLICY_DIR / f"meetguard-devtools-{os.getpid()}.json"
    with open(h.BROWSER_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            write_policy(kit_file)
            devtools.write_text(json.dumps(DEVTOOLS_ALLOWED))
            yield
        finally:
            kit_file.unlink(missing_ok=True)
            devtools.unlink(missing_ok=True)


@contextlib.contextmanager
def chromium(playwright, h, site) -> Iterator:
    """Debian's Chromium as a desktop runs it, in a process of its own (not launched by
    Playwright, whose launch flags kept managed settings from reaching the policy-installed
    extension); Playwright connects over CDP. Background networking stays on (policy installs
    and updates arrive that way); every host but loopback goes to the local fixture site, so
    nothing leaves the machine."""
    tmp = Path(tempfile.mkdtemp(prefix="meetguard-rollout-"))
    (tmp / "tmp").mkdir()
    profile = tmp / "profile"
    process = subprocess.Popen(
        [h.CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-component-update", "--disable-sync",
         "--ignore-certificate-errors", "--remote-debugging-port=0",
         f"--user-data-dir={profile}",
         f"--host-resolver-rules=MAP * 127.0.0.1:{site.port}, EXCLUDE 127.0.0.1",
         "about:blank"],
        env={**os.environ, "TMPDIR": str(tmp / "tmp")}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        port_file = profile / "DevToolsActivePort"
        assert h.poll(port_file.exists, timeout=30), "Chromium did not open its DevTools port"
        port = h.poll(lambda: port_file.read_text().split("\n")[0], timeout=5)
        browser = playwright.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
        try:
            yield browser.contexts[0]
        finally:
            browser.close()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def service_log(service) -> str:
    return (service.data_dir / "serve.log").read_text(errors="replace")


def reload_to(ctx, ext_id: str, version: str) -> bool:
    """True once `version` runs; otherwise asks the extension to reload itself."""
    if installed_version(ctx, ext_id) == version:
        return True
    page = ctx.new_page()
    with contextlib.suppress(PlaywrightError):
        page.goto(f"chrome-extension://{ext_id}/pages/options/options.html")
        page.evaluate("chrome.runtime.reload()")
    with contextlib.suppress(PlaywrightError):
        page.close()
    return False


def installed_version(ctx, ext_id: str) -> str | None:
    """The version of the installed extension, read from its own options page (None: the
    browser has not installed it)."""
    page = ctx.new_page()
    try:
        page.goto(f"chrome-extension://{ext_id}/pages/options/options.html")
        return page.evaluate("chrome.runtime.getManifest().version")
    except PlaywrightError:
        return None
    finally:
        with contextlib.suppress(PlaywrightError):
            page.close()


@pytest.fixture
def hosted(tmp_path_factory, h):
    """A key, a 1.0.0 pack and the service hosting it."""
    work = tmp_path_factory.mktemp("rollout")
    kit(h, "keygen", "--out", work / "keys")
    (work / "data").mkdir()
    service = h.Service(work / "data", extra_args=("--extension-dir", str(work / "dist"),
                                                   "--access-log", "true"))
    pack = ("pack", "--key", work / "keys" / "meetguard-extension.pem", "--out", work / "dist",
            "--service-url", service.url)
    kit(h, *pack, "--version", "1.0.0")
    service.start()
    described = json.loads((work / "dist" / "pack.json").read_text())
    yield service, pack, {**described, "dist": work / "dist"}
    service.stop()


def test_policy_installs_the_extension_from_the_service_and_updates_it(
        playwright, site, h, hosted, artifacts):
    if os.geteuid() != 0:
        pytest.fail("writing Chromium's enterprise policy (/etc/chromium/policies) needs root")
    service, pack, described = hosted
    ext_id = described["id"]

    def write_policy(path: Path) -> None:
        kit(h, "policy", "--browser", "chromium", "--os", "linux", "--pack",
            described["dist"], "--server-url", service.url, "--client-key", h.CLIENT_KEY,
            "--webmail-host", h.WEBMAIL_HOST, "--language", "en", "--out", path)

    with chromium_policies(h, write_policy), chromium(playwright, h, site) as ctx:
        # The extension, configured by nothing but the policy, asks the service for its
        # policy snapshot. (Extension pages are opened only after this: one opened while
        # Chromium was still installing the extension left its managed settings empty.)
        assert h.poll(lambda: "GET /v1/policy" in service_log(service), timeout=40,
                      interval=0.5), "Chromium did not install the extension from the service"
        assert installed_version(ctx, ext_id) == "1.0.0"

        # Its managed settings are in effect: shown locked on the options page...
        options = ctx.new_page()
        options.goto(f"chrome-extension://{ext_id}/pages/options/options.html")
        expect(options.locator("#serverUrl")).to_be_disabled(timeout=10_000)
        expect(options.locator("#serverUrl")).to_have_value(service.url)
        expect(options.locator("#apiKey")).to_be_disabled()
        options.screenshot(path=str(artifacts / "rollout-options-locked.png"))

        # ...and it checks links against the service: a warned link opens the warning page.
        page = ctx.new_page()
        page.goto(f"https://{h.WEBMAIL_HOST}/inbox")
        page.click("#warned")
        page.wait_for_url(re.compile(rf"^chrome-extension://{ext_id}/pages/warning/"))
        expect(page.locator("html")).to_have_attribute("data-meetguard-class", "warned",
                                                       timeout=10_000)
        assert h.poll(lambda: service.logs(host="zoom.us")), "no verdict in the service's log"

        # A newer pack on the service; the browser's update check finds and installs it.
        kit(h, *pack, "--version", "1.1.0")
        check = options.evaluate("chrome.runtime.requestUpdateCheck()")
        assert check == {"status": "update_available", "version": "1.1.0"}
        assert h.poll(lambda: "GET /extension/meetguard-1.1.0.crx" in service_log(service),
                      timeout=30), "the newer CRX was not fetched"
        # Chromium applies a downloaded update when the extension is idle or reloads: reload
        # it (again, until the update is unpacked and ready) instead of waiting for idle.
        assert h.poll(lambda: reload_to(ctx, ext_id, "1.1.0"), timeout=30, interval=1), \
            "the update was not installed"
