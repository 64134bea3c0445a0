"""The LogStore contract, run against SQLite, Redis and a three-node Redis Cluster (real ones)."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import pytest

from meetguard.store.base import LogQuery, LogRecord, LogStore, StoreError, new_record_id

T0 = (time.time() // 86_400 - 2) * 86_400  # midnight UTC two days ago: inside the retention
MINUTE = 60.0

# minute, kind, client, context, class, action, platform, host, event, codes
SAMPLES: list[tuple[Any, ...]] = [
    (1, "link", "pc-1", "click", "approved", "allow", "emeeting", "emeeting.mic.gov.vn", None,
     ("approved-platform",)),
    (2, "link", "pc-1", "click", "warned", "warn", "zoom", "us02web.zoom.us", None,
     ("warned-platform", "secret-in-link")),
    (3, "link", "pc-2", "hover", "warned", "warn", "zoom", "zoom.us", None, ("warned-platform",)),
    (4, "link", "pc-2", "navigation", "unknown", "block", None, "zoom.us.evil.example", None,
     ("impersonation", "deceptive-url")),
    (5, "link", "pc-3", "click", "unknown", "warn", None, "notzoom.us", None, ("impersonation",)),
    (6, "file", "pc-3", "download", "unknown", "block", None, "files.example.net", None,
     ("dangerous-file-type",)),
    (7, "event", "pc-1", "click", "warned", "warn", "zoom", "us02web.zoom.us", "override", ()),
    (8, "event", "pc-3", "download", None, None, None, "files.example.net", "download-removed", ()),
    (9, "event", "soc-api", "api", None, None, None, None, "unverifiable", ()),
    (70, "link", "pc-2", "hover", "approved", "allow", "vmeet", "vmeet.moj.gov.vn", None, ()),
    (130, "link", "pc-1", "click", "warned", "warn", "teams", "teams.microsoft.com", None,
     ("warned-platform",)),
    (131, "event", "pc-2", "download", None, None, None, "cdn.example.net", "download-blocked", ()),
]  # fmt: skip


def sample(minute: int, kind: str, client: str, context: str | None, cls: str | None,
           action: str | None, platform: str | None, host: str | None, event: str | None,
           codes: tuple[str, ...]) -> LogRecord:  # fmt: skip
    ts = T0 + minute * MINUTE
    return LogRecord(
        id=new_record_id(ts), ts=ts, kind=kind, client=client, user=f"user-{client}",
        context=context, verdict_class=cls, action=action, platform=platform, host=host,
        target=f"https://{host}/j/[redacted]" if host else None, codes=codes,
        rules=("url_zoom_lookalike",) if "impersonation" in codes else (),
        policy_version="sha256:abc", event=event, sha256="ab" * 32 if kind == "file" else None,
        detail={"filename": "invite.pdf.exe", "size": 1234} if kind == "file" else {},
    )  # fmt: skip


def samples() -> list[LogRecord]:
    return [sample(*row) for row in SAMPLES]


def minutes(records: list[LogRecord]) -> list[int]:
    return [round((r.ts - T0) / MINUTE) for r in records]


def newest_first(records: list[LogRecord]) -> list[LogRecord]:
    return sorted(records, key=lambda r: (r.ts, r.id), reverse=True)


async def all_pages(store: LogStore, q: LogQuery) -> list[list[LogRecord]]:
    pages = []
    while True:
        page = await store.query(q)
        pages.append(page.items)
        if page.next_cursor is None:
            return pages
        q = q.next_page(page.next_cursor)


async def test_append_then_query_returns_the_same_record(store: LogStore) -> None:
    record = samples()[5]
    await store.append([record])
    page = await store.query(LogQuery())
    assert page.items == [record]
    assert page.next_cursor is None
    assert page.items[0].detail == {"filename": "invite.pdf.exe", "size": 1234}


FILTERS = [
    ({}, [131, 130, 70, 9, 8, 7, 6, 5, 4, 3, 2, 1]),
    ({"verdict_class": "warned"}, [130, 7, 3, 2]),
    ({"action": "block"}, [6, 4]),
    ({"platform": "zoom"}, [7, 3, 2]),
    ({"client": "pc-3"}, [8, 6, 5]),
    ({"kind": "event"}, [131, 9, 8, 7]),
    ({"context": "download"}, [131, 8, 6]),
    ({"event": "override"}, [7]),
    ({"since": T0 + 7 * MINUTE}, [131, 130, 70, 9, 8, 7]),
    ({"until": T0 + 7 * MINUTE}, [6, 5, 4, 3, 2, 1]),
    ({"since": T0 + 3 * MINUTE, "until": T0 + 70 * MINUTE}, [9, 8, 7, 6, 5, 4, 3]),
    ({"kind": "link", "action": "warn", "client": "pc-1"}, [130, 2]),
    ({"platform": "zoom", "context": "hover"}, [3]),
    ({"verdict_class": "approved", "action": "block"}, []),
    ({"client": "nobody"}, []),
    # The commonest values (Redis keeps no index of them: it walks the time index)
    ({"verdict_class": "unknown"}, [6, 5, 4]),
    ({"action": "allow"}, [70, 1]),
    ({"action": "allow", "client": "pc-2"}, [70]),
]


def filter_id(filters: dict) -> str:
    """A stable test id: times shown as minutes after T0."""
    return ",".join(
        f"{k}=T0+{round((v - T0) / MINUTE)}m" if k in ("since", "until") else f"{k}={v}"
        for k, v in filters.items()
    ) or "none"


@pytest.mark.parametrize(("filters", "expected"), FILTERS, ids=[filter_id(f) for f, _ in FILTERS])
async def test_every_filter(store: LogStore, filters: dict, expected: list[int]) -> None:
    await store.append(samples())
    page = await store.query(LogQuery(**filters))
    assert minutes(page.items) == expected


HOSTS = [
    ("zoom.us", [7, 3, 2]),  # the host and its subdomains, not zoom.us.evil.example or notzoom.us
    ("ZOOM.us.", [7, 3, 2]),
    ("us02web.zoom.us", [7, 2]),
    ("example.net", [131, 8, 6]),
    ("gov.vn", [70, 1]),
    ("evil.example", [4]),
    ("oom.us", []),
]


@pytest.mark.parametrize(("host", "expected"), HOSTS, ids=[h for h, _ in HOSTS])
async def test_host_matches_the_host_and_its_subdomains(
    store: LogStore, host: str, expected: list[int]
) -> None:
    await store.append(samples())
    page = await store.query(LogQuery(host=host))
    assert minutes(page.items) == expected


def many_records(n: int, *, ties: int = 0, seed: int = 7) -> list[LogRecord]:
    """`n` records over a day; the first `ties` share one timestamp (ordered by id then)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        ts = T0 + 4000.5 if i < ties else T0 + rng.uniform(0, 86_400)
        record = LogRecord(
            id=new_record_id(ts),
            ts=ts,
            kind=rng.choice(["link", "link", "file", "event"]),
            client=f"pc-{i % 5}",
            context="click",
            verdict_class=rng.choice(["warned", "unknown"]),
            action="warn",
            host=rng.choice(["zoom.us", "a.zoom.us", "example.org"]),
        )
        out.append(record)
    return out


@pytest.mark.parametrize(
    ("filters", "limit"), [({}, 7), ({"kind": "link"}, 10), ({"host": "zoom.us"}, 13)]
)
async def test_cursor_pages_have_no_gaps_and_no_duplicates(
    store: LogStore, filters: dict, limit: int
) -> None:
    records = many_records(250, ties=30)
    await store.append(records)
    q = LogQuery(limit=limit, **filters)
    pages = await all_pages(store, q)
    expected = newest_first([r for r in records if q.matches(r)])
    assert [r for page in pages for r in page] == expected
    assert all(len(page) == limit for page in pages[:-1])
    assert 0 < len(pages[-1]) <= limit


def one_millisecond(n: int) -> list[LogRecord]:
    """`n` records inside one millisecond whose ids run against their times (the id's time
    part is the millisecond; the random part ascends while `ts` descends), and one record in
    each neighbouring millisecond."""
    base = T0 + 5000.0
    ids = sorted(new_record_id(base + 0.0005) for _ in range(n))
    out = [LogRecord(id=rid, ts=base + 0.0009 - i * 0.0001, kind="link", client="pc-1",
                     context="click", verdict_class="warned", action="warn", host="zoom.us")
           for i, rid in enumerate(ids)]  # fmt: skip
    for ts in (base - 0.0005, base + 0.0015):
        out.append(out[0]._replace(id=new_record_id(ts), ts=ts))
    return out


@pytest.mark.parametrize("limit", [1, 2, 3, 100])
async def test_order_and_bounds_hold_inside_one_millisecond(store: LogStore, limit: int) -> None:
    records = one_millisecond(6)
    await store.append(records)
    assert [r for page in await all_pages(store, LogQuery(limit=limit)) for r in page] == \
        newest_first(records)
    inner = newest_first(records[:6])
    q = LogQuery(since=inner[3].ts, until=inner[0].ts, limit=limit, host="zoom.us")
    assert [r for page in await all_pages(store, q) for r in page] == inner[1:4]


async def test_export_streams_every_matching_record_newest_first(store: LogStore) -> None:
    records = many_records(1200)
    for i in range(0, len(records), 100):
        await store.append(records[i : i + 100])
    exported = [r async for r in store.export(LogQuery(limit=5))]
    assert exported == newest_first(records)
    q = LogQuery(kind="file", host="zoom.us")
    assert [r async for r in store.export(q)] == newest_first([r for r in records if q.matches(r)])


async def test_stats_totals_equal_what_was_written(store: LogStore) -> None:
    await store.append(samples())
    await store.count({"hover:allow:approved": 5, "hover:allow:warned:zoom": 2}, ts=T0 + 600)
    stats = await store.stats(T0, T0 + 3 * 3600)
    assert stats["totals"] == {
        "class": {"approved": 7, "warned": 6, "unknown": 3},
        "action": {"allow": 9, "warn": 5, "block": 2},
        "kind": {"link": 14, "file": 1, "event": 4},
    }
    assert [b["ts"] for b in stats["buckets"]] == [T0, T0 + 3600, T0 + 7200]
    assert [b["class"] for b in stats["buckets"]] == [
        {"approved": 6, "warned": 5, "unknown": 3},
        {"approved": 1, "warned": 0, "unknown": 0},
        {"approved": 0, "warned": 1, "unknown": 0},
    ]
    assert stats["buckets"][0]["action"] == {"allow": 8, "warn": 4, "block": 2}
    assert (stats["overrides"], stats["blocked_downloads"]) == (1, 2)
    assert (stats["impersonation"], stats["hover_allow"]) == (2, 8)
    assert stats["top_platforms"] == [
        {"platform": "zoom", "count": 5},
        {"platform": "emeeting", "count": 1},
        {"platform": "teams", "count": 1},
        {"platform": "vmeet", "count": 1},
    ]
    assert stats["top_hosts"][0] == {"host": "us02web.zoom.us", "class": "warned", "count": 2}
    assert sum(h["count"] for h in stats["top_hosts"]) == 11


async def test_stats_by_day_and_outside_the_range(store: LogStore) -> None:
    await store.append(samples())
    day = await store.stats(T0, T0 + 86_400, bucket_seconds=86_400)
    assert len(day["buckets"]) == 1
    assert day["buckets"][0]["class"] == day["totals"]["class"]
    later = await store.stats(T0 + 3 * 3600, T0 + 5 * 3600)
    assert later["totals"]["kind"] == {"link": 0, "file": 0, "event": 0}
    assert later["top_hosts"] == [] or later["top_hosts"][0]["count"] > 0  # same day: hosts stay


async def test_purge_deletes_records_older_than_the_cutoff(store: LogStore) -> None:
    old = [sample(m - 3 * 24 * 60, *row) for m, *row in SAMPLES]
    new = samples()
    await store.append(old + new)
    assert await store.purge(T0) == len(old)
    assert (await store.query(LogQuery(limit=1000))).items == newest_first(new)
    assert minutes((await store.query(LogQuery(client="pc-3"))).items) == [8, 6, 5]
    assert await store.purge(T0) == 0


async def test_appending_the_same_ids_again_changes_nothing(store: LogStore) -> None:
    records = samples()
    await store.append(records)
    await store.append(records)
    await store.append([records[0], records[0]])
    await asyncio.gather(*(store.append([r]) for r in records))
    assert (await store.query(LogQuery())).items == newest_first(records)
    stats = await store.stats(T0, T0 + 3 * 3600)
    assert stats["totals"]["kind"] == {"link": 7, "file": 1, "event": 4}


async def test_a_batch_of_stored_and_new_ids_stores_and_counts_each_once(
    store: LogStore,
) -> None:
    records = samples()
    await store.append(records[::3])
    await store.append(records)  # a spool replayed after a write that had in fact landed
    assert (await store.query(LogQuery())).items == newest_first(records)
    stats = await store.stats(T0, T0 + 3 * 3600)
    assert stats["totals"] == {
        "class": {"approved": 2, "warned": 4, "unknown": 3},
        "action": {"allow": 2, "warn": 5, "block": 2},
        "kind": {"link": 7, "file": 1, "event": 4},
    }
    assert sum(h["count"] for h in stats["top_hosts"]) == 11


async def test_concurrent_appends_are_all_stored(store: LogStore) -> None:
    records = many_records(640)
    await asyncio.gather(*(store.append(records[i : i + 10]) for i in range(0, 640, 10)))
    assert [r async for r in store.export(LogQuery())] == newest_first(records)


async def test_counters_add_up_and_bad_keys_are_refused(store: LogStore) -> None:
    await store.count({"hover:allow:approved": 3}, ts=T0)
    await store.count({"hover:allow:approved": 4, "click:allow:approved:vmeet": 1}, ts=T0 + 60)
    stats = await store.stats(T0, T0 + 3600)
    assert stats["hover_allow"] == 7
    assert stats["totals"]["class"]["approved"] == 8
    assert stats["top_platforms"] == [{"platform": "vmeet", "count": 1}]
    for bad in ({"hover-allow": 1}, {"hover:allow:approved": -1}, {"a:b:c:d:e": 1}):
        with pytest.raises(StoreError) as err:
            await store.count(bad)
        assert err.value.code == "invalid-counter"


async def test_bad_stats_ranges_are_refused(store: LogStore) -> None:
    for since, until, bucket in ((T0, T0 + 3600, 600), (T0 + 10, T0, 3600)):
        with pytest.raises(StoreError) as err:
            await store.stats(since, until, bucket)
        assert err.value.code == "invalid-query"


async def test_health_reports_the_store(store: LogStore) -> None:
    assert isinstance(store, LogStore)
    health = store.health()
    assert health["store"] in ("sqlite", "redis", "redis-cluster")
    assert health["spool_size"] == 0
    assert "queue_depth" in health
    assert "persistence" in health


async def test_closed_store_refuses_appends(make_store: Any) -> None:
    store = make_store()
    await store.start()
    await store.close()
    with pytest.raises(StoreError) as err:
        await store.append(samples())
    assert err.value.code == "store-closed"
    with pytest.raises(StoreError) as err:
        await store.query(LogQuery())
    assert err.value.code == "store-closed"


BAD_RECORDS = [
    ("id", {"id": "1234"}),
    ("ts", {"ts": float("nan")}),
    ("kind", {"kind": "visit"}),
    ("client", {"client": ""}),
]


@pytest.mark.parametrize(("field", "change"), BAD_RECORDS, ids=[f for f, _ in BAD_RECORDS])
async def test_malformed_records_are_refused(store: LogStore, field: str, change: dict) -> None:
    record = samples()[0]._replace(**change)
    with pytest.raises(StoreError) as err:
        await store.append([record])
    assert err.value.code == "invalid-record"
    assert field in str(err.value)


async def test_a_record_that_cannot_be_serialised_fails_alone(store: LogStore) -> None:
    good = samples()
    bad = LogRecord.new("link", "pc-1", detail={"not json": object()})
    results = await asyncio.gather(
        store.append(good[:6]), store.append([bad]), store.append(good[6:]), return_exceptions=True
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], StoreError)
    assert results[1].code == "invalid-record"
    assert (await store.query(LogQuery())).items == newest_first(good)


async def test_code_and_user_filters(store: LogStore) -> None:
    now = time.time()
    records = [
        LogRecord.new("link", "pc-1", ts=now - 3, user="lan", codes=("unknown-origin",
                                                                      "impersonation")),
        LogRecord.new("link", "pc-1", ts=now - 2, user="minh", codes=("warned-platform",)),
        LogRecord.new("link", "pc-2", ts=now - 1, user="lan", codes=("impersonation",)),
    ]
    await store.append(records)
    hits = await store.query(LogQuery(code="impersonation"))
    assert [r.id for r in hits.items] == [records[2].id, records[0].id]
    lan = await store.query(LogQuery(user="lan", client="pc-1"))
    assert [r.id for r in lan.items] == [records[0].id]
    with pytest.raises(StoreError):
        LogQuery(code="impersonation%")


# -- what a retro-hunt reads: distinct targets of a window, their records, and a lease ----------


def hunted(minute: int, client: str, target: str | None, action: str = "allow",
           codes: tuple[str, ...] = ("unknown-origin",), kind: str = "link") -> LogRecord:
    ts = T0 + minute * MINUTE
    return LogRecord(id=new_record_id(ts), ts=ts, kind=kind, client=client, user=f"u-{client}",
                     context="click", verdict_class="unknown", action=action,
                     host="x.example", target=target, codes=codes, policy_version="v1")


def hunt_log() -> list[LogRecord]:
    return [
        hunted(1, "pc-1", "https://b.example/"),
        hunted(2, "pc-2", "https://b.example/"),
        hunted(3, "pc-3", "https://b.example/", "block", ("known-bad",)),
        hunted(4, "pc-1", "https://a.example/x?pwd=REDACTED"),
        hunted(5, "pc-2", None),  # no target: nothing to re-check
        hunted(6, "pc-3", "https://c.example/", kind="event"),
        hunted(7, "retrohunt", "https://b.example/", "block", ("known-bad",), kind="retro"),
        hunted(90, "pc-4", "https://d.example/"),  # outside the window below
    ]


async def test_logged_targets_are_distinct_verdicts_in_target_order(store: LogStore) -> None:
    await store.append(hunt_log())
    chunks = [c async for c in store.logged_targets(T0, T0 + 60 * MINUTE)]
    assert all(chunks)
    assert [tuple(t) for chunk in chunks for t in chunk] == [
        ("https://a.example/x?pwd=REDACTED", "allow", ("unknown-origin",), 1),
        ("https://b.example/", "allow", ("unknown-origin",), 2),
        ("https://b.example/", "block", ("known-bad",), 1),
        ("https://c.example/", "allow", ("unknown-origin",), 1),
    ]
    assert [c async for c in store.logged_targets(T0 + 100 * MINUTE, T0 + 200 * MINUTE)] == []


async def test_logged_targets_come_in_chunks_covering_every_target(store: LogStore) -> None:
    records = [hunted(i % 50, f"pc-{i % 7}", f"https://t{i % 2500:04}.example/")
               for i in range(5000)]
    await store.append(records)
    chunks = [c async for c in store.logged_targets(T0, T0 + 60 * MINUTE)]
    targets = [t.target for chunk in chunks for t in chunk]
    assert targets == sorted({r.target for r in records if r.target})
    assert sum(t.records for chunk in chunks for t in chunk) == 5000
    assert len(chunks) >= 2


async def test_records_with_targets_are_the_re_checked_records_of_the_window(
    store: LogStore,
) -> None:
    log = hunt_log()
    await store.append(log)
    found = [r async for r in store.records_with_targets(
        ["https://b.example/", "https://d.example/"], T0, T0 + 60 * MINUTE)]
    assert sorted(r.id for r in found) == sorted(r.id for r in log[:3])
    assert [r async for r in store.records_with_targets([], T0, T0 + 60 * MINUTE)] == []


async def test_a_lease_has_one_owner_until_given_up_or_expired(store: LogStore) -> None:
    assert await store.lease("retrohunt", "a", 30)
    assert not await store.lease("retrohunt", "b", 30)
    assert await store.lease("retrohunt", "a", 30)  # renewed
    assert await store.lease("other", "b", 30)  # leases are by name
    assert await store.lease("retrohunt", "b", 0)  # giving up what b does not hold: no-op
    assert not await store.lease("retrohunt", "b", 30)
    assert await store.lease("retrohunt", "a", 0)
    assert await store.lease("retrohunt", "b", 0.2)
    await asyncio.sleep(0.3)
    assert await store.lease("retrohunt", "a", 30)  # b's expired
