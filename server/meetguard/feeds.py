"""Threat-feed imports: files the operator downloaded become known-bad lists in `signatures/`.

`meetguard feeds import KIND FILE` reads one feed file (never the network: the operator fetches
it), keeps the entries the core can use, and writes them, sorted and de-duplicated, to
`domains/<name>.txt` (domains and exact URLs) and `hashes/<name>.txt` (SHA-256s). Re-importing a
feed replaces its lists (the feed is a snapshot; `merge=True` adds to them instead). Every line
that is not used is accounted for: malformed (with line number and reason) or skipped (a kind
of indicator the core does not match, an unverified report, a domain that would block a whole
meeting platform). After writing, the signatures directory is loaded like a reload would; if it
does not load, the previous lists are put back.

Kinds: urlhaus-csv, threatfox-csv, malwarebazaar-csv, malwarebazaar-txt (alias sha256-txt),
phishtank-csv, phishtank-json, openphish-txt, misp-warninglist.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import validators

from .domains import DomainResolver
from .errors import SignatureError
from .policy import Policy, load_policy
from .urls import HostKind, InvalidUrl, parse_url
from .verdict import VerdictClass

DOMAIN, URL, SHA256 = "domain", "url", "sha256"
MAX_EXAMPLES = 20
MAX_FIELD = 8192
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_DIRS = {DOMAIN: "domains", URL: "domains", SHA256: "hashes"}


class FeedError(Exception):
    """The feed cannot be imported at all; the message says why and what to do."""


class Item(NamedTuple):
    """One indicator read from a feed, before validation."""

    line: int
    kind: str  # domain | url | sha256
    value: str


class Skip(NamedTuple):
    """A line read and deliberately not used (`malformed` False) or not understood (True)."""

    line: int
    reason: str
    excerpt: str = ""
    malformed: bool = False


Row = Item | Skip


@dataclass
class ImportReport:
    """What an import read, wrote and left out."""

    kind: str
    name: str
    source: str
    lines: int = 0
    entries: dict[str, int] = field(default_factory=dict)
    """Entries now in each list file written (relative path -> count)."""
    added: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    malformed: Counter[str] = field(default_factory=Counter)
    examples: list[tuple[int, str, str]] = field(default_factory=list)
    """Up to MAX_EXAMPLES malformed lines: (line, reason, excerpt)."""
    version: tuple[str, str] = ("", "")
    """Policy version before and after."""
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "name": self.name, "source": self.source, "lines": self.lines,
            "entries": self.entries, "added": self.added, "removed": self.removed,
            "duplicates": self.duplicates, "skipped": dict(self.skipped),
            "malformed": dict(self.malformed),
            "malformed_examples": [{"line": n, "reason": r, "text": t}
                                   for n, r, t in self.examples],
            "previous_version": self.version[0], "version": self.version[1],
            "notes": self.notes,
        }


# -- reading each format (pure: lines in, rows out) ----------------------------------------------


def excerpt(text: str, limit: int = 80) -> str:
    """A short, printable copy of a line for a report (no terminal escapes get through).

    >>> excerpt("evil\\x1b[31m.example")
    'evil\\\\x1b[31m.example'
    """
    text = text if len(text) <= limit else text[:limit] + "…"
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _data_lines(lines: Iterable[str]) -> Iterator[tuple[int, str, list[str]]]:
    """(line number, text, comment lines so far) for every non-blank, non-comment line."""
    comments: list[str] = []
    for number, raw in enumerate(lines, 1):
        text = raw.rstrip("\r\n")
        stripped = text.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            comments.append(stripped.lstrip("#").strip())
            continue
        yield number, text, comments


def _csv_fields(text: str) -> list[str] | None:
    try:
        return next(csv.reader([text], skipinitialspace=True), [])
    except csv.Error:
        return None


def _columns(header: list[str] | None, wanted: tuple[str, ...], defaults: tuple[int, ...]
             ) -> tuple[int, ...]:
    """Where the wanted columns are, by the header when there is one, else by position."""
    if header:
        names = [h.strip().strip('"').lower() for h in header]
        if all(w in names for w in wanted):
            return tuple(names.index(w) for w in wanted)
    return defaults


def _commented_header(comments: list[str], first: str) -> list[str] | None:
    """abuse.ch CSV dumps put the header in the last comment line naming the first column."""
    for comment in reversed(comments):
        fields = _csv_fields(comment)
        if fields and fields[0].strip().strip('"').lower() == first:
            return fields
    return None


def _csv_rows(lines: Iterable[str], first: str, wanted: tuple[str, ...],
              defaults: tuple[int, ...]) -> Iterator[tuple[int, str, list[str] | None, tuple]]:
    """Rows of an abuse.ch-style CSV (commented header) or a CSV with a header row."""
    columns = None
    for number, text, comments in _data_lines(lines):
        fields = _csv_fields(text)
        if columns is None:
            header = _commented_header(comments, first)
            if header is None and fields and fields[0].strip().lower() == first:
                columns = _columns(fields, wanted, defaults)
                continue  # a plain header row
            columns = _columns(header, wanted, defaults)
        yield number, text, fields, columns


def _picked(number: int, text: str, fields: list[str] | None, columns: tuple[int, ...]
            ) -> list[str] | Skip:
    if fields is None or len(fields) <= max(columns):
        return Skip(number, f"expected at least {max(columns) + 1} CSV columns", excerpt(text),
                    malformed=True)
    return [fields[i].strip() for i in columns]


def read_urlhaus_csv(lines: Iterable[str]) -> Iterator[Row]:
    """URLhaus CSV dump: `id,dateadded,url,url_status,…`; every URL is listed exactly."""
    for number, text, fields, columns in _csv_rows(lines, "id", ("url",), (2,)):
        picked = _picked(number, text, fields, columns)
        yield picked if isinstance(picked, Skip) else Item(number, URL, picked[0])


_THREATFOX_TYPES = {"url": URL, "domain": DOMAIN, "sha256_hash": SHA256}


def read_threatfox_csv(lines: Iterable[str]) -> Iterator[Row]:
    """ThreatFox CSV export: `ioc_value`, `ioc_type` (url, domain, sha256_hash, ip:port, …)."""
    rows = _csv_rows(lines, "first_seen_utc", ("ioc_value", "ioc_type"), (2, 3))
    for number, text, fields, columns in rows:
        picked = _picked(number, text, fields, columns)
        if isinstance(picked, Skip):
            yield picked
            continue
        value, ioc_type = picked
        kind = _THREATFOX_TYPES.get(ioc_type.lower())
        if kind is None:
            yield Skip(number, f"ioc type {excerpt(ioc_type, 20) or '(empty)'} is not matched "
                               "by MeetGuard")
        else:
            yield Item(number, kind, value)


def read_malwarebazaar_csv(lines: Iterable[str]) -> Iterator[Row]:
    """MalwareBazaar CSV export: `first_seen_utc,sha256_hash,md5_hash,…`."""
    rows = _csv_rows(lines, "first_seen_utc", ("sha256_hash",), (1,))
    for number, text, fields, columns in rows:
        picked = _picked(number, text, fields, columns)
        yield picked if isinstance(picked, Skip) else Item(number, SHA256, picked[0])


def read_sha256_txt(lines: Iterable[str]) -> Iterator[Row]:
    """One SHA-256 a line (MalwareBazaar `full_sha256.txt`, `sha256sum` output), `#` comments."""
    for number, text, _ in _data_lines(lines):
        yield Item(number, SHA256, text.split()[0] if text.split() else text)


def read_phishtank_csv(lines: Iterable[str]) -> Iterator[Row]:
    """PhishTank CSV: header `phish_id,url,…,verified,…`; unverified reports are skipped."""
    rows = _csv_rows(lines, "phish_id", ("url", "verified"), (1, 4))
    for number, text, fields, columns in rows:
        picked = _picked(number, text, fields, columns)
        if isinstance(picked, Skip):
            yield picked
        elif picked[1].lower() == "no":
            yield Skip(number, "not verified by PhishTank")
        else:
            yield Item(number, URL, picked[0])


def read_openphish_txt(lines: Iterable[str]) -> Iterator[Row]:
    """OpenPhish feed: one URL a line."""
    for number, text, _ in _data_lines(lines):
        yield Item(number, URL, text.strip())


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise FeedError(f"not valid JSON: {exc}") from None


def read_phishtank_json(text: str) -> Iterator[Row]:
    """PhishTank JSON: an array of objects with `url` (and `verified`); entries are numbered
    from 1 in place of lines."""
    data = _json(text)
    if not isinstance(data, list):
        raise FeedError("PhishTank JSON must be an array of reports")
    for number, entry in enumerate(data, 1):
        url = entry.get("url") if isinstance(entry, dict) else None
        if not isinstance(url, str):
            yield Skip(number, "entry has no url string", excerpt(json.dumps(entry)[:80]),
                       malformed=True)
        elif str(entry.get("verified", "yes")).lower() == "no":
            yield Skip(number, "not verified by PhishTank")
        else:
            yield Item(number, URL, url)


_MISP_UNSUPPORTED = ("cidr", "regex", "substring")


def read_misp_warninglist(text: str) -> Iterator[Row]:
    """A MISP warninglist (`{"name", "type", "list": [...]}`); `hostname` and `string` lists
    are read (a string that is a URL, a domain or a SHA-256), others are skipped."""
    data = _json(text)
    if not isinstance(data, dict) or not isinstance(data.get("list"), list):
        raise FeedError('a MISP warninglist is an object with a "list" array')
    list_type = str(data.get("type", "string")).lower()
    for number, value in enumerate(data["list"], 1):
        if not isinstance(value, str):
            yield Skip(number, "entry is not a string", excerpt(json.dumps(value)),
                       malformed=True)
        elif list_type in _MISP_UNSUPPORTED:
            yield Skip(number, f"{list_type} lists are not matched by MeetGuard")
        elif list_type == "hostname":
            yield Item(number, DOMAIN, value)
        else:
            yield Item(number, _guess_kind(value), value)


def _guess_kind(value: str) -> str:
    if _SHA256.match(value.strip()):
        return SHA256
    return URL if "://" in value else DOMAIN


def _domain_line(host: str) -> str | None:
    """The host when the policy loader accepts it as a domain line (same validator)."""
    return host if validators.domain(host, consider_tld=False) is True else None


def misp_name(text: str) -> str:
    """The default list name for a warninglist: `misp-` and its name, slugged.

    >>> misp_name('{"name": "List of known Phishing Hosts (2024)", "list": []}')
    'misp-list-of-known-phishing-hosts-2024'
    """
    try:
        name = json.loads(text).get("name", "")
    except (ValueError, AttributeError):
        name = ""
    slug = re.sub(r"[^a-z0-9]+", "-", str(name).lower()).strip("-")[:50].strip("-")
    return f"misp-{slug}" if slug else "misp"


class Feed(NamedTuple):
    name: str  # default list name
    read: Callable[..., Iterator[Row]]
    whole: bool = False  # the reader takes the whole text (JSON), not lines
    note: str = ""


FEEDS: dict[str, Feed] = {
    "urlhaus-csv": Feed("urlhaus", read_urlhaus_csv),
    "threatfox-csv": Feed("threatfox", read_threatfox_csv),
    "malwarebazaar-csv": Feed("malwarebazaar", read_malwarebazaar_csv),
    "malwarebazaar-txt": Feed("malwarebazaar", read_sha256_txt),
    "sha256-txt": Feed("sha256", read_sha256_txt),
    "phishtank-csv": Feed("phishtank", read_phishtank_csv),
    "phishtank-json": Feed("phishtank", read_phishtank_json, whole=True),
    "openphish-txt": Feed("openphish", read_openphish_txt),
    "misp-warninglist": Feed(
        "misp", read_misp_warninglist, whole=True,
        note="MISP warninglists usually list BENIGN indicators (they exist to flag false "
             "positives); import only a list of bad indicators, or every entry gets blocked"),
}


# -- validating entries the way the core will load them ------------------------------------------


class Validator:
    """Turns raw feed values into list lines the policy loader accepts, or says why not."""

    def __init__(self, policy: Policy) -> None:
        self._resolver = DomainResolver()
        self._protected: dict[str, str] = {}
        self._sanctioned: list[str] = []
        for platform in policy.platforms:
            for domain in platform.domains:
                self._protected[domain] = platform.name
                if platform.verdict_class is VerdictClass.APPROVED:
                    self._sanctioned.append(domain)

    def line(self, item: Item) -> tuple[str | None, str, bool]:
        """(list line or None, reason when None, malformed?)."""
        value = item.value.strip()
        if not value or len(value) > MAX_FIELD:
            return None, "empty" if not value else "longer than 8192 characters", True
        if any(not c.isprintable() for c in value):
            return None, "contains control or invisible characters", True
        if item.kind == SHA256:
            if not _SHA256.match(value):
                return None, "not a SHA-256 (64 hexadecimal digits)", True
            return value.lower(), "", False
        if item.kind == URL:
            return self._url(value)
        return self._domain(value)

    def _url(self, value: str) -> tuple[str | None, str, bool]:
        if "://" not in value or any(c.isspace() for c in value):
            return None, "not an absolute URL", True
        try:
            parsed = parse_url(value)
        except InvalidUrl as exc:
            return None, f"not a valid URL: {exc.detail}", True
        if parsed.scheme not in ("http", "https", "ftp", "ws", "wss") or not parsed.host:
            return None, f"not a web URL ({parsed.scheme}:)", True
        # List files treat '#' as a comment; the fragment never leaves the browser anyway.
        return parsed.href.split("#", 1)[0], "", False

    def _domain(self, value: str) -> tuple[str | None, str, bool]:
        text = value.strip().lstrip("*").lstrip(".").rstrip(".")
        if not text or any(c in text for c in "/:@?#\\%") or any(c.isspace() for c in text):
            return None, "not a domain name", True
        try:
            parsed = parse_url(f"http://{text}/")
        except InvalidUrl:
            return None, "not a domain name", True
        if parsed.host_kind is not HostKind.DOMAIN:
            return None, "an IP address, not a domain name", True
        host = parsed.host.rstrip(".")
        if _domain_line(host) is None:
            return None, "not a domain name", True
        info = self._resolver.info(host)
        if not info.registered:
            return None, f"{host} is a public suffix: it would block every site under it", False
        for protected, name in self._protected.items():
            if protected == host or protected.endswith("." + host):
                return None, f"would block the meeting platform {name}", False
        for sanctioned in self._sanctioned:
            if host.endswith("." + sanctioned):
                return None, (f"under the sanctioned domain {sanctioned}: add it to "
                              "domains/local.txt by hand if meant"), False
        return host, "", False


# -- the import ----------------------------------------------------------------------------------


def read_feed(kind: str, path: Path) -> Iterator[Row]:
    """The rows of one feed file (text read as UTF-8; undecodable bytes become U+FFFD and the
    lines holding them are reported malformed)."""
    feed = _feed(kind)
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    if feed.whole:
        return feed.read(text)
    return feed.read(text.splitlines())


def _feed(kind: str) -> Feed:
    try:
        return FEEDS[kind]
    except KeyError:
        raise FeedError(f"unknown feed kind {kind!r} (known: {', '.join(FEEDS)})") from None


def import_feed(kind: str, path: Path, signatures: Path, *, name: str | None = None,
                merge: bool = False) -> ImportReport:
    """Import feed file `path` of `kind` into the signatures directory; see the module doc."""
    feed = _feed(kind)
    if not path.is_file():
        raise FeedError(f"{path}: no such file (download the feed first; imports never fetch)")
    name = name or (misp_name(path.read_text(encoding="utf-8", errors="replace"))
                    if kind == "misp-warninglist" else feed.name)
    if not _NAME.match(name):
        raise FeedError(f"list name {name!r}: use lower-case letters, digits and hyphens")
    policy = _load(signatures)
    report = ImportReport(kind, name, str(path), version=(policy.version, policy.version))
    if feed.note:
        report.notes.append(feed.note)
    found = collect(read_feed(kind, path), Validator(policy), report)
    if not any(found.values()) and report.malformed:
        raise FeedError(f"{path}: no usable entry in {report.lines} line(s), "
                        f"{sum(report.malformed.values())} malformed: is it really {kind}? "
                        "Nothing was written")
    write_lists(signatures, name, found, report, merge=merge)
    return report


def _load(signatures: Path) -> Policy:
    try:
        return load_policy(signatures)
    except SignatureError as exc:
        raise FeedError(f"the signatures in {signatures} do not load; fix them first: {exc}"
                        ) from None


def collect(rows: Iterable[Row], validator: Validator, report: ImportReport
            ) -> dict[str, set[str]]:
    """Valid list lines by folder (`domains`, `hashes`); counts the rest into `report`."""
    found: dict[str, set[str]] = {"domains": set(), "hashes": set()}
    for row in rows:
        report.lines += 1
        if isinstance(row, Skip):
            _count_skip(report, row)
            continue
        line, reason, malformed = validator.line(row)
        if line is None:
            _count_skip(report, Skip(row.line, reason, excerpt(row.value), malformed))
            continue
        bucket = found[_DIRS[row.kind]]
        if line in bucket:
            report.duplicates += 1
        bucket.add(line)
    return found


def _count_skip(report: ImportReport, skip: Skip) -> None:
    if skip.malformed:
        report.malformed[skip.reason] += 1
        if len(report.examples) < MAX_EXAMPLES:
            report.examples.append((skip.line, skip.reason, skip.excerpt))
    else:
        report.skipped[skip.reason] += 1


def _existing(path: Path) -> set[str]:
    if not path.is_file():
        return set()
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return {t for t in (raw.split("#", 1)[0].strip() for raw in lines) if t}


def write_lists(signatures: Path, name: str, found: dict[str, set[str]], report: ImportReport,
                *, merge: bool) -> None:
    """Write each list atomically, check the directory loads, else put the old files back."""
    previous: dict[Path, bytes | None] = {}
    for folder, entries in found.items():
        path = signatures / folder / f"{name}.txt"
        if not entries and not path.exists():
            continue
        old = _existing(path)
        new = entries | old if merge else entries
        previous[path] = path.read_bytes() if path.exists() else None
        relative = f"{folder}/{name}.txt"
        report.entries[relative] = len(new)
        report.added[relative] = len(new - old)
        report.removed[relative] = len(old - new)
        _atomic_write(path, _render(report, folder, new))
    try:
        report.version = (report.version[0], load_policy(signatures).version)
    except SignatureError as exc:
        for path, content in previous.items():
            if content is None:
                path.unlink(missing_ok=True)
            else:
                _atomic_write(path, content.decode("utf-8"))
        raise FeedError(f"the imported lists do not load, previous lists restored: {exc}"
                        ) from None


def _render(report: ImportReport, folder: str, entries: set[str]) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    what = "SHA-256 hashes" if folder == "hashes" else "domains (with subdomains) and exact URLs"
    source = excerpt(Path(report.source).name, 120)
    header = (f"# Known-bad {what} imported by `meetguard feeds import {report.kind}`\n"
              f"# from {source} on {stamp}: {len(entries)} entries.\n"
              "# Re-importing the feed replaces this file: put your own entries in local.txt.\n")
    return header + "".join(f"{e}\n" for e in sorted(entries))


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def format_report(report: ImportReport) -> list[str]:
    """The report as lines for people."""
    out = [f"{report.kind}: read {report.lines} entr{'y' if report.lines == 1 else 'ies'} "
           f"from {excerpt(report.source, 200)}"]
    for relative, count in report.entries.items():
        out.append(f"  {relative}: {count} entries ({report.added[relative]} new, "
                   f"{report.removed[relative]} removed)")
    if not report.entries:
        out.append("  nothing to write")
    if report.duplicates:
        out.append(f"  duplicates dropped: {report.duplicates}")
    for title, counts in (("skipped", report.skipped), ("malformed", report.malformed)):
        if counts:
            out.append(f"  {title}: {sum(counts.values())}")
            out += [f"    {n} {reason}" for reason, n in counts.most_common()]
    if report.examples:
        unit = "entry" if FEEDS[report.kind].whole else "line"
        out.append(f"  malformed {unit} examples (first {MAX_EXAMPLES}):")
        out += [f"    {unit} {n}: {reason}: {text}" for n, reason, text in report.examples]
    out += [f"  note: {note}" for note in report.notes]
    before, after = report.version
    if before != after:
        out.append(f"policy version {before} -> {after}: reload the service to use it "
                   "(POST /v1/admin/reload, SIGHUP, or the console's Reload button)")
    else:
        out.append(f"policy version {after}: unchanged")
    return out
