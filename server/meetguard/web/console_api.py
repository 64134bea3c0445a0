"""The admin page's JSON API (`/admin/api/...`), behind the console session.

Reads (logs, a record, stats, signatures) need a session; actions (sign-out, reload, dry-run)
also need the session's CSRF token and a same-origin request. Sign-in takes an admin token,
never a client key.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace  # noqa: F401 (doctest)
from typing import Any

from aiohttp import web

from ..classify import classify_link
from ..retrohunt import FINDING_EVENT, RUN_EVENT
from ..store.base import LogQuery, record_id_time
from ..verdict import Action, Code, VerdictClass
from . import reports
from .admin_api import log_query, reload_or_problem, retrohunt_window, run_retrohunt
from .auth import Role
from .console import (
    clear_session_cookie,
    same_origin,
    set_session_cookie,
    signed_in,
)
from .console_sessions import SessionStoreError
from .exports import stream_export, time_zone
from .http import json_response, read_json
from .keys import CONSOLE, SERVICE, SESSION
from .middlewares import requires
from .problems import ProblemError
from .timeparse import parse_time
from .validate import CONTEXTS, EVENT_TYPES

log = logging.getLogger("meetguard.console")
MAX_TOKEN = 4096
_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


# -- session -------------------------------------------------------------------------------------


@requires(None)
async def sign_in(request: web.Request) -> web.Response:
    """Exchange an admin token for a session cookie; client keys are refused."""
    if not same_origin(request):
        raise ProblemError("forbidden", "cross-site sign-in refused")
    try:
        return await _sign_in(request, request.remote or "?")
    except SessionStoreError as exc:
        log.warning("%s", exc)
        raise ProblemError("store-unavailable", "sessions cannot be written right now") \
            from None


async def _sign_in(request: web.Request, address: str) -> web.Response:
    service = request.app[SERVICE]
    sessions = request.app[CONSOLE].sessions
    if await sessions.throttled(address):
        raise ProblemError("rate-limited", "too many failed sign-ins: wait ten minutes",
                           headers={"Retry-After": "600"})
    body = await read_json(request, 16 * 1024)
    token = body.get("token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token.strip() or len(token) > MAX_TOKEN:
        raise ProblemError("invalid-request", "/token must be the admin token (a string)")
    credential = service.keys.identify(token.strip())
    if credential is None or credential.role is not Role.ADMIN:
        await sessions.failed(address)
        log.warning("console sign-in refused", extra={
            "remote": address, "key": credential.name if credential else None})
        if credential is None:
            raise ProblemError("unauthorized", "this is not an admin token of this service")
        raise ProblemError("forbidden", "a client key cannot sign in: use an admin token")
    session = await sessions.create(credential.name)
    log.info("console sign-in", extra={"remote": address, "key": credential.name})
    response = json_response(_session_answer(request, session))
    set_session_cookie(request, response, session)
    return response


@signed_in(csrf=False)
async def session_info(request: web.Request) -> web.Response:
    return json_response(_session_answer(request, request[SESSION]))


def _session_answer(request: web.Request, session: Any) -> dict[str, Any]:
    policy = request.app[SERVICE].policies.current.policy
    return {
        "name": session.name, "csrf": session.csrf, "expires": session.expires,
        "vocabulary": {
            "class": [c.value for c in VerdictClass], "action": [a.value for a in Action],
            "kind": ["link", "file", "event", "retro"], "context": list(CONTEXTS),
            "event": [*EVENT_TYPES, FINDING_EVENT, RUN_EVENT], "codes": [c.value for c in Code],
            "platform": [{"id": p.id, "name": p.name, "class": p.verdict_class.value}
                         for p in policy.platforms],
        },
    }


@signed_in(csrf=True)
async def sign_out(request: web.Request) -> web.Response:
    try:
        await request.app[CONSOLE].sessions.end(request[SESSION].id)
    except SessionStoreError as exc:
        log.warning("%s", exc)
        raise ProblemError("store-unavailable", "the session could not be ended: retry") \
            from None
    log.info("console sign-out", extra={"key": request[SESSION].name})
    response = json_response({"signed_out": True})
    clear_session_cookie(request, response)
    return response


# -- logs ----------------------------------------------------------------------------------------


@signed_in(csrf=False)
async def logs(request: web.Request) -> web.StreamResponse:
    """A page of records (json), or every matching record streamed (csv, ndjson)."""
    query = log_query(request.query)
    fmt = request.query.get("format", "json")
    if fmt == "json":
        page = await request.app[SERVICE].store.query(query)
        return json_response(page.to_dict(time_zone(request)))
    if fmt not in ("csv", "ndjson"):
        raise ProblemError("invalid-parameter", "format must be json, csv or ndjson")
    return await export(request, query, fmt)


async def export(request: web.Request, query: LogQuery, fmt: str) -> web.StreamResponse:
    """Every matching record, streamed; the CSV starts with a BOM so Excel reads Vietnamese."""
    return await stream_export(request, request.app[SERVICE].store, query, fmt, bom=True)


@signed_in(csrf=False)
async def record(request: web.Request) -> web.Response:
    """One record by id (its time is in the id, so this is a narrow range query)."""
    record_id = request.match_info["id"].upper()
    if not _ULID.match(record_id):
        raise ProblemError("not-found", "no record has this id")
    ts = record_id_time(record_id)
    query = LogQuery(since=ts - 0.001, until=ts + 0.002)
    async for found in request.app[SERVICE].store.export(query):
        if found.id == record_id:
            return json_response(found.to_dict(time_zone(request)))
    raise ProblemError("not-found", "no record has this id (purged, or never stored)")


# -- dashboard -----------------------------------------------------------------------------------


def auto_bucket(span: float) -> int:
    """Hourly bars up to two days, six-hourly up to two weeks, daily beyond.

    >>> auto_bucket(86400), auto_bucket(7 * 86400), auto_bucket(30 * 86400)
    (3600, 21600, 86400)
    """
    if span <= 2 * 86400:
        return 3600
    return 21600 if span <= 14 * 86400 else 86400


@signed_in(csrf=False)
async def stats(request: web.Request) -> web.Response:
    """`/v1/stats`, with what the dashboard shows picked out using the live policy."""
    now = time.time()
    try:
        since = parse_time(request.query.get("since") or "24h", now=now)
        until = parse_time(request.query.get("until") or str(now), now=now)
        bucket = int(request.query.get("bucket") or auto_bucket(until - since))
    except ValueError:
        raise ProblemError("invalid-parameter", "since/until like 24h, 7d or ISO 8601; bucket "
                                                "in seconds, a multiple of 3600") from None
    service = request.app[SERVICE]
    result = await service.store.stats(since, until, bucket)
    policy = service.policies.current.policy
    platforms = []
    for item in result["top_platforms"]:
        platform = policy.platform(item["platform"])
        platforms.append({**item, "name": platform.name if platform else item["platform"],
                          "class": platform.verdict_class.value if platform else None})
    return json_response({
        "since": since, "until": until, "bucket": bucket, **result,
        "top_platforms": platforms,
        "top_warned_platforms": [p for p in platforms if p["class"] == "warned"],
        "top_unknown_hosts": [h for h in result["top_hosts"] if h["class"] == "unknown"],
    })


# -- signatures ----------------------------------------------------------------------------------


@signed_in(csrf=False)
async def signatures(request: web.Request) -> web.Response:
    return json_response(signatures_document(request))


def signatures_document(request: web.Request) -> dict[str, Any]:
    snapshot = request.app[SERVICE].policies.current
    policy = snapshot.policy
    domains = policy.known_bad
    lists: Counter[str] = Counter()
    for folder, values in (("domains", (domains.lookup(d) for d in domains.domains())),
                           ("domains", policy.known_bad_urls.values()),
                           ("hashes", policy.hashes.values())):
        lists.update(f"{folder}/{stem}.txt" for stem in values)
    return {
        **policy.summary(), "loaded_at": snapshot.loaded_at,
        "lists": [{"file": name, "entries": n} for name, n in sorted(lists.items())],
        "platform_list": [{**p.to_dict(), "action": p.action.value if p.action else None,
                           "note": p.note} for p in policy.platforms],
    }


@signed_in(csrf=True)
async def reload(request: web.Request) -> web.Response:
    previous, _ = await reload_or_problem(request.app[SERVICE])
    return json_response({"previous_version": previous, **signatures_document(request)})


@signed_in(csrf=True)
async def dry_run(request: web.Request) -> web.Response:
    """Classify a pasted URL with the live policy; nothing is logged (it is not a visit)."""
    service = request.app[SERVICE]
    body = await read_json(request, service.settings.max_body_bytes)
    url = body.get("url") if isinstance(body, dict) else None
    if not isinstance(url, str):
        raise ProblemError("invalid-request", "/url must be a string")
    lang = body.get("lang") if body.get("lang") in ("en", "vi") else "en"
    snapshot = service.policies.current
    verdict = classify_link(snapshot.policy, url)
    return json_response({"verdict": verdict.to_dict(lang), "loaded_at": snapshot.loaded_at})


@signed_in(csrf=True)
async def retrohunt(request: web.Request) -> web.Response:
    """A retro-hunt now (the "Newly flagged" page), as `POST /v1/admin/retrohunt`."""
    service = request.app[SERVICE]
    body = await read_json(request, 16 * 1024)
    settings = service.settings
    since, until = retrohunt_window(body, settings.retrohunt_days, settings.retention_days)
    return json_response((await run_retrohunt(service, since, until)).to_dict())


Route = tuple[str, str, Callable[[web.Request], Any]]
ROUTES: tuple[Route, ...] = (
    ("POST", "/session", sign_in),
    ("GET", "/session", session_info),
    ("POST", "/signout", sign_out),
    ("GET", "/logs", logs),
    ("GET", "/records/{id}", record),
    ("GET", "/stats", stats),
    ("GET", "/reports/people", reports.console_people),
    ("GET", "/signatures", signatures),
    ("POST", "/reload", reload),
    ("POST", "/dry-run", dry_run),
    ("POST", "/retrohunt", retrohunt),
)
