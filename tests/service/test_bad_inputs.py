"""A catalogue of bad inputs: each gets its exact status and problem type, none a 500, none a
log record (or part of one). The few inputs the service answers with a verdict (a 100,000-
character URL, control characters, `<script>` in fields) are checked for what gets stored.

Every case runs on a fresh service (one test each), then the whole catalogue runs again on one
service, interleaved with good requests, and its log must hold exactly what was answered.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from tests.support.service import ADMIN_TOKEN, CLIENT_KEY, admin_headers, client_headers
from yarl import URL

from meetguard.web.problems import PROBLEM_BASE, PROBLEMS

LIMITS = {"max_body_bytes": 256 * 1024, "max_upload_bytes": 4096, "max_urls_per_batch": 100,
          "max_events_per_batch": 100}
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
JSON = {"Content-Type": "application/json"}
HEX = "0123456789abcdef" * 4
HELLO_SHA = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"  # sha256(b"hello")
SCRIPT = "<script>alert(1)</script>"

Verify = Callable[[dict[str, Any], list[dict[str, Any]]], None]


@dataclass(frozen=True)
class Case:
    """One request and the answer it must get. `slug` None: a success that logs `records`."""

    name: str
    method: str
    path: str
    status: int
    slug: str | None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # sent as is on a socket (what aiohttp's client refuses to send)
    records: int = 0
    verify: Verify | None = None
    no_content_type: bool = False


def post(name: str, path: str, obj: Any, status: int, slug: str | None, *,
         headers: dict[str, str] | None = None, **kw: Any) -> Case:
    body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return Case(name, "POST", path, status, slug, body,
                {**client_headers(), **JSON, **(headers or {})}, **kw)


def links(name: str, obj: Any, status: int = 400, slug: str | None = "invalid-request",
          **kw: Any) -> Case:
    return post(name, "/v1/links/check", obj, status, slug, **kw)


def events(name: str, obj: Any, status: int = 400, slug: str | None = "invalid-request",
           **kw: Any) -> Case:
    return post(name, "/v1/events", obj, status, slug, **kw)


def files(name: str, obj: Any, status: int = 400, slug: str | None = "invalid-request",
          **kw: Any) -> Case:
    return post(name, "/v1/files/check", obj, status, slug, **kw)


def admin_get(name: str, path: str, slug: str = "invalid-parameter", status: int = 400) -> Case:
    return Case(name, "GET", path, status, slug, headers=admin_headers())


def raw(name: str, head: list[str], body: bytes, status: int, slug: str | None, *,
        extra_header: bytes = b"", **kw: Any) -> Case:
    """A request written byte for byte (`head` lines, then `extra_header`, then the body)."""
    lines = "".join(f"{line}\r\n" for line in head).encode() + extra_header
    request = lines + b"Connection: close\r\n\r\n" + body
    method, path, _ = head[0].split(" ")
    return Case(name, method, path, status, slug, raw=request, **kw)


def chunked(body: bytes, size: int = 8192) -> bytes:
    parts = [b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size])
             for i in range(0, len(body), size)]
    return b"".join(parts) + b"0\r\n\r\n"


# -- checks of what the successful cases answered and stored --------------------------------------


def long_url_blocked(body: dict[str, Any], records: list[dict[str, Any]]) -> None:
    long_one, normal = body["verdicts"]
    assert long_one["reasons"][0]["code"] == "invalid-url"
    assert (long_one["class"], long_one["action"], long_one["click_through"]) == (
        "unknown", "block", False)
    assert normal["action"] == "warn" and normal["platform"] == "zoom"  # the batch goes on
    stored = {r["id"]: r for r in records}[long_one["id"]]
    assert stored["codes"] == ["invalid-url"] and len(stored["target"]) <= 2048


def control_chars_handled(body: dict[str, Any], records: list[dict[str, Any]]) -> None:
    nul, only_controls, in_host, in_path, bidi = body["verdicts"]
    for verdict in (nul, only_controls, in_host):
        assert verdict["reasons"][0]["code"] == "invalid-url" and verdict["action"] == "block"
    assert in_path["host"] == "zoom.us" and "%00" in in_path["target"]  # browsers encode it
    assert bidi["action"] in ("warn", "block")
    for record in records:
        assert not CONTROL.search(record["target"] or ""), record["target"]


def script_user_stored_as_text(body: dict[str, Any], records: list[dict[str, Any]]) -> None:
    (record,) = records
    assert record["user"] == f"{SCRIPT}[31m"  # percent-encoded ESC and NUL removed
    assert record["detail"]["note"] == f"{SCRIPT} bell"
    assert record["detail"]["where"] == "csi[2J"  # the C1 control (U+009B) removed


def not_utf8_user_replaced(body: dict[str, Any], records: list[dict[str, Any]]) -> None:
    (record,) = records
    assert record["user"] == "<b>\ufffd</b>"


def tab_and_c1_user_stripped(body: dict[str, Any], records: list[dict[str, Any]]) -> None:
    (record,) = records
    assert record["user"] == f"{SCRIPT}x"


def huge_ts_becomes_now(body: dict[str, Any], records: list[dict[str, Any]]) -> None:
    (record,) = records
    assert abs(record["ts"] - record["detail"]["reported_ts"]) > 1e20  # the client's ts is kept
    assert record["ts"] < 2**33  # ... but the record is filed under the time it arrived


def last_duplicate_key_wins(body: dict[str, Any], records: list[dict[str, Any]]) -> None:
    (record,) = records
    assert record["context"] == "navigation" and record["host"] == "zoom.us"


# -- the catalogue -------------------------------------------------------------------------------

EVENT = {"type": "override", "url": "https://zoom.us/j/1"}
URL_100K = "https://example.com/" + "a" * 100_000

CATALOGUE: list[Case] = [
    # JSON that is not JSON, or not the JSON we want
    links("malformed-json", b'{"urls": ["https://zoom.us/"', 400, "invalid-json"),
    links("empty-body", b"", 400, "invalid-json"),
    links("json-array-not-object", ["https://zoom.us/"]),
    links("json-string-not-object", "https://zoom.us/"),
    links("json-null", None),
    links("urls-missing", {"context": "click"}),
    links("urls-not-a-list", {"urls": "https://zoom.us/"}),
    links("urls-object", {"urls": {"0": "https://zoom.us/"}}),
    links("number-in-urls", {"urls": ["https://zoom.us/", 5]}),
    links("null-in-urls", {"urls": [None]}),
    links("list-in-urls", {"urls": [["https://zoom.us/"]]}),
    links("empty-urls", {"urls": []}),
    links("too-many-urls", {"urls": ["https://zoom.us/"] * 101}, 413, "too-many-urls"),
    links("context-not-a-string", {"urls": ["https://zoom.us/"], "context": 5}),
    links("context-not-in-enum", {"urls": ["https://zoom.us/"], "context": "email"}),
    links("invalid-utf8-body", b'{"urls": ["https://zoom.us/\xff\xfe"]}', 400, "invalid-json"),
    links("utf8-bom", b'\xef\xbb\xbf{"urls": ["https://zoom.us/"]}', 400, "invalid-json"),
    links("lone-surrogate-escape", b'{"urls": ["https://zoom.us/\\ud800"]}', 400,
          "invalid-json"),
    links("deeply-nested", b"[" * 100_000, 400, "invalid-json"),
    links("deeply-nested-objects", b'{"a":' * 5000 + b"1" + b"}" * 5000, 400, "invalid-json"),
    links("nan-literal", b'{"urls": ["https://zoom.us/"], "n": NaN}', 400, "invalid-json"),
    links("number-overflows-double", b'{"urls": ["https://zoom.us/"], "n": 1e400}', 400,
          "invalid-json"),
    links("huge-integer-as-url", b'{"urls": [123456789012345678901234567890]}'),
    links("duplicate-keys-last-is-bad", b'{"urls": ["https://zoom.us/"], "urls": 5}'),
    links("duplicate-keys-last-wins",
          b'{"urls": 5, "context": "click", "urls": ["https://zoom.us/"], '
          b'"context": "navigation"}', 200, None, records=1, verify=last_duplicate_key_wins),
    # sizes
    links("body-over-limit", {"urls": ["https://zoom.us/" + "a" * 300_000]}, 413,
          "body-too-large"),
    raw("chunked-body-over-limit",
        ["POST /v1/links/check HTTP/1.1", "Host: meetguard", f"Authorization: Bearer {CLIENT_KEY}",
         "Content-Type: application/json", "Transfer-Encoding: chunked"],
        chunked(json.dumps({"urls": ["https://zoom.us/" + "b" * 300_000]}).encode()),
        413, "body-too-large"),
    links("url-of-100k-characters", {"urls": [URL_100K, "https://zoom.us/j/1"], "context": "click"},
          200, None, records=2, verify=long_url_blocked),
    links("control-characters-and-nul-in-urls",
          {"urls": ["\x00", "\x01\x02\x1b", "http://ex\x00ample.com/", "https://zoom.us/\x00\x1b[2J",
                    "https://\u202eexample.com/"], "context": "click"},
          200, None, records=5, verify=control_chars_handled),
    # content types and encodings
    links("content-type-text-plain", {"urls": ["https://zoom.us/"]}, 415,
          "unsupported-media-type", headers={"Content-Type": "text/plain"}),
    links("content-type-form", {"urls": ["https://zoom.us/"]}, 415, "unsupported-media-type",
          headers={"Content-Type": "application/x-www-form-urlencoded"}),
    Case("no-content-type", "POST", "/v1/links/check", 415, "unsupported-media-type",
         json.dumps({"urls": ["https://zoom.us/"]}).encode(), client_headers(),
         no_content_type=True),
    links("gzip-that-is-not-gzip", {"urls": ["https://zoom.us/"]}, 400, "invalid-request",
          headers={"Content-Encoding": "gzip"}),
    # headers
    links("install-id-with-spaces", {"urls": ["https://zoom.us/"]},
          headers={"X-MeetGuard-Install": "pc 42; DROP TABLE"}),
    links("install-id-too-long", {"urls": ["https://zoom.us/"]},
          headers={"X-MeetGuard-Install": "p" * 65}),
    links("install-id-script", {"urls": ["https://zoom.us/"]},
          headers={"X-MeetGuard-Install": SCRIPT}),
    links("user-label-too-long", {"urls": ["https://zoom.us/"]},
          headers={"X-MeetGuard-User": "u" * 400}),
    events("script-in-user-header-and-detail",
           {"events": [{**EVENT, "detail": {"note": f"{SCRIPT}\x07 bell", "where": "csi\x9b[2J"}}]},
           202, None, headers={"X-MeetGuard-User": "%3Cscript%3Ealert(1)%3C/script%3E%1B[31m%00"},
           records=1, verify=script_user_stored_as_text),
    raw("user-header-not-utf8",
        ["POST /v1/events HTTP/1.1", "Host: meetguard", f"Authorization: Bearer {CLIENT_KEY}",
         "Content-Type: application/json", "Content-Length: 55"],
        json.dumps({"events": [{"type": "override"}]}).ljust(55).encode(), 202, None,
        extra_header=b"X-MeetGuard-User: <b>\xff</b>\r\n", records=1,
        verify=not_utf8_user_replaced),
    raw("user-header-tab-and-c1",
        ["POST /v1/events HTTP/1.1", "Host: meetguard", f"Authorization: Bearer {CLIENT_KEY}",
         "Content-Type: application/json", "Content-Length: 55"],
        json.dumps({"events": [{"type": "override"}]}).ljust(55).encode(), 202, None,
        extra_header=f"X-MeetGuard-User: {SCRIPT}\t\u009bx\r\n".encode(), records=1,
        verify=tab_and_c1_user_stripped),
    # keys
    Case("no-authorization", "POST", "/v1/links/check", 401, "unauthorized",
         json.dumps({"urls": ["https://zoom.us/"]}).encode(), JSON),
    links("wrong-key", {"urls": ["https://zoom.us/"]}, 401, "unauthorized",
          headers={"Authorization": "Bearer not-the-key-0123456789abcdef"}),
    links("basic-scheme", {"urls": ["https://zoom.us/"]}, 401, "unauthorized",
          headers={"Authorization": f"Basic {CLIENT_KEY}"}),
    links("empty-bearer", {"urls": ["https://zoom.us/"]}, 401, "unauthorized",
          headers={"Authorization": "Bearer "}),
    Case("client-key-on-logs", "GET", "/v1/logs", 403, "forbidden", headers=client_headers()),
    Case("client-key-on-stats", "GET", "/v1/stats", 403, "forbidden", headers=client_headers()),
    Case("client-key-on-reload", "POST", "/v1/admin/reload", 403, "forbidden",
         headers=client_headers()),
    links("admin-token-on-links-check", {"urls": ["https://zoom.us/"]}, 403, "forbidden",
          headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}),
    events("admin-token-on-events", {"events": [EVENT]}, 403, "forbidden",
           headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}),
    # routes and methods
    Case("unknown-route", "GET", "/v1/nothing-here", 404, "not-found", headers=client_headers()),
    Case("unknown-route-not-utf8", "GET", "/v1/%FF%FE", 404, "not-found"),
    Case("wrong-method-delete", "DELETE", "/v1/links/check", 405, "method-not-allowed",
         headers=client_headers()),
    Case("wrong-method-get", "GET", "/v1/links/check", 405, "method-not-allowed",
         headers=client_headers()),
    # files
    files("sha256-not-hex", {"sha256": "g" * 64}, slug="invalid-hash"),
    files("sha256-too-short", {"sha256": HEX[:63]}, slug="invalid-hash"),
    files("sha256-too-long", {"sha256": HEX + "0"}, slug="invalid-hash"),
    files("sha256-a-number", {"sha256": 12345}, slug="invalid-hash"),
    files("sha256-missing", {"filename": "invite.pdf"}, slug="invalid-hash"),
    files("size-negative", {"sha256": HEX, "size": -1}),
    files("size-huge", {"sha256": HEX, "size": 123456789012345678901234567890}),
    files("size-fraction", {"sha256": HEX, "size": 1.5}),
    files("filename-too-long", {"sha256": HEX, "filename": "a" * 256 + ".exe"}),
    files("filename-not-a-string", {"sha256": HEX, "filename": ["invite.exe"]}),
    Case("upload-path-not-hex", "PUT", "/v1/files/" + "z" * 64 + "/content", 400, "invalid-hash",
         b"hello", {**client_headers(), "Content-Type": "application/octet-stream"}),
    Case("upload-path-wrong-length", "PUT", f"/v1/files/{HELLO_SHA[:-1]}/content", 400,
         "invalid-hash", b"hello",
         {**client_headers(), "Content-Type": "application/octet-stream"}),
    Case("upload-content-does-not-match-hash", "PUT", f"/v1/files/{HEX}/content", 400,
         "hash-mismatch", b"hello",
         {**client_headers(), "Content-Type": "application/octet-stream"}),
    Case("upload-over-limit", "PUT", f"/v1/files/{HEX}/content", 413, "body-too-large",
         b"x" * 5000, {**client_headers(), "Content-Type": "application/octet-stream"}),
    raw("upload-chunked-over-limit",
        [f"PUT /v1/files/{HEX}/content HTTP/1.1", "Host: meetguard",
         f"Authorization: Bearer {CLIENT_KEY}", "Transfer-Encoding: chunked"],
        chunked(b"y" * 5000, 1000), 413, "body-too-large"),
    Case("upload-size-not-a-number", "PUT", f"/v1/files/{HELLO_SHA}/content?size=big", 400,
         "invalid-request", b"hello",
         {**client_headers(), "Content-Type": "application/octet-stream"}),
    # events
    events("unknown-event-type", {"events": [{**EVENT, "type": "format-disk"}]}),
    events("event-type-missing", {"events": [{"url": "https://zoom.us/"}]}),
    events("events-not-a-list", {"events": EVENT}),
    events("events-empty", {"events": []}),
    events("event-not-an-object", {"events": ["override"]}),
    events("too-many-events", {"events": [EVENT] * 101}, 413, "too-many-events"),
    events("detail-nested-object", {"events": [{**EVENT, "detail": {"a": {"b": 1}}}]}),
    events("detail-list-value", {"events": [{**EVENT, "detail": {"a": [1, 2]}}]}),
    events("detail-too-many-entries",
           {"events": [{**EVENT, "detail": {f"k{i}": i for i in range(21)}}]}),
    events("detail-key-too-long", {"events": [{**EVENT, "detail": {"k" * 65: 1}}]}),
    events("detail-not-an-object", {"events": [{**EVENT, "detail": "text"}]}),
    events("ts-as-string", {"events": [{**EVENT, "ts": "1700000000"}]}),
    events("ts-nan-string", {"events": [{**EVENT, "ts": "NaN"}]}),
    events("ts-boolean", {"events": [{**EVENT, "ts": True}]}),
    events("ts-nan-literal", b'{"events": [{"type": "override", "ts": NaN}]}', 400,
           "invalid-json"),
    events("ts-infinity-literal", b'{"events": [{"type": "override", "ts": Infinity}]}', 400,
           "invalid-json"),
    events("ts-huge", {"events": [{**EVENT, "ts": 1e300}]}, 202, None, records=1,
           verify=huge_ts_becomes_now),
    events("event-sha256-not-hex", {"events": [{**EVENT, "sha256": "xyz"}]}, slug="invalid-hash"),
    events("event-url-not-a-string", {"events": [{**EVENT, "url": 42}]}),
    events("event-url-too-long", {"events": [{**EVENT, "url": "https://zoom.us/" + "a" * 70_000}]}),
    events("verdict-id-too-long", {"events": [{**EVENT, "verdict_id": "0" * 27}]}),
    events("second-event-bad-none-stored",
           {"events": [EVENT, EVENT, {**EVENT, "type": "nope"}]}),
    # admin queries
    admin_get("logs-since-not-a-time", "/v1/logs?since=yesterday"),
    admin_get("logs-since-nan", "/v1/logs?since=nan"),
    admin_get("logs-until-negative", "/v1/logs?until=-1"),
    admin_get("logs-limit-not-a-number", "/v1/logs?limit=ten"),
    admin_get("logs-limit-zero", "/v1/logs?limit=0"),
    admin_get("logs-limit-too-big", "/v1/logs?limit=100000"),
    admin_get("logs-cursor-garbage", "/v1/logs?cursor=not-a-cursor", "invalid-cursor"),
    admin_get("logs-cursor-base64-junk", "/v1/logs?cursor=AAAAAAAAAAAA", "invalid-cursor"),
    admin_get("logs-format-unknown", "/v1/logs?format=xml"),
    admin_get("logs-host-too-long", "/v1/logs?host=" + "h" * 300),
    admin_get("stats-bucket-not-hours", "/v1/stats?bucket=7"),
    admin_get("stats-since-after-until", "/v1/stats?since=2000&until=1000"),
]


def answered_ids(body: Any) -> list[str]:
    """Every record id a successful answer carries."""
    if not isinstance(body, dict):
        return []
    ids = [v["id"] for v in body.get("verdicts", ()) if v.get("id")]
    ids += body.get("ids", [])
    if isinstance(body.get("verdict"), dict):
        ids.append(body["verdict"]["id"])
    return ids


async def send(client: TestClient, case: Case) -> tuple[int, dict[str, str], bytes]:
    """Send the case's request; (status, headers, body)."""
    if case.raw is not None:
        return await send_raw(client, case.raw)
    skip = ("Content-Type",) if case.no_content_type else ()
    async with client.session.request(case.method, client.make_url(URL(case.path, encoded=True)),
                                      data=case.body, headers=case.headers,
                                      skip_auto_headers=skip) as response:
        return response.status, dict(response.headers), await response.read()


async def send_raw(client: TestClient, request: bytes) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        writer.write(request)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    return int(status_line.split(" ")[1]), headers, body


async def log_records(client: TestClient) -> list[dict[str, Any]]:
    """Every record in the log (NDJSON export)."""
    response = await client.get("/v1/logs", params={"format": "ndjson"}, headers=admin_headers())
    assert response.status == 200
    text = await response.text()
    return [json.loads(line) for line in text.splitlines() if line]


def check_answer(case: Case, status: int, headers: dict[str, str], raw_body: bytes) -> Any:
    """The exact answer the case must get; returns the parsed body."""
    assert status == case.status, (case.name, status, raw_body[:300])
    content_type = headers.get("Content-Type", "")
    body = json.loads(raw_body)
    if case.slug is None:
        assert content_type == "application/json", (case.name, content_type)
        return body
    assert content_type == "application/problem+json", (case.name, content_type)
    assert body["type"] == PROBLEM_BASE + case.slug, (case.name, body)
    assert (body["status"], body["title"]) == (case.status, PROBLEMS[case.slug][1])
    assert body["instance"].startswith("/")
    if status == 401:
        assert headers["WWW-Authenticate"].startswith("Bearer "), headers
    if status == 405:
        assert "POST" in headers["Allow"], headers
    return body


def test_the_catalogue_is_large_and_every_case_named_once() -> None:
    names = [case.name for case in CATALOGUE]
    assert len(set(names)) == len(names)
    assert sum(case.slug is not None for case in CATALOGUE) >= 35
    assert all(case.slug is None or case.slug in PROBLEMS for case in CATALOGUE)
    assert all(PROBLEMS[c.slug][0] == c.status for c in CATALOGUE if c.slug)


@pytest.mark.parametrize("case", CATALOGUE, ids=[c.name for c in CATALOGUE])
async def test_bad_input(make_client: Any, case: Case) -> None:
    client = await make_client(**LIMITS)
    status, headers, raw_body = await send(client, case)
    body = check_answer(case, status, headers, raw_body)
    records = await log_records(client)
    ids = answered_ids(body) if case.slug is None else []
    assert sorted(r["id"] for r in records) == sorted(ids), case.name
    assert len(records) == case.records, case.name
    if case.verify is not None:
        case.verify(body, records)


async def test_the_whole_catalogue_on_one_service_costs_no_record(make_client: Any) -> None:
    """Bad inputs between good ones: the log has exactly what was answered, nothing else;
    the service never answered 500 and still answers normally."""
    client = await make_client(**LIMITS)
    good = links("good", {"urls": ["https://zoom.us/j/9", "https://emeeting.mic.gov.vn/"],
                          "context": "click"}, 200, None)
    answered: list[str] = []
    for case in CATALOGUE:
        for sent in (case, good):
            status, headers, raw_body = await send(client, sent)
            body = check_answer(sent, status, headers, raw_body)
            if sent.slug is None:
                answered += answered_ids(body)
    async with client.post("/v1/links/check", json={"urls": ["https://meet.google.com/abc"]},
                           headers=client_headers()) as response:
        assert response.status == 200
        answered += answered_ids(await response.json())
    records = await log_records(client)
    assert len(records) == len(answered) == len(set(answered))
    assert {r["id"] for r in records} == set(answered)
    for record in records:
        for key in ("client", "user", "target", "host"):
            assert not CONTROL.search(record[key] or ""), (key, record[key])
        for value in record["detail"].values():
            assert not (isinstance(value, str) and CONTROL.search(value)), record["detail"]
    async with client.get("/metrics") as response:
        metrics = await response.text()
    assert 'status="500"' not in metrics and 'status="503"' not in metrics
    assert 'status="400"' in metrics and 'status="413"' in metrics


async def test_control_characters_in_headers_stop_at_the_http_parser(
    make_client: Any,
) -> None:
    """A raw control character in a header value is not HTTP: aiohttp's parser answers 400
    (plain text, before any handler runs) and the service goes on; nothing is logged."""
    client = await make_client(**LIMITS)
    body = json.dumps({"events": [{"type": "override"}]}).encode()
    for byte in (b"\x00", b"\x07", b"\x1b", b"\x7f"):
        request = (b"POST /v1/events HTTP/1.1\r\nHost: m\r\nAuthorization: Bearer "
                   + CLIENT_KEY.encode() + b"\r\nContent-Type: application/json\r\n"
                   + b"X-MeetGuard-User: <script>" + byte + b"</script>\r\n"
                   + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        status, _, _ = await send_raw(client, request)
        assert status == 400
    assert await log_records(client) == []
    async with client.post("/v1/events", json={"events": [{"type": "override"}]},
                           headers=client_headers()) as response:
        assert response.status == 202
    assert len(await log_records(client)) == 1
