"""The rollout kit's packs: the organisation's signing key, a CRX3 for Chromium browsers and an
XPI for Firefox, and the update manifests that let `meetguard serve` host them.

Pure builders (bytes in, bytes out) with the file writing kept to `keygen` and `pack`.
CRX3 is Chromium's signed package: "Cr24", version 3, a length-prefixed protobuf
`CrxFileHeader` (an RSA proof over the header's `SignedData` and the zip), then the zip.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import struct
import zipfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from .errors import MeetGuardError

PACK_FILE = "pack.json"
"""What `pack` wrote last (id, version, file names, digests): read by the service."""
CRX_NAME, XPI_NAME = "meetguard.crx", "meetguard.xpi"
KEY_FILE = "meetguard-extension.pem"
# Development files of extension/ that never go into a pack.
EXCLUDED = frozenset({"node_modules", "tests", "package.json", "package-lock.json",
                      "README.md"})
_VERSION = re.compile(r"^(0|[1-9]\d{0,4})(\.(0|[1-9]\d{0,4})){0,3}$")
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)  # fixed: the same source packs to the same bytes


class KitError(MeetGuardError):
    """A kit command cannot do what was asked; the message says what to fix."""

    code = "extension-kit"


# -- keys and ids ---------------------------------------------------------------------------------


def generate_key() -> bytes:
    """A new RSA-2048 private key as PKCS#8 PEM (what Chromium's own packer makes)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _private_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise KitError(f"not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KitError("the key is not an RSA key (make one with `meetguard extension keygen`)")
    return key


def public_key_der(pem: bytes) -> bytes:
    """The SubjectPublicKeyInfo DER of a private key: what the id and `key` are made from."""
    from cryptography.hazmat.primitives import serialization

    return _private_key(pem).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def extension_id(public_der: bytes) -> str:
    """Chromium's extension id: the first 16 bytes of SHA-256(public key), hex digits 0-f
    written as a-p.

    >>> extension_id(b"")
    'odlameecjipmbmbejkplpemijjgpljce'
    """
    return "".join(chr(ord("a") + int(c, 16)) for c in hashlib.sha256(public_der).hexdigest()[:32])


def manifest_key(public_der: bytes) -> str:
    """The manifest's `key`: base64 of the public key DER (unpacked copies keep the same id)."""
    return base64.b64encode(public_der).decode("ascii")


# -- protobuf (the three messages CRX3 needs, written by hand) -----------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def crx3(archive: bytes, pem: bytes) -> bytes:
    """A CRX3 file: `archive` (a zip) signed with the RSA key `pem` (SHA-256, PKCS#1 v1.5)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    key = _private_key(pem)
    public = public_key_der(pem)
    crx_id = hashlib.sha256(public).digest()[:16]
    signed_data = _field(1, crx_id)  # SignedData { bytes crx_id = 1; }
    message = (b"CRX3 SignedData\x00" + struct.pack("<I", len(signed_data)) + signed_data
               + archive)
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    proof = _field(1, public) + _field(2, signature)  # AsymmetricKeyProof
    # CrxFileHeader { repeated AsymmetricKeyProof sha256_with_rsa = 2;
    #                 bytes signed_header_data = 10000; }
    header = _field(2, proof) + _field(10000, signed_data)
    return b"Cr24" + struct.pack("<II", 3, len(header)) + header + archive


# -- the extension's files -------------------------------------------------------------------------


def default_source() -> Path:
    """The checkout's extension/ directory."""
    return Path(__file__).resolve().parents[2] / "extension"


def read_source(source: Path) -> dict[str, bytes]:
    """Every file of the extension that belongs in a pack, by its path inside the pack."""
    if not (source / "manifest.json").is_file():
        raise KitError(f"{source} has no manifest.json: give the extension's directory "
                       "with --source")
    files = {}
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_file() and not (relative.parts[0] in EXCLUDED
                                   or any(p.startswith(".") for p in relative.parts)):
            files[relative.as_posix()] = path.read_bytes()
    return files


def zip_bytes(files: Mapping[str, bytes]) -> bytes:
    """A deterministic zip (sorted names, fixed times): the same input, the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    return buffer.getvalue()


def check_version(version: str) -> str:
    """A version both browsers accept: 1 to 4 dot-separated integers (0-65535, no leading 0)."""
    if not _VERSION.match(version) or any(int(p) > 65535 for p in version.split(".")):
        raise KitError(f"version {version!r} must be 1 to 4 dot-separated numbers, "
                       "each 0-65535, e.g. 1.2.0")
    return version


def chromium_manifest(manifest: Mapping[str, Any], *, key: str, version: str,
                      update_url: str | None) -> dict[str, Any]:
    """The manifest for Chromium browsers: the organisation's `key`, no Firefox-only parts."""
    out = {k: v for k, v in manifest.items() if k != "browser_specific_settings"}
    out["key"], out["version"] = key, version
    background = dict(out.get("background", {}))
    background.pop("scripts", None)  # Chromium runs the service worker
    out["background"] = background
    if update_url:
        out["update_url"] = update_url
    return out


def firefox_manifest(manifest: Mapping[str, Any], *, version: str,
                     update_url: str | None) -> dict[str, Any]:
    """The manifest for Firefox: background scripts (no service worker), the gecko id kept,
    its own update manifest; no Chromium `key` (Firefox ids come from gecko.id)."""
    out = {k: v for k, v in manifest.items() if k not in ("key", "minimum_chrome_version")}
    out["version"] = version
    background = dict(out.get("background", {}))
    background.pop("service_worker", None)
    out["background"] = background
    settings = json.loads(json.dumps(out.get("browser_specific_settings", {})))
    gecko = settings.setdefault("gecko", {})
    if "id" not in gecko:
        raise KitError("manifest.json has no browser_specific_settings.gecko.id: Firefox "
                       "policies need a fixed id")
    if update_url:
        gecko["update_url"] = update_url
    out["browser_specific_settings"] = settings
    return out


@dataclass(frozen=True, slots=True)
class Pack:
    """What `pack` wrote; kept as pack.json beside the files for the service."""

    id: str
    gecko_id: str
    version: str
    crx: str
    crx_sha256: str
    xpi: str
    xpi_sha256: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def build_packs(files: Mapping[str, bytes], pem: bytes, *, version: str | None = None,
                service_url: str | None = None) -> tuple[Pack, bytes, bytes]:
    """(description, CRX bytes, XPI bytes) of the extension `files` signed with `pem`."""
    try:
        manifest = json.loads(files["manifest.json"])
    except (KeyError, ValueError) as exc:
        raise KitError(f"manifest.json cannot be read: {exc}") from None
    version = check_version(version or str(manifest.get("version", "")))
    public = public_key_der(pem)
    base = service_url.rstrip("/") + "/extension/" if service_url else None
    chromium = chromium_manifest(manifest, key=manifest_key(public), version=version,
                                 update_url=base and base + "updates.xml")
    firefox = firefox_manifest(manifest, version=version, update_url=base and base + "updates.json")
    crx = crx3(zip_bytes({**files, "manifest.json": _json(chromium)}), pem)
    xpi = zip_bytes({**files, "manifest.json": _json(firefox)})
    pack = Pack(extension_id(public), firefox["browser_specific_settings"]["gecko"]["id"],
                version, f"meetguard-{version}.crx", _sha256(crx),
                f"meetguard-{version}.xpi", _sha256(xpi))
    return pack, crx, xpi


def _json(document: Any) -> bytes:
    return json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- update manifests (built by the service for the URL it is reached at) ------------------------


def chromium_update_manifest(app_id: str, version: str, codebase: str) -> bytes:
    """Chromium's update manifest (gupdate XML): where version `version` of `app_id` is."""
    return ("<?xml version='1.0' encoding='UTF-8'?>\n"
            "<gupdate xmlns='http://www.google.com/update2/response' protocol='2.0'>\n"
            f"  <app appid={quoteattr(app_id)}>\n"
            f"    <updatecheck codebase={quoteattr(codebase)} version={quoteattr(version)}/>\n"
            "  </app>\n</gupdate>\n").encode()


def firefox_update_manifest(gecko_id: str, version: str, link: str, sha256: str) -> bytes:
    """Firefox's update manifest (updates.json), with the XPI's hash so it is checked."""
    update = {"version": version, "update_link": link, "update_hash": f"sha256:{sha256}"}
    return _json({"addons": {gecko_id: {"updates": [update]}}})


# -- writing files ------------------------------------------------------------------------------


def write_private(path: Path, data: bytes) -> None:
    """Write `data` readable by its owner only (a signing key), replacing atomically."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    tmp.replace(path)


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def keygen(out: Path, *, force: bool = False) -> tuple[Path, str]:
    """Writes a new signing key into `out`; returns its path and the extension id it gives."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / KEY_FILE
    if path.exists() and not force:
        raise KitError(f"{path} exists: the extension id comes from it, so it is never "
                       "replaced silently (use --force to make a new id)")
    pem = generate_key()
    write_private(path, pem)
    return path, extension_id(public_key_der(pem))


def pack(source: Path, key: Path, out: Path, *, version: str | None = None,
         service_url: str | None = None) -> Pack:
    """Writes the CRX, the XPI and pack.json into `out` (pack.json last: the service never
    sees a description whose files are not there yet)."""
    try:
        pem = key.read_bytes()
    except OSError as exc:
        raise KitError(f"cannot read the key {key}: {exc.strerror or exc}") from None
    description, crx, xpi = build_packs(read_source(source), pem, version=version,
                                        service_url=service_url)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / description.crx, crx)
    write_atomic(out / description.xpi, xpi)
    write_atomic(out / PACK_FILE, _json(description.to_dict()))
    return description


def read_pack(directory: Path) -> Pack:
    """The pack described in `directory`'s pack.json (KitError when missing or broken)."""
    try:
        data = json.loads((directory / PACK_FILE).read_bytes())
        description = Pack(**{f.name: str(data[f.name]) for f in fields(Pack)})
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KitError(f"{directory / PACK_FILE}: no usable pack ({exc}); run "
                       "`meetguard extension pack`") from None
    for name in (description.crx, description.xpi):
        if "/" in name or name.startswith("."):
            raise KitError(f"{directory / PACK_FILE}: bad file name {name!r}")
    return description

