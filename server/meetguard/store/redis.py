"""`RedisLogStore` and `RedisState`: the log and shared state of many instances, in Redis.

Works with one redis-server (`redis://`, `rediss://`) and with Redis Cluster
(`redis+cluster://`, `rediss+cluster://`). Every key of the log carries the hash tag `{prefix}`,
so the multi-key scripts below touch one slot only: in a Cluster the log lives on the node that
owns that slot, while scan-cache and rate-limit keys spread over every node.

Log layout (prefix `mg`):
- `{mg}:rec` hash id -> record JSON (written once: appending an id again changes nothing);
- `{mg}:ix:t` sorted set id -> ts in whole milliseconds (`score_of`), newest-first order and
  retention; `{mg}:ix:<dim>:<value>`
  the same per filter value (kind, class, action, platform, context, event, client, and host for
  the host and each parent domain), so a query scans the most selective index;
- `{mg}:c:<hour>` hash of counters per hour (`class:warned`, `code:impersonation`, …) and
  `{mg}:h:<day>` sorted set of `class<TAB>host` per day, both expiring after the retention.
A record of ~400 bytes costs ~1.7 KB of Redis memory with its index entries (1M records: ~1.7 GB),
so size `retention_days` to the server's memory.

When Redis is unreachable, `append` and `count` write to the local `Spool` instead (no waiting on
Redis again until a background task sees it back); that task replays the spool once Redis
answers. Queries and stats raise StoreError("store-unavailable") meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import logging
import math
import operator
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from meetguard.store.base import (
    DAY,
    HOUR,
    RECORD_DOC_KEYS,
    CounterKey,
    Lifecycle,
    LogPage,
    LogQuery,
    LogRecord,
    StoreError,
    TargetVerdicts,
    check_counters,
    check_record,
    check_stats_range,
    export_by_pages,
    host_suffixes,
    normalise_host,
    page_from,
    records_by_export,
    retention_loop,
    targets_by_export,
)
from meetguard.store.spool import Spool
from meetguard.store.stats import StatsBuilder

log = logging.getLogger(__name__)

MAX_EXPORT_PAGE = 1000
Client = Redis | RedisCluster
ReloadCallback = Callable[[str], Awaitable[None]]
UNAVAILABLE = (RedisError, OSError, TimeoutError)

_LEASE_LUA = """
-- KEYS[1] the lease; ARGV[1] owner, ARGV[2] milliseconds (0: give it up). 1 when ARGV[1]
-- holds it afterwards (or gave it up), 0 when another owner does.
local current = redis.call('GET', KEYS[1])
if ARGV[2] == '0' then
  if current == ARGV[1] then redis.call('DEL', KEYS[1]) end
  return 1
end
if current and current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""
_PEOPLE_LUA = """
-- The hygiene report's counts (meetguard.report) over one slice of the time index, added up in
-- Redis so that no record travels: KEYS[1] time index, KEYS[2] records hash; ARGV min score,
-- max score, slice size, since, until, monday, week. Returns {next min score ('' at the end),
-- key, five counts, key, ...} with key "u|c <tab> person <tab> week number". A slice ends before
-- its last millisecond (the next one starts there), so no offset is walked and no record is
-- counted twice.
local got = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'BYSCORE', 'LIMIT', 0, ARGV[3],
                       'WITHSCORES')
if #got == 0 then return {''} end
local ids, nextmin, last = {}, '', got[#got]
for i = 1, #got, 2 do
  if #got / 2 < tonumber(ARGV[3]) or got[i + 1] ~= last then ids[#ids + 1] = got[i] end
end
if #got / 2 == tonumber(ARGV[3]) then
  nextmin = last
  if #ids == 0 then  -- a whole slice in one millisecond: take all of it, go on after it
    ids = redis.call('ZRANGE', KEYS[1], last, last, 'BYSCORE')
    nextmin = '(' .. last
  end
end
local since, till = tonumber(ARGV[4]), tonumber(ARGV[5])
local monday, week = tonumber(ARGV[6]), tonumber(ARGV[7])
local docs = redis.call('HMGET', KEYS[2], unpack(ids))
local sums, order = {}, {}
local function has(doc, text) return string.find(doc, text, 1, true) ~= nil end
for _, doc in ipairs(docs) do
  -- The documents are compact JSON (no spaces), and a quote inside a value is escaped: these
  -- texts appear only as the fields themselves. Only a record that can count is decoded.
  if doc and ((has(doc, '"context":"navigation"')
               and (has(doc, '"class":"warned"') or has(doc, '"impersonation"')))
      or has(doc, '"event":"override"') or has(doc, '"event":"room-details-shared"')
      or (has(doc, '"action":"block"') and has(doc, '"kind":"file"'))) then
    local r = cjson.decode(doc)
    local c = {0, 0, 0, 0, 0}
    if r.ts >= since and r.ts < till then
      if r.kind == 'link' and r.context == 'navigation' then
        if r['class'] == 'warned' then c[1] = 1 end
        for _, code in ipairs(r.codes) do if code == 'impersonation' then c[3] = 1 end end
      elseif r.kind == 'event' and r.event == 'override' then c[2] = 1
      elseif r.kind == 'file' and r.action == 'block' then c[4] = 1
      elseif r.kind == 'event' and r.event == 'room-details-shared' then c[5] = 1 end
    end
    if c[1] + c[2] + c[3] + c[4] + c[5] > 0 then
      local labelled = type(r.user) == 'string' and r.user ~= ''
      local key = (labelled and 'u' or 'c') .. '\t' .. (labelled and r.user or r.client) .. '\t'
        .. string.format('%d', math.floor((r.ts - monday) / week))
      if not sums[key] then sums[key] = {0, 0, 0, 0, 0}; order[#order + 1] = key end
      for i = 1, 5 do sums[key][i] = sums[key][i] + c[i] end
    end
  end
end
local out = {nextmin}
for _, key in ipairs(order) do
  out[#out + 1] = key
  for i = 1, 5 do out[#out + 1] = sums[key][i] end
end
return out
"""
_PEOPLE_SLICE = 1000
"""Records per call of the report's script: each call keeps Redis busy a few milliseconds (other
instances' appends are not held up) and well inside `redis_timeout`."""

_APPEND_LUA = """
-- Stores records none of which is stored yet, with every write grouped per key by the
-- service (`grouped_writes`). KEYS[1] records hash; ARGV[1] a JSON array [zadds, counts,
-- hosts, expires]: zadds [[key, score, id, score, id, ...], ...] (the first, the time index,
-- has every id in order), counts and hosts [[key, field, n, ...], ...], expires [[key, at],
-- ...]; ARGV[i + 1] record i's document, as is (inside ARGV[1] it would be escaped by the
-- client and unescaped here). Returns how many were stored; or, having written nothing, the
-- positions (from 1) of the ids stored already: the caller sends the rest again.
local g = cjson.decode(ARGV[1])
local ids, stored, docs, t = {}, {}, {}, g[1][1]
for i = 3, #t, 2 do ids[#ids + 1] = t[i] end
for i, doc in ipairs(redis.call('HMGET', KEYS[1], unpack(ids))) do
  if doc then stored[#stored + 1] = i end
end
if #stored > 0 then return stored end
for i, id in ipairs(ids) do docs[2 * i - 1] = id; docs[2 * i] = ARGV[i + 1] end
redis.call('HSET', KEYS[1], unpack(docs))
for _, z in ipairs(g[1]) do redis.call('ZADD', unpack(z)) end
for _, c in ipairs(g[2]) do
  for i = 2, #c, 2 do redis.call('HINCRBY', c[1], c[i], c[i + 1]) end
end
for _, h in ipairs(g[3]) do
  for i = 2, #h, 2 do redis.call('ZINCRBY', h[1], h[i + 1], h[i]) end
end
for _, e in ipairs(g[4]) do redis.call('EXPIREAT', e[1], e[2]) end
return #ids
"""

_COUNT_LUA = """
-- KEYS[1] counters hash, KEYS[2] applied-marker key; ARGV[1] expire-at, ARGV[2] marker ttl
-- ('' for none), then field, n pairs. A marker makes a replayed spool entry count once.
if ARGV[2] ~= '' and not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then
  return 0
end
for i = 3, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('EXPIREAT', KEYS[1], ARGV[1])
return 1
"""

_PURGE_LUA = """
-- KEYS[1] records hash, KEYS[2] time index; ARGV: id, number of index keys, the keys, id, ...
local removed, i = 0, 1
while i <= #ARGV do
  local id, n = ARGV[i], tonumber(ARGV[i + 1])
  for j = 1, n do redis.call('ZREM', ARGV[i + 1 + j], id) end
  removed = removed + redis.call('HDEL', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
  i = i + 2 + n
end
return removed
"""

_RESCORE_LUA = """
-- KEYS[1] an index; ARGV[1] how many members to take, ARGV[2] the score below which a member
-- is scored in seconds (an earlier layout): those get their millisecond.
local m = redis.call('ZRANGE', KEYS[1], '-inf', '(' .. ARGV[2], 'BYSCORE', 'LIMIT', 0,
                     ARGV[1], 'WITHSCORES')
for i = 1, #m, 2 do
  redis.call('ZADD', KEYS[1], string.format('%d', math.floor(tonumber(m[i + 1]) * 1000)), m[i])
end
return #m / 2
"""
# A score under this is in seconds (the layout before milliseconds): 1e11 ms would be 1973.
_SECONDS_SCORES_BELOW = 100_000_000_000

_RATE_LUA = """
-- KEYS[1] this window's count, KEYS[2] the previous window's; ARGV limit, elapsed, ttl ms,
-- most tokens to grant. Grants an eighth of the room left (at least 1, at most ARGV[4]) and
-- counts them all: the instance spends them without asking again. Near the limit the grant
-- is 1, so every request asks and the limit is exact where it matters.
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
local room = math.floor(tonumber(ARGV[1]) - prev * (1 - tonumber(ARGV[2])) - cur)
if room < 1 then return 0 end
local grant = math.min(math.max(1, math.floor(room / 8)), tonumber(ARGV[4]))
redis.call('INCRBY', KEYS[1], grant)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return grant
"""
_RATE_GRANT_MAX = 1000  # tokens per grant: one round trip per 1,000 requests at most
_RATE_LEASES_MAX = 100_000  # clients with tokens in hand (forgetting them costs a round trip)

# Filters with an index of their own. kind and context are rarely selective (most records are
# links and clicks): a query on them scans the time index, and no write pays for them.
_INDEXED = {
    "verdict_class": "class",
    "action": "action",
    "platform": "platform",
    "event": "event",
    "client": "client",
}
# Values that get no index: most of the log has them (ordinary links are of unknown origin and
# allowed), so a newest-first walk of the time index finds a page of them at once, while an
# index would cost every record a sorted-set insert (measured: 18% of Redis's time per record).
_UNINDEXED_VALUES = {"verdict_class": "unknown", "action": "allow"}


def is_indexed(field: str, value: str | None) -> bool:
    """True when records with `value` in `field` are listed in an index of their own.

    >>> is_indexed("action", "block"), is_indexed("action", "allow"), is_indexed("kind", "link")
    (True, False, False)
    """
    return field in _INDEXED and value is not None and _UNINDEXED_VALUES.get(field) != value
_APPEND_CHUNK = 200  # records per script call: keeps each call short for other clients
_WRITERS = 2
"""Append calls in flight at once. A writer does not wait for the event loop to run dry
first, as the SQLite writer does: each call is a round trip, and starting it later left the
service waiting on Redis (wrk: 8.5k -> 7.7k requests/s at 16 connections). While one call
runs in Redis, the next is on its way, so neither side waits for the other:
- batches of 100 at 16 connections, a second writer taking full chunks (six A/B pairs in
  turns): +13% to +64% URLs/s, e.g. 31.4k -> 37.5k;
- single URLs at 16 connections, the second writer taking any chunk (measured when the
  append had connections of its own; six rounds in turns): 5.7k -> 6.2k requests/s (5 of 6), the
  event loop idle (waiting on Redis) half as often (0.06 -> 0.035 times per request);
  batches unchanged within noise (35.2k / 33.1k URLs/s). Redis's time per URL +8% (51.8 ->
  56.2 us): calls carry fewer records (callgrind: 6.2 -> 5.6 per call; the service +1%
  instructions per request).
A third call in flight (for full chunks) was no better than two."""
_PURGE_CHUNK = 500
_SPOOL_MARKER_TTL = 30 * DAY
_PROBE_INTERVAL = 60.0  # seconds between persistence checks while Redis is up


def is_cluster_url(url: str) -> bool:
    """True for `redis+cluster://` and `rediss+cluster://` URLs.

    >>> is_cluster_url("redis+cluster://10.0.0.5:7000"), is_cluster_url("redis://localhost")
    (True, False)
    """
    return urlsplit(url).scheme.endswith("+cluster")


def connect(url: str, *, timeout: float = 0.25, cluster: bool | None = None) -> Client:
    """A client for `url` with short socket timeouts and one quick retry (a stale connection)."""
    use_cluster = is_cluster_url(url) if cluster is None else cluster
    plain_url = url.replace("+cluster://", "://", 1)
    options: dict[str, Any] = {
        "decode_responses": True,
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "retry": Retry(NoBackoff(), 1),
    }
    if use_cluster:
        return RedisCluster.from_url(plain_url, **options)
    return Redis.from_url(plain_url, **options)


def writer_client(url: str, *, timeout: float = 0.25) -> Redis:
    """A client of one connection for a writer task of `RedisLogStore` (one Redis, not a
    Cluster): no pool to go through per command, and no read or write timeout of its own, as
    its caller bounds each call (`_write_encoded`). Per append call, the pool's checkout cost
    ~43k instructions and the client's socket timeouts (a task per send for `wait_for`, a
    timer per read) ~120k (callgrind, one script call after another)."""
    options = {"decode_responses": True, "socket_timeout": None, "socket_connect_timeout": timeout,
               "retry": Retry(NoBackoff(), 1), "single_connection_client": True}
    return Redis.from_url(url, **options)


class Keys:
    """Key names; log keys share the hash tag `{prefix}` (one cluster slot)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.tag = "{" + prefix + "}"
        self.records = f"{self.tag}:rec"
        self.time = f"{self.tag}:ix:t"
        self.channel = f"{prefix}:reload"
        self.version = f"{prefix}:reload:version"

    def index(self, dim: str, value: str) -> str:
        return f"{self.tag}:ix:{dim}:{value}"

    def counters(self, hour: int) -> str:
        return f"{self.tag}:c:{hour}"

    def hosts(self, day: int) -> str:
        return f"{self.tag}:h:{day}"

    def applied(self, entry_id: str) -> str:
        return f"{self.tag}:applied:{entry_id}"

    def lease(self, name: str) -> str:
        return f"{self.tag}:lease:{name}"

    def scratch(self) -> str:
        return f"{self.tag}:tmp:{uuid.uuid4().hex}"

    def scan(self, sha256: str) -> str:
        return f"{self.prefix}:scan:{sha256.lower()}"

    def rate(self, client: str, window: int) -> str:
        digest = hashlib.blake2b(client.encode(), digest_size=12).hexdigest()
        return f"{{{self.prefix}:rl:{digest}}}:{window}"


def index_keys(keys: Keys, r: LogRecord) -> list[str]:
    """The filter indexes a record is listed in (besides the time index)."""
    return list(_index_keys(keys, _indexed_values(r), r.host))


# Records repeat the same few verdicts, clients and hosts: their keys and counter fields are
# worked out once (per store: `keys` is part of the memo key).
_indexed_values = operator.attrgetter(*_INDEXED)
_counted_values = operator.attrgetter("kind", "verdict_class", "action", "platform", "context",
                                      "event", "codes")


@functools.lru_cache(maxsize=65536)
def _index_keys(keys: Keys, values: tuple[str | None, ...], host: str | None) -> tuple[str, ...]:
    out = [keys.index(_INDEXED[f], v) for f, v in zip(_INDEXED, values, strict=True)
           if is_indexed(f, v)]
    if host:
        # Not the bare TLD ("us", "vn"): an index of half the log filters nothing.
        out += [keys.index("host", h) for h in host_suffixes(host) if "." in h]
    return tuple(out)


@functools.lru_cache(maxsize=65536)
def _record_fields(kind: str, verdict_class: str | None, action: str | None,
                   platform: str | None, context: str | None, event: str | None,
                   codes: tuple[str, ...]) -> tuple[str, ...]:
    fields = ["n", f"kind:{kind}"]
    for dim, value in (("class", verdict_class), ("action", action), ("platform", platform),
                       ("context", context), ("event", event)):
        if value:
            fields.append(f"{dim}:{value}")
    fields += [f"code:{code}" for code in sorted(set(codes))]
    if context == "hover" and action == "allow":
        fields.append("hover_allow")
    return tuple(fields)


def counted_fields(key: CounterKey, n: int) -> dict[str, int]:
    """The hour-counter fields a `count()` entry adds `n` to (as kind `link`)."""
    fields = ["n", "kind:link", f"class:{key.verdict_class}", f"action:{key.action}"]
    fields.append(f"context:{key.context}")
    if key.platform:
        fields.append(f"platform:{key.platform}")
    if key.context == "hover" and key.action == "allow":
        fields.append("hover_allow")
    return dict.fromkeys(fields, n)


def score_of(ts: float) -> int:
    """A record's score in the time indexes: its time in whole milliseconds.

    An integer score is stored as an integer in a small sorted set (listpack), where Redis
    compares scores by reading each entry: a float score had to be parsed with strtod at every
    step, which was a third of Redis's time per appended record (callgrind). A millisecond
    holds several records: `_scan` orders each batch by `(ts, id)` itself, and bounds are
    widened by a millisecond and checked exactly per record (`LogQuery.matches`).

    It travels as a string: a JSON number would become a Lua float, which Redis formats back
    with printf for each ZADD.

    >>> score_of(1700000000.2509), score_of(1700000000.9999)
    (1700000000250, 1700000000999)
    """
    return math.floor(ts * 1000)


def _score_bound(ts: float, direction: int) -> str:
    """An inclusive score bound one millisecond beyond `ts` in `direction` (+1 up, -1 down):
    wide enough that float rounding never loses a record at the edge."""
    return str(score_of(ts) + direction)


def encode_record(keys: Keys, r: LogRecord, retention_s: int) -> tuple[bytes, list[Any]]:
    """The append script's document and entry for one record (raises if it cannot be
    stored)."""
    check_record(r)
    day = int(r.ts // DAY) * DAY
    try:
        # `to_dict`'s document (orjson writes the tuples as arrays), without its copies
        doc = orjson.dumps(dict(zip(RECORD_DOC_KEYS, r, strict=True)))
    except (TypeError, ValueError) as exc:
        raise StoreError("invalid-record", f"record cannot be stored: {exc!r}") from exc
    return doc, [
        r.id, str(score_of(r.ts)), keys.counters(int(r.ts // HOUR) * HOUR),
        keys.hosts(day) if r.host else "", f"{r.verdict_class or ''}\t{r.host}",
        day + retention_s + DAY, _index_keys(keys, _indexed_values(r), r.host),
        _record_fields(*_counted_values(r)),
    ]  # fmt: skip


def grouped_writes(time_key: str, chunk: Sequence[tuple[bytes, list[Any]]]) -> bytes:
    """The append script's writes for the records of `chunk` (from `encode_record`), grouped
    per key: one ZADD per index, one HINCRBY per counter field. The time index's ZADD comes
    first and lists the ids in the order of the documents."""
    time_index = [time_key]
    zadds = {time_key: time_index}
    profiles: dict[tuple[str, tuple[str, ...]], int] = {}
    hosts: dict[tuple[str, str], int] = {}
    expires: dict[str, int] = {}
    for _, (record_id, score, counters_key, hosts_key, member, at, indexes, fields) in chunk:
        time_index += (score, record_id)
        for key in indexes:
            zadds.setdefault(key, [key]).extend((score, record_id))
        # Records repeat a few verdicts: each distinct verdict's fields are counted once.
        profile = (counters_key, fields)
        profiles[profile] = profiles.get(profile, 0) + 1
        expires[counters_key] = at
        if hosts_key:
            host = (hosts_key, member)
            hosts[host] = hosts.get(host, 0) + 1
            expires[hosts_key] = at
    counts: dict[str, list[Any]] = {}
    for (key, fields), n in profiles.items():
        for field in fields:  # a field twice is added twice: HINCRBY adds up
            counts.setdefault(key, [key]).extend((field, n))
    by_host: dict[str, list[Any]] = {}
    for (key, member), n in hosts.items():
        by_host.setdefault(key, [key]).extend((member, n))
    return orjson.dumps([list(zadds.values()), list(counts.values()), list(by_host.values()),
                         list(expires.items())])


@dataclass(slots=True)
class _Append:
    """One `append` call waiting for the writer task."""

    records: Sequence[LogRecord]
    encoded: list[tuple[bytes, list[Any]]]
    future: asyncio.Future[None]


async def read_persistence(client: Client) -> str:
    """`aof`, `rdb`, `aof+rdb` or `none` from CONFIG GET; `unknown` when CONFIG is refused."""
    try:
        appendonly = (await client.config_get("appendonly")).get("appendonly", "no")
        save = (await client.config_get("save")).get("save", "")
    except RedisError:
        return "unknown"
    kinds = [name for name, on in (("aof", appendonly == "yes"), ("rdb", bool(save))) if on]
    return "+".join(kinds) or "none"


class RedisLogStore(Lifecycle):
    """The audit log in Redis, with a local spool for when Redis is down (module docstring)."""

    def __init__(
        self,
        url: str,
        *,
        retention_days: int = 180,
        spool_path: str | Path,
        spool_max_bytes: int = 64 * 1024 * 1024,
        timeout: float = 0.25,
        prefix: str = "mg",
        cluster: bool | None = None,
        retry_interval: float = 0.5,
    ) -> None:
        self.url = url
        self.retention_days = retention_days
        self.timeout = timeout
        self.keys = Keys(prefix)
        self.spool = Spool(spool_path, spool_max_bytes)
        self.cluster = is_cluster_url(url) if cluster is None else cluster
        self._retry_interval = retry_interval
        self._client: Client | None = None
        self._down = False
        self._persistence = "unknown"
        self._replayer: asyncio.Task[None] | None = None
        self._writers: list[asyncio.Task[None]] = []
        self._writer_clients: list[Redis] = []  # one each (none in a Cluster: the client's)
        self._pending: deque[_Append] = deque()
        self._pending_records = 0
        self._wakeup = asyncio.Event()  # an append waits
        self._closing = False
        self._scripts: dict[str, Any] = {}
        self._scores_checked = False

    async def start(self) -> None:
        """Connect (Redis may be down: the store then starts spooling), start the replayer."""
        self._client = connect(self.url, timeout=self.timeout, cluster=self.cluster)
        for name, source in (("append", _APPEND_LUA), ("count", _COUNT_LUA)):
            self._scripts[name] = self._client.register_script(source)
        self._scripts["purge"] = self._client.register_script(_PURGE_LUA)
        self._scripts["rescore"] = self._client.register_script(_RESCORE_LUA)
        self._scripts["lease"] = self._client.register_script(_LEASE_LUA)
        self._scripts["people"] = self._client.register_script(_PEOPLE_LUA)
        await self.spool.open()
        await self._probe()
        self._closing = False
        if not self.cluster:
            self._writer_clients = [writer_client(self.url, timeout=self.timeout)
                                    for _ in range(_WRITERS)]
        self._writers = [
            asyncio.create_task(self._write_loop(self._writer_clients[i] if self._writer_clients
                                                 else self._client),
                                name=f"meetguard-redis-writer-{i}")
            for i in range(_WRITERS)
        ]
        self._replayer = asyncio.create_task(self._replay_loop(), name="meetguard-spool-replay")

    async def close(self) -> None:
        """Write what is queued, stop the tasks, close the client (the spool stays for later)."""
        self._closing = True
        self._wakeup.set()
        await asyncio.gather(*self._writers)
        self._writers = []
        for client in self._writer_clients:
            await client.aclose()
        self._writer_clients = []
        if self._replayer is not None:
            self._replayer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._replayer
            self._replayer = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def client(self) -> Client:
        if self._client is None:
            raise StoreError("store-closed", "the log store is not started (or closed)")
        return self._client

    def _check_open(self) -> None:
        if self._client is None or self._closing:
            raise StoreError("store-closed", "the log store is not started (or closed)")

    def _deadline(self) -> float:
        """A bound on one operation, retries included: Redis being down must not stall us."""
        return max(1.0, 4 * self.timeout)

    def _mark_down(self, exc: BaseException) -> None:
        if not self._down:
            log.warning("Redis unreachable (%r): spooling log records locally", exc)
        self._down = True

    async def append(self, records: Sequence[LogRecord]) -> None:
        """Returns once Redis acknowledged the records, or, when it is down, once they are in
        the fsync'd local spool. Concurrent appends are written together by one task."""
        if not records:
            return
        self._check_open()
        retention_s = self.retention_days * DAY
        encoded = [encode_record(self.keys, r, retention_s) for r in records]
        future = asyncio.get_running_loop().create_future()
        self._pending.append(_Append(records, encoded, future))
        self._pending_records += len(records)
        self._wakeup.set()
        await future

    async def _write_loop(self, client: Client) -> None:
        """One of `_WRITERS` tasks: whenever an append waits, take what waits (up to a chunk)
        and write it in one script call on `client`; then again, until nothing waits."""
        while True:
            while self._pending_records:
                await self._flush(self._take_chunk(), client)
            if self._closing:  # (checked before waiting: a writer may start after close)
                return
            await self._wakeup.wait()
            self._wakeup.clear()

    def _take_chunk(self) -> list[_Append]:
        jobs = [self._pending.popleft()]
        size = len(jobs[0].records)
        while self._pending and size + len(self._pending[0].records) <= _APPEND_CHUNK:
            jobs.append(self._pending.popleft())
            size += len(jobs[-1].records)
        self._pending_records -= size
        return jobs

    async def _flush(self, jobs: list[_Append], client: Client) -> None:
        """Store the records of `jobs` together, then answer every caller."""
        try:
            await self._store(jobs, client)
        except StoreError as exc:
            _resolve(jobs, exc)
        except Exception as exc:
            log.exception("log write failed")
            _resolve(jobs, StoreError("store-write-failed", f"log write failed: {exc!r}"))
        else:
            _resolve(jobs, None)

    async def _store(self, jobs: list[_Append], client: Client) -> None:
        """Write to Redis; to the spool when Redis is down or fails now."""
        if not self._down:
            try:
                await self._write_encoded([e for job in jobs for e in job.encoded], client)
                return
            except UNAVAILABLE as exc:
                self._mark_down(exc)
        await self.spool.write([{"records": [r.to_dict() for j in jobs for r in j.records]}])

    async def _write_records(self, records: Sequence[LogRecord]) -> int:
        retention_s = self.retention_days * DAY
        return await self._write_encoded(
            [encode_record(self.keys, r, retention_s) for r in records], self.client
        )

    async def _write_encoded(self, encoded: Sequence[tuple[bytes, list[Any]]],
                             client: Client) -> int:
        """Run the append script on `client` over chunks of records; returns how many were
        new. Each call has the deadline of one operation (`writer_client` has no timeout)."""
        added = 0
        for i in range(0, len(encoded), _APPEND_CHUNK):
            chunk = encoded[i : i + _APPEND_CHUNK]
            async with asyncio.timeout(self._deadline()):
                added += await self._append_chunk(chunk, client)
        return added

    async def _append_chunk(self, chunk: Sequence[tuple[bytes, list[Any]]],
                            client: Client) -> int:
        """Store the records of `chunk` not stored yet; returns how many that was.

        The writes are grouped here, so Redis, which every instance shares, runs the least
        Lua per record (its time per record on batches: ~22.7 -> ~19.7 µs, against a script
        that grouped them itself). A chunk holding ids stored already (a spool replayed after
        a write that did land) is refused whole and sent again without them."""
        first_of_each: dict[str, tuple[bytes, list[Any]]] = {}
        for doc, entry in chunk:  # an id twice in one append: the first is the one stored
            first_of_each.setdefault(entry[0], (doc, entry))
        todo = list(first_of_each.values())
        while todo:
            args = [grouped_writes(self.keys.time, todo), *(doc for doc, _ in todo)]
            result = await self._scripts["append"](keys=[self.keys.records], args=args,
                                                   client=client)
            if isinstance(result, int):
                return result
            stored = set(result)
            todo = [record for i, record in enumerate(todo, 1) if i not in stored]
        return 0

    async def count(self, counters: Mapping[str, int], *, ts: float | None = None) -> None:
        """Add to the hour's counters (spooled, and counted once on replay, if Redis is down)."""
        counted = check_counters(counters)
        when = time.time() if ts is None else ts
        if not counted:
            return
        self._check_open()
        if not self._down:
            try:
                async with asyncio.timeout(self._deadline()):
                    await self._write_counts(counted, when, None)
                return
            except UNAVAILABLE as exc:
                self._mark_down(exc)
        entry = {"counters": dict(counters), "ts": when, "id": uuid.uuid4().hex}
        await self.spool.write([entry])

    async def _write_counts(
        self, counted: Mapping[CounterKey, int], ts: float, entry_id: str | None
    ) -> None:
        hour = int(ts // HOUR) * HOUR
        fields: dict[str, int] = {}
        for key, n in counted.items():
            for name, value in counted_fields(key, n).items():
                fields[name] = fields.get(name, 0) + value
        expire_at = hour + self.retention_days * DAY + DAY
        args: list[Any] = [expire_at, _SPOOL_MARKER_TTL if entry_id else ""]
        for name, value in fields.items():
            args += [name, value]
        keys = [self.keys.counters(hour), self.keys.applied(entry_id or "none")]
        await self._scripts["count"](keys=keys, args=args)

    async def _read(self, op: Callable[[], Awaitable[Any]]) -> Any:
        """Run a read (or purge); StoreError("store-unavailable") when Redis does not answer.

        Each round trip inside has its own deadline (`_rt`), so a long purge or scan is fine.
        A failed read does not switch appends to the spool: the writer finds out by itself.
        """
        try:
            return await op()
        except UNAVAILABLE as exc:
            raise StoreError("store-unavailable", f"Redis is unreachable: {exc!r}") from exc

    async def _rt(self, call: Awaitable[Any]) -> Any:
        """One round trip to Redis, bounded by the deadline."""
        async with asyncio.timeout(self._deadline()):
            return await call

    async def query(self, q: LogQuery) -> LogPage:
        """One page, newest first: scans the most selective index, filters the rest here."""
        return await self._read(lambda: self._query(q))

    async def _query(self, q: LogQuery) -> LogPage:
        key = await self._pick_index(q)
        items: list[LogRecord] = []
        if key is not None:
            async for record in self._scan(key, q, chunk=min(1000, 2 * (q.limit + 1))):
                items.append(record)
                if len(items) > q.limit:
                    break
        return page_from(items, q.limit)

    def _score_range(self, q: LogQuery) -> tuple[str, str]:
        """`(max, min)` scores for a newest-first scan: a superset of the query's range (exact
        bounds and the cursor are checked per record)."""
        after = q.after()
        high = "+inf"
        if q.until is not None:
            high = _score_bound(q.until, +1)
        if after is not None and (q.until is None or after[0] < q.until):
            high = _score_bound(after[0], +1)
        low = _score_bound(q.since, -1) if q.since is not None else "-inf"
        return high, low

    async def _pick_index(self, q: LogQuery) -> str | None:
        """The index with the fewest entries in range among the query's filters; None if 0."""
        candidates = [self.keys.index(_INDEXED[f], v) for f, v in q.equals_filters().items()
                      if is_indexed(f, v)]
        if q.host is not None and "." in normalise_host(q.host):
            candidates.append(self.keys.index("host", normalise_host(q.host)))
        if not candidates:
            return self.keys.time
        high, low = self._score_range(q)
        pipe = self.client.pipeline(transaction=False)
        for key in candidates:
            pipe.zcount(key, low, high)
        counts = await self._rt(pipe.execute())
        best = min(range(len(candidates)), key=lambda i: counts[i])
        return candidates[best] if counts[best] else None

    async def _scan(self, key: str, q: LogQuery, chunk: int) -> AsyncIterator[LogRecord]:
        """Matching records from one index, newest first by (ts, id)."""
        high, low = self._score_range(q)
        while True:
            batch = await self._rt(
                self.client.zrange(
                    key, high, low, byscore=True, desc=True, offset=0, num=chunk, withscores=True
                )
            )
            if not batch:
                return
            last_score = batch[-1][1]
            full = len(batch) == chunk
            if full:  # take every tie of the last score now, then go below it
                ties = await self._rt(
                    self.client.zrange(key, last_score, last_score, byscore=True, desc=True)
                )
                batch = [m for m in batch if m[1] != last_score]
                batch += [(m, last_score) for m in ties]
            # A batch holds whole milliseconds (ties taken above), ordered by id within each:
            # sorting it gives the exact (ts, id) order.
            records = await self._load([member for member, _ in batch])
            records.sort(key=operator.attrgetter("ts", "id"), reverse=True)
            for record in records:
                if q.matches(record):
                    yield record
            if not full:
                return
            high = "(" + repr(last_score)

    async def _load(self, ids: list[str]) -> list[LogRecord]:
        if not ids:
            return []
        docs = await self._rt(self.client.hmget(self.keys.records, ids))
        return [LogRecord.from_dict(json.loads(doc)) for doc in docs if doc is not None]

    def export(self, q: LogQuery) -> AsyncIterator[LogRecord]:
        """Every matching record, newest first, page by page."""
        return export_by_pages(self.query, q)

    async def people_counts(self, since: float, until: float, monday: int,
                            week: int) -> list[tuple[Any, ...]]:
        """The hygiene report's counts: (labelled, person, week number, five counts) rows,
        added up in Redis slice by slice of the time index, oldest first (see `_PEOPLE_LUA`)."""
        return await self._read(lambda: self._people(since, until, monday, week))

    async def _people(self, since: float, until: float, monday: int,
                      week: int) -> list[tuple[Any, ...]]:
        low, high = _score_bound(since, -1), _score_bound(until, +1)
        sums: dict[tuple[bool, str, int], list[int]] = {}
        while low:
            reply = await self._people_slice(low, high, since, until, monday, week)
            low = reply[0]
            for i in range(1, len(reply), 6):
                by, person, number = reply[i].split("\t")
                row = sums.setdefault((by == "u", person, int(number)), [0] * 5)
                for j in range(5):
                    row[j] += int(reply[i + 1 + j])
        return [(*key, *row) for key, row in sums.items()]

    async def _people_slice(self, low: str, high: str, since: float, until: float, monday: int,
                            week: int) -> list[Any]:
        """One call of the report's script; a read, so a call that times out (Redis forking for
        an AOF rewrite stalls it past `redis_timeout`) is tried again, twice at most."""
        def call() -> Awaitable[Any]:
            return self._rt(self._scripts["people"](
                keys=[self.keys.time, self.keys.records],
                args=[low, high, _PEOPLE_SLICE, repr(since), repr(until), monday, week]))

        for _ in range(2):
            try:
                return await call()
            except UNAVAILABLE:
                await asyncio.sleep(0.2)
        return await call()

    async def stats(self, since: float, until: float, bucket_seconds: int = HOUR) -> dict:
        """Aggregates from the hour counters and day host counters (see `LogStore.stats`)."""
        start, end = check_stats_range(since, until, bucket_seconds)
        return await self._read(lambda: self._stats(start, end, bucket_seconds))

    async def _stats(self, start: int, end: int, bucket_seconds: int) -> dict:
        out = StatsBuilder(start, end, bucket_seconds)
        hours = list(range(start, end, HOUR))
        pipe = self.client.pipeline(transaction=False)
        for hour in hours:
            pipe.hgetall(self.keys.counters(hour))
        for hour, counts in zip(hours, await self._rt(pipe.execute()), strict=True):
            for field, n in counts.items():
                _add_field(out, hour, field, int(n))
        for member, n in await self._top_hosts(start, end):
            cls, _, host = member.partition("\t")
            out.add_host(host, cls, int(n))
        return out.result()

    async def _top_hosts(self, start: int, end: int) -> list[tuple[str, float]]:
        """The 20 (class, host) members with the highest counts over the days in range."""
        days = [self.keys.hosts(d) for d in range(int(start // DAY) * DAY, end, DAY)]
        scratch = self.keys.scratch()
        pipe = self.client.pipeline(transaction=False)
        pipe.zunionstore(scratch, days)
        pipe.expire(scratch, 60)  # gone even if the DEL below never runs
        pipe.zrange(scratch, 0, 19, desc=True, withscores=True)
        pipe.delete(scratch)
        _, _, top, _ = await self._rt(pipe.execute())
        return top

    async def purge(self, older_than: float) -> int:
        """Delete records older than `older_than` (counters expire on their own)."""
        return await self._read(lambda: self._purge(older_than))

    async def _purge(self, older_than: float) -> int:
        total = 0
        while True:
            # Scores below `older_than`'s millisecond: older records (the rest of that
            # millisecond goes next time).
            oldest = self.client.zrange(
                self.keys.time, f"({score_of(older_than)}", "-inf", byscore=True, desc=True,
                offset=0, num=_PURGE_CHUNK,
            )  # fmt: skip
            ids = await self._rt(oldest)
            if not ids:
                return total
            docs = await self._rt(self.client.hmget(self.keys.records, ids))
            args: list[Any] = []
            for rid, doc in zip(ids, docs, strict=True):
                index = index_keys(self.keys, LogRecord.from_dict(json.loads(doc))) if doc else []
                args += [rid, len(index), *index]
            keys = [self.keys.records, self.keys.time]
            total += await self._rt(self._scripts["purge"](keys=keys, args=args))

    def _window(self, q: LogQuery) -> AsyncIterator[LogRecord]:
        return export_by_pages(self.query, q, page_size=MAX_EXPORT_PAGE)

    def logged_targets(self, since: float, until: float) -> AsyncIterator[list[TargetVerdicts]]:
        """Distinct targets of the window: Redis keeps no index of targets, so every record of
        the window is read once and grouped here."""
        return targets_by_export(self._window, since, until)

    def records_with_targets(
        self, targets: Collection[str], since: float, until: float
    ) -> AsyncIterator[LogRecord]:
        """The re-checked records of the window with one of `targets` (newest first)."""
        return records_by_export(self._window, targets, since, until)

    async def lease(self, name: str, owner: str, seconds: float) -> bool:
        """Take, renew or give up a named lease (a key with an expiry, shared by instances)."""
        ms = 0 if seconds <= 0 else max(1, round(seconds * 1000))
        script, key = self._scripts["lease"], self.keys.lease(name)
        return bool(await self._read(lambda: self._rt(script(keys=[key], args=[owner, str(ms)]))))

    async def run_retention(self, interval_s: float = 3600.0) -> None:
        """Purge records past `retention_days` every `interval_s` seconds, until cancelled."""
        await retention_loop(self.purge, self.retention_days, interval_s)

    def health(self) -> dict:
        """Connection state, spool size and the server's persistence setting; `writes` when
        records are refused (Redis down and the spool refusing them: a full disk)."""
        health = {
            "store": "redis-cluster" if self.cluster else "redis",
            "redis": "down" if self._down else "up",
            "queue_depth": self._pending_records,
            "spool_size": self.spool.size(),
            "persistence": self._persistence,
        }
        if self._down and (why := self.spool.refusal()) is not None:
            health["writes"] = f"refused: {why}"
        return health

    async def _probe(self) -> bool:
        """PING Redis; on success refresh the persistence setting and leave the down state."""
        try:
            async with asyncio.timeout(self._deadline()):
                await self.client.ping()
                self._persistence = await read_persistence(self.client)
            if not self._scores_checked:
                await self._rescore_seconds()
        except UNAVAILABLE as exc:
            self._mark_down(exc)
            return False
        if self._down:
            log.warning("Redis is reachable again")
        self._down = False
        return True

    async def _rescore_seconds(self) -> None:
        """Move a log written with scores in seconds (before they were milliseconds) to
        milliseconds, once: its records would otherwise be invisible to queries and purged
        as if they were from 1970. Checked by the oldest score of the time index, which is
        moved last, so a move cut short is taken up again at the next start."""
        oldest = await self._rt(self.client.zrange(self.keys.time, 0, 0, withscores=True))
        if oldest and oldest[0][1] < _SECONDS_SCORES_BELOW:
            log.warning("Redis log %s has scores in seconds: moving them to milliseconds",
                        self.keys.tag)
            keys = [k async for k in self.client.scan_iter(match=f"{self.keys.tag}:ix:*",
                                                           count=1000) if k != self.keys.time]
            for key in [*keys, self.keys.time]:
                args = [1000, _SECONDS_SCORES_BELOW]
                while await self._rt(self._scripts["rescore"](keys=[key], args=args)):
                    pass
        self._scores_checked = True

    async def _replay_loop(self) -> None:
        """While running: look for room again after the disk refused the spool, probe Redis when
        down, replay the spool when it holds anything."""
        last_probe = time.monotonic()
        while True:
            await asyncio.sleep(self._retry_interval)
            await self.spool.check_room()  # (a full disk: readiness back with the space)
            if self._down or time.monotonic() - last_probe > _PROBE_INTERVAL:
                last_probe = time.monotonic()
                if not await self._probe():
                    continue
            if self.spool.size():
                try:
                    await self.replay()
                except UNAVAILABLE as exc:
                    self._mark_down(exc)
                except StoreError as exc:
                    log.warning("spool replay failed: %s", exc)

    async def replay(self) -> int:
        """Write every spooled entry to Redis, then drop the spool file; returns records added."""
        added = 0
        while (path := await self.spool.take()) is not None:
            async with contextlib.aclosing(self.spool.read(path)) as batches:
                async for entries in batches:
                    added += await self._replay_entries(entries)
            await self.spool.finish(path)
        if added:
            log.info("spool replayed: %d log records written to Redis", added)
        return added

    async def _replay_entries(self, entries: list[dict[str, Any]]) -> int:
        records = [r for e in entries for d in e.get("records", ()) if (r := _spooled(d))]
        added = await self._write_records(records) if records else 0
        for entry in entries:
            if "counters" not in entry:
                continue
            try:
                counted = check_counters(entry["counters"])
            except StoreError as exc:
                log.warning("spool: dropping malformed counters: %s", exc)
                continue
            async with asyncio.timeout(self._deadline()):
                await self._write_counts(counted, entry["ts"], entry["id"])
        return added


def _spooled(data: Mapping[str, Any]) -> LogRecord | None:
    """A record read back from the spool; None (logged) when it is malformed."""
    try:
        return LogRecord.from_dict(data)
    except StoreError as exc:
        log.warning("spool: dropping a malformed record: %s", exc)
        return None


def _resolve(jobs: list[_Append], error: StoreError | None) -> None:
    for job in jobs:
        if not job.future.done():
            if error is None:
                job.future.set_result(None)
            else:
                job.future.set_exception(error)


def _add_field(out: StatsBuilder, hour: int, field: str, n: int) -> None:
    """Feed one hour-counter field to the stats builder."""
    dim, _, value = field.partition(":")
    match dim:
        case "class":
            out.add_class(hour, value, n)
        case "action":
            out.add_action(hour, value, n)
        case "kind":
            out.add_kind(value, n)
        case "platform":
            out.add_platform(value, n)
        case "event":
            out.add_event(value, n)
        case "code":
            out.add_code(value, n)
        case "hover_allow":
            out.add_hover_allow(n)


class RedisState(Lifecycle):
    """SharedState in Redis: scan cache, rate limits, reload channel (pub/sub)."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 0.25,
        prefix: str = "mg",
        cluster: bool | None = None,
        reconnect_interval: float = 0.5,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.keys = Keys(prefix)
        self.cluster = is_cluster_url(url) if cluster is None else cluster
        self._reconnect_interval = reconnect_interval
        self._client: Client | None = None
        self._rate: Any = None
        self._leases: dict[str, tuple[int, int]] = {}  # client -> (window, tokens in hand)
        self._callbacks: list[ReloadCallback] = []
        self._listener: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._listening = False
        self._seen: str | None = None
        self._subscribed_once = False
        self._attempt = 0

    async def start(self) -> None:
        """Create the client (connections open on first use)."""
        self._client = connect(self.url, timeout=self.timeout, cluster=self.cluster)
        self._rate = self._client.register_script(_RATE_LUA)

    async def close(self) -> None:
        """Stop the reload listener and close the client."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def client(self) -> Client:
        if self._client is None:
            raise StoreError("store-closed", "the shared state is not started")
        return self._client

    async def _call(self, op: Callable[[], Awaitable[Any]]) -> Any:
        async with asyncio.timeout(max(1.0, 4 * self.timeout)):
            return await op()

    async def get_scan(self, sha256: str) -> dict | None:
        """The cached scan result; None when absent or when Redis is down (a cache miss)."""
        try:
            raw = await self._call(lambda: self.client.get(self.keys.scan(sha256)))
        except UNAVAILABLE as exc:
            log.warning("scan cache unavailable: %r", exc)
            return None
        return json.loads(raw) if raw else None

    async def put_scan(self, sha256: str, result: Mapping[str, Any], ttl: int) -> None:
        """Cache a scan result for `ttl` seconds (skipped when Redis is down)."""
        doc = json.dumps(dict(result), separators=(",", ":"))
        try:
            await self._call(lambda: self.client.set(self.keys.scan(sha256), doc, ex=ttl))
        except UNAVAILABLE as exc:
            log.warning("scan cache unavailable: %r", exc)

    async def rate_limit(self, client: str, limit: int, window_s: float) -> bool:
        """Sliding-window limit shared by every instance; allows (fails open) if Redis is down.

        Redis grants tokens a few at a time (see `_RATE_LUA`); the ones in hand are spent by
        `rate_limit_nowait` with no round trip."""
        if self.rate_limit_nowait(client, limit, window_s):
            return True
        now = time.time()
        window = math.floor(now / window_s)
        elapsed = now / window_s - window
        keys = [self.keys.rate(client, window), self.keys.rate(client, window - 1)]
        ttl_ms = int(2 * window_s * 1000) + 1000
        args = [limit, elapsed, ttl_ms, _RATE_GRANT_MAX]
        try:
            granted = int(await self._call(lambda: self._rate(keys=keys, args=args)))
        except UNAVAILABLE as exc:
            log.warning("rate limit unavailable, allowing: %r", exc)
            return True
        if granted > 1:
            self._lease(client, window, granted - 1)
        return granted > 0

    def _lease(self, client: str, window: int, tokens: int) -> None:
        """Keep `tokens` in hand, with those this window's earlier grants left: requests that
        asked at once each got a grant, and every granted token is counted in Redis (one kept
        over another cost a client with 4 requests in flight over 40% of its limit)."""
        held = self._leases.get(client)
        if held is not None and held[0] == window:
            tokens += held[1]
        elif len(self._leases) >= _RATE_LEASES_MAX:
            self._leases.clear()
        self._leases[client] = (window, tokens)

    def rate_limit_nowait(self, client: str, limit: int, window_s: float) -> bool | None:
        """True when a token granted earlier in this window is in hand (spent); else None."""
        lease = self._leases.get(client)
        if lease is None:
            return None
        window, tokens = lease
        if tokens < 1 or window != math.floor(time.time() / window_s):
            del self._leases[client]
            return None
        self._leases[client] = (window, tokens - 1)
        return True

    async def publish_reload(self, version: str) -> None:
        """Record the version and tell every subscribed instance; StoreError if Redis is down."""
        try:
            await self._call(lambda: self.client.set(self.keys.version, version))
            await self._call(lambda: self.client.publish(self.keys.channel, version))
        except UNAVAILABLE as exc:
            raise StoreError("store-unavailable", f"Redis is unreachable: {exc!r}") from exc

    def subscribe_reload(self, callback: ReloadCallback) -> None:
        """Call `callback(version)` for each reload message; the listener runs until close."""
        self._callbacks.append(callback)
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="meetguard-reload-listener")

    @property
    def listening(self) -> bool:
        """True while subscribed to the reload channel."""
        return self._listening

    def health(self) -> dict:
        return {"state": "redis-cluster" if self.cluster else "redis", "listening": self._listening}

    def _pubsub_client(self) -> Redis:
        """A plain connection for SUBSCRIBE: in a cluster, PUBLISH reaches every node, so any
        node will do (each attempt tries the next one)."""
        url = urlsplit(self.url.replace("+cluster://", "://", 1))
        nodes = [(url.hostname or "127.0.0.1", url.port or 6379)]
        if isinstance(self.client, RedisCluster):
            nodes += [(n.host, n.port) for n in self.client.get_nodes()]
        host, port = nodes[self._attempt % len(nodes)]
        self._attempt += 1
        return Redis(
            host=host, port=port, username=url.username, password=url.password,
            ssl=url.scheme == "rediss", decode_responses=True,
            socket_connect_timeout=self.timeout, health_check_interval=5,
            retry=Retry(NoBackoff(), 0),  # no silent reconnect: _listen resubscribes, catches up
        )  # fmt: skip

    async def _listen(self) -> None:
        """Subscribe and deliver messages; after an error, resubscribe and catch up."""
        while True:
            try:
                await self._listen_once()
            except UNAVAILABLE as exc:
                log.warning("reload channel lost (%r); resubscribing", exc)
            self._listening = False
            await asyncio.sleep(self._reconnect_interval)

    async def _listen_once(self) -> None:
        async with self._pubsub_client() as conn, conn.pubsub() as pubsub:
            await pubsub.subscribe(self.keys.channel)
            current = await self._call(lambda: self.client.get(self.keys.version))
            self._listening = True
            if self._subscribed_once and current is not None and current != self._seen:
                self._deliver(current)  # published while we were not subscribed
            self._seen = current
            self._subscribed_once = True
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message is not None and message["type"] == "message":
                    self._seen = message["data"]
                    self._deliver(message["data"])

    def _deliver(self, version: str) -> None:
        for callback in list(self._callbacks):
            task = asyncio.create_task(_run_callback(callback, version))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)


async def _run_callback(callback: ReloadCallback, version: str) -> None:
    try:
        await callback(version)
    except Exception:
        log.exception("reload callback failed for version %s", version)
