"""The audit-log store interface: records, queries, pages, and the two protocols.

Everything here is plain data and pure helpers (no I/O). Two protocols hide the back ends:

- `LogStore` keeps the audit log (every verdict and event) and the counters behind the stats;
  `SQLiteLogStore` (embedded default) and `RedisLogStore` (shared by many instances) implement it.
- `SharedState` is what several service instances share: the file-scan cache, rate limits and the
  reload channel; `LocalState` (one process, in memory) and `RedisState` implement it.

Ordering is newest first by `(ts, id)`; a cursor is an opaque string naming the last item of a page.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import logging
import math
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import Any, NamedTuple, Protocol, Self, runtime_checkable

import orjson

from ..timefmt import rfc3339

log = logging.getLogger(__name__)

RECORD_KINDS = ("link", "file", "event", "retro")
MAX_LIMIT = 1000
HOUR = 3600
DAY = 86400

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_KEY_OF = {"verdict_class": "class"}


class StoreError(Exception):
    """A store failure with a stable `code` (an API value, mapped to a problem+json `type`).

    Codes: `store-unavailable` (back end down; queries cannot be answered), `spool-full` (Redis
    is down and the local spool reached its size bound), `store-closed`, `store-write-failed`,
    `invalid-query`, `invalid-cursor`, `invalid-record`, `invalid-counter`.
    """

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or code)
        self.code = code
        self.message = message or code


def new_record_id(ts: float | None = None) -> str:
    """A new ULID: 48-bit millisecond timestamp + 80 random bits, 26 Crockford base32 chars.

    IDs made later sort after IDs made earlier (to the millisecond).

    >>> rid = new_record_id(0)
    >>> len(rid), rid[:10]
    (26, '0000000000')
    >>> new_record_id(1.0) < new_record_id(2.0)
    True
    """
    return new_record_ids(time.time() if ts is None else ts, 1)[0]


_PAIRS = tuple(a + b for a in _CROCKFORD for b in _CROCKFORD)


@functools.lru_cache(maxsize=4)
def _time_part(ms: int) -> str:
    """A ULID's first 10 characters (48 bits of milliseconds; the same for every record made in
    that millisecond, and a busy service makes dozens)."""
    if not 0 <= ms < 1 << 48:
        raise ValueError(f"timestamp out of ULID range: {ms / 1000!r}")
    p = _PAIRS
    # 48 bits of time and 80 random bits: 5 + 8 pairs of characters, 10 bits each.
    return "".join((p[ms >> 40], p[ms >> 30 & 1023], p[ms >> 20 & 1023], p[ms >> 10 & 1023],
                    p[ms & 1023]))


def new_record_ids(ts: float, n: int) -> list[str]:
    """`n` new ULIDs for records made at `ts` (the time part is encoded once for all).

    >>> a, b = new_record_ids(1700000000.123, 2)
    >>> a[:10] == b[:10] == new_record_id(1700000000.123)[:10], a != b, len(a)
    (True, True, 26)
    """
    ms = int(ts * 1000)
    prefix = _time_part(ms)
    p = _PAIRS
    out = []
    for _ in range(n):
        # The random part only keeps ids apart; nothing depends on it being unguessable. The
        # stdlib generator (seeded from the OS, re-seeded in forked workers) costs ~0.1 us where
        # os.urandom costs a system call, ~10% of a request here.
        v = random.getrandbits(80)
        out.append("".join((prefix, p[v >> 70], p[v >> 60 & 1023], p[v >> 50 & 1023],
                            p[v >> 40 & 1023], p[v >> 30 & 1023], p[v >> 20 & 1023],
                            p[v >> 10 & 1023], p[v & 1023])))
    return out


def record_id_time(record_id: str) -> float:
    """The unix time (seconds, millisecond precision) encoded in a ULID.

    >>> record_id_time(new_record_id(1700000000.123))
    1700000000.123
    """
    ms = 0
    for char in record_id[:10].upper():
        ms = ms * 32 + _CROCKFORD.index(char)
    return ms / 1000


class LogRecord(NamedTuple):
    """One audit-log record: a verdict (`kind` link or file) or an event reported by a client.

    A NamedTuple, not a dataclass: one is built for every verdict answered, and a tuple is built
    in a third of the time. Records are values: never mutate `detail` (its default is shared).
    """

    id: str
    """ULID (`new_record_id`): unique, time-sortable; re-appending the same id is a no-op."""
    ts: float
    """When it happened, unix seconds UTC."""
    kind: str
    """`link`, `file`, `event`, or `retro` (a retro-hunt finding or run, see `retrohunt`)."""
    client: str
    """Extension install id or API key name."""
    user: str | None = None
    context: str | None = None
    """click, hover, navigation, api, download, …"""
    verdict_class: str | None = None
    """approved | warned | unknown (serialised as `class`)."""
    action: str | None = None
    """allow | warn | block."""
    platform: str | None = None
    host: str | None = None
    """ASCII host of the destination, lower case."""
    target: str | None = None
    """The destination, secrets already redacted by the caller."""
    codes: tuple[str, ...] = ()
    """Reason codes."""
    rules: tuple[str, ...] = ()
    """Names of the signatures that produced reasons."""
    policy_version: str | None = None
    event: str | None = None
    """For kind `event`: override, download-removed, download-blocked, unverifiable, …"""
    sha256: str | None = None
    detail: dict[str, Any] = {}  # noqa: RUF012 (shared by records built without one: never mutated)
    """Small JSON-able extras: filename, size, severities, …"""

    @classmethod
    def new(cls, kind: str, client: str, *, ts: float | None = None, **values: Any) -> LogRecord:
        """A record with a fresh id, stamped now unless `ts` is given."""
        when = time.time() if ts is None else ts
        return cls(id=new_record_id(when), ts=when, kind=kind, client=client, **values)

    def to_dict(self, zone: tzinfo | None = None) -> dict[str, Any]:
        """JSON-ready dict; the verdict class is under the key `class`.

        With a `zone`, the dict is the record as answered to people and tools: `time` (RFC 3339
        in that zone) right after `ts`. Without one it is the record as stored (`time` is
        derived from `ts`, never kept).
        """
        out = dict(zip(RECORD_DOC_KEYS, self, strict=True))
        out["codes"] = list(self.codes)
        out["rules"] = list(self.rules)
        out["detail"] = dict(self.detail)
        if zone is not None:  # (keys already present keep their place: id, ts, time, kind, …)
            return {"id": self.id, "ts": self.ts, "time": rfc3339(self.ts, zone), **out}
        return out

    def row(self) -> RecordRow:
        """The record as a `RecordRow`: its fields in order, codes, rules and detail as JSON."""
        dumps = orjson.dumps
        return (*self[:11], dumps(self.codes).decode(), dumps(self.rules).decode(),
                *self[13:16], dumps(self.detail).decode())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LogRecord:
        """The inverse of `to_dict`; raises StoreError("invalid-record") on a malformed dict."""
        try:
            values = {name: data[name] for name in cls._fields if name in data}
            values["ts"] = float(data["ts"])
            values["verdict_class"] = data.get("class")
            values["codes"] = tuple(data.get("codes") or ())
            values["rules"] = tuple(data.get("rules") or ())
            values["detail"] = dict(data.get("detail") or {})
            record = cls(**values)
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreError("invalid-record", f"malformed log record: {exc!r}") from exc
        if not isinstance(record.id, str) or not isinstance(record.client, str):
            raise StoreError("invalid-record", "a log record needs a string id and client")
        return record


RECORD_DOC_KEYS = tuple(_KEY_OF.get(name, name) for name in LogRecord._fields)
"""The keys of `LogRecord.to_dict()`, in field order."""
RecordRow = tuple[Any, ...]
"""A record as flat values: `LogRecord`'s fields in order, but `codes`, `rules` and `detail` as
JSON text. SQLite keeps records so, and its export hands rows of this shape to an encoder
without building a `LogRecord` (and parsing three JSON texts) for each of a million rows."""
_ULID_CHARS = frozenset(_CROCKFORD)


def check_record(record: LogRecord) -> None:
    """StoreError("invalid-record") unless the record can be stored and paged through.

    >>> check_record(LogRecord.new("link", "pc-1"))
    >>> check_record(LogRecord("not-a-ulid", 0.0, "link", "pc-1"))
    Traceback (most recent call last):
    ...
    meetguard.store.base.StoreError: record id must be a ULID (new_record_id): 'not-a-ulid'
    """
    rid = record.id
    if not (isinstance(rid, str) and len(rid) == 26 and _ULID_CHARS.issuperset(rid)):
        raise StoreError("invalid-record", f"record id must be a ULID (new_record_id): {rid!r}")
    if not isinstance(record.ts, (int, float)) or not math.isfinite(record.ts) or record.ts < 0:
        raise StoreError("invalid-record", f"record ts must be unix seconds: {record.ts!r}")
    if record.kind not in RECORD_KINDS:
        raise StoreError("invalid-record", f"record kind must be one of {RECORD_KINDS}")
    if not isinstance(record.client, str) or not record.client:
        raise StoreError("invalid-record", "record client must be a non-empty string")


def normalise_host(host: str) -> str:
    """Lower case, without a trailing dot.

    >>> normalise_host("Us02Web.ZOOM.us.")
    'us02web.zoom.us'
    """
    return host.strip().rstrip(".").lower()


@functools.lru_cache(maxsize=65536)  # one per record stored: hosts repeat
def reversed_host(host: str) -> str:
    """The host's labels reversed, with a trailing dot: a key whose prefixes are its parents.

    Every subdomain of `h` has a key that starts with `reversed_host(h)`.

    >>> reversed_host("us02web.zoom.us")
    'us.zoom.us02web.'
    >>> reversed_host("us02web.zoom.us").startswith(reversed_host("zoom.us"))
    True
    >>> reversed_host("notzoom.us").startswith(reversed_host("zoom.us"))
    False
    """
    return ".".join(reversed(normalise_host(host).split("."))) + "."


def host_suffixes(host: str) -> list[str]:
    """The host and each parent domain: the hosts a `host` filter can name to match it.

    >>> host_suffixes("us02web.zoom.us")
    ['us02web.zoom.us', 'zoom.us', 'us']
    """
    labels = normalise_host(host).split(".")
    return [".".join(labels[i:]) for i in range(len(labels)) if labels[i]]


def host_matches(host: str | None, wanted: str) -> bool:
    """True when `host` equals `wanted` or is a subdomain of it.

    >>> host_matches("us02web.zoom.us", "zoom.us"), host_matches("zoom.us", "ZOOM.us")
    (True, True)
    >>> host_matches("notzoom.us", "zoom.us"), host_matches(None, "zoom.us")
    (False, False)
    """
    return host is not None and reversed_host(host).startswith(reversed_host(wanted))


def encode_cursor(ts: float, record_id: str) -> str:
    """An opaque cursor naming the position after `(ts, id)` in newest-first order.

    >>> decode_cursor(encode_cursor(1700000000.25, "01ARZ3NDEKTSV4RRFFQ69G5FAV"))
    (1700000000.25, '01ARZ3NDEKTSV4RRFFQ69G5FAV')
    """
    raw = f"{ts!r}|{record_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    """The `(ts, id)` a cursor names; StoreError("invalid-cursor") when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        ts_text, record_id = raw.split("|")
        ts = float(ts_text)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise StoreError("invalid-cursor", "the cursor is not one this service returned") from exc
    if not math.isfinite(ts) or len(record_id) != 26:
        raise StoreError("invalid-cursor", "the cursor is not one this service returned")
    return ts, record_id


_FILTERS = ("verdict_class", "action", "platform", "client", "user", "kind", "context", "event")
_CODE = frozenset("abcdefghijklmnopqrstuvwxyz-")


@dataclass(frozen=True, slots=True)
class LogQuery:
    """Filters for `query` and `export`; every filter left at None matches everything.

    Time range is `since <= ts < until`. `host` matches that host and any subdomain of it;
    `code` matches records with that reason code (e.g. every `impersonation` hit).
    `limit` (1..1000) is the page size for `query`; `export` ignores it.
    """

    since: float | None = None
    until: float | None = None
    verdict_class: str | None = None
    action: str | None = None
    platform: str | None = None
    host: str | None = None
    client: str | None = None
    user: str | None = None
    kind: str | None = None
    context: str | None = None
    event: str | None = None
    code: str | None = None
    limit: int = 100
    cursor: str | None = None

    def __post_init__(self) -> None:
        if self.code is not None and not (self.code and set(self.code) <= _CODE):
            raise StoreError("invalid-query", "code must be a reason code such as impersonation")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise StoreError("invalid-query", f"limit must be between 1 and {MAX_LIMIT}")
        if self.cursor is not None:
            decode_cursor(self.cursor)

    def equals_filters(self) -> dict[str, str]:
        """The equality filters that are set, by record field name (host excluded)."""
        return {name: value for name in _FILTERS if (value := getattr(self, name)) is not None}

    def after(self) -> tuple[float, str] | None:
        """The `(ts, id)` the cursor names, if any: results are strictly older than it."""
        return None if self.cursor is None else decode_cursor(self.cursor)

    def matches(self, record: LogRecord) -> bool:
        """True when the record passes every filter, the time range and the cursor."""
        if self.since is not None and record.ts < self.since:
            return False
        if self.until is not None and record.ts >= self.until:
            return False
        if (after := self.after()) is not None and (record.ts, record.id) >= after:
            return False
        if self.host is not None and not host_matches(record.host, self.host):
            return False
        if self.code is not None and self.code not in record.codes:
            return False
        return all(getattr(record, k) == v for k, v in self.equals_filters().items())

    def next_page(self, cursor: str | None) -> LogQuery:
        """The same query positioned at `cursor`."""
        return replace(self, cursor=cursor)


@dataclass(slots=True)
class LogPage:
    """One page of results, newest first; `next_cursor` is None on the last page."""

    items: list[LogRecord]
    next_cursor: str | None

    def to_dict(self, zone: tzinfo | None = None) -> dict[str, Any]:
        """JSON-ready dict; with a `zone`, each record carries `time` (see `LogRecord.to_dict`)."""
        return {"items": [r.to_dict(zone) for r in self.items], "next_cursor": self.next_cursor}


def page_from(records: Sequence[LogRecord], limit: int) -> LogPage:
    """A page from up to `limit + 1` matching records: the extra one says there is more."""
    items = list(records[:limit])
    more = len(records) > limit and bool(items)
    return LogPage(items, encode_cursor(items[-1].ts, items[-1].id) if more else None)


class TargetVerdicts(NamedTuple):
    """A distinct logged target with one verdict it was logged with (see `logged_targets`)."""

    target: str
    """The redacted destination, as stored."""
    action: str | None
    codes: tuple[str, ...]
    records: int
    """How many records in the window have this target, action and codes."""


class CounterKey(NamedTuple):
    """What a counted-but-not-stored verdict is counted under."""

    context: str
    action: str
    verdict_class: str
    platform: str | None = None


def counter_key(context: str, action: str, verdict_class: str, platform: str | None = None) -> str:
    """The key `count()` takes: `context:action:class[:platform]`.

    >>> counter_key("hover", "allow", "approved")
    'hover:allow:approved'
    >>> parse_counter_key(counter_key("hover", "allow", "warned", "zoom"))
    CounterKey(context='hover', action='allow', verdict_class='warned', platform='zoom')
    """
    parts = [context, action, verdict_class] + ([platform] if platform else [])
    if any(":" in p or not p for p in parts):
        raise StoreError("invalid-counter", f"counter parts must be non-empty, no ':': {parts}")
    return ":".join(parts)


def parse_counter_key(key: str) -> CounterKey:
    """The parts of a `count()` key; StoreError("invalid-counter") when malformed."""
    parts = key.split(":")
    if len(parts) not in (3, 4) or not all(parts):
        raise StoreError("invalid-counter", f"expected context:action:class[:platform]: {key!r}")
    return CounterKey(*parts)


def check_counters(counters: Mapping[str, int]) -> dict[CounterKey, int]:
    """Parsed and validated `count()` input (non-negative integers), zeros dropped."""
    out: dict[CounterKey, int] = {}
    for key, n in counters.items():
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise StoreError("invalid-counter", f"count for {key!r} must be an integer >= 0")
        if n:
            parsed = parse_counter_key(key)
            out[parsed] = out.get(parsed, 0) + n
    return out


def check_stats_range(since: float, until: float, bucket_seconds: int) -> tuple[int, int]:
    """`(start, end)` for `stats`: the hours covering `[since, until)`, validated.

    >>> check_stats_range(7200.5, 14000, 3600)
    (7200, 14400)
    """
    if bucket_seconds <= 0 or bucket_seconds % HOUR:
        raise StoreError("invalid-query", "bucket_seconds must be a positive multiple of 3600")
    if not since < until:
        raise StoreError("invalid-query", "since must be before until")
    start = int(since // HOUR) * HOUR
    end = math.ceil(until / HOUR) * HOUR
    if (end - start) / bucket_seconds > 10_000:
        raise StoreError("invalid-query", "too many buckets: use a larger bucket_seconds")
    return start, end


async def retention_loop(
    purge: Callable[[float], Awaitable[int]], retention_days: int, interval_s: float
) -> None:
    """Purge records older than `retention_days` every `interval_s` seconds, until cancelled;
    a failed purge is logged and tried again next time."""
    while True:
        try:
            n = await purge(time.time() - retention_days * DAY)
            if n:
                log.info("retention: purged %d log records", n)
        except StoreError as exc:
            log.warning("retention purge failed: %s", exc)
        await asyncio.sleep(interval_s)


async def export_by_pages(
    query: Callable[[LogQuery], Awaitable[LogPage]], q: LogQuery, page_size: int = 500
) -> AsyncIterator[LogRecord]:
    """Every record matching `q`, newest first, fetched page by page (constant memory)."""
    current = replace(q, limit=page_size)
    while True:
        page = await query(current)
        for record in page.items:
            yield record
        if page.next_cursor is None:
            return
        current = current.next_page(page.next_cursor)


TARGETS_CHUNK = 2000
"""Distinct targets per chunk of `logged_targets`."""


def rechecked(record: LogRecord) -> bool:
    """Whether a record's target is re-checked by a retro-hunt: it has one, and it is not a
    finding itself."""
    return bool(record.target) and record.kind != "retro"


async def targets_by_export(
    export: Callable[[LogQuery], AsyncIterator[LogRecord]], since: float, until: float,
    chunk: int = TARGETS_CHUNK,
) -> AsyncIterator[list[TargetVerdicts]]:
    """`logged_targets` for a store with no grouping of its own: every record in the window
    read once (grouped in memory), then yielded in chunks ordered by target."""
    groups: dict[tuple[str, str | None, tuple[str, ...]], int] = {}
    async for record in export(LogQuery(since=since, until=until)):
        if rechecked(record):
            key = (record.target or "", record.action, record.codes)
            groups[key] = groups.get(key, 0) + 1
    ordered = sorted(groups.items(), key=lambda item: (item[0][0], item[0][1] or "", item[0][2]))
    for start in range(0, len(ordered), chunk):
        yield [TargetVerdicts(*key, n) for key, n in ordered[start:start + chunk]]


async def records_by_export(
    export: Callable[[LogQuery], AsyncIterator[LogRecord]], targets: Collection[str],
    since: float, until: float,
) -> AsyncIterator[LogRecord]:
    """`records_with_targets` for a store with no index of targets: the window read once."""
    wanted = set(targets)
    async for record in export(LogQuery(since=since, until=until)):
        if record.target in wanted and rechecked(record):
            yield record


class Lifecycle:
    """`async with store:` starts it and closes it, for every store and shared state."""

    async def start(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


@runtime_checkable
class LogStore(Protocol):
    """The audit log: records stored one by one, counters, queries, stats and retention."""

    async def start(self) -> None:
        """Open connections, create or migrate the schema, start background tasks."""

    async def close(self) -> None:
        """Flush what is queued, stop background tasks, close connections."""

    async def append(self, records: Sequence[LogRecord]) -> None:
        """Store records; returns once they are durable (committed, acknowledged or spooled).

        Idempotent on `id`: appending a record again changes nothing.
        """

    async def count(self, counters: Mapping[str, int], *, ts: float | None = None) -> None:
        """Add to counters for verdicts counted but not stored (keys from `counter_key`)."""

    async def query(self, q: LogQuery) -> LogPage:
        """One page of matching records, newest first by `(ts, id)`."""

    def export(self, q: LogQuery) -> AsyncIterator[LogRecord]:
        """Every matching record, newest first, streamed in constant memory."""

    async def stats(self, since: float, until: float, bucket_seconds: int = HOUR) -> dict:
        """Aggregates over `[since, until)` from the counters (hour granularity).

        Returns `{"buckets": [{"ts", "class": {...}, "action": {...}}, ...],
        "totals": {"class": {...}, "action": {...}, "kind": {...}},
        "top_hosts": [{"host", "class", "count"}, ...] (20, day granularity),
        "top_platforms": [{"platform", "count"}, ...], "overrides": n,
        "blocked_downloads": n (download-blocked + download-removed events),
        "impersonation": n (records with that reason code), "hover_allow": n}`.
        """

    async def people_counts(self, since: float, until: float, monday: int,
                            week: int) -> list[tuple[Any, ...]]:
        """The hygiene report's counts over `[since, until)` (meetguard.report), added up in the
        store: rows `(labelled, person, week number, warned visits, overrides, look-alikes,
        blocked downloads, room details shared)`, the week numbered from `monday` in steps of
        `week` seconds; `person` is the user label when `labelled`, else the client."""

    async def purge(self, older_than: float) -> int:
        """Delete records with `ts < older_than` (and older counters); returns how many."""

    async def run_retention(self, interval_s: float = 3600.0) -> None:
        """Purge past the retention period every `interval_s`, until cancelled."""

    def logged_targets(self, since: float, until: float) -> AsyncIterator[list[TargetVerdicts]]:
        """Every distinct (target, action, codes) of the records in `[since, until)` that a
        retro-hunt re-checks (`rechecked`), with how many records each, in chunks ordered by
        target (a target's entries are adjacent, though a chunk may end between them)."""

    def records_with_targets(
        self, targets: Collection[str], since: float, until: float
    ) -> AsyncIterator[LogRecord]:
        """The re-checked records in `[since, until)` whose target is one of `targets`."""

    async def lease(self, name: str, owner: str, seconds: float) -> bool:
        """Take or renew (same `owner`) the lease `name` on this log for `seconds`; True when
        `owner` holds it now. `seconds=0` gives it up. One retro-hunt at a time per log, across
        workers and instances, is this."""

    def health(self) -> dict:
        """e.g. `{"store": "sqlite", "queue_depth": n, "spool_size": n, "persistence": ...}`."""


@runtime_checkable
class RowExport(Protocol):
    """A store that exports `RecordRow`s (SQLite): an encoder runs where the rows are read."""

    def export_encoded(self, q: LogQuery, encode: Callable[[Sequence[RecordRow]], bytes]
                       ) -> AsyncIterator[bytes]:
        """`encode` of every matching record, newest first, a page of rows at a time, run
        off the event loop; the blocks are streamed in constant memory."""


@runtime_checkable
class SharedState(Protocol):
    """What the service instances share: scan cache, rate limits, reload channel."""

    async def start(self) -> None:
        """Open connections."""

    async def close(self) -> None:
        """Stop reload listeners and close connections."""

    async def get_scan(self, sha256: str) -> dict | None:
        """The cached content-scan result for a file hash, if any."""

    async def put_scan(self, sha256: str, result: Mapping[str, Any], ttl: int) -> None:
        """Cache a content-scan result for `ttl` seconds."""

    async def rate_limit(self, client: str, limit: int, window_s: float) -> bool:
        """Count one request for `client`; True when it is within `limit` per `window_s`."""

    def rate_limit_nowait(self, client: str, limit: int, window_s: float) -> bool | None:
        """`rate_limit` answered in process when it can be (most requests); None when only
        `rate_limit` can tell."""

    async def publish_reload(self, version: str) -> None:
        """Tell every instance (this one included) to reload signatures."""

    def subscribe_reload(self, callback: Callable[[str], Awaitable[None]]) -> None:
        """Call `callback(version)` on each reload message until `close()`."""

    def health(self) -> dict:
        """e.g. `{"state": "redis", "connected": True}`."""
