"""Enterprise policies that force-install and configure the extension, in the form each browser
and operating system takes: Linux JSON (Chromium, Chrome, Edge; Firefox `policies.json`), a
Windows `.reg` file, a macOS `.mobileconfig` profile.

The managed values are checked against the extension's `managed_schema.json` and the rules the
extension itself applies (lib/config.js) before anything is rendered: a value the extension
would refuse must never reach 5,000 desktops.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import plistlib
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .extension_kit import KitError, default_source

BROWSERS = ("chrome", "chromium", "edge", "firefox")
SYSTEMS = ("linux", "windows", "macos")
PRINTABLE = re.compile(r"^[\x21-\x7e]{1,512}$")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")

# Where each browser reads machine policy: Linux directory, Windows registry key, macOS domain.
LINUX_DIRS = {"chrome": "/etc/opt/chrome/policies/managed/",
              "chromium": "/etc/chromium/policies/managed/",
              "edge": "/etc/opt/edge/policies/managed/",
              "firefox": "/etc/firefox/policies/"}
REGISTRY = {"chrome": r"SOFTWARE\Policies\Google\Chrome",
            "chromium": r"SOFTWARE\Policies\Chromium",
            "edge": r"SOFTWARE\Policies\Microsoft\Edge",
            "firefox": r"SOFTWARE\Policies\Mozilla\Firefox"}
MAC_DOMAINS = {"chrome": "com.google.Chrome", "chromium": "org.chromium.Chromium",
               "edge": "com.microsoft.Edge", "firefox": "org.mozilla.firefox"}


@dataclass(frozen=True, slots=True)
class Rollout:
    """What IT decides once for every desktop."""

    browser: str
    system: str
    extension_id: str  # Chromium id (a-p x32) or Firefox's gecko id
    install_url: str  # Chromium: the update manifest; Firefox: the XPI
    managed: Mapping[str, Any]
    ca_certificates: tuple[str, ...] = ()
    """Chromium browsers: base64 DER certificates to trust (CACertificates); Firefox: paths of
    certificate files on the desktops (Certificates.Install)."""


def default_schema() -> dict[str, Any]:
    return json.loads((default_source() / "managed_schema.json").read_text(encoding="utf-8"))


def managed_values(*, server_url: str, client_key: str, webmail_hosts: Sequence[str] = (),
                   fail_mode: str | None = None, language: str | None = None,
                   schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The extension's managed settings, validated (KitError naming the bad value)."""
    values: dict[str, Any] = {"serverUrl": _server_url(server_url), "apiKey": client_key}
    if webmail_hosts:
        values["webmailHosts"] = [_host_pattern(h) for h in webmail_hosts]
    if fail_mode is not None:
        values["failMode"] = fail_mode
    if language is not None:
        values["language"] = language
    if not PRINTABLE.match(client_key):
        raise KitError("--client-key must be printable ASCII without spaces, 1-512 characters")
    check_schema(values, schema or default_schema())
    return values


def check_schema(values: Mapping[str, Any], schema: Mapping[str, Any], where: str = "") -> None:
    """The subset of JSON Schema that Chromium's managed_schema uses: object, string, array,
    boolean, integer, enum, items. KitError on the first value that does not fit."""
    kind = schema.get("type")
    label = where or "the managed settings"
    types = {"object": dict, "string": str, "array": list, "boolean": bool, "integer": int}
    if kind in types and not isinstance(values, types[kind]):
        raise KitError(f"{label} must be of type {kind} (managed_schema.json)")
    if "enum" in schema and values not in schema["enum"]:
        raise KitError(f"{label} must be one of {', '.join(map(str, schema['enum']))}")
    if kind == "object":
        properties = schema.get("properties", {})
        for key, value in values.items():  # type: ignore[union-attr]
            if key not in properties:
                raise KitError(f"{key} is not a setting of the extension (managed_schema.json)")
            check_schema(value, properties[key], key)
    if kind == "array":
        for i, item in enumerate(values):  # type: ignore[arg-type]
            check_schema(item, schema.get("items", {}), f"{label}[{i}]")


def _server_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise KitError(f"--server-url {url!r} must be an http(s) URL such as "
                       "https://meetguard.example.org")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise KitError(f"--server-url {url!r} must not contain credentials, a query or a "
                       "fragment")
    return url.rstrip("/")


def _host_pattern(host: str) -> str:
    text = host.strip().lower()
    name, _, port = text.rpartition(":") if ":" in text else (text, "", "")
    bare = name.removeprefix("*.")
    if (port and not (port.isdigit() and 0 < int(port) < 65536)) \
            or not all(_HOST_LABEL.match(label) for label in bare.split(".")):
        raise KitError(f"--webmail-host {host!r} must be a host, host:port or *.domain")
    return text


def plain_http_warning(server_url: str) -> str | None:
    """A warning when client keys would travel in clear: http:// to a host not on loopback."""
    parts = urlsplit(server_url)
    if parts.scheme != "http":
        return None
    host = parts.hostname or ""
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        if host == "localhost" or host.endswith(".localhost"):
            return None
    return (f"warning: {server_url} is plain http to {host}: client keys and the links "
            "people check would travel in clear; use https://")


# -- rendering ------------------------------------------------------------------------------------


def default_install_url(browser: str, server_url: str) -> str:
    """Where the service hosts the kit's packs (see `extension_dir`)."""
    name = "meetguard.xpi" if browser == "firefox" else "updates.xml"
    return f"{server_url.rstrip('/')}/extension/{name}"


def default_file_name(rollout: Rollout) -> str:
    if rollout.system == "windows":
        return f"meetguard-{rollout.browser}.reg"
    if rollout.system == "macos":
        return f"meetguard-{rollout.browser}.mobileconfig"
    return "policies.json" if rollout.browser == "firefox" else "meetguard.json"


def policy_document(rollout: Rollout) -> dict[str, Any]:
    """The browser's policies as one JSON-shaped document (what Linux takes as is)."""
    if rollout.browser == "firefox":
        policies: dict[str, Any] = {
            "ExtensionSettings": {rollout.extension_id: {
                "installation_mode": "force_installed", "install_url": rollout.install_url}},
            "3rdparty": {"Extensions": {rollout.extension_id: dict(rollout.managed)}},
        }
        if rollout.ca_certificates:
            policies["Certificates"] = {"Install": list(rollout.ca_certificates)}
        return {"policies": policies}
    # override_update_url: later updates come from the policy's URL too, whatever the packed
    # manifest says (a pack made without --service-url would otherwise ask the Web Store).
    document: dict[str, Any] = {
        "ExtensionSettings": {rollout.extension_id: {
            "installation_mode": "force_installed", "update_url": rollout.install_url,
            "override_update_url": True}},
        "3rdparty": {"extensions": {rollout.extension_id: dict(rollout.managed)}},
    }
    if rollout.ca_certificates:
        document["CACertificates"] = list(rollout.ca_certificates)
    return document


def ca_certificate(path: Path) -> str:
    """A CA certificate file (PEM or DER) as the base64 DER that CACertificates takes."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    data = path.read_bytes()
    try:
        cert = (x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data
                else x509.load_der_x509_certificate(data))
    except ValueError:
        raise KitError(f"--ca-cert {path} is not a PEM or DER certificate") from None
    return base64.b64encode(cert.public_bytes(Encoding.DER)).decode("ascii")


def render(rollout: Rollout) -> bytes:
    """The file IT deploys for `rollout.browser` on `rollout.system`."""
    if rollout.system == "windows":
        return render_reg(rollout)
    if rollout.system == "macos":
        return render_mobileconfig(rollout)
    return json.dumps(policy_document(rollout), indent=2, ensure_ascii=False).encode() + b"\n"


def render_reg(rollout: Rollout) -> bytes:
    """A regedit file (UTF-16 with BOM, CRLF, as regedit writes them). Complex policies
    (ExtensionSettings) are JSON strings, which Chrome, Edge and Firefox all accept; managed
    settings are values under the extension's key, lists as subkeys numbered from 1."""
    base = "HKEY_LOCAL_MACHINE\\" + REGISTRY[rollout.browser]
    settings = policy_document(rollout)
    if rollout.browser == "firefox":
        settings = settings["policies"]
        managed_key = f"{base}\\3rdparty\\Extensions\\{rollout.extension_id}"
    else:
        managed_key = f"{base}\\3rdparty\\extensions\\{rollout.extension_id}\\policy"
    lines = ["Windows Registry Editor Version 5.00", "", f"[{base}]",
             _reg_value("ExtensionSettings", json.dumps(settings["ExtensionSettings"]))]
    certificates = ("Certificates\\Install" if rollout.browser == "firefox"
                    else "CACertificates")
    if rollout.ca_certificates:
        lines += ["", f"[{base}\\{certificates}]"]
        lines += [_reg_value(str(i), c) for i, c in enumerate(rollout.ca_certificates, 1)]
    lines += ["", f"[{managed_key}]"]
    lists = []
    for name, value in rollout.managed.items():
        if isinstance(value, list):
            lists.append((name, value))
        else:
            lines.append(_reg_value(name, str(value)))
    for name, items in lists:
        lines += ["", f"[{managed_key}\\{name}]"]
        lines += [_reg_value(str(i), item) for i, item in enumerate(items, 1)]
    return "\r\n".join([*lines, ""]).encode("utf-16")


def _reg_value(name: str, value: str) -> str:
    def quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{quote(name)}={quote(value)}"


def render_mobileconfig(rollout: Rollout) -> bytes:
    """A macOS configuration profile. Chromium browsers read an extension's managed settings
    from the preference domain `<browser domain>.extensions.<id>`; Firefox from its own."""
    domain = MAC_DOMAINS[rollout.browser]
    document = policy_document(rollout)
    if rollout.browser == "firefox":
        payloads = [_payload(domain, {"EnterprisePoliciesEnabled": True,
                                      **document["policies"]})]
    else:
        browser = {k: v for k, v in document.items() if k != "3rdparty"}
        payloads = [
            _payload(domain, browser),
            _payload(f"{domain}.extensions.{rollout.extension_id}", dict(rollout.managed)),
        ]
    profile = {
        "PayloadType": "Configuration", "PayloadVersion": 1, "PayloadScope": "System",
        "PayloadDisplayName": f"MeetGuard for {rollout.browser.title()}",
        "PayloadIdentifier": f"org.meetguard.{rollout.browser}",
        "PayloadUUID": _uuid(f"profile:{rollout.browser}:{rollout.extension_id}"),
        "PayloadContent": payloads,
    }
    return plistlib.dumps(profile, fmt=plistlib.FMT_XML)


def _payload(payload_type: str, content: dict[str, Any]) -> dict[str, Any]:
    return {"PayloadType": payload_type, "PayloadVersion": 1, "PayloadEnabled": True,
            "PayloadIdentifier": f"org.meetguard.{payload_type}",
            "PayloadUUID": _uuid(payload_type), "PayloadDisplayName": payload_type, **content}


def _uuid(name: str) -> str:
    """Stable across runs: a profile installed again replaces the old one, not beside it."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"meetguard:{name}")).upper()


def write_policy(rollout: Rollout, out: Path) -> Path:
    """Render first, then write (a bad value never leaves a half-written file)."""
    data = render(rollout)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
    return out
