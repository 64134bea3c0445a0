"""API v1 as the extension and IT use it: the real app on a real socket, a real SQLite file."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import logging
import re
import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jsonschema
import pytest
from aiohttp.test_utils import TestClient
from tests.support import samples
from tests.support.service import admin_headers, client_headers

from meetguard.web.openapi import openapi_document
from meetguard.web.routes import ROUTES

SIGNATURES = Path(__file__).resolve().parents[2] / "signatures"


async def check(client: TestClient, urls: list[Any], context: str = "click",
                **headers: str) -> dict[str, Any]:
    response = await client.post("/v1/links/check", json={"urls": urls, "context": context},
                                 headers=client_headers(**headers))
    assert response.status == 200, await response.text()
    return await response.json()


async def logs(client: TestClient, **params: str) -> dict[str, Any]:
    response = await client.get("/v1/logs", params=params, headers=admin_headers())
    assert response.status == 200, await response.text()
    return await response.json()


# -- links ---------------------------------------------------------------------------------------


async def test_batch_answers_in_input_order_and_every_verdict_is_logged(
    client: TestClient,
) -> None:
    urls = ["https://emeeting.mic.gov.vn/room/1", "https://us02web.zoom.us/j/1?pwd=SECRET",
            "not a url", "https://zo0m-us.com/j/1"]
    body = await check(client, urls)
    verdicts = body["verdicts"]
    assert [v["class"] for v in verdicts] == ["approved", "warned", "unknown", "unknown"]
    assert [v["action"] for v in verdicts] == ["allow", "warn", "block", "block"]
    assert verdicts[2]["reasons"][0]["code"] == "invalid-url"
    assert all(v["ttl"] > 0 and v["policy_version"] == body["policy_version"] for v in verdicts)
    logged = {r["id"]: r for r in (await logs(client))["items"]}
    assert {v["id"] for v in verdicts} == set(logged)
    zoom = logged[verdicts[1]["id"]]
    assert (zoom["class"], zoom["platform"], zoom["host"], zoom["client"], zoom["context"]) == (
        "warned", "zoom", "us02web.zoom.us", "install-1", "click")
    assert "SECRET" not in json.dumps(list(logged.values()))


async def test_hover_allows_are_counted_not_stored(client: TestClient) -> None:
    body = await check(client, ["https://emeeting.mic.gov.vn/", "https://zoom.us/j/2"],
                       context="hover")
    allowed, warned = body["verdicts"]
    assert allowed["id"] is None and warned["id"] is not None
    items = (await logs(client))["items"]
    assert [r["id"] for r in items] == [warned["id"]]
    stats = await (await client.get("/v1/stats", headers=admin_headers())).json()
    assert stats["hover_allow"] == 1


async def test_hover_allows_are_stored_when_the_policy_asks(make_client: Any) -> None:
    client = await make_client(log_hover_allows="true")
    body = await check(client, ["https://emeeting.mic.gov.vn/"], context="hover")
    assert body["verdicts"][0]["id"] is not None


async def test_messages_follow_the_requested_language(client: TestClient) -> None:
    body = await check(client, ["https://zoom.us/j/1"], **{"Accept-Language": "vi-VN,vi;q=0.9"})
    assert "không phải là nền tảng họp được phép" in body["verdicts"][0]["reasons"][0]["message"]


async def test_install_id_and_user_label_go_into_each_record(client: TestClient) -> None:
    label = quote("Nguyễn Văn A\x07 <script>alert(1)</script>")  # percent-encoded UTF-8
    await check(client, ["https://zoom.us/j/3"], install="pc-0042",
                **{"X-MeetGuard-User": label})
    record = (await logs(client))["items"][0]
    assert record["client"] == "pc-0042"
    assert record["user"] == "Nguyễn Văn A <script>alert(1)</script>"  # text, shown escaped


# -- keys ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "role", "status"),
    [
        ("POST", "/v1/links/check", "none", 401),
        ("POST", "/v1/links/check", "admin", 403),
        ("GET", "/v1/logs", "client", 403),
        ("GET", "/v1/stats", "client", 403),
        ("POST", "/v1/admin/reload", "client", 403),
        ("GET", "/v1/logs", "none", 401),
        ("GET", "/v1/policy", "admin", 403),
    ],
)
async def test_keys_only_do_their_own_work(
    client: TestClient, method: str, path: str, role: str, status: int
) -> None:
    headers = {"none": {}, "admin": admin_headers(), "client": client_headers()}[role]
    response = await client.request(method, path, headers=headers, json={"urls": ["x"]})
    assert response.status == status
    assert response.content_type == "application/problem+json"
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_caller_seen_before_is_still_checked_on_every_request(client: TestClient) -> None:
    """Authenticated headers are remembered (not hashed again), so check what must still be
    decided per request: the route's role, a key that differs by one character, headers that
    change, and the caller recorded with each verdict."""
    good = client_headers(install="pc-7", **{"X-MeetGuard-User": "an%20nguyen"})
    for _ in range(2):
        response = await client.post("/v1/links/check", headers=good, json={"urls": ["x"]})
        assert response.status == 200
        assert (await client.get("/v1/logs", headers=good)).status == 403
    forged = {**good, "Authorization": good["Authorization"][:-1] + "!"}
    response = await client.post("/v1/links/check", headers=forged, json={"urls": ["x"]})
    assert response.status == 401
    bad_install = {**good, "X-MeetGuard-Install": "pc 7"}
    response = await client.post("/v1/links/check", headers=bad_install, json={"urls": ["x"]})
    assert response.status == 400
    other = client_headers(install="pc-8")
    assert (await client.post("/v1/links/check", headers=other, json={"urls": ["y"]})).status == 200
    page = await logs(client)
    by_url = {item["target"]: item for item in page["items"]}
    assert (by_url["y"]["client"], by_url["y"]["user"]) == ("pc-8", None)
    assert {(i["client"], i["user"]) for i in page["items"] if i["target"] == "x"} == {
        ("pc-7", "an nguyen")}


# -- files ---------------------------------------------------------------------------------------


async def file_check(client: TestClient, **facts: Any) -> dict[str, Any]:
    response = await client.post("/v1/files/check", json=facts, headers=client_headers())
    assert response.status == 200, await response.text()
    return (await response.json())["verdict"]


async def test_known_bad_hash_is_blocked_without_the_bytes(client: TestClient) -> None:
    eicar = samples.eicar()
    verdict = await file_check(client, sha256=hashlib.sha256(eicar).hexdigest(),
                               size=len(eicar), filename="eicar.com.txt")
    assert (verdict["action"], verdict["content_wanted"]) == ("block", False)
    assert "known-bad" in [r["code"] for r in verdict["reasons"]]


async def test_unknown_file_is_scanned_once_and_the_result_reused(client: TestClient) -> None:
    page = samples.html_smuggling()
    sha = hashlib.sha256(page).hexdigest()
    first = await file_check(client, sha256=sha, size=len(page), filename="invite.html",
                             mime="text/html", source_url="https://mail.example/attach/1")
    assert first["content_wanted"] is True and first["scanned"] is False
    response = await client.put(f"/v1/files/{sha}/content", data=page,
                                params={"filename": "invite.html", "mime": "text/html"},
                                headers={**client_headers(),
                                         "Content-Type": "application/octet-stream"})
    assert response.status == 200, await response.text()
    scanned = (await response.json())["verdict"]
    assert scanned["scanned"] is True
    assert "HTML_Smuggling_Blob_Download" in [r.get("rule") for r in scanned["reasons"]]
    assert scanned["action"] != "allow"
    again = await file_check(client, sha256=sha, size=len(page), filename="invite.html",
                             mime="text/html")
    assert again["content_wanted"] is False and again["scanned"] is True
    assert again["action"] == scanned["action"]
    items = (await logs(client, kind="file"))["items"]
    assert len(items) == 3 and all(r["sha256"] == sha for r in items)


async def test_a_clean_upload_is_allowed_and_a_mismatch_refused(client: TestClient) -> None:
    text = b"Agenda: budget review\n"
    sha = hashlib.sha256(text).hexdigest()
    ok = await client.put(f"/v1/files/{sha}/content", data=text, headers=client_headers(),
                          params={"filename": "agenda.txt"})
    assert (await ok.json())["verdict"]["action"] == "allow"
    bad = await client.put(f"/v1/files/{'0' * 64}/content", data=text, headers=client_headers())
    assert bad.status == 400
    assert (await bad.json())["type"].endswith("/hash-mismatch")


# -- events --------------------------------------------------------------------------------------


async def test_override_is_recorded_with_what_was_overridden(client: TestClient) -> None:
    verdict = (await check(client, ["https://zoom.us/j/9?pwd=SECRET"]))["verdicts"][0]
    response = await client.post("/v1/events", headers=client_headers(), json={"events": [
        {"type": "override", "url": "https://zoom.us/j/9?pwd=SECRET", "verdict_id": verdict["id"],
         "context": "click", "detail": {"page": "warning"}}]})
    assert response.status == 202
    ids = (await response.json())["ids"]
    record = (await logs(client, kind="event", event="override"))["items"][0]
    assert record["id"] == ids[0]
    assert (record["platform"], record["class"], record["host"]) == ("zoom", "warned", "zoom.us")
    assert record["detail"]["verdict_id"] == verdict["id"]
    assert "SECRET" not in json.dumps(record)
    stats = await (await client.get("/v1/stats", headers=admin_headers())).json()
    assert stats["overrides"] == 1


# -- policy --------------------------------------------------------------------------------------


async def test_policy_snapshot_and_etag(client: TestClient) -> None:
    response = await client.get("/v1/policy", headers=client_headers())
    assert response.status == 200
    snapshot = await response.json()
    platforms = {p["id"]: p for p in snapshot["platforms"]}
    assert platforms["emeeting-mic"]["class"] == "approved"
    assert "zoom.us" in platforms["zoom"]["domains"] and "zoommtg" in platforms["zoom"]["schemes"]
    assert "mail.google.com" in snapshot["webmail_hosts"] and snapshot["fail_mode"] == "open"
    etag = response.headers["ETag"]
    again = await client.get("/v1/policy", headers={**client_headers(), "If-None-Match": etag})
    assert again.status == 304


# -- logs and stats ------------------------------------------------------------------------------


async def test_logs_filters_and_cursor_pages(client: TestClient) -> None:
    urls = [f"https://us0{i % 9 + 1}web.zoom.us/j/{i}" for i in range(25)]
    urls += [f"https://site{i}.example/" for i in range(10)]
    await check(client, urls)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"host": "zoom.us", "limit": "10", **({"cursor": cursor} if cursor else {})}
        page = await logs(client, **params)
        seen += [r["id"] for r in page["items"]]
        assert all(r["host"].endswith(".zoom.us") for r in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 25
    unknown = await logs(client, **{"class": "unknown", "limit": "100"})
    assert len(unknown["items"]) == 10


async def test_csv_and_ndjson_exports_stream_the_filter(client: TestClient) -> None:
    await check(client, ["https://zoom.us/j/1", "https://emeeting.mic.gov.vn/",
                         "=HYPERLINK(\"http://evil.example\")"])
    response = await client.get("/v1/logs", params={"format": "csv"}, headers=admin_headers())
    assert response.status == 200 and response.content_type == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert len(rows) == 3
    assert {r["class"] for r in rows} == {"warned", "approved", "unknown"}
    # A spreadsheet must not run a formula that came in as a link.
    assert all(not r["target"].startswith("=") for r in rows)
    nd = await client.get("/v1/logs", params={"format": "ndjson", "class": "warned"},
                          headers=admin_headers())
    lines = (await nd.text()).splitlines()
    assert [json.loads(line)["platform"] for line in lines] == ["zoom"]


async def test_stats_count_what_was_logged(client: TestClient) -> None:
    await check(client, ["https://zoom.us/j/1", "https://zoom.us/j/2", "https://zo0m.us/",
                         "https://emeeting.mic.gov.vn/"])
    stats = await (await client.get("/v1/stats", params={"since": "1h"},
                                    headers=admin_headers())).json()
    assert stats["totals"]["class"] == {"approved": 1, "warned": 2, "unknown": 1}
    assert stats["impersonation"] == 1
    assert {"platform": "zoom", "count": 2} in stats["top_platforms"]


# -- reload --------------------------------------------------------------------------------------


async def test_reload_swaps_the_policy_and_refuses_a_broken_one(
    make_client: Any, tmp_path: Path
) -> None:
    sigdir = tmp_path / "signatures"
    shutil.copytree(SIGNATURES, sigdir)
    client = await make_client(signatures=str(sigdir))
    before = (await check(client, ["https://bad.example/"]))["verdicts"][0]
    assert before["action"] == "allow"
    with (sigdir / "domains" / "local.txt").open("a") as handle:
        handle.write("bad.example\n")
    response = await client.post("/v1/admin/reload", headers=admin_headers())
    assert response.status == 200
    reloaded = await response.json()
    assert reloaded["previous_version"] == before["policy_version"] != reloaded["version"]
    after = (await check(client, ["https://bad.example/"]))["verdicts"][0]
    assert after["action"] == "block" and after["policy_version"] == reloaded["version"]
    (sigdir / "platforms.toml").write_text("this is = = not toml\n")
    broken = await client.post("/v1/admin/reload", headers=admin_headers())
    assert broken.status == 422
    problem = await broken.json()
    assert problem["problems"][0]["file"].endswith("platforms.toml")
    assert problem["problems"][0]["line"] == 1
    still = (await check(client, ["https://bad.example/"]))["verdicts"][0]
    assert still["policy_version"] == reloaded["version"]


# -- operations ----------------------------------------------------------------------------------


async def test_health_readiness_and_metrics(client: TestClient) -> None:
    assert (await (await client.get("/healthz")).json())["status"] == "ok"
    ready = await (await client.get("/readyz")).json()
    assert ready["status"] == "ready" and ready["store"]["store"] == "sqlite"
    await check(client, ["https://zoom.us/j/1"])
    text = await (await client.get("/metrics")).text()
    assert 'meetguard_verdicts_total{kind="link",class="warned",action="warn"} 1' in text
    assert 'meetguard_requests_total{route="/v1/links/check",status="200"} 1' in text
    assert "meetguard_request_duration_seconds_bucket" in text
    assert "meetguard_store_queue_depth" in text
    # the verdict waits to be indexed, unless the idle writer indexed it meanwhile
    assert re.search(r"^meetguard_store_inbox_rows [01]$", text, re.MULTILINE)
    assert ready["store"]["inbox"] == 0


async def test_another_programs_write_lock_holds_up_answers_not_the_service(
    make_client: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Another program holding the SQLite file's write lock holds up the answers that wait
    for their records, not the service: /healthz answers meanwhile. The wait shows in
    `meetguard_log_write_seconds` and as one warning, and the record is stored."""
    client = await make_client(tmp_path / "data")
    await check(client, ["https://zoom.us/j/1"])  # the database exists
    locked = threading.Event()

    def hold_the_write_lock() -> None:
        with sqlite3.connect(tmp_path / "data" / "meetguard.sqlite3", isolation_level=None) as db:
            db.execute("BEGIN IMMEDIATE")
            locked.set()
            time.sleep(1.3)
            db.execute("COMMIT")

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    locked.wait()
    with caplog.at_level(logging.WARNING, logger="meetguard.service"):
        checking = asyncio.create_task(check(client, ["https://zoom.us/j/2"]))
        await asyncio.sleep(0.2)  # the check waits for the lock
        started = time.monotonic()
        assert (await client.get("/healthz")).status == 200
        assert time.monotonic() - started < 0.5 and not checking.done()
        held = (await checking)["verdicts"][0]
    holder.join()
    assert len([r for r in caplog.records if "a log write took" in r.getMessage()]) == 1
    text = await (await client.get("/metrics")).text()
    assert re.search(r"^meetguard_log_write_seconds_count 2$", text, re.MULTILINE)
    total = float(re.search(r"^meetguard_log_write_seconds_sum (\S+)$", text, re.MULTILINE)[1])
    assert 1.0 <= total < 10
    page = await (await client.get("/v1/logs", headers=admin_headers())).json()
    assert held["id"] in {item["id"] for item in page["items"]}


def _resolve(schema: Any, document: dict[str, Any]) -> Any:
    """The schema with every local $ref replaced by what it points at."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            target: Any = document
            for part in schema["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return _resolve(target, document)
        return {k: _resolve(v, document) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_resolve(v, document) for v in schema]
    return schema


def test_openapi_document_lists_exactly_the_routes() -> None:
    document = openapi_document()
    documented = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert documented == {(m, p) for m, p, _ in ROUTES}


async def test_answers_match_the_openapi_schemas(client: TestClient) -> None:
    document = openapi_document()
    served = await (await client.get("/openapi.json")).json()
    assert served == json.loads(json.dumps(document))

    def schema(path: str, method: str, status: str, kind: str = "application/json") -> Any:
        op = document["paths"][path][method]
        return _resolve(op["responses"][status]["content"][kind]["schema"], document)

    links = await check(client, ["https://zoom.us/j/1", "nonsense"])
    jsonschema.validate(links, schema("/v1/links/check", "post", "200"))
    page = await logs(client)
    jsonschema.validate(page, schema("/v1/logs", "get", "200"))
    verdict = await client.post("/v1/files/check", headers=client_headers(),
                                json={"sha256": "a" * 64, "filename": "x.pdf"})
    jsonschema.validate(await verdict.json(), schema("/v1/files/check", "post", "200"))
    policy = await client.get("/v1/policy", headers=client_headers())
    jsonschema.validate(await policy.json(), schema("/v1/policy", "get", "200"))
    problem = await client.get("/v1/logs")
    jsonschema.validate(await problem.json(),
                        schema("/v1/logs", "get", "401", "application/problem+json"))


async def test_logs_filter_by_reason_code_and_user(client: TestClient) -> None:
    """'Who clicked that Zoom look-alike?': every impersonation hit, and one person's records."""
    await check(client, ["https://zo0m-us.com/j/1", "https://zoom.us/j/1"],
                **{"X-MeetGuard-User": "lan"})
    await check(client, ["https://micros0ft.com/teams"], **{"X-MeetGuard-User": "minh"})
    hits = (await logs(client, code="impersonation"))["items"]
    assert sorted(r["host"] for r in hits) == ["micros0ft.com", "zo0m-us.com"]
    lan = (await logs(client, user="lan"))["items"]
    assert {r["host"] for r in lan} == {"zo0m-us.com", "zoom.us"}
    both = (await logs(client, user="lan", code="impersonation"))["items"]
    assert [r["host"] for r in both] == ["zo0m-us.com"]
    bad = await client.get("/v1/logs", params={"code": "%"}, headers=admin_headers())
    assert bad.status == 400
