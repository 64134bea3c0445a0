"""`SQLiteLogStore`: the embedded audit log (WAL, one writer connection, group commit).

Writes go through ONE writer connection. The records appended during a round of the event loop
are committed together once the loop has nothing else ready, then each caller's future is
resolved: so `append` returns only after COMMIT, and a record is committed before the answer it
belongs to is sent. With one process and no fsync per commit, that commit runs on the event
loop itself (~100 us for a round at 16 connections); otherwise, and for everything else
(operations, purges, indexing), a writer thread fed by a queue does it. Reads run on read-only
connections in a small thread pool, so the event loop never waits on a query.

Records land in `inbox`, a table with one index, on time: an answer waits for a few sequential
B-tree inserts, not for eight indexes keyed by id, host, client, class... whose random leaf
pages made every commit write a page per record (measured: 27 us a record against 6 us). When
the writer is idle, or the inbox grows past `inbox_rows`, it moves the oldest inbox rows in bulk
into `records`, the fully indexed table, and adds them to the stats counters in the same
transaction. Queries and stats read both tables, so a record is visible from its commit on;
`all_records` is a view over both for people poking at the file with `sqlite3`.

Stats come from aggregate tables filled as records leave the inbox: `counters` (hour x kind x
class x action x platform x context x event), `code_counters` (hour x reason code) and
`host_counters` (day x host x class), plus an aggregate over what is still in the inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from meetguard.datadir import create_private_file, make_private_dir
from meetguard.quietlog import QuietLog
from meetguard.store.base import (
    DAY,
    HOUR,
    MAX_LIMIT,
    TARGETS_CHUNK,
    CounterKey,
    Lifecycle,
    LogPage,
    LogQuery,
    LogRecord,
    RecordRow,
    StoreError,
    TargetVerdicts,
    check_counters,
    check_record,
    check_stats_range,
    export_by_pages,
    page_from,
    retention_loop,
    reversed_host,
)
from meetguard.store.stats import StatsBuilder

log = logging.getLogger(__name__)

_RECORD_INDEXES = {
    "ts": "(ts, id)",
    "class": "(class, ts)",
    "action": "(action, ts)",
    "platform": "(platform, ts) WHERE platform IS NOT NULL",
    "client": "(client, ts)",
    "event": "(event, ts) WHERE event IS NOT NULL",
    "rhost": "(rhost, ts) WHERE rhost IS NOT NULL",
}

PEOPLE_WHERE = (
    "((kind = 'link' AND context = 'navigation'"
    " AND (class = 'warned' OR codes LIKE '%\"impersonation\"%'))"
    " OR (kind = 'event' AND event IN ('override', 'room-details-shared'))"
    " OR (kind = 'file' AND action = 'block'))"
)
"""The records the hygiene report counts: the partial index's WHERE, written the same way in the
report's query (SQLite uses a partial index only for a query that repeats its condition)."""

# Each entry migrates the schema from version i to i + 1; never edit a released entry.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE records (
            id TEXT NOT NULL UNIQUE, ts REAL NOT NULL, kind TEXT NOT NULL, client TEXT NOT NULL,
            user TEXT, context TEXT, class TEXT, action TEXT, platform TEXT,
            host TEXT, rhost TEXT, target TEXT, codes TEXT NOT NULL, rules TEXT NOT NULL,
            policy_version TEXT, event TEXT, sha256 TEXT, detail TEXT NOT NULL)""",
        *(f"CREATE INDEX records_{n} ON records {cols}" for n, cols in _RECORD_INDEXES.items()),
        """CREATE TABLE counters (
            hour INTEGER NOT NULL, kind TEXT NOT NULL, class TEXT NOT NULL, action TEXT NOT NULL,
            platform TEXT NOT NULL, context TEXT NOT NULL, event TEXT NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (hour, kind, class, action, platform, context, event)) WITHOUT ROWID""",
        """CREATE TABLE code_counters (
            hour INTEGER NOT NULL, code TEXT NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (hour, code)) WITHOUT ROWID""",
        """CREATE TABLE host_counters (
            day INTEGER NOT NULL, host TEXT NOT NULL, class TEXT NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (day, host, class)) WITHOUT ROWID""",
    ),
    (
        # kind and context are rarely selective: a scan of the time index finds a page of
        # them as fast, and each index costs every insert (~10% of the write each).
        "DROP INDEX IF EXISTS records_kind",
        "DROP INDEX IF EXISTS records_context",
    ),
    (
        # The inbox (see the module docstring): the columns of `records`, only ordered indexes.
        # No index on id alone: a record's (ts, id) finds it (see `_new_records`), and every
        # index is one more page written by every commit.
        """CREATE TABLE inbox (
            id TEXT NOT NULL, ts REAL NOT NULL, kind TEXT NOT NULL, client TEXT NOT NULL,
            user TEXT, context TEXT, class TEXT, action TEXT, platform TEXT,
            host TEXT, rhost TEXT, target TEXT, codes TEXT NOT NULL, rules TEXT NOT NULL,
            policy_version TEXT, event TEXT, sha256 TEXT, detail TEXT NOT NULL)""",
        "CREATE INDEX inbox_ts ON inbox (ts, id)",
        "CREATE VIEW all_records AS SELECT * FROM records UNION ALL SELECT * FROM inbox",
    ),
    (
        # Named leases (`lease`): one retro-hunt at a time per log, across worker processes.
        """CREATE TABLE leases (
            name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires REAL NOT NULL) WITHOUT ROWID""",
    ),
    (
        # The hygiene report (`read_people`): only the records it counts, with every column it
        # reads, so it never visits the table (a million records over a week: 1.1-2.5 s -> 0.5 s).
        "CREATE INDEX records_people ON records"
        " (ts, user, client, kind, class, context, event, action, codes)"
        f" WHERE {PEOPLE_WHERE}",
    ),
)

_COLUMNS = (
    "id, ts, kind, client, user, context, class, action, platform, host, rhost, target, codes,"
    " rules, policy_version, event, sha256, detail"
)
_READ_COLUMNS = (
    "id, ts, kind, client, user, context, class, action, platform, host, target, codes, rules,"
    " policy_version, event, sha256, detail"
)
_INSERT = f"INSERT INTO inbox ({_COLUMNS}) VALUES ({', '.join('?' * 18)})"
INBOX_ROWS = 1_000_000
"""Default for how many rows the inbox may hold before indexing runs under load too (setting
`sqlite_inbox_rows`). Queries and stats read the inbox without its filter indexes: a 7-day
stats query takes ~3 s per million inbox rows here (0.03 s once indexed); a filtered page a few
milliseconds. A million is a busy day of a large ministry, taken at full speed."""
EXPORT_PAGE = 2000
"""Rows per page of an export, encoded in one go in the reader thread: ~20 ms of work, so the
hand-over to the event loop costs nothing; blocks of 0.5-1 MB, three at most in flight."""
INDEX_CHUNK = 500
"""Rows moved per transaction when idle: big enough to share the indexes' page writes, small
enough that an answer arriving meanwhile waits ~7 ms at most."""
CHECKPOINT_DELAY = 0.05
"""Seconds the checkpointer waits after a commit before copying the WAL (commits pile up)."""
IDLE_SECONDS = 0.25
"""How long the writer waits for work before it starts indexing the inbox."""
PROBE_SECONDS = 1.0
"""While the database refuses writes (a full disk), how often the idle writer tries a small
write of its own: readiness comes back with the space even when no request is sent (a load
balancer sends none to a service that is not ready)."""
_PROBE = ("INSERT OR REPLACE INTO leases (name, owner, expires) VALUES ('meetguard-probe', '', 0)",
          "DELETE FROM leases WHERE name = 'meetguard-probe'")
_COLUMN_OF = {"verdict_class": "class"}
_PURGE_CHUNK = 1000  # rows per purge transaction: commits (inline ones too) wait for one
_MAX_BATCH_JOBS = 2000
_MAX_WAIT_ROUNDS = 16
"""How many rounds the outbox waits for more jobs before it is written anyway."""
_QUIET_ROUNDS = 3
"""Rounds in a row without a new job after which the outbox is written."""
_INLINE_RECORDS = 200
"""The most records committed on the event loop in one round (~2 ms); more go to the thread, so
a big batch never holds up the answers to other requests."""
_RECOUNT_COMMITS = 64
"""The writer counts the rows it adds to the inbox, and reads its size (which other workers'
rows change too) every this many commits: reading it on every commit cost ~3% of a verdict."""


BUSY_TIMEOUT_MS = 5000
"""How long a transaction waits for another connection's write lock (the writer thread only:
the event loop never waits for one, see `_Writer._commit_inline`)."""


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _row_of(r: LogRecord) -> tuple[Any, ...]:
    rhost = reversed_host(r.host) if r.host else None
    return (
        r.id, r.ts, r.kind, r.client, r.user, r.context, r.verdict_class, r.action, r.platform,
        r.host, rhost, r.target, _dumps(r.codes), _dumps(r.rules),  # (tuples: JSON arrays)
        r.policy_version, r.event, r.sha256, _dumps(r.detail),
    )  # fmt: skip


def _record_of(row: Sequence[Any]) -> LogRecord:
    (rid, ts, kind, client, user, context, cls, action, platform, host, target, codes, rules,
     policy_version, event, sha256, detail) = row  # fmt: skip
    return LogRecord(
        rid, ts, kind, client, user, context, cls, action, platform, host, target,
        tuple(orjson.loads(codes)), tuple(orjson.loads(rules)), policy_version, event, sha256,
        orjson.loads(detail),
    )  # fmt: skip


def connect_writer(path: Path, synchronous: str = "NORMAL") -> sqlite3.Connection:
    """The writer's connection: WAL, explicit transactions, caches sized for the indexes."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    _switch_to_wal(conn)
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA cache_size = -32768")  # 32 MiB: the hot index pages stay in memory
    # No checkpoint inside commits: one would run in the commit that crosses the threshold,
    # and every answer waiting on that commit would wait for its two fsyncs. `_Checkpointer`
    # does it from a thread of its own. (When every record went straight into the indexed
    # table, checkpoints copied thousands of pages and that thread did worse on one core; with
    # the inbox they copy a few, and wrk at 16 connections measured p99 4.6-4.8 ms -> 2.3 ms,
    # at 64 connections 10.9 ms -> 6.4 ms and 12.3k -> 15.0k req/s.) The WAL file is cut back
    # to 64 MB after bursts.
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("PRAGMA journal_size_limit = 67108864")
    return conn


def _switch_to_wal(conn: sqlite3.Connection, attempts: int = 50) -> None:
    """`PRAGMA journal_mode = WAL`, retried: when two workers open a new file together, SQLite
    may answer "database is locked" at once, without waiting out the busy timeout (it refuses
    a lock upgrade that could deadlock). Seen as a worker that never served (--workers 2)."""
    for attempt in range(attempts):
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.1)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to the latest version (in one transaction); returns that version."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = conn.execute("SELECT version FROM schema_version").fetchone()
    version = row[0] if row else 0
    if version > len(MIGRATIONS):
        raise StoreError("store-unavailable", f"database schema {version} is newer than this code")
    for statements in MIGRATIONS[version:]:
        for statement in statements:
            conn.execute(statement)
    conn.execute("DELETE FROM schema_version")
    conn.execute("INSERT INTO schema_version VALUES (?)", (len(MIGRATIONS),))
    return len(MIGRATIONS)


def insert_records(conn: sqlite3.Connection, records: Sequence[LogRecord]) -> int:
    """Insert into the inbox the records not stored yet; returns how many were new."""
    fresh = _new_records(conn, records)
    conn.executemany(_INSERT, [_row_of(r) for r in fresh])
    return len(fresh)


def _new_records(conn: sqlite3.Connection, records: Sequence[LogRecord]) -> list[LogRecord]:
    """The records in neither table yet (first of each id in the batch).

    A record appended again has the time it had, so for the usual batch (made within a few
    milliseconds) one probe of each table's time index over the batch's span finds it; looking
    up each id instead cost every verdict ~2 us. A batch spread over time is looked up by id in
    `records` and by (ts, id) in the inbox."""
    unique = list({r.id: r for r in reversed(records)}.values())[::-1]
    first, last = min(r.ts for r in unique), max(r.ts for r in unique)
    if last - first <= _DEDUP_SPAN:
        known = {rid for (rid,) in conn.execute(_IDS_IN_SPAN, (first, last))}
        return [r for r in unique if r.id not in known] if known else unique
    known = set()
    for i in range(0, len(unique), 500):
        chunk = unique[i : i + 500]
        marks = ", ".join("?" * len(chunk))
        known.update(row[0] for row in conn.execute(
            f"SELECT id FROM records WHERE id IN ({marks})", [r.id for r in chunk]))
        pairs = {(r.ts, r.id) for r in chunk}
        known.update(rid for ts, rid in conn.execute(
            f"SELECT ts, id FROM inbox WHERE ts IN ({marks})", [r.ts for r in chunk])
            if (ts, rid) in pairs)
    return [r for r in unique if r.id not in known]


_DEDUP_SPAN = 1.0
_IDS_IN_SPAN = ("SELECT id FROM records WHERE ts BETWEEN ?1 AND ?2"
                " UNION ALL SELECT id FROM inbox WHERE ts BETWEEN ?1 AND ?2")
_HOUR_OF = "CAST(ts / 3600 AS INTEGER) * 3600"  # int(ts // HOUR) * HOUR, as ts >= 0
_DAY_OF = "CAST(ts / 86400 AS INTEGER) * 86400"
_UPSERT_N = "ON CONFLICT DO UPDATE SET n = n + excluded.n"
# Moving inbox rows up to a rowid: copy them (an id already indexed is skipped), count what
# landed (records past the rowid `records` had before), delete them from the inbox.
_MOVE = f"INSERT OR IGNORE INTO records ({_COLUMNS}) SELECT {_COLUMNS} FROM inbox WHERE rowid <= ?"
_COUNT_MOVED = (
    f"INSERT INTO counters SELECT {_HOUR_OF}, kind, ifnull(class, ''), ifnull(action, ''),"
    " ifnull(platform, ''), ifnull(context, ''), ifnull(event, ''), count(*) FROM records"
    f" WHERE rowid > ? GROUP BY 1, 2, 3, 4, 5, 6, 7 {_UPSERT_N}",
    # A record counts once per code, however often the code repeats in it (DISTINCT rowid).
    f"INSERT INTO code_counters SELECT hour, code, count(*) FROM (SELECT DISTINCT records.rowid,"
    f" {_HOUR_OF} AS hour, j.value AS code FROM records, json_each(records.codes) AS j"
    f" WHERE records.rowid > ?) WHERE true GROUP BY 1, 2 {_UPSERT_N}",
    f"INSERT INTO host_counters SELECT {_DAY_OF}, host, ifnull(class, ''), count(*) FROM records"
    f" WHERE rowid > ? AND host != '' GROUP BY 1, 2, 3 {_UPSERT_N}",
)


def index_inbox(conn: sqlite3.Connection, limit: int) -> int:
    """Move up to `limit` of the oldest inbox rows into `records` and the counters (inside the
    caller's transaction); returns how many left the inbox."""
    last, moved = conn.execute(
        "SELECT max(rowid), count(*) FROM (SELECT rowid FROM inbox ORDER BY rowid LIMIT ?)",
        (limit,),
    ).fetchone()
    if moved:
        before = conn.execute("SELECT ifnull(max(rowid), 0) FROM records").fetchone()[0]
        conn.execute(_MOVE, (last,))
        for count in _COUNT_MOVED:
            conn.execute(count, (before,))
        conn.execute("DELETE FROM inbox WHERE rowid <= ?", (last,))
    return moved


def inbox_size(conn: sqlite3.Connection) -> int:
    """About how many rows wait in the inbox (from its rowid range: two B-tree edges)."""
    # Two subqueries: SQLite reads a lone min() or max() off the B-tree's edge, but scans the
    # table for both in one SELECT.
    low, high = conn.execute(
        "SELECT (SELECT min(rowid) FROM inbox), (SELECT max(rowid) FROM inbox)"
    ).fetchone()
    return 0 if low is None else high - low + 1


def add_counted(conn: sqlite3.Connection, counted: Mapping[CounterKey, int], ts: float) -> None:
    """Add verdicts counted but not stored (kind `link`) to the hour of `ts`."""
    hour = int(ts // HOUR) * HOUR
    dims = {
        (hour, "link", k.verdict_class, k.action, k.platform or "", k.context, ""): n
        for k, n in counted.items()
    }
    conn.executemany(
        f"INSERT INTO counters VALUES (?, ?, ?, ?, ?, ?, ?, ?) {_UPSERT_N}",
        [(*k, n) for k, n in dims.items()],
    )


def purge_chunk(conn: sqlite3.Connection, older_than: float) -> int:
    """Delete up to one chunk of records older than `older_than` (from the inbox too);
    returns how many."""
    deleted = 0
    for table in ("records", "inbox"):
        cur = conn.execute(
            f"DELETE FROM {table} WHERE rowid IN "
            f"(SELECT rowid FROM {table} WHERE ts < ? ORDER BY ts LIMIT ?)",
            (older_than, _PURGE_CHUNK - deleted),
        )
        deleted += cur.rowcount
    return deleted


def purge_counters(conn: sqlite3.Connection, older_than: float) -> None:
    """Delete the counters of whole hours (and days, for hosts) before `older_than`."""
    hour = int(older_than // HOUR) * HOUR
    conn.execute("DELETE FROM counters WHERE hour < ?", (hour,))
    conn.execute("DELETE FROM code_counters WHERE hour < ?", (hour,))
    conn.execute("DELETE FROM host_counters WHERE day < ?", (int(older_than // DAY) * DAY,))


def build_query(q: LogQuery, *, after: tuple[float, str] | None = None,
                limit: int | None = None) -> tuple[str, list[Any]]:
    """SQL and parameters for one page (`limit + 1` rows: the extra says there is more).

    `after` and `limit` (rows, exactly) stand in for the query's cursor and page size: an
    export reads pages bigger than any API page, each after the last row of the one before.
    """
    where: list[str] = []
    params: list[Any] = []
    for name, value in q.equals_filters().items():
        where.append(f"{_COLUMN_OF.get(name, name)} = ?")
        params.append(value)
    if q.code is not None:
        # codes is a JSON array of [a-z-] words (checked by LogQuery): no LIKE wildcard can hide
        where.append("codes LIKE ?")
        params.append(f'%"{q.code}"%')
    if q.host is not None:
        key = reversed_host(q.host)
        where.append("rhost >= ? AND rhost < ?")
        params += [key, key[:-1] + "/"]  # '/' sorts right after '.'
    if q.since is not None:
        where.append("ts >= ?")
        params.append(q.since)
    if q.until is not None:
        where.append("ts < ?")
        params.append(q.until)
    if after is None:
        after = q.after()
    if after is not None:
        where.append("(ts, id) < (?, ?)")  # a row value: one range of the (ts, id) index
        params += [after[0], after[1]]
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    # Both tables, merged newest first: SQLite walks each one's (ts, id) index and stops at
    # the limit (a MERGE of two ordered streams, not a sort).
    sql = (f"SELECT {_READ_COLUMNS} FROM records{clause} UNION ALL"
           f" SELECT {_READ_COLUMNS} FROM inbox{clause} ORDER BY ts DESC, id DESC LIMIT ?")
    return sql, [*params, *params, q.limit + 1 if limit is None else limit]


def read_page(conn: sqlite3.Connection, q: LogQuery) -> LogPage:
    """Run one page query."""
    sql, params = build_query(q)
    return page_from([_record_of(row) for row in conn.execute(sql, params)], q.limit)


def read_encoded(conn: sqlite3.Connection, q: LogQuery,
                 encode: Callable[[Sequence[RecordRow]], bytes],
                 page: int = EXPORT_PAGE) -> Iterator[bytes]:
    """`encode` of every record matching `q`, newest first, a page of rows at a time.

    Each page is a statement of its own (a keyset page of the (ts, id) index): no read
    transaction is held for the whole export, so the WAL can be checkpointed meanwhile.
    """
    after = q.after()
    while True:  # (rows of `_READ_COLUMNS`, LogRecord's fields in order: `RecordRow`s)
        sql, params = build_query(q, after=after, limit=page)
        rows = conn.execute(sql, params).fetchall()
        if rows:
            yield encode(rows)
        if len(rows) < page:
            return
        after = (rows[-1][1], rows[-1][0])


# Each stats query reads the counters and what the inbox holds of the same hours (or days).
_STATS_CLASS_ACTION = (
    "SELECT hour / ? * ?, class, action, SUM(n) FROM ("
    " SELECT hour, class, action, n FROM counters WHERE hour >= ? AND hour < ?"
    f" UNION ALL SELECT {_HOUR_OF}, ifnull(class, ''), ifnull(action, ''), 1 FROM inbox"
    " WHERE ts >= ? AND ts < ?) GROUP BY 1, 2, 3"
)
_STATS_DIMENSIONS = (
    "SELECT kind, platform, context, event, action, SUM(n) FROM ("
    " SELECT kind, platform, context, event, action, n FROM counters"
    " WHERE hour >= ? AND hour < ?"
    " UNION ALL SELECT kind, ifnull(platform, ''), ifnull(context, ''), ifnull(event, ''),"
    " ifnull(action, ''), 1 FROM inbox WHERE ts >= ? AND ts < ?) GROUP BY 1, 2, 3, 4, 5"
)
_STATS_CODES = (
    "SELECT code, SUM(n) FROM ("
    " SELECT code, n FROM code_counters WHERE hour >= ? AND hour < ?"
    " UNION ALL SELECT code, 1 FROM (SELECT DISTINCT inbox.rowid, j.value AS code"
    " FROM inbox, json_each(inbox.codes) AS j WHERE inbox.ts >= ? AND inbox.ts < ?))"
    " GROUP BY 1"
)
_STATS_HOSTS = (
    "SELECT host, class, SUM(n) AS c FROM ("
    " SELECT host, class, n FROM host_counters WHERE day >= ? AND day < ?"
    " UNION ALL SELECT host, ifnull(class, ''), 1 FROM inbox"
    " WHERE ts >= ? AND ts < ? AND host != '') GROUP BY 1, 2 ORDER BY c DESC, host LIMIT 20"
)


def read_stats(conn: sqlite3.Connection, start: int, end: int, bucket: int) -> dict:
    """The `stats()` dict for hours in `[start, end)`: counters plus the inbox."""
    out = StatsBuilder(start, end, bucket)
    hours = (start, end, start, end)
    for ts, cls, action, n in conn.execute(_STATS_CLASS_ACTION, (bucket, bucket, *hours)):
        out.add_class(ts, cls, n)
        out.add_action(ts, action, n)
    for kind, platform, context, event, action, n in conn.execute(_STATS_DIMENSIONS, hours):
        out.add_kind(kind, n)
        out.add_platform(platform, n)
        out.add_event(event, n)
        if context == "hover" and action == "allow":
            out.add_hover_allow(n)
    for code, n in conn.execute(_STATS_CODES, hours):
        out.add_code(code, n)
    day = int(start // DAY) * DAY
    for host, cls, n in conn.execute(_STATS_HOSTS, (day, end, day, end)):
        out.add_host(host, cls, n)
    return out.result()


# Distinct (target, verdict) of a window, grouped by SQLite (in C: a million rows take a
# couple of seconds, the groups are what Python sees), in target order.
_TARGETS = (
    "SELECT target, action, codes, COUNT(*) FROM ("
    " SELECT target, action, codes FROM records WHERE ts >= ? AND ts < ?"
    " AND target IS NOT NULL AND target != '' AND kind != 'retro'"
    " UNION ALL SELECT target, action, codes FROM inbox WHERE ts >= ? AND ts < ?"
    " AND target IS NOT NULL AND target != '' AND kind != 'retro')"
    " GROUP BY target, action, codes ORDER BY target"
)
_WITH_TARGETS = (
    f"SELECT {_READ_COLUMNS} FROM all_records WHERE ts >= ? AND ts < ? AND kind != 'retro'"
    " AND target IN (SELECT value FROM json_each(?)) ORDER BY ts, id"
)


def read_targets(conn: sqlite3.Connection, since: float, until: float,
                 chunk: int = TARGETS_CHUNK) -> Iterator[list[TargetVerdicts]]:
    """`logged_targets` on one connection, chunk by chunk (`fetchmany`)."""
    cursor = conn.execute(_TARGETS, (since, until, since, until))
    while rows := cursor.fetchmany(chunk):
        yield [TargetVerdicts(t, a, tuple(orjson.loads(c)), n) for t, a, c, n in rows]


def read_with_targets(conn: sqlite3.Connection, targets: Collection[str], since: float,
                      until: float) -> list[LogRecord]:
    """`records_with_targets` on one connection (one pass over the window)."""
    rows = conn.execute(_WITH_TARGETS, (since, until, _dumps(sorted(set(targets)))))
    return [_record_of(row) for row in rows]


def take_lease(conn: sqlite3.Connection, name: str, owner: str, seconds: float,
               now: float) -> bool:
    """`lease` inside the writer's transaction."""
    if seconds <= 0:
        conn.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner))
        return True
    row = conn.execute("SELECT owner, expires FROM leases WHERE name = ?", (name,)).fetchone()
    if row is not None and row[0] != owner and row[1] > now:
        return False
    conn.execute("INSERT OR REPLACE INTO leases (name, owner, expires) VALUES (?, ?, ?)",
                 (name, owner, now + seconds))
    return True
# The hygiene report (meetguard.report): per person and week, the five counts, from both tables.
# The WHERE keeps only rows that count; each SUM is one category's log filter.
_PEOPLE = (
    "SELECT user IS NOT NULL AND user != '', coalesce(nullif(user, ''), client),"
    " CAST((ts - ?) / ? AS INTEGER),"
    " SUM(kind = 'link' AND class = 'warned' AND context = 'navigation'),"
    " SUM(kind = 'event' AND event = 'override'),"
    " SUM(kind = 'link' AND context = 'navigation' AND codes LIKE '%\"impersonation\"%'),"
    " SUM(kind = 'file' AND action = 'block'),"
    " SUM(kind = 'event' AND event = 'room-details-shared')"
    " FROM {table} WHERE ts >= ? AND ts < ? AND " + PEOPLE_WHERE + " GROUP BY 1, 2, 3"
)


def read_people(conn: sqlite3.Connection, since: float, until: float, monday: int,
                week: int) -> list[tuple[Any, ...]]:
    """(labelled, person, week index, five counts) rows for [since, until), both tables."""
    rows: list[tuple[Any, ...]] = []
    for table in ("records", "inbox"):
        rows += conn.execute(_PEOPLE.format(table=table), (monday, week, since, until))
    return rows


@dataclass(slots=True)
class _Job:
    """Work for the writer: records to insert, or an operation on the connection."""

    op: Callable[[sqlite3.Connection], Any] | None
    records: Sequence[LogRecord]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _settle_all(settled: list[tuple[Any, ...]]) -> None:
    for future, result, error in settled:
        _settle(future, result, error)


def _as_store_error(exc: Exception) -> StoreError:
    if isinstance(exc, StoreError):
        return exc
    if isinstance(exc, sqlite3.Error):
        return StoreError("store-write-failed", f"SQLite write failed: {exc}")
    return StoreError("invalid-record", f"record cannot be stored: {exc!r}")


class _Writer:
    """The one writer connection, and the thread that owns it (group commit).

    Records are committed in one transaction per round of the event loop, on the loop itself
    when `inline` (one process, commits without fsync: a commit is ~100 us of CPU, and a thread
    would only add hand-offs), else by the thread. Everything else (operations, indexing the
    inbox when idle) runs in the thread; a lock keeps the two to one transaction at a time."""

    def __init__(self, path: Path, synchronous: str, inbox_rows: int = INBOX_ROWS, *,
                 inline: bool = False) -> None:
        self._path = path
        self._synchronous = synchronous
        self._inbox_rows = inbox_rows
        # Inline only without fsync (the loop must never wait for a disk), and only when one
        # process writes (waiting out another process's transaction would stall the loop).
        self._inline = inline and synchronous == "NORMAL"
        self._lock = threading.RLock()  # one transaction at a time on the connection
        # The queue carries lists of jobs: what one round of the event loop submitted (one
        # wake-up of this thread for many requests; see `_post`).
        self._queue: queue.SimpleQueue[list[_Job] | None] = queue.SimpleQueue()
        self._outbox: list[_Job] = []
        self._deferrals = 0  # event-loop rounds the outbox has waited for more jobs
        self._seen = 0  # jobs the outbox held when `_post` last looked
        self._quiet = 0  # rounds in a row that added no job
        self._thread = threading.Thread(target=self._run, name="meetguard-sqlite-writer")
        self._conn: sqlite3.Connection | None = None
        self._failed: StoreError | None = None
        self.closed = False
        self.transactions = 0
        self.inline_transactions = 0  # of which committed on the event loop
        self.indexed = 0  # rows this writer moved from the inbox into `records`
        self.inbox = 0  # rows waiting in the inbox: read when indexing, else counted up
        self._uncounted = _RECOUNT_COMMITS  # commits since the inbox was last read
        self.committed = threading.Event()  # set after each commit (the checkpointer waits on it)
        self._backlog = True  # the inbox may hold rows: index them when idle
        # When the last job (not indexing) committed, inline or in the thread: the idle clock.
        self._last_commit = time.monotonic()
        self.refusing: str | None = None
        """Why the last write failed, until one succeeds (a full disk): /readyz says so."""
        self.refused = 0  # writes failed since the store began refusing
        self._last_probe = time.monotonic()
        self._failures = QuietLog(log)
        self._index_failures = QuietLog(log)

    def depth(self) -> int:
        return self._queue.qsize()

    def alive(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()

    def submit(
        self,
        op: Callable[[sqlite3.Connection], Any] | None,
        records: Sequence[LogRecord] = (),
    ) -> asyncio.Future[Any]:
        """Queue `op(conn)` or records to insert; resolves after their transaction commits."""
        if self._failed is not None:
            raise self._failed
        if self.closed:
            raise StoreError("store-closed", "the log store is closed")
        if self._outbox:
            loop = self._outbox[0].loop  # (one loop per iteration; looking it up costs 0.25 us)
        else:
            loop = asyncio.get_running_loop()
            loop.call_soon(self._post)  # after the handlers this iteration already runs
            self._seen, self._quiet = 1, 0
        future = loop.create_future()
        self._outbox.append(_Job(op, records, future, loop))
        return future

    def _post(self) -> None:
        """Commit the outbox (inline) or hand it to the thread once a round of the event loop
        has added no job to it.

        Requests read together reach `append` a few rounds apart (reading their bodies): while
        rounds keep adding records, one transaction waits to take them all. Posting at the end
        of each iteration instead split 16 connections' records into commits of ~8, and woke
        the thread while the loop still had work: wrk measured 9.3k -> 10.2k requests/s and
        p99 3.3 -> 2.8 ms (and inline commits 10.2k -> 10.9k), with a rule that waited for the
        loop's run queue to empty (a private attribute of asyncio's loop; this rule asks only
        what the outbox shows). A loop that keeps adding jobs still gets them written every
        `_MAX_WAIT_ROUNDS` rounds; a lone request waits `_QUIET_ROUNDS` rounds (microseconds)."""
        if not self._outbox:
            return
        if len(self._outbox) > self._seen:
            self._seen, self._quiet = len(self._outbox), 0
        else:
            self._quiet += 1
        if self._quiet < _QUIET_ROUNDS and self._deferrals < _MAX_WAIT_ROUNDS:
            self._deferrals += 1
            self._outbox[0].loop.call_soon(self._post)
            return
        self._post_now()

    def _post_now(self) -> None:
        self._deferrals = 0
        if not self._outbox:
            return
        jobs, self._outbox = self._outbox, []
        if self._inline and self._conn is not None and not self.closed:
            appends = [job for job in jobs if job.op is None]
            # Operations, and rounds too big to hold the loop up for, are the thread's.
            if appends and sum(len(job.records) for job in appends) <= _INLINE_RECORDS \
                    and self._commit_inline(appends):
                jobs = [job for job in jobs if job.op is not None]
        if jobs:
            self._queue.put(jobs)

    async def stop(self) -> None:
        """Commit what is queued, then end the thread."""
        if not self.closed:
            self.closed = True
            self._post_now()
            if self._thread.ident is not None:
                self._queue.put(None)
        if self._thread.is_alive():
            await asyncio.to_thread(self._thread.join)

    def _run(self) -> None:
        try:
            self._conn = connect_writer(self._path, self._synchronous)
        except sqlite3.Error as exc:
            self._fail_all(StoreError("store-unavailable", f"cannot open {self._path}: {exc}"))
            return
        try:
            while (batch := self._next_batch()) is not None:
                if batch:
                    self._commit(batch)
                elif self.refusing is not None:
                    self._probe()
                else:
                    self._index(INDEX_CHUNK)  # idle: nobody waits on this commit
        finally:
            with self._lock:  # (no inline commit runs once closed, but make sure)
                self._conn.execute("PRAGMA optimize")
                self._conn.close()

    def _next_batch(self) -> list[_Job] | None:
        """Block for one job, then take whatever else is queued; None once stopped, [] when
        rows wait in the inbox and nothing was committed for IDLE_SECONDS (chunk after chunk,
        until work comes in). It looks again every IDLE_SECONDS, as inline commits fill the
        inbox without a word to this thread."""
        while True:
            idle = self._idle_work_due()
            try:
                first = self._queue.get_nowait() if idle else self._queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                if idle:
                    return []
                continue
            break
        if first is None:
            return None
        batch = list(first)
        while len(batch) < _MAX_BATCH_JOBS:
            try:
                jobs = self._queue.get_nowait()
            except queue.Empty:
                break
            if jobs is None:
                self._queue.put(None)  # seen again after this batch commits
                break
            batch += jobs
        return batch

    def _idle_work_due(self) -> bool:
        """A probe while the database refuses writes (indexing would fail too), else indexing
        when rows wait and nothing was committed for IDLE_SECONDS."""
        now = time.monotonic()
        if self.refusing is not None:
            return now - self._last_probe >= PROBE_SECONDS
        return self._backlog and now - self._last_commit >= IDLE_SECONDS

    def _probe(self) -> None:
        """Try a small write (a row written and deleted): when it commits, writes are accepted
        again. A failure is expected while the disk stays full: not logged."""
        assert self._conn is not None
        self._last_probe = time.monotonic()
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                for statement in _PROBE:
                    self._conn.execute(statement)
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                log.debug("SQLite write probe failed: %s", exc)
                return
            self._accepting()

    def _refuse(self, exc: sqlite3.Error) -> None:
        """A write failed: refusing until one succeeds (logged at most once a minute)."""
        self.refused += 1
        self.refusing = str(exc)
        self._failures.warning("SQLite log write failed: %s; /readyz answers 503 until a write"
                               " succeeds", exc)

    def _accepting(self) -> None:
        if self.refusing is not None:
            log.info("SQLite log writes succeed again (%d failed meanwhile)", self.refused,
                     extra={"refused": self.refused})
            self.refusing, self.refused = None, 0

    def _commit_inline(self, batch: list[_Job]) -> bool:
        """`_commit` on the event loop, if the connection and the database's write lock are
        free at once; else False, having done nothing: the loop must not wait for the
        thread's transaction, nor for another program's write transaction on the file (the
        thread then commits the records, waiting up to the busy timeout off the loop)."""
        if not self._lock.acquire(blocking=False):
            return False
        try:
            if not self._begin_now():
                return False
            self._commit(batch, inline=True, begun=True)
            return True
        finally:
            self._lock.release()

    def _begin_now(self) -> bool:
        """BEGIN IMMEDIATE without waiting for another connection's write lock."""
        assert self._conn is not None
        try:
            self._conn.execute("PRAGMA busy_timeout = 0")
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            finally:
                self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                if self._conn.in_transaction:  # (the timeout not restored: never seen)
                    self._conn.execute("ROLLBACK")
            return False
        return True

    def _commit(self, batch: list[_Job], *, inline: bool = False, begun: bool = False) -> None:
        """Run the batch in one transaction (records of every job inserted together); if it
        fails, run each job alone. `inline`: called on the jobs' event loop; `begun`: the
        transaction is open already (`_commit_inline`)."""
        assert self._conn is not None
        crowded = False
        with self._lock:
            try:
                if not begun:
                    self._conn.execute("BEGIN IMMEDIATE")
                if records := [r for job in batch for r in job.records]:
                    self.inbox += insert_records(self._conn, records)
                    self._backlog = True
                    self._uncounted += 1
                    if self._uncounted >= _RECOUNT_COMMITS:  # other workers fill it too
                        self.inbox = inbox_size(self._conn)
                        self._uncounted = 0
                    crowded = self.inbox > self._inbox_rows
                results = [job.op(self._conn) if job.op else None for job in batch]
                self._conn.execute("COMMIT")
                self.transactions += 1
                self.inline_transactions += inline
                self._last_commit = time.monotonic()  # answers come first: indexing waits
                self.committed.set()
                self._accepting()
            except Exception as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                if len(batch) > 1:
                    for job in batch:
                        self._commit([job], inline=inline)
                    return
                if isinstance(exc, sqlite3.Error):
                    self._refuse(exc)
                else:  # not the database's doing: a record it cannot take
                    log.warning("SQLite log write failed: %s", exc)
                results, error = [None], _as_store_error(exc)
            else:
                error = None
        # One wake-up per event loop for the whole batch, not one per job.
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Any, ...]]] = {}
        for job, result in zip(batch, results, strict=True):
            by_loop.setdefault(job.loop, []).append((job.future, result, error))
        for loop, settled in by_loop.items():
            if inline:
                _settle_all(settled)
            else:
                loop.call_soon_threadsafe(_settle_all, settled)
        if crowded:
            # Under sustained load too, so the inbox stays bounded: twice what came in, so it
            # shrinks, a little with every commit rather than a long pause now and then.
            self._index(max(2 * len(records), 64))

    def _index(self, limit: int) -> None:
        """Move one chunk of the inbox into `records` (its own transaction)."""
        assert self._conn is not None
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                moved = index_inbox(self._conn, limit)
                self._conn.execute("COMMIT")
                # Read after the commit: health must never report as indexed what another
                # connection cannot see yet.
                self.inbox = inbox_size(self._conn)
                self.committed.set()
            except sqlite3.Error as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                self._index_failures.warning(
                    "indexing the SQLite inbox failed (retried when idle): %s", exc)
                moved = 0
        self.indexed += moved
        self._backlog = moved == limit  # a full chunk: more may wait

    def index_chunk(self, conn: sqlite3.Connection) -> int:
        """`index_inbox` as a job: one chunk, inside the job's transaction."""
        moved = self._move(conn, INDEX_CHUNK)
        self.indexed += moved
        return moved

    def _move(self, conn: sqlite3.Connection, limit: int) -> int:
        moved = index_inbox(conn, limit)
        self.inbox = inbox_size(conn)
        return moved

    def _fail_all(self, error: StoreError) -> None:
        self._failed = error
        while True:
            jobs = self._queue.get()
            if jobs is None:
                return
            for job in jobs:
                job.loop.call_soon_threadsafe(_settle, job.future, None, error)


class _Checkpointer:
    """Copies the WAL back into the database file from a thread of its own, a short while
    after commits (so one fsync serves many), while the writer goes on (PASSIVE mode)."""

    def __init__(self, path: Path, committed: threading.Event) -> None:
        self._path = path
        self._wake = committed  # set by the writer after each commit
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="meetguard-sqlite-checkpoint")
        self.checkpoints = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            while True:
                self._wake.wait()
                self._wake.clear()  # before the pause: a commit or stop meanwhile sets it again
                if self._stopping:
                    return
                time.sleep(CHECKPOINT_DELAY)
                if self._stopping:
                    return
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                except sqlite3.Error as exc:  # another worker's checkpoint: next time
                    log.debug("WAL checkpoint skipped: %s", exc)
        finally:
            conn.close()


class _Readers:
    """Read-only connections, one per thread of a small pool."""

    def __init__(self, path: Path, size: int) -> None:
        self._uri = path.resolve().as_uri() + "?mode=ro"
        self._pool: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._all: list[sqlite3.Connection] = []
        self._executor = ThreadPoolExecutor(size, thread_name_prefix="meetguard-sqlite-read")
        self._size = size
        self._closed = False

    def open(self) -> None:
        for _ in range(self._size):
            conn = sqlite3.connect(self._uri, uri=True, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA cache_size = -16384")
            self._all.append(conn)
            self._pool.put(conn)

    async def run(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run `fn(conn)` on a pooled read-only connection, off the event loop."""
        if self._closed or not self._all:
            raise StoreError("store-closed", "the log store is not started (or closed)")
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._call, fn)

    def _call(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        conn = self._pool.get()
        try:
            return fn(conn)
        except sqlite3.Error as exc:
            raise StoreError("store-unavailable", f"SQLite read failed: {exc}") from exc
        finally:
            self._pool.put(conn)

    def close(self) -> None:
        self._closed = True
        self._executor.shutdown(wait=True)
        for conn in self._all:
            conn.close()
        self._all.clear()


class _ThreadedReader:
    """Chunks produced by `produce(conn)` in a thread of its own, on a read-only connection of
    its own, at most two chunks ahead of the consumer (an event-loop task)."""

    _END = object()

    def __init__(self, path: Path,
                 produce: Callable[[sqlite3.Connection], Iterator[Any]]) -> None:
        self._uri = path.resolve().as_uri() + "?mode=ro"
        self._produce = produce
        self._loop = asyncio.get_running_loop()
        self._chunks: asyncio.Queue[Any] = asyncio.Queue()
        self._slots = threading.Semaphore(2)
        self._stop = threading.Event()
        self._conn: sqlite3.Connection | None = None
        self._thread = threading.Thread(target=self._run, name="meetguard-sqlite-scan")
        self._thread.start()

    def _run(self) -> None:
        try:
            self._conn = sqlite3.connect(self._uri, uri=True, check_same_thread=False)
            try:
                self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                for chunk in self._produce(self._conn):
                    if not self._put(chunk):
                        return
            finally:
                self._conn.close()
        except sqlite3.Error as exc:  # (the consumer must always hear how it ended)
            self._put(StoreError("store-unavailable", f"SQLite read failed: {exc}"))
            return
        except Exception as exc:  # a bug in `produce`: raised as it is
            self._put(exc)
            return
        self._put(self._END)

    def _put(self, item: Any) -> bool:
        while not self._slots.acquire(timeout=0.1):
            if self._stop.is_set():
                return False
        try:
            self._loop.call_soon_threadsafe(self._chunks.put_nowait, item)
        except RuntimeError:  # the loop is closed: nobody is listening
            return False
        return True

    async def next(self) -> Any:
        """The next chunk; None at the end."""
        item = await self._chunks.get()
        self._slots.release()
        if isinstance(item, Exception):
            raise item
        return None if item is self._END else item

    async def close(self) -> None:
        """Stop the thread, interrupting a query in progress."""
        self._stop.set()
        conn = self._conn
        if conn is not None and self._thread.is_alive():
            with contextlib.suppress(sqlite3.Error):
                conn.interrupt()
        await asyncio.to_thread(self._thread.join)


class SQLiteLogStore(Lifecycle):
    """The audit log in one SQLite file (see the module docstring).

    `inline_commits`: commit records on the event loop (see `_Writer`); pass False when other
    processes write to the same file (`--workers`)."""

    def __init__(
        self,
        path: str | Path,
        *,
        retention_days: int = 180,
        synchronous: str = "NORMAL",
        readers: int = 2,
        inbox_rows: int = INBOX_ROWS,
        inline_commits: bool = True,
    ) -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError("synchronous must be 'NORMAL' or 'FULL'")
        self.path = Path(path)
        self.retention_days = retention_days
        self.synchronous = synchronous
        self._writer = _Writer(self.path, synchronous, inbox_rows, inline=inline_commits)
        self._checkpointer = _Checkpointer(self.path, self._writer.committed)
        self._readers = _Readers(self.path, readers)
        self._started = False

    async def start(self) -> None:
        """Create or migrate the schema, start the writer, open the readers."""
        try:
            await asyncio.to_thread(self._create_private)
        except OSError as exc:
            message = f"cannot create {self.path.parent}: {exc}"
            raise StoreError("store-unavailable", message) from exc
        self._writer.start()
        try:
            await self._writer.submit(migrate)
            self._checkpointer.start()
            await asyncio.to_thread(self._readers.open)
        except BaseException:
            await self.close()  # or the writer thread keeps the process from ever exiting
            raise
        self._started = True

    def _create_private(self) -> None:
        """The directory 0700 and the database file 0600 if new (SQLite gives its -wal and
        -shm files the database file's mode; left to itself it makes them 0644)."""
        make_private_dir(self.path.parent)
        create_private_file(self.path)

    async def close(self) -> None:
        """Commit everything queued, stop the writer, the checkpointer and the readers."""
        await self._writer.stop()
        await asyncio.to_thread(self._checkpointer.stop)
        await asyncio.to_thread(self._readers.close)
        self._started = False

    async def append(self, records: Sequence[LogRecord]) -> None:
        """Store records; returns after the transaction holding them has committed."""
        if records:
            for record in records:
                check_record(record)
            await self._writer.submit(None, list(records))

    async def index_inbox(self) -> int:
        """Move every row waiting in the inbox into the indexed table now (the writer does it
        by itself when idle); returns how many moved."""
        total = 0
        while (moved := await self._writer.submit(self._writer.index_chunk)) > 0:
            total += moved
        return total

    async def count(self, counters: Mapping[str, int], *, ts: float | None = None) -> None:
        """Add to the counters of verdicts not stored one by one (committed on return)."""
        counted = check_counters(counters)
        when = time.time() if ts is None else ts
        if counted:
            await self._writer.submit(lambda conn: add_counted(conn, counted, when))

    async def query(self, q: LogQuery) -> LogPage:
        """One page of matching records, newest first."""
        return await self._readers.run(lambda conn: read_page(conn, q))

    def export(self, q: LogQuery) -> AsyncIterator[LogRecord]:
        """Every matching record, newest first, in pages of 1,000 (one thread hop each)."""
        return export_by_pages(self._page, q, page_size=MAX_LIMIT)

    def export_encoded(self, q: LogQuery, encode: Callable[[Sequence[RecordRow]], bytes]
                       ) -> AsyncIterator[bytes]:
        """`encode` of every matching row, newest first, run in a thread of its own on pages
        of `EXPORT_PAGE` rows (see `RowExport`): no `LogRecord` is built, and the event loop
        only passes finished blocks on."""
        return self._scan(lambda conn: read_encoded(conn, q, encode))

    async def _page(self, q: LogQuery) -> LogPage:
        return await self._readers.run(lambda conn: read_page(conn, q))

    async def stats(self, since: float, until: float, bucket_seconds: int = HOUR) -> dict:
        """Aggregates from the counter tables (see `LogStore.stats`)."""
        start, end = check_stats_range(since, until, bucket_seconds)
        return await self._readers.run(lambda conn: read_stats(conn, start, end, bucket_seconds))

    async def people_counts(self, since: float, until: float, monday: int,
                            week: int) -> list[tuple[Any, ...]]:
        """The hygiene report's counts (see `read_people`), on a reader thread."""
        return await self._readers.run(lambda conn: read_people(conn, since, until, monday, week))

    async def purge(self, older_than: float) -> int:
        """Delete old records chunk by chunk (appends interleave), then old counters."""
        total = 0
        while (n := await self._writer.submit(lambda c: purge_chunk(c, older_than))) > 0:
            total += n
            if n < _PURGE_CHUNK:
                break
        await self._writer.submit(lambda conn: purge_counters(conn, older_than))
        return total

    def logged_targets(self, since: float, until: float) -> AsyncIterator[list[TargetVerdicts]]:
        """Distinct targets of the window (see `LogStore.logged_targets`), read by a thread
        of its own on a connection of its own: the GROUP BY holds it for seconds, and the
        query readers stay free for the console meanwhile."""
        return self._scan(lambda conn: read_targets(conn, since, until))

    async def _scan(self, produce: Callable[[sqlite3.Connection], Iterator[Any]]
                    ) -> AsyncIterator[Any]:
        """The chunks of `produce(conn)`, run by a `_ThreadedReader`."""
        if not self._started:
            raise StoreError("store-closed", "the log store is not started (or closed)")
        chunks = _ThreadedReader(self.path, produce)
        try:
            while (chunk := await chunks.next()) is not None:
                yield chunk
        finally:
            await chunks.close()

    async def records_with_targets(
        self, targets: Collection[str], since: float, until: float
    ) -> AsyncIterator[LogRecord]:
        """The re-checked records of the window with one of `targets` (oldest first)."""
        wanted = list(targets)
        for start in range(0, len(wanted), 10_000):
            some = wanted[start:start + 10_000]
            for record in await self._readers.run(
                    lambda conn, some=some: read_with_targets(conn, some, since, until)):
                yield record

    async def lease(self, name: str, owner: str, seconds: float) -> bool:
        """Take, renew or give up a named lease (a row of `leases`, shared by the workers)."""
        now = time.time()
        return await self._writer.submit(
            lambda conn: take_lease(conn, name, owner, seconds, now))

    async def run_retention(self, interval_s: float = 3600.0) -> None:
        """Purge records past `retention_days` every `interval_s` seconds, until cancelled."""
        await retention_loop(self.purge, self.retention_days, interval_s)

    def health(self) -> dict:
        """Writer state and queue depth."""
        return {
            "store": "sqlite",
            "path": str(self.path),
            "queue_depth": self._writer.depth(),
            "transactions": self._writer.transactions,
            "inline_transactions": self._writer.inline_transactions,
            "indexed": self._writer.indexed,
            "checkpoints": self._checkpointer.checkpoints,
            "inbox": self._writer.inbox,
            "spool_size": 0,
            "writer": "running" if self._writer.alive() else "stopped",
            "writes": "ok" if (why := self._writer.refusing) is None else f"refused: {why}",
            "persistence": f"wal, synchronous={self.synchronous}",
        }
