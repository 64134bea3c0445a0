"""What counts as room details (signatures/room_details.toml), validated, and the part of it the
extension gets in `GET /v1/policy`.

Detection itself runs in the browser (extension/lib/roomdetails.js): the message text never
reaches the service. This module only loads the definitions, says where they are wrong (file and
line, like every signature file), and adds what the policy already knows: each platform's
`secret_params` and domains, the redirectors written as a query parameter, and the
organisation's domains.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import Problem, SignatureError
from .policy import ORGANISATION, Policy

FILE_NAME = "room_details.toml"
LANGUAGES = ("en", "vi")
MAX_LABEL = 60
_HOST_PATTERN = re.compile(
    r"(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(:\d{1,5})?"
)


@dataclass(frozen=True, slots=True)
class Labels:
    """The labels of one language: a meeting ID, and the passcode that goes with it."""

    lang: str
    meeting_id: tuple[str, ...]
    passcode: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RoomDetails:
    """room_details.toml, validated."""

    labels: tuple[Labels, ...]
    max_gap: int
    min_id_digits: int
    compose_hosts: tuple[str, ...]
    enter_sends_hosts: tuple[str, ...]
    public_hosts: tuple[str, ...]


def is_host_pattern(value: object) -> bool:
    """A host, host:port or *.domain, as the extension's host lists take them.

    >>> is_host_pattern("mail.example.org"), is_host_pattern("*.zalo.me"), is_host_pattern("a b")
    (True, True, False)
    """
    return isinstance(value, str) and _HOST_PATTERN.fullmatch(value.lower()) is not None


def load_room_details(directory: str | Path) -> RoomDetails:
    """room_details.toml of `directory`, or SignatureError listing every problem.

    A directory without the file gets the built-in defaults (none: the guard stays idle)."""
    path = Path(directory) / FILE_NAME
    if not path.is_file():
        return RoomDetails((), 400, 6, (), (), ())
    text = path.read_text(encoding="utf-8")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"at line (\d+)", str(exc))
        raise SignatureError([Problem(str(path), int(line.group(1)) if line else None,
                                      str(exc))]) from None
    checker = _Checker(path, text.splitlines())
    details = checker.room_details(doc)
    if checker.problems:
        raise SignatureError(checker.problems)
    return details


def check_room_details(directory: str | Path) -> list[Problem]:
    """Every problem of room_details.toml (empty when it loads)."""
    try:
        load_room_details(directory)
    except SignatureError as exc:
        return exc.problems
    return []


class _Checker:
    def __init__(self, path: Path, lines: list[str]) -> None:
        self.path = path
        self.lines = lines
        self.problems: list[Problem] = []

    def problem(self, needle: str, message: str) -> None:
        line = next((n for n, text in enumerate(self.lines, 1)
                     if needle and needle in text and not text.lstrip().startswith("#")), None)
        self.problems.append(Problem(str(self.path), line, message))

    def room_details(self, doc: dict[str, Any]) -> RoomDetails:
        text = doc.get("text", {})
        hosts = doc.get("hosts", {})
        return RoomDetails(
            labels=tuple(self.labels(entry) for entry in doc.get("labels", [])),
            max_gap=self.whole(text, "max_gap", 400, 20, 5000),
            min_id_digits=self.whole(text, "min_id_digits", 6, 3, 20),
            compose_hosts=self.hosts(hosts, "compose"),
            enter_sends_hosts=self.hosts(hosts, "enter_sends"),
            public_hosts=self.hosts(hosts, "public"),
        )

    def whole(self, section: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
        value = section.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.problem(key, f"{key} must be a whole number from {low} to {high}, not {value!r}")
            return default
        return value

    def labels(self, entry: dict[str, Any]) -> Labels:
        lang = entry.get("lang")
        if lang not in LANGUAGES:
            self.problem(f'"{lang}"' if isinstance(lang, str) else "[[labels]]",
                         f"labels: lang must be one of {', '.join(LANGUAGES)}, not {lang!r}")
        return Labels(str(lang), self.label_list(entry, "meeting_id", lang),
                      self.label_list(entry, "passcode", lang))

    def label_list(self, entry: dict[str, Any], key: str, lang: object) -> tuple[str, ...]:
        values = entry.get(key)
        if not isinstance(values, list) or not values:
            self.problem("[[labels]]", f"labels ({lang}): {key} must be a non-empty list")
            return ()
        good = []
        for value in values:
            if not isinstance(value, str) or not value.strip() or len(value) > MAX_LABEL \
                    or any(c in value for c in ":\n"):
                self.problem(str(value), f"labels ({lang}): {key} {value!r} must be text of 1 to "
                                         f"{MAX_LABEL} characters without ':' or a line break")
            else:
                good.append(value.strip())
        return tuple(good)

    def hosts(self, section: dict[str, Any], key: str) -> tuple[str, ...]:
        values = section.get(key, [])
        if not isinstance(values, list):
            self.problem(f"{key} =", f"hosts.{key} must be a list of hosts")
            return ()
        bad = [v for v in values if not is_host_pattern(v)]
        for value in bad:
            self.problem(str(value), f"hosts.{key}: {value!r} is not a host, host:port or *.domain")
        return tuple(v.lower() for v in values if v not in bad)


def room_details_document(details: RoomDetails, policy: Policy) -> dict[str, Any]:
    """What the extension's detector and guard need (`room_details` in GET /v1/policy)."""
    return {
        "labels": [{"lang": lb.lang, "meeting_id": list(lb.meeting_id),
                    "passcode": list(lb.passcode)} for lb in details.labels],
        "max_gap": details.max_gap,
        "min_id_digits": details.min_id_digits,
        "platforms": [{"id": p.id, "domains": list(p.domains),
                       "secret_params": sorted(p.secret_params)}
                      for p in policy.platforms if p.secret_params and p.id != ORGANISATION],
        # Only the redirectors that carry the destination in a plain query parameter: the
        # browser unwraps those the same way the service does.
        "wrappers": [{"id": w.id, "hosts": list(w.hosts), "paths": list(w.paths),
                      "params": list(w.params)}
                     for w in policy.wrappers.all if w.decoder == "query"],
        "compose_hosts": list(details.compose_hosts),
        "enter_sends_hosts": list(details.enter_sends_hosts),
        "public_hosts": list(details.public_hosts),
    }


ROOM_DETAILS_EVENTS = ("room-details-shared", "room-details-removed", "room-details-cancelled")
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")


def recipient_domains(value: object) -> str:
    """The recipients' domains an event reports, as one comma-separated string: anything that
    is not a domain (an address above all) is dropped, so no address is ever stored.

    >>> recipient_domains("gmail.com, an@moj.gov.vn,MOJ.gov.vn,gmail.com")
    'gmail.com,moj.gov.vn'
    """
    if not isinstance(value, str):
        return ""
    seen: dict[str, None] = {}
    for part in value.split(","):
        domain = part.strip().lower().rstrip(".")
        if _DOMAIN.fullmatch(domain):
            seen.setdefault(domain)
    return ",".join(seen)


def event_fields(detail: dict[str, Any], platform_ids: set[str],
                 platform: str | None, target: str | None) -> tuple[str | None, str, dict]:
    """(platform, target, detail) of a room-details event: the platform of its link, else the
    one the extension named (if the policy knows it); the redacted link, else "text"."""
    named = detail.get("platform")
    if platform is None and isinstance(named, str) and named in platform_ids:
        platform = named
    kept = {k: v for k, v in detail.items() if k in ("found", "links", "texts")}
    kept["recipient_domains"] = recipient_domains(detail.get("recipient_domains"))
    return platform, target or "text", kept
