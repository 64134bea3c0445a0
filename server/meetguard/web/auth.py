"""Client keys and admin tokens: kept only as hashes, compared in constant time.

Client keys (extensions) may check and report; admin tokens (IT) may administer. Neither may
do the other's work. The embedded default generates one of each on first start, prints them
once, and keeps only their hashes in the data directory.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

KEYS_FILE = "keys.json"


class Role(StrEnum):
    CLIENT = "client"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Credential:
    name: str
    role: Role
    digest: bytes  # SHA-256 of the key: keys are random and long, a slow hash adds nothing


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


class KeyRing:
    """Every accepted key, by hash."""

    def __init__(self, credentials: list[Credential]) -> None:
        self._credentials = tuple(credentials)

    def __len__(self) -> int:
        return len(self._credentials)

    def identify(self, key: str) -> Credential | None:
        """The credential `key` belongs to. Every stored hash is compared, always, in constant
        time, so the answer's timing says nothing about which key (or how much of one) matched."""
        presented = _digest(key)
        found = None
        for credential in self._credentials:
            if hmac.compare_digest(presented, credential.digest):
                found = credential
        return found

    @classmethod
    def from_settings(cls, client_keys: tuple[str, ...], admin_tokens: tuple[str, ...]) -> KeyRing:
        creds = [_credential(item, Role.CLIENT, i) for i, item in enumerate(client_keys)]
        creds += [_credential(item, Role.ADMIN, i) for i, item in enumerate(admin_tokens)]
        return cls(creds)

    def to_file(self, path: Path) -> None:
        data = [{"name": c.name, "role": c.role.value, "sha256": c.digest.hex()}
                for c in self._credentials]
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"keys": data}, handle, indent=2)
        tmp.replace(path)

    @classmethod
    def from_file(cls, path: Path) -> KeyRing:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls([Credential(k["name"], Role(k["role"]), bytes.fromhex(k["sha256"]))
                    for k in data["keys"]])


def _credential(item: str, role: Role, index: int) -> Credential:
    name, sep, key = item.partition(":")
    if not sep:
        name, key = f"{role.value}-{index + 1}", item
    if len(key) < 16:
        raise ValueError(f"{role.value} key {name!r} is shorter than 16 characters")
    return Credential(name, role, _digest(key))


def generate_first_keys(data_dir: Path) -> tuple[KeyRing, dict[str, str] | None]:
    """The keys kept in `data_dir`, generating one client key and one admin token on the very
    first start. Returns the ring and, only when just generated, the keys in clear (to print
    once: they are not stored anywhere)."""
    path = data_dir / KEYS_FILE
    if path.exists():
        return KeyRing.from_file(path), None
    plain = {"client": secrets.token_urlsafe(32), "admin": secrets.token_urlsafe(32)}
    ring = KeyRing([Credential("generated-client", Role.CLIENT, _digest(plain["client"])),
                    Credential("generated-admin", Role.ADMIN, _digest(plain["admin"]))])
    ring.to_file(path)
    return ring, plain
