"""Validating request input: small checks that raise `ProblemError` naming the bad field.

Strings from clients are stored and shown as text, never interpreted: the checks bound their
size and strip control characters where a person will read them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from .problems import ProblemError

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_INSTALL_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTEXTS = ("click", "hover", "navigation", "api", "download", "compose", "paste")
EVENT_TYPES = ("override", "download-removed", "download-blocked", "unverifiable",
               "offline-decision", "warning-shown", "go-back",
               "room-details-shared", "room-details-removed", "room-details-cancelled")


def require_object(value: Any, where: str = "/") -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ProblemError("invalid-request", f"{where} must be a JSON object")
    return value


def string(obj: Mapping[str, Any], key: str, *, max_length: int, required: bool = False,
           where: str = "") -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise ProblemError("invalid-request", f"{where}/{key} is required")
        return None
    if not isinstance(value, str):
        raise ProblemError("invalid-request", f"{where}/{key} must be a string")
    if len(value) > max_length:
        raise ProblemError("invalid-request",
                           f"{where}/{key} is longer than {max_length} characters")
    return value


def choice(obj: Mapping[str, Any], key: str, choices: tuple[str, ...], *, default: str | None,
           where: str = "") -> str | None:
    value = obj.get(key, default)
    if value is None:
        return None
    if not isinstance(value, str) or value not in choices:
        raise ProblemError("invalid-request", f"{where}/{key} must be one of "
                                              f"{', '.join(choices)}")
    return value


def sha256(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise ProblemError("invalid-hash", f"{where} must be 64 hexadecimal digits")
    return value.lower()


def size(obj: Mapping[str, Any], key: str, where: str = "") -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**53:
        raise ProblemError("invalid-request", f"{where}/{key} must be a whole number >= 0")
    return value


def timestamp(obj: Mapping[str, Any], key: str, where: str = "") -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProblemError("invalid-request", f"{where}/{key} must be unix seconds")
    return float(value)


def small_object(obj: Mapping[str, Any], key: str, *, max_keys: int = 20,
                 max_value: int = 500, where: str = "") -> dict[str, Any]:
    """A flat object of scalars (bounded), for client-reported details."""
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > max_keys:
        raise ProblemError("invalid-request",
                           f"{where}/{key} must be an object of at most {max_keys} entries")
    out: dict[str, Any] = {}
    for k, v in value.items():
        if len(k) > 64 or not (v is None or isinstance(v, bool | int | float | str)):
            raise ProblemError("invalid-request",
                               f"{where}/{key} entries must be short names with scalar values")
        if isinstance(v, float) and not math.isfinite(v):
            raise ProblemError("invalid-request", f"{where}/{key}/{k} must be a finite number")
        out[k] = v[:max_value] if isinstance(v, str) else v
    return out


def install_id(headers: Mapping[str, str], fallback: str) -> str:
    value = headers.get("X-MeetGuard-Install")
    if value is None:
        return fallback
    if not _INSTALL_ID.fullmatch(value):
        raise ProblemError("invalid-request", "X-MeetGuard-Install must be 1-64 characters of "
                                              "letters, digits, '.', '_', ':' or '-'")
    return value


def user_label(headers: Mapping[str, str]) -> str | None:
    """The optional user label: percent-encoded UTF-8 (browsers only send Latin-1 headers)."""
    value = headers.get("X-MeetGuard-User")
    if value is None:
        return None
    if len(value) > 3 * 128:
        raise ProblemError("invalid-request", "X-MeetGuard-User is longer than 128 characters")
    # Raw bytes that are not UTF-8 arrive as lone surrogates, which no store can encode.
    value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return printable(unquote(value, errors="replace"))[:128] or None


def printable(text: str) -> str:
    """Text with control characters removed (it will be shown to people and put in CSV)."""
    return _CONTROL.sub("", text)


def language(body_lang: Any, accept: str | None) -> str:
    if body_lang in ("vi", "en"):
        return body_lang
    if accept and accept.strip().lower().startswith("vi"):
        return "vi"
    return "en"
