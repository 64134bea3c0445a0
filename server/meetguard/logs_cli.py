"""`meetguard logs`: query a running service (URL + admin token) or the local SQLite file."""

from __future__ import annotations

import asyncio
import functools
import os
import re
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import replace
from datetime import tzinfo
from importlib.resources import files
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlencode

import orjson

from .store.base import LogRecord, StoreError
from .store.sqlite import read_page
from .tables import WINDOW, Column, Table, output_width, printable
from .timefmt import parse_zone, rfc3339
from .verdict import most_severe
from .web.admin_api import FILTERS, log_query
from .web.exports import CSV_COLUMNS, csv_row
from .web.problems import ProblemError

# Narrow terminals keep the time, the action and the reason; the rest goes, the codes first.
TABLE_COLUMNS = (
    Column("time", minimum=29, typical=29), Column("kind", minimum=5, typical=5, drop=4),
    Column("class", minimum=8, typical=8, drop=3), Column("action", typical=6),
    Column("platform", minimum=8, typical=10, drop=5),
    Column("host", minimum=12, middle=True, typical=24, drop=2),
    Column("client", minimum=8, typical=12, drop=6),
    Column("codes", minimum=12, typical=16, drop=7),
    Column("reason", minimum=16, typical=32, weight=2))


class LogsError(Exception):
    """A one-line reason the logs could not be read."""


class Unreachable(LogsError):
    """The service could not be reached (`--follow` retries)."""


def query_from_args(args: Any) -> dict[str, str]:
    params = {k: v for k, v in (("since", args.since), ("until", args.until),
                                ("limit", str(args.limit) if args.limit else None)) if v}
    for name in FILTERS:
        value = getattr(args, "klass" if name == "class" else name, None)
        if value:
            params[name] = value
    return params


def local_records(db: Path, params: dict[str, str], *, page: int = 500) -> Iterator[LogRecord]:
    """Records from the SQLite file, newest first, read-only (the service may be running)."""
    if not db.is_file():
        raise LogsError(f"no log database at {db} (use --db, or --url for a running service)")
    try:
        query = log_query(params)
    except ProblemError as exc:
        raise LogsError(exc.detail) from None
    wanted = int(params["limit"]) if "limit" in params else None
    conn = sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        current = replace(query, limit=min(page, wanted or page))
        while True:
            result = read_page(conn, current)
            for record in result.items:
                yield record
                if wanted is not None:
                    wanted -= 1
                    if wanted == 0:
                        return
            if result.next_cursor is None:
                return
            current = current.next_page(result.next_cursor)
    except (sqlite3.Error, StoreError) as exc:
        raise LogsError(f"cannot read {db}: {exc}") from None
    finally:
        conn.close()


async def remote_records(url: str, token: str, params: dict[str, str]) -> AsyncIterator[dict]:
    """Records from a running service, streamed as NDJSON."""
    import aiohttp  # only this path needs the HTTP client

    target = url.rstrip("/") + "/v1/logs?" + urlencode({**params, "format": "ndjson"})
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=60)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(
                target, headers={"Authorization": f"Bearer {token}"}) as response:
            if response.status != 200:
                raise LogsError(await _problem_text(response))
            wanted = int(params["limit"]) if "limit" in params else None
            async for line in response.content:
                if line.strip():
                    yield orjson.loads(line)
                    if wanted is not None:
                        wanted -= 1
                        if wanted == 0:
                            return
    except aiohttp.ClientError as exc:
        raise Unreachable(f"cannot reach {url}: {exc}") from None


async def _problem_text(response: Any) -> str:
    try:
        body = await response.json(content_type=None)
        return f"{response.status} {body.get('title', '')}: {body.get('detail', '')}".strip()
    except (ValueError, TypeError):
        return f"the service answered {response.status}"


class Printer:
    """Records out as a table, CSV or JSON lines, the header once before the first row.

    Every record shown carries `time`, RFC 3339 in `zone`, computed here from `ts` (whatever
    the source sent): the table shows it instead of the epoch, CSV and JSON beside it.
    """

    def __init__(self, fmt: str, out: TextIO, zone: tzinfo, lang: str = "en", *,
                 window: int = WINDOW) -> None:
        self.out, self.zone, self.lang = out, zone, lang
        self._csv = fmt == "csv"
        self._table = (Table(TABLE_COLUMNS, out, output_width(out), window=window)
                       if fmt == "table" else None)
        self._started = False

    def header(self) -> None:
        """The header now (before any row: `--follow`); later calls do nothing."""
        if self._started:
            return
        self._started = True
        if self._csv:
            self.out.write(",".join(CSV_COLUMNS) + "\r\n")
        elif self._table:
            self._table.settle()

    def rows(self, rows: Iterable[dict]) -> None:
        for row in rows:
            self.row(row)

    def row(self, row: dict) -> None:
        if self._csv:
            self.header()
            self.out.write(_csv_line(row, self.zone))
        elif self._table:
            self._started = True
            self._table.add(_table_cells(row, self.zone, self.lang))
        else:
            self.out.write(orjson.dumps(with_time(row, self.zone),
                                        option=orjson.OPT_APPEND_NEWLINE).decode())

    def close(self) -> None:
        self.header()
        if self._table:
            self._table.close()


def with_time(row: dict, zone: tzinfo) -> dict:
    """The record with `time` (RFC 3339 in `zone`) right after `ts`.

    >>> with_time({"id": "x", "ts": 1780621987.123, "kind": "link"}, parse_zone("UTC"))
    {'id': 'x', 'ts': 1780621987.123, 'time': '2026-06-05T01:13:07.123+00:00', 'kind': 'link'}
    """
    out = {}
    for key, value in row.items():
        if key != "time":
            out[key] = value
        if key == "ts":
            out["time"] = rfc3339(float(value), zone)
    return out


def _csv_line(row: dict, zone: tzinfo) -> str:
    """The export's own CSV row (formulas neutralised), its time in `zone`."""
    try:
        record = LogRecord.from_dict(row)
    except StoreError as exc:
        raise LogsError(f"a record cannot be shown: {exc.message}") from None
    return csv_row(record, zone).decode()


def _table_cells(row: dict, zone: tzinfo, lang: str) -> list[str]:
    values = {**row, "time": rfc3339(float(row["ts"]), zone),
              "codes": ",".join(row.get("codes") or ()), "reason": record_reason(row, lang)}
    cells = []
    for column in TABLE_COLUMNS:
        value = values.get(column.name)
        cells.append("-" if value in (None, "") else printable(str(value)))
    return cells


def record_reason(row: dict, lang: str) -> str:
    """What the record is about in words: its most severe reason (the first of equals, as the
    extension shows it), else its event. Records keep codes, not messages: the words are the
    console's labels for them.
    """
    codes = row.get("codes") or ()
    if codes:
        severities = (row.get("detail") or {}).get("severities") or ()
        main = 0  # without a severity per code (older records), the first code
        if len(severities) == len(codes):
            main = most_severe(severities)
        return _labels(lang).get(f"code.{codes[main]}", codes[main])
    event = row.get("event")
    return _labels(lang).get(f"event.{event}", event) if event else ""


_LABEL = re.compile(r"^\s*'((?:code|event)\.[a-z0-9-]+)': '((?:[^'\\]|\\.)*)',?$", re.M)


@functools.cache
def _labels(lang: str) -> dict[str, str]:
    """The console's words for reason codes and events (one text for both, in each language).

    >>> _labels("vi")["code.impersonation"]
    'Giả mạo một nền tảng hoặc tên miền của cơ quan'
    """
    try:
        text = (files("meetguard") / "web/static/console/i18n.js").read_text("utf-8")
        block = text[text.index(f"const {lang} = {{"):]
        block = block[:block.index("\n};")]
    except (OSError, ValueError):  # a broken install: the codes themselves are shown
        return {}
    return {key: re.sub(r"\\(.)", r"\1", value) for key, value in _LABEL.findall(block)}


def time_zone(args: Any) -> tzinfo:
    """--time-zone, else $MEETGUARD_TIME_ZONE (the service's setting), else UTC."""
    name = getattr(args, "time_zone", None) or os.environ.get("MEETGUARD_TIME_ZONE") or "UTC"
    try:
        return parse_zone(name)
    except ValueError as exc:
        raise LogsError(f"--time-zone: {exc}") from None


def run_logs(args: Any, out: TextIO) -> int:
    params = query_from_args(args)
    fmt = "jsonl" if args.format == "ndjson" else args.format
    printer = Printer(fmt, out, time_zone(args), getattr(args, "lang", "en"))
    if getattr(args, "follow", False) or getattr(args, "syslog", None):
        return asyncio.run(follow(args, params, printer))
    if args.url:
        if not args.token:
            raise LogsError("--url needs an admin token: --token or $MEETGUARD_ADMIN_TOKEN")
        return asyncio.run(_print_remote(args.url, args.token, params, printer))
    printer.rows(r.to_dict() for r in local_records(Path(args.db), params))
    printer.close()
    return 0


async def _print_remote(url: str, token: str, params: dict[str, str], printer: Printer) -> int:
    """Rows are printed as they arrive: an export of millions never sits in memory."""
    async for row in remote_records(url, token, params):
        printer.row(row)
    printer.close()
    return 0


# -- --follow: tail new records (print them, or forward them to syslog) --------------------------


def _fetcher(args: Any, params: dict[str, str]) -> Any:
    """`fetch(since)`: every matching record at or after `since`, as dicts."""
    if args.url:
        if not args.token:
            raise LogsError("--url needs an admin token: --token or $MEETGUARD_ADMIN_TOKEN")

        async def remote(since: float) -> list[dict]:
            wanted = {**params, "since": repr(since)}
            return [row async for row in remote_records(args.url, args.token, wanted)]
        return remote
    db = Path(args.db)

    async def local(since: float) -> list[dict]:
        wanted = {**params, "since": repr(since)}
        return await asyncio.to_thread(lambda: [r.to_dict() for r in local_records(db, wanted)])
    return local


async def follow(args: Any, params: dict[str, str], printer: Printer) -> int:
    """Print (or forward) records as they arrive, oldest first, until interrupted.

    Starts now, or at --since (printing what is already there first)."""
    from .siem import Forwarder, SyslogError, SyslogSender, Tail, parse_target
    from .web.timeparse import parse_time

    if not args.follow:
        raise LogsError("--syslog forwards what --follow reads: add --follow")
    if args.until or args.limit:
        raise LogsError("--follow reads new records as they come: drop --until and --limit")
    try:
        start = parse_time(params.pop("since")) if "since" in params else time.time()
    except ValueError:
        raise LogsError("--since must be like 24h, 7d, ISO 8601 or unix seconds") from None
    fetch = _fetcher(args, params)
    interval = max(0.05, float(args.interval))
    if args.syslog:
        try:
            sender = SyslogSender(parse_target(args.syslog))
        except SyslogError as exc:
            raise LogsError(str(exc)) from None
        forwarder = Forwarder(fetch, sender, interval=interval)
        forwarder.tail = Tail(start)
        try:
            await forwarder.run()
        finally:
            await sender.close()
        return 0
    tail = Tail(start)
    out = printer.out
    printer.header()
    out.flush()
    failing = False
    while True:
        try:
            rows = tail.accept(await fetch(tail.since()))
            failing = False
        except Unreachable as exc:
            if not failing:
                print(f"meetguard logs: {exc}; retrying", file=sys.stderr, flush=True)
            failing, rows = True, []
        if rows:
            printer.rows(rows)
            out.flush()
        await asyncio.sleep(interval)
