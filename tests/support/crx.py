"""Reading a CRX3 back, independently of the code that wrote it: a minimal protobuf reader and
the signature checked with OpenSSL's command line (not the library that signed it)."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def fields(data: bytes) -> list[tuple[int, bytes]]:
    """(field number, payload) of every length-delimited field; other wire types fail."""
    out, pos = [], 0
    while pos < len(data):
        tag, pos = _varint(data, pos)
        assert tag & 7 == 2, f"unexpected wire type {tag & 7}"
        length, pos = _varint(data, pos)
        out.append((tag >> 3, data[pos:pos + length]))
        pos += length
    return out


@dataclass
class Crx:
    public_key: bytes
    signature: bytes
    signed_data: bytes
    crx_id: bytes
    archive: bytes

    @property
    def extension_id(self) -> str:
        digest = hashlib.sha256(self.public_key).hexdigest()[:32]
        return "".join(chr(ord("a") + int(c, 16)) for c in digest)

    def manifest(self) -> dict:
        with zipfile.ZipFile(io.BytesIO(self.archive)) as archive:
            return json.loads(archive.read("manifest.json"))

    def names(self) -> list[str]:
        with zipfile.ZipFile(io.BytesIO(self.archive)) as archive:
            return archive.namelist()

    def signature_verifies(self) -> bool:
        """`openssl dgst -sha256 -verify` over what CRX3 signs."""
        message = (b"CRX3 SignedData\x00" + struct.pack("<I", len(self.signed_data))
                   + self.signed_data + self.archive)
        with tempfile.TemporaryDirectory() as tmp:
            key, sig, msg = (Path(tmp) / n for n in ("key.der", "sig", "msg"))
            key.write_bytes(self.public_key)
            sig.write_bytes(self.signature)
            msg.write_bytes(message)
            done = subprocess.run(["openssl", "dgst", "-sha256", "-keyform", "DER", "-verify",
                                   str(key), "-signature", str(sig), str(msg)],
                                  capture_output=True, check=False)
        return done.returncode == 0


def read_crx3(data: bytes) -> Crx:
    assert data[:4] == b"Cr24", "not a CRX"
    version, header_size = struct.unpack("<II", data[4:12])
    assert version == 3
    header = fields(data[12:12 + header_size])
    proofs = [p for n, p in header if n == 2]
    assert len(proofs) == 1, "one sha256_with_rsa proof"
    proof = dict(fields(proofs[0]))
    signed = next(p for n, p in header if n == 10000)
    return Crx(public_key=proof[1], signature=proof[2], signed_data=signed,
               crx_id=dict(fields(signed))[1], archive=data[12 + header_size:])
