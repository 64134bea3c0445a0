"""Admin routes (IT): query and export the log, stats, reload the signatures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from ..errors import SignatureError
from ..retrohunt import RetrohuntError, RunResult
from ..store.base import LogQuery, StoreError
from .auth import Role
from .exports import stream_export, time_zone
from .http import json_response, read_json
from .keys import SERVICE
from .middlewares import requires
from .problems import ProblemError
from .service import Service
from .timeparse import parse_time

FILTERS = ("class", "action", "platform", "host", "client", "user", "kind", "context", "event",
           "code")


def log_query(params: Mapping[str, str]) -> LogQuery:
    """A LogQuery from URL parameters; a bad one is a 400 naming the parameter."""
    values: dict[str, Any] = {}
    for name in ("since", "until"):
        if params.get(name):
            try:
                values[name] = parse_time(params[name])
            except ValueError:
                raise ProblemError("invalid-parameter",
                                   f"{name} must be like 24h, 7d, 2026-01-31T08:00:00Z "
                                   "or unix seconds") from None
    for name in FILTERS:
        value = params.get(name)
        if value:
            if len(value) > 256:
                raise ProblemError("invalid-parameter", f"{name} is too long")
            values["verdict_class" if name == "class" else name] = value
    if params.get("limit"):
        try:
            values["limit"] = int(params["limit"])
        except ValueError:
            raise ProblemError("invalid-parameter", "limit must be a whole number") from None
    if params.get("cursor"):
        values["cursor"] = params["cursor"]
    try:
        return LogQuery(**values)
    except StoreError as exc:
        raise ProblemError("invalid-cursor" if exc.code == "invalid-cursor"
                           else "invalid-parameter", exc.message) from None


@requires(Role.ADMIN)
async def get_logs(request: web.Request) -> web.StreamResponse:
    store = request.app[SERVICE].store
    query = log_query(request.query)
    fmt = request.query.get("format", "json")
    if fmt == "json":
        page = await store.query(query)
        return json_response(page.to_dict(time_zone(request)))
    if fmt not in ("csv", "ndjson"):
        raise ProblemError("invalid-parameter", "format must be json, csv or ndjson")
    return await stream_export(request, store, query, fmt)


@requires(Role.ADMIN)
async def get_stats(request: web.Request) -> web.Response:
    now = time.time()
    try:
        since = parse_time(request.query.get("since", "24h"), now=now)
        until = parse_time(request.query.get("until", str(now)), now=now)
        bucket = int(request.query.get("bucket", "3600"))
    except ValueError:
        raise ProblemError("invalid-parameter", "since/until like 24h or ISO 8601; bucket in "
                                                "seconds, a multiple of 3600") from None
    stats = await request.app[SERVICE].store.stats(since, until, bucket)
    return json_response({"since": since, "until": until, "bucket": bucket, **stats})


async def reload_or_problem(service: Service) -> tuple[str, str]:
    """Reload the signatures everywhere; a broken file is a 422 problem listing file:line (the
    previous signatures keep serving). Returns (previous version, new version)."""
    try:
        return await service.reload(announce=True)
    except SignatureError as exc:
        raise ProblemError(
            "signatures-invalid", str(exc),
            version=service.policies.current.policy.version,
            problems=[{"file": p.file, "line": p.line, "message": p.message}
                      for p in exc.problems],
        ) from None


@requires(Role.ADMIN)
async def reload_signatures(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    previous, version = await reload_or_problem(service)
    snapshot = service.policies.current
    return json_response({"previous_version": previous, "version": version,
                          "loaded_at": snapshot.loaded_at, **snapshot.policy.summary()})


@requires(Role.ADMIN)
async def get_signatures(request: web.Request) -> web.Response:
    snapshot = request.app[SERVICE].policies.current
    policy = snapshot.policy
    return json_response({**policy.summary(), "loaded_at": snapshot.loaded_at,
                          "platforms": [{**p.to_dict(), "name": p.name} for p in policy.platforms]})


def retrohunt_window(body: Any, default_days: int, retention_days: int) -> tuple[float, float]:
    """`(since, until)` from `{"since": "7d", "until": ...}` (both optional; since defaults to
    the `retrohunt_days` setting, or 7 days); a bad one is a 400 naming the field."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise ProblemError("invalid-request", "the body must be a JSON object")
    now = time.time()
    times = {"since": f"{default_days or 7}d", "until": str(now)}
    for name in times:
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, (str, int, float)) or isinstance(value, bool) \
                or len(str(value)) > 64:
            raise ProblemError("invalid-request", f"/{name} must be like 7d, 24h, ISO 8601 or "
                                                  "unix seconds")
        times[name] = str(value)
    try:
        since, until = (parse_time(times[n], now=now) for n in ("since", "until"))
    except ValueError:
        raise ProblemError("invalid-request", "since/until must be like 7d, 24h, "
                                              "2026-01-31T08:00:00Z or unix seconds") from None
    if not since < until:
        raise ProblemError("invalid-request", "since must be before until")
    if since < now - (retention_days + 1) * 86400:
        raise ProblemError("invalid-request", f"the log keeps {retention_days} days: since "
                                              "must be within them")
    return since, until


async def run_retrohunt(service: Service, since: float, until: float) -> RunResult:
    """A retro-hunt now; another run holding the log, or signatures on disk that are not the
    ones in force, are 409 problems."""
    try:
        return await service.retrohunts.run_now(since, until)
    except RetrohuntError as exc:
        slug = "retrohunt-running" if exc.code == "retrohunt-running" else "signatures-changed"
        raise ProblemError(slug, str(exc)) from None


@requires(Role.ADMIN)
async def retrohunt(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    settings = service.settings
    body = await read_json(request, 16 * 1024) if request.can_read_body else None
    since, until = retrohunt_window(body, settings.retrohunt_days, settings.retention_days)
    result = await run_retrohunt(service, since, until)
    # Thousands of findings: made into dicts a slice at a time, so the checks that go on
    # meanwhile are not held up behind them (in one go, or in a thread holding the GIL, they
    # stalled them 130-200 ms); the encoding itself is C and quick.
    findings = []
    for i, finding in enumerate(result.findings, 1):
        findings.append(finding.to_dict())
        if i % 256 == 0:
            await asyncio.sleep(0)
    return json_response({"summary": result.summary.to_dict(), "findings": findings})
