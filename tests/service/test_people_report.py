"""The hygiene report against a log seeded with known counts: SQLite (one aggregate query) and
Redis (filtered exports) give the same answer, and each count is its log filter's row count."""

from __future__ import annotations

import csv
import io
import time
import uuid
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from tests.support.service import admin_headers, client_headers

from meetguard.report import CATEGORIES, week_of
from meetguard.store.base import LogRecord
from meetguard.web.keys import SERVICE

DAY = 86400
T0 = float(week_of(time.time()) - 3 * 7 * DAY)  # a Monday three weeks ago (within retention)


def seeded(install: str, t0: float = T0) -> tuple[list[LogRecord], dict[str, dict[str, int]]]:
    """Records for three people from the Monday `t0` on, and what the report must say of each."""
    r: list[LogRecord] = []

    def add(kind: str, client: str, user: str | None, ts: float, **values: Any) -> None:
        r.append(LogRecord.new(kind, client, user=user, ts=ts, **values))

    an, binh = f"an.nguyen.{install}", f"binh.tran.{install}"  # apart on a shared Redis
    for day in (0, 1, 8):  # two in week 1, one in week 2
        add("link", install, an, t0 + day * DAY, context="navigation", verdict_class="warned",
            action="warn", platform="zoom")
    add("link", install, an, t0, context="hover", verdict_class="warned", action="warn")  # no
    add("link", install, an, t0, context="click", verdict_class="warned", action="warn")  # no
    add("event", install, an, t0 + 2 * DAY, event="override", context="click")
    add("link", install, binh, t0 + 9 * DAY, context="navigation", verdict_class="unknown",
        action="warn", codes=("impersonation", "ip-host"))
    add("file", install, binh, t0 + 3 * DAY, context="download", action="block",
        verdict_class="unknown")
    add("file", install, binh, t0 + 3 * DAY, context="download", action="allow")  # no
    add("event", install, binh, t0 + 10 * DAY, event="room-details-shared", context="compose")
    add("event", install, binh, t0 + 10 * DAY, event="room-details-removed")  # no
    # No label: counted under the install id (a machine without a label sends none).
    unlabelled = f"{install}-x"
    add("event", unlabelled, None, t0 + DAY, event="override")
    add("event", unlabelled, None, t0 - 30 * DAY, event="override")  # before the range
    expected = {
        an: {"warned_visits": 3, "overrides": 1},
        binh: {"lookalikes": 1, "blocked_downloads": 1, "room_details_shared": 1},
        unlabelled: {"overrides": 1},
    }
    return r, expected


async def report(client: TestClient, **params: str) -> Any:
    response = await client.get("/v1/reports/people", params=params, headers=admin_headers())
    assert response.status == 200, await response.text()
    return await response.json() if params.get("format") != "csv" else await response.text()


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
async def seeded_client(request: pytest.FixtureRequest, make_client: Any) -> Any:
    overrides = {}
    if request.param == "redis":
        overrides["redis_url"] = request.getfixturevalue("redis_own_server").url
    client = await make_client(**overrides)
    install = f"pc-{uuid.uuid4().hex[:8]}"
    records, expected = seeded(install)
    store = client.server.app[SERVICE].store
    await store.append(records[:5])
    if request.param == "sqlite":
        await store.index_inbox()  # some in the indexed table, the rest still in the inbox
    await store.append(records[5:])
    return client, install, expected


async def test_counts_per_person_and_weekly_trend(seeded_client: Any) -> None:
    client, _, expected = seeded_client
    doc = await report(client, since=str(T0 - 2 * DAY), until=str(T0 + 14 * DAY))
    assert doc["weeks"] == [week_of(T0 - 2 * DAY), T0, T0 + 7 * DAY]
    people = {p["person"]: p for p in doc["people"] if p["person"] in expected}
    assert set(people) == set(expected)
    an, binh = (next(p for p in expected if p.startswith(n)) for n in ("an.", "binh."))
    for person, counts in expected.items():
        full = {c.id: counts.get(c.id, 0) for c in CATEGORIES}
        assert people[person]["counts"] == full, person
        assert people[person]["total"] == sum(full.values())
    assert people[an]["trend"] == [0, 3, 1]  # 2 visits + 1 override, then 1 visit
    assert people[binh]["trend"] == [0, 1, 2]
    unlabelled = next(p for p in people if p.endswith("-x"))
    assert people[unlabelled]["by"] == "client" and people[an]["by"] == "user"
    ours = [p["person"] for p in doc["people"] if p["person"] in expected]
    assert ours[0] == an  # most first


async def test_each_count_is_its_log_filters_row_count(seeded_client: Any) -> None:
    client, _, expected = seeded_client
    since, until = str(T0 - 2 * DAY), str(T0 + 14 * DAY)
    doc = await report(client, since=since, until=until)
    for person in (p for p in doc["people"] if p["person"] in expected):
        for category in doc["categories"]:
            params = {**category["filters"], person["by"]: person["person"],
                      "since": since, "until": until, "limit": "1000"}
            response = await client.get("/v1/logs", params=params, headers=admin_headers())
            rows = (await response.json())["items"]
            assert len(rows) == person["counts"][category["id"]], (person, category)


async def test_csv_export_and_bad_parameters(seeded_client: Any) -> None:
    client, install, _ = seeded_client
    text = await report(client, since=str(T0), until=str(T0 + 14 * DAY), format="csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    an = next(r for r in rows if r["person"] == f"an.nguyen.{install}")
    assert an["warned_visits"] == "3" and an["total"] == "4"
    for params in ({"since": "soon"}, {"since": "1d", "until": "2d"}, {"format": "xml"},
                   {"since": "900d"}):
        response = await client.get("/v1/reports/people", params=params,
                                    headers=admin_headers())
        assert response.status == 400
        assert response.content_type == "application/problem+json"
    forbidden = await client.get("/v1/reports/people", headers=client_headers())
    assert forbidden.status == 403


@pytest.mark.redis
@pytest.mark.parametrize("size", [1, 2, 3, 5])
async def test_redis_slices_count_each_record_once(make_client: Any, redis_own_server: Any,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   size: int) -> None:
    """Slices end before their last millisecond; a millisecond fuller than a slice is taken
    whole. Tiny slices make every boundary case happen."""
    from meetguard.store import redis as redis_store

    monkeypatch.setattr(redis_store, "_PEOPLE_SLICE", size)
    client = await make_client(redis_url=redis_own_server.url)
    at = [T0 + 100, T0 + 100, T0 + 100, T0 + 100.0004, T0 + 101, T0 + 102, T0 + 102, T0 + 103]
    records = [LogRecord.new("event", "pc-1", user="an", ts=ts, event="override") for ts in at]
    await client.server.app[SERVICE].store.append(records)
    doc = await report(client, since=str(T0), until=str(T0 + DAY))
    [person] = doc["people"]
    assert person["counts"]["overrides"] == len(at)

