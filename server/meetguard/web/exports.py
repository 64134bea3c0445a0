"""Streaming exports of the log (CSV, NDJSON): constant memory for a million rows.

`/v1/logs?format=…` and the admin page share this code. Every cell a spreadsheet could run as a
formula is neutralised (CSV injection). Records go out with `ts` (unix seconds) and `time`
(RFC 3339 in the configured zone) side by side.

The encoders work on `RecordRow`s (codes, rules and detail still JSON text). A store that can
(SQLite) runs them in its reader thread on the rows it reads, so the event loop only writes
megabyte blocks; building a `LogRecord` per row and encoding it on the loop ran at half the
store's speed.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, tzinfo
from functools import partial
from typing import Any

import orjson
from aiohttp import web

from ..store.base import LogQuery, LogRecord, LogStore, RecordRow, RowExport
from ..timefmt import parse_zone, rfc3339
from .keys import SERVICE
from .page_headers import add_console_headers, is_console

CSV_COLUMNS = ("id", "ts", "time", "kind", "event", "client", "user", "context", "class",
               "action", "platform", "host", "target", "codes", "rules", "sha256",
               "policy_version")
EXPORT_CHUNK = 1000
"""Records per encoded block for a store that only exports records (Redis)."""
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_CELL = re.compile(",[-=+@\t]")  # (a cell starting with \r is caught as a line break)
Encode = Callable[[Sequence[RecordRow]], bytes]


def time_zone(request: web.Request) -> tzinfo:
    """The configured zone (`time_zone` setting) of the `time` shown beside `ts`."""
    return parse_zone(request.app[SERVICE].settings.time_zone)


def csv_cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run: formulas are neutralised (CSV injection)."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text[:1] in _FORMULA else text


def csv_row(record: LogRecord, zone: tzinfo = UTC) -> bytes:
    """One row through the csv module: the plain reference `csv_rows` must equal."""
    r = record
    values = (r.id, r.ts, rfc3339(r.ts, zone), r.kind, r.event, r.client, r.user, r.context,
              r.verdict_class, r.action, r.platform, r.host, r.target, ";".join(r.codes),
              ";".join(r.rules), r.sha256, r.policy_version)
    out = io.StringIO()
    csv.writer(out).writerow([csv_cell(v) for v in values])
    return out.getvalue().encode()


def csv_chunk(records: Sequence[LogRecord], zone: tzinfo = UTC) -> bytes:
    """`csv_rows` of records."""
    return csv_rows([r.row() for r in records], zone)


def csv_rows(rows: Sequence[RecordRow], zone: tzinfo = UTC) -> bytes:
    """CSV lines, byte for byte what `csv_row` writes, formulas neutralised.

    Cells are joined directly, three times as fast as the csv module, once a check of the whole
    page finds that no cell needs quotes or a formula guard; where one may, each line is
    checked, and one that needs them goes through the csv module.
    """
    lines = [",".join(_cells(row, zone)) for row in rows]
    if not _plain(lines):
        lines = [line if _plain([line]) else _csv_line(_cells(row, zone))
                 for line, row in zip(lines, rows, strict=True)]
    lines.append("")
    return "\r\n".join(lines).encode("utf-8", "surrogatepass")


def _cells(row: RecordRow, zone: tzinfo) -> tuple[str, ...]:
    (rid, ts, kind, client, user, context, cls, action, platform, host, target, codes, rules,
     version, event, sha256, _) = row  # fmt: skip
    loads = orjson.loads
    return (rid, repr(ts), rfc3339(ts, zone), kind, event or "", client, user or "",
            context or "", cls or "", action or "", platform or "", host or "", target or "",
            ";".join(loads(codes)), ";".join(loads(rules)), sha256 or "", version or "")


def _plain(lines: list[str]) -> bool:
    """Whether the cells of `lines` can be written as they are: no comma, quote or line break
    in a cell, and none starts a formula (the first, a record id, never does). One pass over
    a page's text each (`in` is a memchr), not ten tests a line: that took as long as the rest."""
    text = ",".join(lines)
    return (text.count(",") == len(lines) * len(CSV_COLUMNS) - 1 and '"' not in text
            and "\n" not in text and "\r" not in text and _FORMULA_CELL.search(text) is None)


def _csv_line(cells: Sequence[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow([csv_cell(c) for c in cells])
    return out.getvalue()[:-2]  # (the line terminator: the csv module quotes what has its chars)


def ndjson_rows(rows: Sequence[RecordRow], zone: tzinfo = UTC) -> bytes:
    """NDJSON lines, each `orjson.dumps(record.to_dict(zone))`: the stored JSON texts of codes,
    rules and detail go in as they are (`orjson.Fragment`), not parsed and dumped again."""
    dumps, fragment, newline = orjson.dumps, orjson.Fragment, orjson.OPT_APPEND_NEWLINE
    lines: list[bytes] = []
    for row in rows:
        (rid, ts, kind, client, user, context, cls, action, platform, host, target, codes,
         rules, version, event, sha256, detail) = row  # fmt: skip
        lines.append(dumps({
            "id": rid, "ts": ts, "time": rfc3339(ts, zone), "kind": kind, "client": client,
            "user": user, "context": context, "class": cls, "action": action,
            "platform": platform, "host": host, "target": target, "codes": fragment(codes),
            "rules": fragment(rules), "policy_version": version, "event": event,
            "sha256": sha256, "detail": fragment(detail),
        }, option=newline))  # fmt: skip
    return b"".join(lines)


async def stream_export(request: web.Request, store: LogStore, query: LogQuery, fmt: str, *,
                        bom: bool = False) -> web.StreamResponse:
    """Every matching record as `fmt` (csv|ndjson), streamed in blocks, newest first.

    `bom` starts a CSV with a UTF-8 byte-order mark, which Excel needs to read Vietnamese.
    """
    encode = partial(csv_rows if fmt == "csv" else ndjson_rows, zone=time_zone(request))
    async with contextlib.aclosing(_encoded(store, query, encode)) as blocks:
        first = await anext(blocks, None)  # a store failure is still a clean problem answer
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        response = web.StreamResponse(headers={
            "Content-Type": "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson",
            "Content-Disposition": f'attachment; filename="meetguard-logs-{stamp}.{fmt}"',
        })
        if is_console(request.path):  # the guard cannot add them once the answer has started
            add_console_headers(request.path, response.headers)
        await response.prepare(request)
        if fmt == "csv":
            await response.write((("\ufeff" if bom else "") + ",".join(CSV_COLUMNS) + "\r\n")
                                 .encode())
        if first is not None:
            await response.write(first)
            async for block in blocks:
                await response.write(block)
    await response.write_eof()
    return response


def _encoded(store: LogStore, query: LogQuery, encode: Encode) -> AsyncIterator[bytes]:
    if isinstance(store, RowExport):  # encoded where the rows are read, off the event loop
        return store.export_encoded(query, encode)
    return _encoded_records(store.export(query), encode)


async def _encoded_records(records: AsyncIterator[LogRecord], encode: Encode
                           ) -> AsyncIterator[bytes]:
    chunk: list[RecordRow] = []
    async for record in records:
        chunk.append(record.row())
        if len(chunk) >= EXPORT_CHUNK:
            yield encode(chunk)
            chunk = []
    if chunk:
        yield encode(chunk)
