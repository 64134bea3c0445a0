"""Exports as IT downloads them: the whole file over HTTP, every row against the store's records.

The records hold the cells that break exports: commas, quotes, line breaks, formulas, Vietnamese,
empty and missing values. SQLite encodes in its reader thread from raw rows; Redis goes through
`LogRecord`s: both must give the same file.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import random
import threading
import time
from datetime import datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from tests.support.service import ADMIN_TOKEN, admin_headers

from meetguard.store.base import LogQuery, LogRecord, LogStore, new_record_id
from meetguard.timefmt import parse_zone, rfc3339
from meetguard.web.exports import csv_row
from meetguard.web.keys import SERVICE

ZONE = "Asia/Ho_Chi_Minh"
COLUMNS = ["id", "ts", "time", "kind", "event", "client", "user", "context", "class", "action",
           "platform", "host", "target", "codes", "rules", "sha256", "policy_version"]
AWKWARD = ["", "plain", "a,b", 'say "hi"', "line\nbreak", "cr\rlf\r\n", "x\r",
           '=HYPERLINK("http://evil.example")', "+1", "-1", "@cmd", "\tx", "'already",
           "Nguyễn Văn Anh — phòng họp", "a;b", ",", " spaced ", "https://zoom.us/j/1?a=1,=2"]
RECORDS = 3000


def awkward_records(n: int, seed: int = 20) -> list[LogRecord]:
    """The newest two thirds plain (a page that needs no quoting is written in one piece), the
    rest each with one awkward field or all of them awkward or missing; runs of records share
    one `ts`; all within the last days (retention purges older ones)."""
    rng = random.Random(seed)
    start = time.time() - 3 * 86400
    out = []
    for i in range(n):
        ts = start + (i // 3) * 1.2345 + rng.choice((0, 0.0005, 0.999999))
        out.append(LogRecord(id=new_record_id(ts), ts=ts, **fields(rng, i, i < n // 3)))
    return out


def fields(rng: random.Random, i: int, awkward: bool) -> dict[str, Any]:
    values: dict[str, Any] = {
        "kind": rng.choice(("link", "file", "event", "retro")), "client": f"pc-{i % 7}",
        "user": rng.choice((None, "Nguyễn Văn Anh")), "context": "click",
        "verdict_class": "warned", "action": "warn", "platform": "zoom", "host": "zoom.us",
        "target": f"https://zoom.us/j/{i}?pwd=[redacted]", "codes": ("warned-platform",),
        "rules": ("platform:zoom",), "policy_version": "0123456789abcdef",
        "event": rng.choice((None, "override")), "sha256": None,
        "detail": rng.choice(({}, {"filename": "biên bản.pdf", "size": i})),
    }
    if not awkward:
        return values
    names = [k for k in values if k not in ("kind", "detail")]
    if rng.random() < 0.8:
        names = [rng.choice(names)]
    for name in names:
        value = rng.choice([None, *AWKWARD] if name != "client" else AWKWARD[1:])
        if name in ("codes", "rules"):
            value = tuple(rng.sample(AWKWARD, rng.randrange(1, 3)))
        values[name] = value
    return values


async def stored(client: TestClient, records: list[LogRecord]) -> list[LogRecord]:
    """Append `records` to the service's store; what the store then holds, newest first."""
    store: LogStore = client.server.app[SERVICE].store
    for start in range(0, len(records), 500):
        await store.append(records[start:start + 500])
    held = [r async for r in store.export(LogQuery())]
    assert sorted(r.id for r in held) == sorted(r.id for r in records)
    return held


async def download(client: TestClient, path: str, **params: str) -> bytes:
    headers = admin_headers() if path.startswith("/v1/") else {}
    response = await client.get(path, params=params, headers=headers)
    assert response.status == 200, await response.text()
    return await response.read()


def unguarded(cell: str) -> str:
    """A CSV cell as it was stored: the guard's quote before a formula character removed."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in ("=", "+", "-", "@", "\t", "\r") else cell


def expected_cells(record: LogRecord) -> list[str]:
    r = record
    values = [r.id, repr(r.ts), rfc3339(r.ts, parse_zone(ZONE)), r.kind, r.event, r.client,
              r.user, r.context, r.verdict_class, r.action, r.platform, r.host, r.target,
              ";".join(r.codes), ";".join(r.rules), r.sha256, r.policy_version]
    return ["" if v is None else v for v in values]


def check_csv(body: bytes, records: list[LogRecord]) -> None:
    zone = parse_zone(ZONE)
    # Byte for byte the csv module's file (the reference `csv_row`)...
    assert body == ",".join(COLUMNS).encode() + b"\r\n" + b"".join(
        csv_row(r, zone) for r in records)
    # ... and read back, every row is its record: same order, every cell, nothing more.
    rows = list(csv.reader(io.StringIO(body.decode(), newline="")))
    assert rows[0] == COLUMNS
    assert len(rows) - 1 == len(records)
    for row, record in zip(rows[1:], records, strict=True):
        assert [unguarded(cell) for cell in row] == expected_cells(record)
        # A spreadsheet runs none of it.
        assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in row)
        assert float(row[1]) == record.ts
        when = datetime.fromisoformat(row[2])
        assert when.utcoffset().total_seconds() == 7 * 3600
        assert abs(when.timestamp() - record.ts) < 0.001


def check_ndjson(body: bytes, records: list[LogRecord]) -> None:
    assert body.endswith(b"\n")
    lines = body.split(b"\n")[:-1]
    assert len(lines) == len(records)
    for line, record in zip(lines, records, strict=True):
        doc: dict[str, Any] = json.loads(line)
        assert list(doc)[:3] == ["id", "ts", "time"]
        assert doc.pop("time") == rfc3339(record.ts, parse_zone(ZONE))
        assert doc == record.to_dict()
        assert LogRecord.from_dict(doc) == record


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
async def test_exports_hold_every_record_of_the_store_cell_for_cell(
    make_client: Any, request: pytest.FixtureRequest, backend: str
) -> None:
    extra = {"redis_url": request.getfixturevalue("redis_own_server").url} \
        if backend == "redis" else {}
    client = await make_client(time_zone=ZONE, **extra)
    records = await stored(client, awkward_records(RECORDS))
    v1_csv = await download(client, "/v1/logs", format="csv")
    check_csv(v1_csv, records)
    v1_ndjson = await download(client, "/v1/logs", format="ndjson")
    check_ndjson(v1_ndjson, records)
    # The console's files are the same, its CSV with a byte-order mark for Excel.
    signed = await client.post("/admin/api/session", json={"token": ADMIN_TOKEN})
    assert signed.status == 200, await signed.text()
    assert await download(client, "/admin/api/logs", format="csv") == "\ufeff".encode() + v1_csv
    assert await download(client, "/admin/api/logs", format="ndjson") == v1_ndjson
    # A filter and a time range export exactly what they select.
    since, until = records[-1000].ts, records[100].ts
    chosen = [r for r in records if since <= r.ts < until and r.kind == "file"]
    check_csv(await download(client, "/v1/logs", format="csv", kind="file", since=str(since),
                             until=str(until)), chosen)


async def test_pages_and_the_record_view_carry_time_beside_ts(make_client: Any) -> None:
    client = await make_client(time_zone=ZONE)
    records = await stored(client, awkward_records(30))
    page = json.loads(await download(client, "/v1/logs", limit="10"))
    assert [item["id"] for item in page["items"]] == [r.id for r in records[:10]]
    for item, record in zip(page["items"], records, strict=False):
        assert list(item)[:3] == ["id", "ts", "time"]
        assert item["time"] == rfc3339(record.ts, parse_zone(ZONE))
        assert item["time"].endswith("+07:00")
    await client.post("/admin/api/session", json={"token": ADMIN_TOKEN})
    one = json.loads(await download(client, f"/admin/api/records/{records[5].id}"))
    assert one["time"] == rfc3339(records[5].ts, parse_zone(ZONE))
    console_page = json.loads(await download(client, "/admin/api/logs", limit="3"))
    assert all(item["time"].endswith("+07:00") for item in console_page["items"])


async def test_an_export_dropped_by_the_client_stops_its_reader_thread(make_client: Any) -> None:
    client = await make_client()
    await stored(client, awkward_records(RECORDS))
    response = await client.get("/v1/logs", params={"format": "ndjson"},
                                headers=admin_headers())
    assert response.status == 200
    await response.content.readany()
    response.close()  # the client goes away in the middle
    for _ in range(100):
        if not any(t.name == "meetguard-sqlite-scan" for t in threading.enumerate()):
            break
        await asyncio.sleep(0.05)
    assert not any(t.name == "meetguard-sqlite-scan" for t in threading.enumerate())
