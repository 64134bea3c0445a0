"""SQLiteLogStore beyond the contract: durability on return, group commit, schema, failures."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest

from meetguard.store.base import LogQuery, LogRecord, StoreError
from meetguard.store.sqlite import MIGRATIONS, SQLiteLogStore


def records(n: int, *, ts: float | None = None, client: str = "pc-1") -> list[LogRecord]:
    now = time.time() if ts is None else ts
    return [
        LogRecord.new("link", client, ts=now - i, verdict_class="warned", host="zoom.us")
        for i in range(n)
    ]


def rows_seen_by_a_fresh_connection(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM all_records")}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteLogStore]:
    log_store = SQLiteLogStore(tmp_path / "data" / "log.db")
    await log_store.start()
    yield log_store
    await log_store.close()


async def test_records_are_committed_when_append_returns(store: SQLiteLogStore) -> None:
    batch = records(20)
    await store.append(batch)
    assert rows_seen_by_a_fresh_connection(store.path) == {r.id for r in batch}


@pytest.mark.parametrize("synchronous", ["NORMAL", "FULL"])
async def test_concurrent_appends_share_transactions(tmp_path: Path, synchronous: str) -> None:
    store = SQLiteLogStore(tmp_path / "log.db", synchronous=synchronous)
    await store.start()
    try:
        batch = records(64)
        before = store.health()["transactions"]
        await asyncio.gather(*(store.append([r]) for r in batch))
        assert rows_seen_by_a_fresh_connection(store.path) == {r.id for r in batch}
        assert store.health()["transactions"] - before < 64  # group commit
    finally:
        await store.close()


async def test_handlers_of_one_round_share_one_commit(store: SQLiteLogStore) -> None:
    """Requests read together reach `append` a few loop rounds apart (after reading their
    bodies): their records still go out in one transaction, which is what keeps the writer's
    cost per verdict low."""
    batch = records(16)

    async def handler(i: int) -> None:
        for _ in range(i % 4):  # reading the body: a round of the loop, a system call
            time.sleep(0.002)  # noqa: ASYNC251 (lets the writer thread run, as socket reads do)
            await asyncio.sleep(0)
        await store.append([batch[i]])

    before = store.health()["transactions"]
    await asyncio.gather(*(handler(i) for i in range(16)))
    assert store.health()["transactions"] - before == 1
    assert rows_seen_by_a_fresh_connection(store.path) == {r.id for r in batch}


async def test_a_loop_that_never_runs_dry_still_commits(store: SQLiteLogStore) -> None:
    spinning = True

    async def spin() -> None:
        while spinning:  # noqa: ASYNC110 (busy on purpose: the loop's run queue never empties)
            await asyncio.sleep(0)

    spinner = asyncio.create_task(spin())
    try:
        batch = records(3)
        await asyncio.wait_for(store.append(batch), timeout=5)
        assert rows_seen_by_a_fresh_connection(store.path) == {r.id for r in batch}
    finally:
        spinning = False
        await spinner


async def test_small_rounds_commit_on_the_event_loop_and_the_rest_in_the_thread(
    tmp_path: Path,
) -> None:
    """One process without fsync per commit: a round of a few records commits on the loop (no
    thread hand-off); a big round, FULL synchronous, or several processes (--workers) use the
    writer thread, so the loop never waits on a disk or on another process's transaction."""
    cases = [({}, 5, 1), ({}, 5_000, 0), ({"synchronous": "FULL"}, 5, 0),
             ({"inline_commits": False}, 5, 0)]
    for i, (options, count, inline) in enumerate(cases):
        store = SQLiteLogStore(tmp_path / f"log-{i}.db", **options)
        await store.start()
        try:
            before = store.health()
            batch = records(count)
            await store.append(batch)
            assert len(rows_seen_by_a_fresh_connection(store.path)) == count
            after = store.health()
            assert after["transactions"] - before["transactions"] == 1, options
            assert after["inline_transactions"] - before["inline_transactions"] == inline, (
                options, count)
        finally:
            await store.close()


async def test_inline_commits_wait_for_the_threads_transaction(store: SQLiteLogStore) -> None:
    """An operation in the writer thread (here: moving the inbox) and commits on the loop take
    turns on the one connection: every record lands once, none is lost."""
    first = records(3000, ts=time.time() - 100)
    await store.append(first)
    moving = asyncio.create_task(store.index_inbox())
    later = [records(4, ts=time.time() + i) for i in range(50)]
    for batch in later:
        await store.append(batch)
        await asyncio.sleep(0)
    assert await moving >= len(first)
    expected = {r.id for r in first} | {r.id for batch in later for r in batch}
    assert rows_seen_by_a_fresh_connection(store.path) == expected
    assert sum(table_counts(store.path)) == len(expected)


async def test_every_burst_is_indexed_once_the_service_is_idle(store: SQLiteLogStore) -> None:
    """Inline commits do not pass through the writer thread's queue: it must still notice the
    inbox filling, burst after burst, and index it when appends stop."""
    for burst in range(3):
        for _ in range(5):
            await store.append(records(4, client=f"pc-{burst}"))
        assert store.health()["inbox"] > 0
        deadline = time.monotonic() + 10
        while store.health()["inbox"] > 0 and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)  # (polls the writer thread, which has no event to await)
        assert table_counts(store.path) == (0, 20 * (burst + 1)), burst


async def test_close_commits_what_is_queued(tmp_path: Path) -> None:
    store = SQLiteLogStore(tmp_path / "log.db")
    await store.start()
    batch = records(200)
    appends = [asyncio.create_task(store.append([r])) for r in batch]
    await asyncio.sleep(0)  # every task has queued its record
    await store.close()
    await asyncio.gather(*appends)
    assert rows_seen_by_a_fresh_connection(store.path) == {r.id for r in batch}


async def test_a_bad_record_fails_alone(store: SQLiteLogStore) -> None:
    good = records(10)
    bad = LogRecord.new("link", "pc-1", detail={"not json": object()})
    results = await asyncio.gather(
        *(store.append([r]) for r in good[:5]),
        store.append([bad]),
        *(store.append([r]) for r in good[5:]),
        return_exceptions=True,
    )
    assert isinstance(results[5], StoreError)
    assert results[5].code == "invalid-record"
    assert rows_seen_by_a_fresh_connection(store.path) == {r.id for r in good}


async def test_reopening_keeps_records_and_schema(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    batch = records(5)
    async with SQLiteLogStore(path) as store:
        await store.append(batch)
    async with SQLiteLogStore(path) as store:
        assert len((await store.query(LogQuery())).items) == 5
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(len(MIGRATIONS),)]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO schema_version VALUES (99)")
    store = SQLiteLogStore(path)
    with pytest.raises(StoreError, match="newer"):
        await store.start()
    await store.close()


@pytest.mark.parametrize("where", ["under-a-file", "a-directory"])
async def test_an_unusable_path_fails_start_and_close_still_works(
    tmp_path: Path, where: str
) -> None:
    (tmp_path / "file").write_text("not a directory")
    (tmp_path / "dir").mkdir()
    path = tmp_path / "file" / "log.db" if where == "under-a-file" else tmp_path / "dir"
    store = SQLiteLogStore(path)
    with pytest.raises(StoreError) as err:
        await store.start()
    assert err.value.code == "store-unavailable"
    await store.close()


async def test_a_failed_start_leaves_no_writer_thread_behind(tmp_path: Path) -> None:
    # A live non-daemon thread would keep the process from exiting: a worker that never serves.
    (tmp_path / "dir").mkdir()
    with pytest.raises(StoreError):
        await SQLiteLogStore(tmp_path / "dir").start()
    assert "meetguard-sqlite-writer" not in [t.name for t in threading.enumerate()]


async def test_purge_works_in_chunks(store: SQLiteLogStore) -> None:
    now = time.time()
    old = records(12_000, ts=now - 200 * 86_400)
    new = records(10, ts=now)
    for i in range(0, len(old), 4000):
        await store.append(old[i : i + 4000])
    await store.append(new)
    assert await store.purge(now - 100 * 86_400) == len(old)
    assert rows_seen_by_a_fresh_connection(store.path) == {r.id for r in new}


async def test_retention_job_purges_past_the_retention(tmp_path: Path) -> None:
    async with SQLiteLogStore(tmp_path / "log.db", retention_days=30) as store:
        now = time.time()
        await store.append(records(3, ts=now - 31 * 86_400) + records(2, ts=now))
        job = asyncio.create_task(store.run_retention(interval_s=3600))
        for _ in range(100):
            if len(rows_seen_by_a_fresh_connection(store.path)) == 2:
                break
            await asyncio.sleep(0.02)
        job.cancel()
        with pytest.raises(asyncio.CancelledError):
            await job
        assert len(rows_seen_by_a_fresh_connection(store.path)) == 2


async def test_the_event_loop_keeps_running_during_big_writes(store: SQLiteLogStore) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    task = asyncio.create_task(ticker())
    started = time.monotonic()
    await store.append(records(20_000))
    elapsed = time.monotonic() - started
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ticks >= min(5, elapsed / 0.005 / 4)  # the loop ran while the writer worked


# -- the inbox: records wait there with only ordered indexes, then move to the indexed table --


def table_counts(path: Path) -> tuple[int, int]:
    with closing(sqlite3.connect(path)) as conn:
        inbox = conn.execute("SELECT count(*) FROM inbox").fetchone()[0]
        indexed = conn.execute("SELECT count(*) FROM records").fetchone()[0]
        return inbox, indexed


def mixed_records(n: int) -> list[LogRecord]:
    """Records over two days with several hosts, classes and codes (stats have work to do)."""
    now = time.time()
    hosts = ["zoom.us", "us02web.zoom.us", "teams.microsoft.com", "evil.example", None]
    return [
        LogRecord.new("link", f"pc-{i % 7}", ts=now - i * 97.0, verdict_class=cls,
                      action="warn" if cls == "warned" else "allow", host=hosts[i % 5],
                      platform="zoom" if i % 5 < 2 else None, context="click",
                      codes=("warned-platform", "secret-in-link", "warned-platform")[: i % 4])
        for i in range(n)
        for cls in (("warned", "approved", "unknown")[i % 3],)
    ]  # fmt: skip


async def test_queries_and_stats_are_the_same_before_and_after_indexing(
    store: SQLiteLogStore,
) -> None:
    batch = mixed_records(600)
    await store.append(batch[:300])
    assert await store.index_inbox() == 300
    await store.append(batch[300:])
    assert table_counts(store.path) == (300, 300)  # half waits in the inbox, half is indexed
    assert store.health()["inbox"] == 300
    now = time.time()
    queries = [LogQuery(limit=50), LogQuery(host="zoom.us", limit=7),
               LogQuery(verdict_class="warned", client="pc-3"), LogQuery(code="secret-in-link")]
    before = [await every_page(store, q) for q in queries]
    stats_before = await store.stats(now - 3 * 86_400, now + 3600)
    assert await store.index_inbox() == 300
    assert table_counts(store.path) == (0, 600)
    assert store.health()["inbox"] == 0
    assert [await every_page(store, q) for q in queries] == before
    assert await store.stats(now - 3 * 86_400, now + 3600) == stats_before
    assert before[0] == sorted(batch, key=lambda r: (r.ts, r.id), reverse=True)
    assert stats_before["totals"]["class"] == {"approved": 200, "warned": 200, "unknown": 200}


async def every_page(store: SQLiteLogStore, q: LogQuery) -> list[LogRecord]:
    items: list[LogRecord] = []
    while True:
        page = await store.query(q)
        items += page.items
        if page.next_cursor is None:
            return items
        q = q.next_page(page.next_cursor)


async def test_an_idle_writer_indexes_the_inbox_by_itself(store: SQLiteLogStore) -> None:
    await store.append(records(50))
    for _ in range(200):
        if table_counts(store.path) == (0, 50):
            break
        await asyncio.sleep(0.02)
    assert table_counts(store.path) == (0, 50)
    assert store.health()["indexed"] == 50


async def test_an_appended_id_already_indexed_is_not_stored_twice(store: SQLiteLogStore) -> None:
    batch = records(5)
    await store.append(batch)
    await store.index_inbox()
    await store.append(batch)
    assert table_counts(store.path) == (0, 5)
    stats = await store.stats(time.time() - 3600, time.time() + 1)
    assert stats["totals"]["class"]["warned"] == 5


async def test_a_full_inbox_is_indexed_under_load_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("meetguard.store.sqlite.IDLE_SECONDS", 60.0)  # never idle in this test
    async with SQLiteLogStore(tmp_path / "log.db", inbox_rows=100) as store:
        for _ in range(10):
            await store.append(records(100))
        inbox, indexed = table_counts(store.path)
    assert inbox <= 200 and inbox + indexed == 1000


def test_a_page_query_merges_the_two_tables_without_sorting(tmp_path: Path) -> None:
    from meetguard.store.sqlite import build_query, connect_writer, migrate

    with closing(connect_writer(tmp_path / "log.db")) as conn:
        migrate(conn)
        sql, params = build_query(LogQuery(since=0.0, limit=10))
        plan = " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    assert "MERGE" in plan and "TEMP B-TREE" not in plan, plan


@pytest.mark.parametrize("spread", [0.0, 0.0004, 30.0], ids=["same-ms", "within-ms", "spread"])
async def test_records_appended_again_are_found_in_either_table(
    store: SQLiteLogStore, tmp_path: Path, spread: float
) -> None:
    """A batch made in one moment is looked for by its time span, one spread over time by id:
    either way a record already waiting in the inbox, or already indexed, is not stored twice."""
    now = time.time()
    batch = [LogRecord.new("link", "pc-1", ts=now - spread * i / 8, verdict_class="unknown")
             for i in range(8)]
    await store.append(batch[:4])
    await store.index_inbox()  # the first half indexed, the second half waits in the inbox
    await store.append(batch[4:])
    await store.append([*batch, batch[0]])
    await store.append([batch[7], batch[0]])
    assert table_counts(tmp_path / "data" / "log.db") == (4, 4)
    items = (await store.query(LogQuery())).items
    assert sorted(r.id for r in items) == sorted(r.id for r in batch)
    assert (await store.stats(now - 3600, now + 3600))["totals"]["kind"]["link"] == 8


async def test_a_version_2_file_is_migrated_and_keeps_its_records(tmp_path: Path) -> None:
    from meetguard.store.sqlite import _row_of

    path = tmp_path / "log.db"
    old = records(3)
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for statements in MIGRATIONS[:2]:
            for statement in statements:
                conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (2)")
        # the version-2 insert, as released
        old_insert = ("INSERT INTO records VALUES"
                      " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        conn.executemany(old_insert, [_row_of(r) for r in old])
    async with SQLiteLogStore(path) as store:
        new = records(2, ts=time.time() + 10)
        await store.append(new + old)  # the old ids are known: not stored again
        assert (await store.query(LogQuery())).items == new + old
        assert table_counts(path) == (2, 3)


async def test_the_wal_is_copied_into_the_database_file_after_commits(
    store: SQLiteLogStore, tmp_path: Path
) -> None:
    batch = records(300)
    await store.append(batch)
    for _ in range(200):
        if store.health()["checkpoints"] > 0:
            break
        await asyncio.sleep(0.01)
    # The database file alone, without its WAL, holds every committed record.
    copy = tmp_path / "copy.db"
    shutil.copyfile(store.path, copy)
    with closing(sqlite3.connect(copy)) as conn:
        assert conn.execute("SELECT count(*) FROM inbox").fetchone()[0] == len(batch)
