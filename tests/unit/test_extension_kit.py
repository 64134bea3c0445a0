"""The rollout kit as IT runs it: `meetguard extension keygen | pack | policy`, real processes
and real files; the CRX read back by an independent reader and its signature checked with
OpenSSL."""

from __future__ import annotations

import base64
import io
import json
import plistlib
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from tests.support.crx import read_crx3

from meetguard.extension_kit import extension_id

ROOT = Path(__file__).resolve().parents[2]
SOURCE_MANIFEST = json.loads((ROOT / "extension" / "manifest.json").read_text())
GECKO_ID = SOURCE_MANIFEST["browser_specific_settings"]["gecko"]["id"]
KEY = "client-key-0123456789abcdef"


def meetguard(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "meetguard.cli", *map(str, args)],
                          capture_output=True, text=False, timeout=60, cwd=cwd, check=False)


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One key and one pack for the module (RSA key generation is the slow part)."""
    root = tmp_path_factory.mktemp("kit")
    made = meetguard("extension", "keygen", "--out", root / "keys")
    assert made.returncode == 0, made.stderr
    key = root / "keys" / "meetguard-extension.pem"
    packed = meetguard("extension", "pack", "--key", key, "--out", root / "dist",
                       "--service-url", "https://mg.example.org")
    assert packed.returncode == 0, packed.stderr
    ext_id = made.stdout.decode().split("extension id: ")[1].strip()
    return {"root": root, "key": key, "dist": root / "dist", "id": ext_id,
            "pack": json.loads((root / "dist" / "pack.json").read_text())}


def test_extension_id_is_the_one_chromium_derives_from_the_manifest_key() -> None:
    # The checked-in manifest's key gives the id the browser tests see in Chromium.
    der = base64.b64decode(SOURCE_MANIFEST["key"])
    assert extension_id(der) == "fjohchajgcodhajcjibppmjpnaahofda"


def test_keygen_writes_a_private_key_and_never_replaces_it(kit: dict) -> None:
    assert stat.S_IMODE(kit["key"].stat().st_mode) == 0o600
    assert kit["key"].read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    again = meetguard("extension", "keygen", "--out", kit["key"].parent)
    assert again.returncode == 1
    assert len(again.stderr.splitlines()) == 1 and b"--force" in again.stderr


def test_crx_is_a_signed_crx3_whose_id_and_key_follow_the_signing_key(kit: dict) -> None:
    crx = read_crx3((kit["dist"] / kit["pack"]["crx"]).read_bytes())
    assert crx.signature_verifies()
    assert crx.extension_id == kit["id"] == kit["pack"]["id"]
    assert crx.crx_id.hex() == __import__("hashlib").sha256(crx.public_key).hexdigest()[:32]
    manifest = crx.manifest()
    assert manifest["key"] == base64.b64encode(crx.public_key).decode()
    assert manifest["version"] == SOURCE_MANIFEST["version"]
    assert manifest["update_url"] == "https://mg.example.org/extension/updates.xml"
    assert manifest["background"] == {"service_worker": "background.js", "type": "module"}
    assert "browser_specific_settings" not in manifest
    assert not any(n.startswith(("node_modules/", "tests/")) or n == "package.json"
                   for n in crx.names())
    assert "background.js" in crx.names() and "managed_schema.json" in crx.names()


def test_a_tampered_crx_does_not_verify(kit: dict) -> None:
    data = bytearray((kit["dist"] / kit["pack"]["crx"]).read_bytes())
    data[-40] ^= 1  # inside the zip's central directory: the signed archive changed
    assert not read_crx3(bytes(data)).signature_verifies()


def test_xpi_is_firefox_s_manifest_with_its_id_and_update_url(kit: dict) -> None:
    xpi = (kit["dist"] / kit["pack"]["xpi"]).read_bytes()
    with zipfile.ZipFile(io.BytesIO(xpi)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        names = archive.namelist()
    gecko = manifest["browser_specific_settings"]["gecko"]
    assert gecko["id"] == GECKO_ID == kit["pack"]["gecko_id"]
    assert gecko["update_url"] == "https://mg.example.org/extension/updates.json"
    assert manifest["background"] == {"scripts": ["background.js"], "type": "module"}
    assert "key" not in manifest and "minimum_chrome_version" not in manifest
    assert "content/content.js" in names and "node_modules/" not in "".join(names)


def test_pack_with_a_version_and_the_same_input_gives_the_same_bytes(kit: dict,
                                                                     tmp_path: Path) -> None:
    for out in ("a", "b"):
        done = meetguard("extension", "pack", "--key", kit["key"], "--out", tmp_path / out,
                         "--version", "2.0.1")
        assert done.returncode == 0, done.stderr
        assert b"without --service-url" in done.stderr
    a, b = (json.loads((tmp_path / o / "pack.json").read_text()) for o in ("a", "b"))
    assert a == b and a["version"] == "2.0.1" and a["crx"] == "meetguard-2.0.1.crx"
    assert read_crx3((tmp_path / "a" / a["crx"]).read_bytes()).manifest()["version"] == "2.0.1"


@pytest.mark.parametrize(("args", "message"), [
    (("--version", "1.02"), b"version '1.02' must be"),
    (("--version", "1.2.3.4.5"), b"version '1.2.3.4.5' must be"),
    (("--version", "70000"), b"0-65535"),
    (("--source", "/nonexistent"), b"has no manifest.json"),
])
def test_pack_refuses_bad_input_in_one_line(kit: dict, tmp_path: Path, args: tuple,
                                            message: bytes) -> None:
    done = meetguard("extension", "pack", "--key", kit["key"], "--out", tmp_path / "out", *args)
    assert done.returncode == 1 and message in done.stderr
    assert len(done.stderr.splitlines()) == 1 and b"Traceback" not in done.stderr
    assert not (tmp_path / "out" / "pack.json").exists()


def test_pack_refuses_a_key_that_is_not_one(tmp_path: Path) -> None:
    (tmp_path / "bad.pem").write_text("not a key")
    done = meetguard("extension", "pack", "--key", tmp_path / "bad.pem", "--out", tmp_path)
    assert done.returncode == 1 and b"PEM private key" in done.stderr
    assert len(done.stderr.splitlines()) == 1


# -- policies ------------------------------------------------------------------------------

POLICY_ARGS = ("--server-url", "https://mg.example.org", "--client-key", KEY,
               "--webmail-host", "mail.example.org", "--webmail-host", "*.corp.example",
               "--fail-mode", "closed", "--language", "vi")
MANAGED = {"serverUrl": "https://mg.example.org", "apiKey": KEY,
           "webmailHosts": ["mail.example.org", "*.corp.example"], "failMode": "closed",
           "language": "vi"}
CHROMIUMS = ("chrome", "chromium", "edge")


def policy(kit: dict, browser: str, system: str, out: Path, *extra: str):
    return meetguard("extension", "policy", "--browser", browser, "--os", system,
                     "--pack", kit["dist"], *POLICY_ARGS, "--out", out, *extra)


@pytest.mark.parametrize("browser", CHROMIUMS)
def test_linux_policy_for_chromium_browsers(kit: dict, tmp_path: Path, browser: str) -> None:
    done = policy(kit, browser, "linux", tmp_path / "p.json")
    assert done.returncode == 0, done.stderr
    document = json.loads((tmp_path / "p.json").read_text())
    assert document == {
        "ExtensionSettings": {kit["id"]: {
            "installation_mode": "force_installed",
            "update_url": "https://mg.example.org/extension/updates.xml",
            "override_update_url": True}},
        "3rdparty": {"extensions": {kit["id"]: MANAGED}},
    }
    assert b"/policies/managed/" in done.stdout


def test_linux_policy_for_firefox_is_policies_json(kit: dict, tmp_path: Path) -> None:
    done = policy(kit, "firefox", "linux", tmp_path / "policies.json")
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "policies.json").read_text()) == {"policies": {
        "ExtensionSettings": {GECKO_ID: {
            "installation_mode": "force_installed",
            "install_url": "https://mg.example.org/extension/meetguard.xpi"}},
        "3rdparty": {"Extensions": {GECKO_ID: MANAGED}},
    }}
    assert b"/etc/firefox/policies/" in done.stdout


REG_BASES = {"chrome": r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Google\Chrome",
             "chromium": r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Chromium",
             "edge": r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\Edge",
             "firefox": r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Mozilla\Firefox"}


def read_reg(data: bytes) -> dict[str, dict[str, str]]:
    """regedit's format: UTF-16 with a BOM, CRLF, [key] sections of "name"="value" lines."""
    assert data.startswith(b"\xff\xfe")
    text = data.decode("utf-16")
    lines = text.split("\r\n")
    assert lines[0] == "Windows Registry Editor Version 5.00" and "\n" not in text.replace(
        "\r\n", "")
    keys: dict[str, dict[str, str]] = {}
    current = None
    for line in lines[1:]:
        if line.startswith("["):
            current = keys.setdefault(line.strip("[]"), {})
        elif line:
            name, value = line.split('"="', 1)
            current[json.loads(name + '"')] = json.loads('"' + value)
    return keys


@pytest.mark.parametrize("browser", [*CHROMIUMS, "firefox"])
def test_windows_policy_is_a_reg_file(kit: dict, tmp_path: Path, browser: str) -> None:
    done = policy(kit, browser, "windows", tmp_path / "p.reg")
    assert done.returncode == 0, done.stderr
    keys = read_reg((tmp_path / "p.reg").read_bytes())
    base = REG_BASES[browser]
    ext_id = GECKO_ID if browser == "firefox" else kit["id"]
    settings = json.loads(keys[base]["ExtensionSettings"])
    assert settings[ext_id]["installation_mode"] == "force_installed"
    managed = (f"{base}\\3rdparty\\Extensions\\{ext_id}" if browser == "firefox"
               else f"{base}\\3rdparty\\extensions\\{ext_id}\\policy")
    assert keys[managed] == {k: v for k, v in MANAGED.items() if k != "webmailHosts"}
    assert keys[managed + "\\webmailHosts"] == {"1": "mail.example.org", "2": "*.corp.example"}


@pytest.mark.parametrize(("browser", "domain"), [
    ("chrome", "com.google.Chrome"), ("chromium", "org.chromium.Chromium"),
    ("edge", "com.microsoft.Edge"), ("firefox", "org.mozilla.firefox")])
def test_macos_policy_is_a_configuration_profile(kit: dict, tmp_path: Path, browser: str,
                                                 domain: str) -> None:
    done = policy(kit, browser, "macos", tmp_path / "p.mobileconfig")
    assert done.returncode == 0, done.stderr
    profile = plistlib.loads((tmp_path / "p.mobileconfig").read_bytes())
    assert profile["PayloadType"] == "Configuration" and profile["PayloadScope"] == "System"
    payloads = {p["PayloadType"]: p for p in profile["PayloadContent"]}
    for p in payloads.values():
        assert {"PayloadUUID", "PayloadIdentifier", "PayloadVersion"} <= p.keys()
    if browser == "firefox":
        ff = payloads[domain]
        assert ff["EnterprisePoliciesEnabled"] is True
        assert ff["3rdparty"]["Extensions"][GECKO_ID] == MANAGED
        assert ff["ExtensionSettings"][GECKO_ID]["installation_mode"] == "force_installed"
    else:
        assert payloads[domain]["ExtensionSettings"][kit["id"]]["update_url"].endswith(
            "/extension/updates.xml")
        managed = payloads[f"{domain}.extensions.{kit['id']}"]
        assert {k: managed[k] for k in MANAGED} == MANAGED
    again = policy(kit, browser, "macos", tmp_path / "q.mobileconfig")
    assert again.returncode == 0
    assert (tmp_path / "q.mobileconfig").read_bytes() == (tmp_path / "p.mobileconfig").read_bytes()


@pytest.mark.parametrize(("change", "message"), [
    ({"--server-url": "ftp://x"}, b"--server-url 'ftp://x' must be an http(s) URL"),
    ({"--server-url": "https://user:pw@mg.example.org"}, b"must not contain credentials"),
    ({"--client-key": "has space"}, b"--client-key must be printable ASCII"),
    ({"--webmail-host": "bad host!"}, b"--webmail-host 'bad host!' must be a host"),
    ({"--fail-mode": "sometimes"}, b"invalid choice"),
    ({"--language": "fr"}, b"invalid choice"),
])
def test_bad_values_get_one_line_and_no_file(kit: dict, tmp_path: Path, change: dict,
                                            message: bytes) -> None:
    args = list(POLICY_ARGS)
    for flag, value in change.items():
        args[args.index(flag) + 1] = value
    out = tmp_path / "p.json"
    done = meetguard("extension", "policy", "--browser", "chrome", "--os", "linux",
                     "--pack", kit["dist"], *args, "--out", out)
    assert done.returncode in (1, 2) and message in done.stderr, done.stderr
    assert len(done.stderr.splitlines()) == 1 and b"Traceback" not in done.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_chromium_policy_needs_the_extension_id(tmp_path: Path) -> None:
    done = meetguard("extension", "policy", "--browser", "edge", "--os", "linux",
                     *POLICY_ARGS, "--out", tmp_path / "p.json")
    assert done.returncode == 1 and b"--pack DIR" in done.stderr
    bad = meetguard("extension", "policy", "--browser", "edge", "--os", "linux", "--id", "xyz",
                    *POLICY_ARGS, "--out", tmp_path / "p.json")
    assert bad.returncode == 1 and b"not a Chromium extension id" in bad.stderr
    assert not (tmp_path / "p.json").exists()


@pytest.mark.parametrize(("url", "warns"), [
    ("http://meetguard.example.org", True), ("http://10.0.0.5:8080", True),
    ("http://127.0.0.1:8080", False), ("http://localhost:8080", False),
    ("http://[::1]:8080", False), ("https://meetguard.example.org", False)])
def test_policy_warns_about_plain_http_off_loopback(kit: dict, url: str, warns: bool) -> None:
    args = list(POLICY_ARGS)
    args[1] = url
    done = meetguard("extension", "policy", "--browser", "firefox", "--os", "linux",
                     "--pack", kit["dist"], *args)
    assert done.returncode == 0, done.stderr
    assert (b"plain http" in done.stderr) is warns
    assert json.loads(done.stdout)["policies"]["3rdparty"]["Extensions"][GECKO_ID][
        "serverUrl"] == url


# -- the organisation's CA for the service's HTTPS ----------------------------------------------


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    from tests.support.tls import LocalCA

    ca = LocalCA.create()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    path.write_bytes(ca.pem())
    return path, base64.b64encode(ca.der()).decode()


@pytest.mark.parametrize("system", ["linux", "windows", "macos"])
def test_ca_cert_is_embedded_for_chromium_browsers(kit: dict, tmp_path: Path, ca_file,
                                                  system: str) -> None:
    path, der = ca_file
    out = tmp_path / "p"
    done = policy(kit, "chrome", system, out, "--ca-cert", str(path))
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    if system == "linux":
        assert json.loads(data)["CACertificates"] == [der]  # what test_https.py trusts by
    elif system == "windows":
        keys = read_reg(data)
        assert keys[REG_BASES["chrome"] + "\\CACertificates"] == {"1": der}
    else:
        payloads = {p["PayloadType"]: p for p in plistlib.loads(data)["PayloadContent"]}
        assert payloads["com.google.Chrome"]["CACertificates"] == [der]


def test_ca_cert_for_firefox_is_the_path_on_the_desktops(kit: dict, tmp_path: Path) -> None:
    done = policy(kit, "firefox", "linux", tmp_path / "p.json", "--ca-cert",
                  "/usr/local/share/ca-certificates/meetguard-ca.crt")
    assert done.returncode == 0, done.stderr
    document = json.loads((tmp_path / "p.json").read_text())["policies"]
    assert document["Certificates"] == {
        "Install": ["/usr/local/share/ca-certificates/meetguard-ca.crt"]}
    relative = policy(kit, "firefox", "linux", tmp_path / "q.json", "--ca-cert", "ca.crt")
    assert relative.returncode == 1 and b"absolute path" in relative.stderr
    assert not (tmp_path / "q.json").exists()


@pytest.mark.parametrize("content", [b"not a certificate", b"-----BEGIN CERTIFICATE-----\nxx"])
def test_a_ca_cert_that_is_not_one_gets_one_line(kit: dict, tmp_path: Path,
                                                 content: bytes) -> None:
    (tmp_path / "bad.pem").write_bytes(content)
    for path in (tmp_path / "bad.pem", tmp_path / "missing.pem"):
        done = policy(kit, "edge", "linux", tmp_path / "p.json", "--ca-cert", str(path))
        assert done.returncode == 1 and len(done.stderr.splitlines()) == 1, done.stderr
        assert b"Traceback" not in done.stderr and not (tmp_path / "p.json").exists()
