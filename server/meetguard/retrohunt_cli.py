"""`meetguard retrohunt`: a retro-hunt on the local data directory (SQLite) or through a
running service (`--url`, admin token)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, TextIO

import orjson

from .errors import SignatureError
from .policy import load_policy
from .retrohunt import Classifying, RetrohuntError, describe, run
from .signatures import default_signatures_dir
from .store.base import StoreError
from .tables import printable
from .web.timeparse import parse_time


class RetrohuntCliError(Exception):
    """A one-line reason the run could not be done."""


def window_of(args: Any) -> tuple[float, float]:
    try:
        since = parse_time(args.since)
        until = parse_time(args.until) if args.until else None
    except ValueError:
        raise RetrohuntCliError("--since/--until must be like 7d, 24h, ISO 8601 or unix "
                                "seconds") from None
    if until is not None and not since < until:
        raise RetrohuntCliError("--since must be before --until")
    return since, until if until is not None else parse_time("0s")


def run_retrohunt(args: Any, out: TextIO) -> int:
    if args.url:
        if not args.token:
            raise RetrohuntCliError("--url needs an admin token: --token or "
                                    "$MEETGUARD_ADMIN_TOKEN")
        result = asyncio.run(_remote(args.url, args.token, args.since, args.until))
    else:
        since, until = window_of(args)
        result = asyncio.run(_local(args, since, until))
    if args.format == "json":
        out.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        out.write("\n".join(printable(line) for line in describe(result)) + "\n")
    return 0


async def _local(args: Any, since: float, until: float) -> dict[str, Any]:
    from .store.sqlite import SQLiteLogStore

    db = Path(args.data_dir) / "meetguard.sqlite3"
    if not db.is_file():
        raise RetrohuntCliError(f"no log database at {db} (use --data-dir, or --url for a "
                                "running service)")
    directory = Path(args.signatures) if args.signatures else default_signatures_dir()
    try:
        policy = load_policy(directory)
    except SignatureError as exc:
        raise RetrohuntCliError(f"signatures in {directory} do not load: {exc}") from None
    # Another process (the service) may write the same file: no commits on this loop.
    store = SQLiteLogStore(db, inline_commits=False)
    try:
        await store.start()
        try:
            async with Classifying(policy, directory, args.workers) as classifying:
                result = await run(store, classifying, since=since, until=until,
                                   trigger="cli")
        finally:
            await store.close()
    except (RetrohuntError, StoreError) as exc:
        raise RetrohuntCliError(str(exc)) from None
    assert result is not None
    return result.to_dict()


async def _remote(url: str, token: str, since: str, until: str | None) -> dict[str, Any]:
    import aiohttp

    body = {"since": since, **({"until": until} if until else {})}
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=10)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session, session.post(
                url.rstrip("/") + "/v1/admin/retrohunt", json=body,
                headers={"Authorization": f"Bearer {token}"}) as response:
            data = await response.json(content_type=None)
            if response.status != 200:
                detail = data.get("detail", "") if isinstance(data, dict) else ""
                title = data.get("title", "") if isinstance(data, dict) else ""
                raise RetrohuntCliError(f"{response.status} {title}: {detail}".strip(" :"))
            return data
    except (aiohttp.ClientError, ValueError) as exc:
        raise RetrohuntCliError(f"cannot reach {url}: {exc}") from None

