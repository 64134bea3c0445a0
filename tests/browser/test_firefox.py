"""The extension in Debian's Firefox ESR, rolled out as IT would: the kit's XPI hosted by
`meetguard serve`, force-installed and configured by the `policies.json` that
`meetguard extension policy --browser firefox` wrote. Driven offline over WebDriver BiDi
(puppeteer-core, tests/browser/firefox/flows.mjs): managed settings, hover badges in webmail, a
warned link's warning page and continue-anyway (logged as an override), a blocked download."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

FIREFOX = Path("/usr/bin/firefox-esr")
# Debian's Firefox reads its enterprise policy here (not /etc/firefox-esr/).
POLICIES = Path("/etc/firefox/policies/policies.json")
DRIVER = Path(__file__).with_name("firefox") / "flows.mjs"
UUID = "3b7f1c2e-9d41-4c2a-8e55-6d0a1f2b3c4d"
LOCALES = Path(__file__).resolve().parents[2] / "extension" / "_locales"


def kit(h, *args) -> None:
    done = subprocess.run([*h.meetguard_command(), "extension", *map(str, args)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def rollout(tmp_path, h):
    """Key, pack, the service hosting it, and the kit's policies.json in Firefox's place (the
    file there before, if any, is put back afterwards)."""
    if os.geteuid() != 0:
        pytest.fail("writing Firefox's enterprise policy (/etc/firefox/policies) needs root")
    if not FIREFOX.exists():
        pytest.fail("firefox-esr is not installed (scripts/test installs it)")
    kit(h, "keygen", "--out", tmp_path / "keys")
    (tmp_path / "data").mkdir()
    service = h.Service(tmp_path / "data", extra_args=("--extension-dir", str(tmp_path / "dist")))
    kit(h, "pack", "--key", tmp_path / "keys" / "meetguard-extension.pem", "--out",
        tmp_path / "dist", "--service-url", service.url)
    service.start()
    described = json.loads((tmp_path / "dist" / "pack.json").read_text())
    POLICIES.parent.mkdir(parents=True, exist_ok=True)
    saved = POLICIES.read_bytes() if POLICIES.exists() else None
    with open(h.BROWSER_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            kit(h, "policy", "--browser", "firefox", "--os", "linux", "--pack", tmp_path / "dist",
                "--server-url", service.url, "--client-key", h.CLIENT_KEY,
                "--webmail-host", h.WEBMAIL_HOST, "--language", "vi", "--out", POLICIES)
            yield service, described
        finally:
            if saved is None:
                POLICIES.unlink(missing_ok=True)
            else:
                POLICIES.write_bytes(saved)
            service.stop()


def run_flows(site, described, tmp_path) -> dict[str, dict]:
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    config = {"sitePort": site.port, "uuid": UUID, "geckoId": described["gecko_id"],
              "downloadDir": str(downloads), "profileDir": str(tmp_path / "profile")}
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run(["node", str(DRIVER), json.dumps(config)], capture_output=True,
                          text=True, timeout=240, cwd=DRIVER.parent, env=env, check=False)
    steps = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            step = json.loads(line)
            steps[step.pop("step")] = step
    assert done.returncode == 0, done.stderr[-3000:]
    return steps


def test_firefox_esr_rollout_and_user_flows(site, h, rollout, tmp_path):
    service, described = rollout
    steps = run_flows(site, described, tmp_path)
    vi = json.loads((LOCALES / "vi" / "messages.json").read_text())
    print(json.dumps(steps, ensure_ascii=False)[:4000])  # shown when an assertion fails

    # Installed from the service by policy; the policy's 3rdparty values are in force, locked.
    fields = steps["options"]["fields"]
    assert fields, "Firefox did not install the extension from the service (or never configured it)"
    assert fields["serverUrl"] == {"value": service.url, "disabled": True}
    assert fields["apiKey"] == {"value": h.CLIENT_KEY, "disabled": True}
    assert fields["language"]["disabled"] is True
    assert steps["options"]["version"] == described["version"]

    # Hover in webmail: each link's badge says where it goes.
    badges = steps["hover"]["badges"]
    assert badges["approved"] == {"class": "approved", "action": "allow"}
    assert badges["warned"] == {"class": "warned", "action": "warn"}
    assert badges["unknown"] == {"class": "unknown", "action": "allow"}
    assert badges["lookalike"]["class"] == "unknown"
    assert badges["lookalike"]["action"] in ("warn", "block")

    # A click on a warned link: the warning page, in Vietnamese as the policy says.
    warning = steps["warning"]["warning"]
    assert warning, f"no warning page: {steps['warning']}"
    assert (warning["class"], warning["action"]) == ("warned", "warn")
    assert warning["target"] == h.LINKS["warned"][0]
    assert warning["lang"] == "vi" and vi["class_warned"]["message"] in warning["text"]
    assert warning["canContinue"] is True

    # Continue anyway: the destination opens and the service logged an override.
    assert (steps["continued"]["landed"] or "").startswith("https://zoom.us/j/5551234567")
    overrides = h.poll(lambda: service.logs(kind="event", event="override"))
    assert overrides and overrides[-1]["host"] == "zoom.us"

    # The EICAR download is removed and explained; the clean one is kept.
    blocked = steps["download-blocked"]
    assert blocked["warningUrl"], "no explanation page for the removed download"
    assert blocked["file"]["action"] == "block"
    assert hashlib.sha256(h.EICAR).hexdigest() in blocked["file"]["text"]
    eicar_sha = hashlib.sha256(h.EICAR).hexdigest()
    assert h.poll(lambda: [r for r in service.logs(kind="event", event="download-removed")
                           if eicar_sha in str(r)]), "no download-removed event"
    clean = steps["download-clean"]
    assert clean["kept"] and "agenda.txt" in clean["files"]
    assert not [f for f in clean["files"] if f.startswith("eicar")], clean["files"]


@pytest.fixture(autouse=True)
def _node_modules():
    if not (DRIVER.parent / "node_modules" / "puppeteer-core").is_dir():
        pytest.fail("puppeteer-core is not installed in tests/browser/firefox (scripts/test "
                    "runs npm ci there)")
    if shutil.which("node") is None:
        pytest.fail("node is not installed")
