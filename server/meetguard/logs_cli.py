"""`meetguard logs`: query a running service (URL + admin token) or the local SQLite file."""

from __future__ import annotations

import asyncio
import csv
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlencode

import orjson

from .store.base import LogRecord, StoreError
from .store.sqlite import read_page
from .web.admin_api import FILTERS, log_query
from .web.exports import CSV_COLUMNS, csv_cell
from .web.problems import ProblemError

TABLE_COLUMNS = ("time", "kind", "class", "action", "platform", "host", "client", "codes")


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


def write(rows: Iterator[dict] | list[dict], fmt: str, out: TextIO) -> int:
    """Print records as table, csv or jsonl, with the header; returns how many."""
    if fmt == "csv":
        csv.writer(out).writerow(CSV_COLUMNS)
    elif fmt == "table":
        out.write("  ".join(c.upper() for c in TABLE_COLUMNS) + "\n")
    return write_rows(rows, fmt, out)


def write_rows(rows: Iterator[dict] | list[dict], fmt: str, out: TextIO) -> int:
    """Print records without a header; returns how many."""
    count = 0
    writer = csv.writer(out) if fmt == "csv" else None
    for row in rows:
        count += 1
        if fmt == "jsonl":
            out.write(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE).decode())
        elif writer:
            writer.writerow(_csv_cells(row))
        else:
            out.write("  ".join(_table_cell(row, c) for c in TABLE_COLUMNS) + "\n")
    return count


def _time(row: dict) -> str:
    return datetime.fromtimestamp(float(row["ts"]), UTC).strftime("%Y-%m-%d %H:%M:%S")


def _csv_cells(row: dict) -> list[str]:
    values = {**row, "time": _time(row), "codes": ";".join(row.get("codes") or ()),
              "rules": ";".join(row.get("rules") or ())}
    return [csv_cell(values.get(c)) for c in CSV_COLUMNS]


def _table_cell(row: dict, column: str) -> str:
    if column == "time":
        return _time(row)
    value = row.get(column)
    if column == "codes":
        value = ",".join(value or ()) or "-"
    text = "-" if value in (None, "") else str(value)
    return "".join(c if c.isprintable() else "\ufffd" for c in text)


def run_logs(args: Any, out: TextIO) -> int:
    params = query_from_args(args)
    fmt = "jsonl" if args.format == "ndjson" else args.format
    if getattr(args, "follow", False) or getattr(args, "syslog", None):
        return asyncio.run(follow(args, params, fmt, out))
    if args.url:
        if not args.token:
            raise LogsError("--url needs an admin token: --token or $MEETGUARD_ADMIN_TOKEN")
        return asyncio.run(_print_remote(args.url, args.token, params, fmt, out))
    write((r.to_dict() for r in local_records(Path(args.db), params)), fmt, out)
    return 0


async def _print_remote(url: str, token: str, params: dict[str, str], fmt: str,
                        out: TextIO) -> int:
    """Rows are printed as they arrive: an export of millions never sits in memory."""
    rows: list[dict] = []
    first = True
    async for row in remote_records(url, token, params):
        rows.append(row)
        if len(rows) >= 500:
            _write_chunk(rows, fmt, out, header=first)
            first = False
            rows.clear()
    _write_chunk(rows, fmt, out, header=first)
    return 0


def _write_chunk(rows: list[dict], fmt: str, out: TextIO, *, header: bool) -> None:
    if header:
        write(rows, fmt, out)
    else:
        write_rows(rows, fmt, out)


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


async def follow(args: Any, params: dict[str, str], fmt: str, out: TextIO) -> int:
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
    write([], fmt, out)
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
            write_rows(rows, fmt, out)
            out.flush()
        await asyncio.sleep(interval)
