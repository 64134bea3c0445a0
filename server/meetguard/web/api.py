"""Client routes (extensions): check links and files, upload content, report events, policy.

Handlers are thin: validate, call the pure core, log, answer. Every record is committed before
the answer that carries its id goes out.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from typing import Any

from aiohttp import web

from ..classify import FileFacts, ScanResult, scan_bytes
from ..policy import Policy
from ..room_details import ROOM_DETAILS_EVENTS
from ..room_details import event_fields as room_event_fields
from ..store.base import LogRecord, StoreError, new_record_id, new_record_ids
from ..urls import redact_text
from ..verdict import Code, FileVerdict, LinkVerdict, Reason, Severity, Text
from .answers import PreparedLink, links_answer
from .auth import Role
from .http import json_response, read_body, read_json
from .keys import SERVICE
from .middlewares import Caller, caller, requires
from .problems import ProblemError
from .service import Service
from .validate import (
    CONTEXTS,
    EVENT_TYPES,
    choice,
    language,
    printable,
    require_object,
    sha256,
    size,
    small_object,
    string,
    timestamp,
)

MAX_FILENAME = 255
MAX_MIME = 127


# -- links ---------------------------------------------------------------------------------------


@requires(Role.CLIENT)
async def check_links(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    settings = service.settings
    body = require_object(await read_json(request, settings.max_body_bytes))
    urls = _url_list(body.get("urls"), settings.max_urls_per_batch)
    context = choice(body, "context", CONTEXTS, default="api")
    lang = language(body.get("lang"), request.headers.get("Accept-Language"))
    snapshot = service.policies.current
    prepared = [snapshot.links(url) for url in urls]
    records, counted, ids = _link_records(service, prepared, context, caller(request))
    await service.log(records, counted)
    return web.Response(
        body=links_answer(prepared, ids, lang, snapshot.policy.actions.verdict_ttl_seconds,
                          snapshot.policy.version),
        content_type="application/json",
    )


def _url_list(value: Any, limit: int) -> list[str]:
    if not isinstance(value, list) or not value:
        raise ProblemError("invalid-request", "/urls must be a non-empty array of strings")
    if len(value) > limit:
        raise ProblemError("too-many-urls", f"at most {limit} URLs per request")
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise ProblemError("invalid-request", f"/urls/{i} must be a string")
    return value


def _link_records(
    service: Service, prepared: list[PreparedLink], context: str, who: Caller
) -> tuple[list[LogRecord], dict[str, int], list[str | None]]:
    """Records to store, counters for what is only counted (hover allows), and the ids."""
    records: list[LogRecord] = []
    counted: dict[str, int] = {}
    ids: list[str | None] = []
    now = time.time()
    only_count = context == "hover" and not service.settings.log_hover_allows
    client, user, key_name = who.install, who.user, who.credential.name
    for link, record_id in zip(prepared, new_record_ids(now, len(prepared)), strict=True):
        if only_count and link.hover_counter is not None:
            counted[link.hover_counter] = counted.get(link.hover_counter, 0) + 1
            ids.append(None)
            continue
        records.append(link.record(record_id, now, context, client, user, key_name))
        ids.append(record_id)
    return records, counted, ids


# -- files ---------------------------------------------------------------------------------------


def scan_key(sha: str, filename: str, mime: str) -> str:
    """Cache key of a content scan: some file rules also read the name and type."""
    names = hashlib.sha256(f"{filename}\0{mime}".encode("utf-8", "surrogatepass")).hexdigest()
    return f"{sha}:{names[:16]}"


def scan_to_cache(result: ScanResult) -> dict[str, Any]:
    return {"reasons": [{"code": r.code.value, "severity": r.severity.value, "rule": r.rule,
                         "en": r.message.get("en"), "vi": r.message.get("vi")}
                        for r in result.reasons]}


def scan_from_cache(data: dict[str, Any] | None) -> ScanResult | None:
    if not data:
        return None
    try:
        return ScanResult(tuple(Reason(Code(r["code"]), Severity(r["severity"]),
                                       Text(r["en"], r["vi"]), r.get("rule"))
                                for r in data["reasons"]))
    except (KeyError, TypeError, ValueError):
        return None  # an unreadable cache entry is a miss, never a clean result


def _file_facts(obj: dict[str, Any], sha: str, max_url: int) -> FileFacts:
    filename = printable(string(obj, "filename", max_length=MAX_FILENAME) or "")
    mime = printable(string(obj, "mime", max_length=MAX_MIME) or "")
    source = string(obj, "source_url", max_length=max_url)
    return FileFacts(sha, size(obj, "size"), filename, mime, source)


async def _cached_scan(service: Service, key: str) -> ScanResult | None:
    try:
        return scan_from_cache(await service.state.get_scan(key))
    except StoreError:
        return None


@requires(Role.CLIENT)
async def check_file(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    body = require_object(await read_json(request, service.settings.max_body_bytes))
    sha = sha256(body.get("sha256"), "/sha256")
    snapshot = service.policies.current
    facts = _file_facts(body, sha, snapshot.policy.links.max_url_length)
    scan = await _cached_scan(service, scan_key(sha, facts.filename, facts.mime))
    verdict = snapshot.classifier.file(facts, scan)
    wanted = _content_wanted(service, verdict, facts, scan)
    return await _answer_file(request, service, verdict, facts, content_wanted=wanted)


def _content_wanted(service: Service, verdict: FileVerdict, facts: FileFacts,
                    scan: ScanResult | None) -> bool:
    if not service.settings.content_scanning or scan is not None:
        return False
    if "known-bad" in verdict.codes:
        return False  # already known: blocking needs no bytes
    return facts.size is None or facts.size <= service.settings.max_upload_bytes


async def _answer_file(request: web.Request, service: Service, verdict: FileVerdict,
                       facts: FileFacts, *, content_wanted: bool) -> web.Response:
    who = caller(request)
    now = time.time()
    source = verdict.source
    record = LogRecord(
        id=new_record_id(now), ts=now, kind="file", client=who.install, user=who.user,
        context="download", verdict_class=verdict.verdict_class.value,
        action=verdict.action.value, platform=source.platform if source else None,
        host=source.host or None if source else None,
        target=(source.target or None) if source else None, codes=tuple(verdict.codes),
        rules=tuple(verdict.rules), policy_version=verdict.policy_version, sha256=verdict.sha256,
        detail={"key": who.credential.name, "filename": facts.filename, "size": facts.size,
                "mime": facts.mime, "scanned": verdict.scanned,
                "severities": [r.severity.value for r in verdict.reasons]},
    )
    await service.log([record], {})
    lang = language(None, request.headers.get("Accept-Language"))
    answer = verdict.to_dict(lang)
    answer.update(id=record.id, content_wanted=content_wanted)
    return json_response({"verdict": answer})


@requires(Role.CLIENT)
async def upload_file(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    sha = sha256(request.match_info["sha256"], "the path's SHA-256")
    snapshot = service.policies.current
    facts = _file_facts(dict(request.query), sha, snapshot.policy.links.max_url_length)
    data = await read_body(request, service.settings.max_upload_bytes)
    facts = FileFacts(sha, len(data), facts.filename, facts.mime, facts.source_url)
    actual, scan = await _hash_and_scan(service, snapshot.policy, data, facts)
    if actual != sha:
        raise ProblemError("hash-mismatch", f"the content's SHA-256 is {actual}")
    service.metrics.inc("meetguard_scans_total", (("outcome", "error" if scan.error else "ok"),))
    if scan.error is None:
        # If the cache is down the verdict stands; the next upload of this file is rescanned.
        with contextlib.suppress(StoreError):
            await service.state.put_scan(scan_key(sha, facts.filename, facts.mime),
                                         scan_to_cache(scan), service.settings.scan_cache_seconds)
    verdict = snapshot.classifier.file(facts, scan)
    return await _answer_file(request, service, verdict, facts, content_wanted=False)


async def _hash_and_scan(service: Service, policy: Policy, data: bytes,
                         facts: FileFacts) -> tuple[str, ScanResult]:
    """SHA-256 and the file rules, off the event loop, bounded in number and time."""
    assert service.scan_slots is not None and service.scan_pool is not None
    try:
        await asyncio.wait_for(service.scan_slots.acquire(), timeout=10)
    except TimeoutError:
        raise ProblemError("scanner-busy", "retry shortly",
                           headers={"Retry-After": "5"}) from None
    try:
        loop = asyncio.get_running_loop()
        work = loop.run_in_executor(service.scan_pool, _hash_then_scan, policy, data, facts)
        limit = policy.files.scan_timeout_seconds + 5
        try:
            return await asyncio.wait_for(asyncio.shield(work), timeout=limit)
        except TimeoutError:
            digest = hashlib.sha256(data).hexdigest()
            return digest, ScanResult(error=Text(f"the scan did not finish in {limit} s",
                                                 f"quá trình quét không xong trong {limit} giây"))
    finally:
        service.scan_slots.release()


def _hash_then_scan(policy: Policy, data: bytes, facts: FileFacts) -> tuple[str, ScanResult]:
    digest = hashlib.sha256(data).hexdigest()
    if digest != facts.sha256:
        return digest, ScanResult(error=Text("hash mismatch", "mã băm không khớp"))
    return digest, scan_bytes(policy, data, facts.filename, facts.mime)


# -- events --------------------------------------------------------------------------------------


@requires(Role.CLIENT)
async def report_events(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    settings = service.settings
    body = require_object(await read_json(request, settings.max_body_bytes))
    events = body.get("events")
    if not isinstance(events, list) or not events:
        raise ProblemError("invalid-request", "/events must be a non-empty array of objects")
    if len(events) > settings.max_events_per_batch:
        raise ProblemError("too-many-events",
                           f"at most {settings.max_events_per_batch} events per request")
    who = caller(request)
    now = time.time()
    records = [_event_record(service, require_object(e, f"/events/{i}"), i, now, who)
               for i, e in enumerate(events)]
    await service.log(records, {})
    return json_response({"accepted": len(records), "ids": [r.id for r in records]},
                         status=202)


def _event_record(service: Service, event: dict[str, Any], index: int, now: float,
                  who: Caller) -> LogRecord:
    where = f"/events/{index}"
    snapshot = service.policies.current
    kind = choice(event, "type", EVENT_TYPES, default=None, where=where)
    if kind is None:
        raise ProblemError("invalid-request", f"{where}/type is required")
    url = string(event, "url", max_length=snapshot.policy.links.max_url_length, where=where)
    verdict = snapshot.classifier.link(url) if url else None
    reported = timestamp(event, "ts", where)
    ts = _plausible_time(reported, now, service.settings.retention_days)
    verdict_id = string(event, "verdict_id", max_length=26, where=where)
    file_hash = sha256(event["sha256"], f"{where}/sha256") if event.get("sha256") else None
    detail = small_object(event, "detail", where=where)
    filename = string(event, "filename", max_length=MAX_FILENAME, where=where)
    context = choice(event, "context", CONTEXTS, default=None, where=where)
    extra = {k: v for k, v in (("verdict_id", verdict_id), ("filename", filename and
             printable(filename)), ("reported_ts", reported if reported != ts else None))
             if v is not None}
    platform = verdict.platform if verdict else None
    target = _event_target(verdict, url)
    if kind in ROOM_DETAILS_EVENTS:
        platform, target, detail = room_event_fields(
            detail, {p.id for p in snapshot.policy.platforms}, platform, target)
    return LogRecord(
        id=new_record_id(ts), ts=ts, kind="event", client=who.install, user=who.user,
        context=context, event=kind, sha256=file_hash,
        verdict_class=verdict.verdict_class.value if verdict else None,
        action=verdict.action.value if verdict else None,
        platform=platform,
        host=(verdict.host or None) if verdict else None,
        target=target, codes=tuple(verdict.codes) if verdict else (),
        rules=tuple(verdict.rules) if verdict else (),
        policy_version=snapshot.policy.version,
        detail={"key": who.credential.name, **extra, **_redacted(detail, service)},
    )


def _event_target(verdict: LinkVerdict | None, url: str | None) -> str | None:
    if verdict is None:
        return None
    return verdict.target or printable((url or "")[:2048]) or None


def _redacted(detail: dict[str, Any], service: Service) -> dict[str, Any]:
    names = service.policies.current.policy.secrets.redact_params
    return {k: printable(redact_text(v, names)) if isinstance(v, str) else v
            for k, v in detail.items()}


def _plausible_time(reported: float | None, now: float, retention_days: int) -> float:
    """The client's time for an event it queued offline, if believable; else now."""
    if reported is None or reported > now + 300 or reported < now - retention_days * 86400:
        return now
    return reported


# -- policy --------------------------------------------------------------------------------------


@requires(Role.CLIENT)
async def get_policy(request: web.Request) -> web.Response:
    snapshot = request.app[SERVICE].policies.current
    headers = {"ETag": snapshot.etag, "Cache-Control": "no-cache"}
    if snapshot.etag in _etags(request.headers.get("If-None-Match", "")):
        return web.Response(status=304, headers=headers)
    return web.Response(body=snapshot.policy_document, headers=headers,
                        content_type="application/json")


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}
