"""The console's server side, as a browser would meet it: sessions, CSRF, security headers,
the log, exports, stats, signatures, reload and dry runs, on the real app and a real SQLite."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from tests.support.service import ADMIN_TOKEN, CLIENT_KEY

from meetguard.store.base import LogRecord
from meetguard.web.console import COOKIE
from meetguard.web.console_sessions import MemorySessions, RedisSessions, SQLiteSessions
from meetguard.web.keys import SERVICE
from meetguard.web.page_headers import CSP

from .conftest import Console, sign_in

ROOT = Path(__file__).resolve().parents[2]


def cookie_header(client: TestClient) -> str:
    return "; ".join(f"{c.key}={c.value}" for c in client.session.cookie_jar)


# -- the page ------------------------------------------------------------------------------------


async def test_page_and_assets_come_with_a_strict_policy(make_console) -> None:
    console = await make_console(signed_in=False)
    page = await console.client.get("/admin")
    assert page.status == 200 and page.content_type == "text/html"
    assert page.headers["Content-Security-Policy"] == CSP
    assert "'unsafe-inline'" not in CSP and "require-trusted-types-for 'script'" in CSP
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"
    html = await page.text()
    assert "<script>" not in html and "style=" not in html and "http" not in html.split(
        "<body>")[1]  # no inline code, nothing from another origin
    for name, kind in (("console.js", "text/javascript"), ("console.css", "text/css"),
                       ("favicon.svg", "image/svg+xml")):
        asset = await console.client.get(f"/admin/static/{name}")
        assert asset.status == 200 and asset.content_type == kind, name
        assert asset.headers["X-Content-Type-Options"] == "nosniff"
    for path in ("/admin/static/nope.js", "/admin/static/..%2F..%2Fcli.py",
                 "/admin/static/index.html"):
        assert (await console.client.get(path)).status == 404, path


async def test_every_answer_under_admin_carries_the_security_headers(console: Console) -> None:
    """Errors, API answers and streamed exports too (a 404 page can be framed as well as the
    console can), while verdict answers under /v1 stay lean."""
    cases = {
        "/admin": 200, "/admin/static/console.js": 200, "/admin/api/logs": 200,
        "/admin/api/logs?format=csv": 200, "/admin/api/logs?format=ndjson": 200,
        "/admin/api/logs?format=xml": 400, "/admin/api/nope": 404, "/admin/static/nope.js": 404,
    }
    for path, status in cases.items():
        response = await console.client.get(path)
        assert response.status == status, path
        assert response.headers.get("Content-Security-Policy") == CSP, path
        assert response.headers.get("X-Frame-Options") == "DENY", path
        if path.startswith("/admin/api/"):
            assert response.headers.get("Cache-Control") == "no-store", path
    wrong_method = await console.client.delete("/admin/api/session")
    assert wrong_method.status == 405
    assert wrong_method.headers.get("Content-Security-Policy") == CSP
    for path in ("/v1/policy", "/administrator", "/nope"):
        response = await console.client.get(path)
        assert "Content-Security-Policy" not in response.headers, path


def test_no_script_builds_markup_from_strings() -> None:
    """The page builds DOM with text nodes only (Trusted Types would throw otherwise)."""
    folder = ROOT / "server" / "meetguard" / "web" / "static" / "console"
    for script in folder.glob("*.js"):
        code = script.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                     "eval(", "new Function", "javascript:"):
            assert sink not in code, f"{script.name} uses {sink}"


# -- sessions ------------------------------------------------------------------------------------


async def test_sign_in_sets_a_strict_httponly_session_cookie(make_console) -> None:
    console = await make_console(signed_in=False, session_minutes=30)
    response = await console.client.post("/admin/api/session", json={"token": ADMIN_TOKEN})
    assert response.status == 200
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/admin", "Max-Age=1800"):
        assert attribute in cookie
    assert "Secure" not in cookie  # plain http here: a Secure cookie would never come back
    body = await response.json()
    assert body["name"] == "it" and len(body["csrf"]) >= 32
    assert ADMIN_TOKEN not in json.dumps(body) and ADMIN_TOKEN not in cookie
    behind_tls = await console.client.post("/admin/api/session", json={"token": ADMIN_TOKEN},
                                           headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in behind_tls.headers["Set-Cookie"]


async def test_secure_cookies_always(make_console) -> None:
    console = await make_console(signed_in=False, secure_cookies="always")
    response = await console.client.post("/admin/api/session", json={"token": ADMIN_TOKEN})
    assert "Secure" in response.headers["Set-Cookie"]


@pytest.mark.parametrize(("token", "status"), [
    (CLIENT_KEY, 403), ("not-a-token-of-this-service", 401), ("", 400), (None, 400),
])
async def test_only_an_admin_token_signs_in(make_console, token, status) -> None:
    console = await make_console(signed_in=False)
    response = await console.client.post("/admin/api/session", json={"token": token})
    assert response.status == status
    assert response.content_type == "application/problem+json"
    assert "Set-Cookie" not in response.headers
    assert (await console.client.get("/admin/api/logs")).status == 401


async def test_a_client_key_is_told_why(make_console) -> None:
    console = await make_console(signed_in=False)
    response = await console.client.post("/admin/api/session", json={"token": CLIENT_KEY})
    assert "client key cannot sign in" in (await response.json())["detail"]


async def test_failed_sign_ins_are_throttled(make_console) -> None:
    console = await make_console(signed_in=False)
    for _ in range(20):
        await console.client.post("/admin/api/session", json={"token": "x" * 20})
    response = await console.client.post("/admin/api/session", json={"token": ADMIN_TOKEN})
    assert response.status == 429 and response.headers["Retry-After"] == "600"


async def test_the_console_api_needs_the_session_not_a_bearer_token(make_console) -> None:
    console = await make_console(signed_in=False)
    for path in ("/session", "/logs", "/stats", "/signatures", "/records/" + "0" * 26):
        response = await console.client.get("/admin/api" + path,
                                            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert response.status == 401, path
        assert response.headers.get("Content-Security-Policy") == CSP, path
    forged = await console.client.get("/admin/api/logs",
                                      headers={"Cookie": f"{COOKIE}=made-up-session-id"})
    assert forged.status == 401


async def test_sign_out_ends_the_session_for_good(console: Console) -> None:
    stolen = cookie_header(console.client)
    response = await console.post("/signout")
    assert response.status == 200
    assert "Max-Age=0" in response.headers["Set-Cookie"]
    replay = await console.client.get("/admin/api/logs", headers={"Cookie": stolen})
    assert replay.status == 401
    again = await console.client.post("/admin/api/signout", headers={
        "Cookie": stolen, "X-CSRF-Token": console.csrf})
    assert again.status == 401


async def test_sessions_expire_after_their_lifetime(tmp_path: Path) -> None:
    now = [1000.0]
    for store in (MemorySessions(600, clock=lambda: now[0]),
                  SQLiteSessions(tmp_path / "s.sqlite3", 600, clock=lambda: now[0])):
        now[0] = 1000.0
        session = await store.create("it")
        assert (await store.get(session.id)).csrf == session.csrf
        now[0] += 599
        assert await store.get(session.id) is not None
        now[0] += 1
        assert await store.get(session.id) is None
        await store.close()


async def test_workers_on_one_data_directory_share_sessions(make_console,
                                                            tmp_path: Path) -> None:
    """`serve --workers N`: a browser's connections land on any worker."""
    one = await make_console(data_dir=tmp_path / "shared")
    two = await make_console(signed_in=False, data_dir=tmp_path / "shared")
    cookie = cookie_header(one.client)
    assert (await two.client.get("/admin/api/logs", headers={"Cookie": cookie})).status == 200
    signout = await two.client.post("/admin/api/signout", headers={
        "Cookie": cookie, "X-CSRF-Token": one.csrf})
    assert signout.status == 200
    assert (await one.client.get("/admin/api/logs")).status == 401
    stored = (tmp_path / "shared" / "console.sqlite3").read_bytes()
    assert cookie.split("=", 1)[1].encode() not in stored  # only digests are kept


async def test_sessions_in_redis_are_shared_by_instances(make_console, redis_server) -> None:
    url = redis_server.url
    one = await make_console(redis_url=url)
    two = await make_console(signed_in=False, redis_url=url)
    cookie = cookie_header(one.client)
    assert (await two.client.get("/admin/api/session", headers={"Cookie": cookie})).status == 200
    await one.post("/signout")
    assert (await two.client.get("/admin/api/session", headers={"Cookie": cookie})).status == 401
    sessions = RedisSessions(url, 60, prefix="test-sessions")
    try:
        session = await sessions.create("it")
        assert (await sessions.get(session.id)).name == "it"
        for _ in range(20):
            await sessions.failed("192.0.2.1")
        assert await sessions.throttled("192.0.2.1")
        assert not await sessions.throttled("192.0.2.2")
    finally:
        await sessions.close()


# -- CSRF ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/reload", "/dry-run", "/retrohunt", "/signout"])
async def test_every_action_needs_the_csrf_token(console: Console, path: str) -> None:
    body = {"url": "https://zoom.us/j/1"}
    missing = await console.client.post("/admin/api" + path, json=body)
    wrong = await console.client.post("/admin/api" + path, json=body,
                                      headers={"X-CSRF-Token": console.csrf[:-1]})
    assert missing.status == wrong.status == 403
    assert "CSRF" in (await missing.json())["detail"]
    other = await make_second_session_token(console)
    assert (await console.client.post("/admin/api" + path, json=body,
                                      headers={"X-CSRF-Token": other})).status == 403
    ok = await console.post(path, body)
    assert ok.status == 200, await ok.text()


async def make_second_session_token(console: Console) -> str:
    """Another session's CSRF token (signing in again from another browser)."""
    from aiohttp import ClientSession

    async with ClientSession() as other:
        response = await other.post(console.client.make_url("/admin/api/session"),
                                    json={"token": ADMIN_TOKEN})
        return (await response.json())["csrf"]


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
])
async def test_cross_site_actions_are_refused_even_with_the_token(console: Console,
                                                                  headers) -> None:
    response = await console.post("/reload", **headers)
    assert response.status == 403
    signin = await console.client.post("/admin/api/session", json={"token": ADMIN_TOKEN},
                                       headers=headers)
    assert signin.status == 403


async def test_same_origin_browser_requests_pass(console: Console) -> None:
    origin = str(console.client.make_url("/")).rstrip("/")
    response = await console.post("/reload", Origin=origin, **{"Sec-Fetch-Site": "same-origin"})
    assert response.status == 200
    proxied = await console.post("/reload", Origin="https://meetguard.moj.example",
                                 **{"X-Forwarded-Host": "meetguard.moj.example"})
    assert proxied.status == 200  # behind a TLS proxy that keeps the upstream Host


# -- the log -------------------------------------------------------------------------------------


async def test_logs_filter_and_page_like_v1(console: Console) -> None:
    await console.check(["https://zoom.us/j/1", "https://us02web.zoom.us/j/2",
                         "https://example.org/", "https://zo0m.us/j/3"])
    warned = await console.json("/logs", **{"class": "warned", "host": "zoom.us"})
    assert {r["host"] for r in warned["items"]} == {"zoom.us", "us02web.zoom.us"}
    first = await console.json("/logs", limit="3")
    second = await console.json("/logs", limit="3", cursor=first["next_cursor"])
    assert len(first["items"]) == 3 and len(second["items"]) == 1
    assert second["next_cursor"] is None
    bad = await console.client.get("/admin/api/logs", params={"since": "yesterday-ish"})
    assert bad.status == 400 and "since" in (await bad.json())["detail"]


async def test_a_record_by_id_with_reasons_rules_and_policy_version(console: Console) -> None:
    body = await console.check(["https://zo0m.us/j/1"])
    record_id = body["verdicts"][0]["id"]
    record = await console.json(f"/records/{record_id}")
    assert record["id"] == record_id
    assert record["codes"] == ["unknown-origin", "impersonation"]
    assert record["rules"] == ["lookalike:zoom"]
    assert record["policy_version"] == body["policy_version"]
    assert record["detail"]["severities"] == ["low", "critical"]
    for missing in ("01ARZ3NDEKTSV4RRFFQ69G5FAV", "not-an-id"):
        assert (await console.client.get(f"/admin/api/records/{missing}")).status == 404


async def test_csv_export_streams_every_filtered_row_and_defuses_formulas(
        console: Console) -> None:
    store = console.client.app[SERVICE].store
    hostile = LogRecord.new("link", "=HYPERLINK(\"http://evil\")", verdict_class="unknown",
                            action="block", host="evil.example", target="+cmd|' /C calc'!A0")
    await store.append([hostile])
    await console.check([f"https://h{i}.example/" for i in range(60)])
    await console.check(["https://zoom.us/j/1"])
    response = await console.client.get("/admin/api/logs",
                                        params={"class": "unknown", "format": "csv"})
    assert response.status == 200 and response.content_type == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    assert len(rows) == 61 and {r["class"] for r in rows} == {"unknown"}
    evil = next(r for r in rows if r["host"] == "evil.example")
    assert evil["client"].startswith("'=") and evil["target"].startswith("'+")
    ndjson = await console.client.get("/admin/api/logs",
                                      params={"class": "unknown", "format": "ndjson"})
    lines = (await ndjson.read()).decode().splitlines()
    assert len(lines) == 61 and json.loads(lines[0])["class"] == "unknown"
    v1 = await console.client.get("/v1/logs", params={"class": "unknown", "format": "csv"},
                                  headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    v1_rows = list(csv.DictReader(io.StringIO(await v1.text())))
    assert [r["id"] for r in v1_rows] == [r["id"] for r in rows]  # same rows, same order


# -- stats ---------------------------------------------------------------------------------------


async def test_stats_pick_out_warned_platforms_and_unknown_hosts(console: Console) -> None:
    await console.check(["https://zoom.us/j/1", "https://zoom.us/j/2",
                         "https://teams.microsoft.com/l/x", "https://emeeting.mic.gov.vn/r",
                         "https://unknown-a.example/", "https://unknown-a.example/2",
                         "https://zo0m.us/j/3"])
    stats = await console.json("/stats", since="24h")
    assert stats["bucket"] == 3600
    assert stats["totals"]["class"] == {"approved": 1, "warned": 3, "unknown": 3}
    assert sum(b["class"]["warned"] for b in stats["buckets"]) == 3
    assert [(p["platform"], p["count"]) for p in stats["top_warned_platforms"]] == [
        ("zoom", 2), ("teams", 1)]
    assert stats["top_warned_platforms"][0]["name"] == "Zoom"
    assert stats["top_unknown_hosts"][0] == {"host": "unknown-a.example", "class": "unknown",
                                             "count": 2}
    assert stats["impersonation"] == 1
    week = await console.json("/stats", since="7d")
    assert week["bucket"] == 21600 and week["totals"] == stats["totals"]


# -- signatures ----------------------------------------------------------------------------------


async def test_signatures_document(console: Console) -> None:
    doc = await console.json("/signatures")
    assert len(doc["version"]) == 16 and doc["loaded_at"] > 0
    assert doc["platforms"] == len(doc["platform_list"]) and doc["url_rules"] > 0
    zoom = next(p for p in doc["platform_list"] if p["id"] == "zoom")
    assert zoom["class"] == "warned" and "zoom.us" in zoom["domains"]
    assert {"file": "hashes/eicar.txt", "entries": 1} in doc["lists"]


async def test_import_then_reload_from_the_console_makes_links_known_bad(
        make_console, tmp_path: Path) -> None:
    from meetguard.feeds import import_feed

    signatures = tmp_path / "signatures"
    shutil.copytree(ROOT / "signatures", signatures)
    console = await make_console(signatures=signatures)
    before = (await (await console.post("/dry-run", {"url": "https://c2.bad.example/"})).json())
    assert "known-bad" not in [r["code"] for r in before["verdict"]["reasons"]]
    feed = tmp_path / "feed.txt"
    feed.write_text("https://c2.bad.example/\nnot a url\n")
    import_feed("openphish-txt", feed, signatures)
    reloaded = await (await console.post("/reload")).json()
    assert reloaded["previous_version"] != reloaded["version"]
    assert {"file": "domains/openphish.txt", "entries": 1} in reloaded["lists"]
    after = await (await console.post("/dry-run", {"url": "https://c2.bad.example/",
                                                   "lang": "vi"})).json()
    assert after["verdict"]["action"] == "block"
    known = next(r for r in after["verdict"]["reasons"] if r["code"] == "known-bad")
    assert known["rule"] == "domains/openphish" and known["message"]  # in Vietnamese
    assert (await console.json("/logs"))["items"] == []  # dry runs are not visits


async def test_a_broken_signature_file_is_refused_and_the_old_policy_stays(
        make_console, tmp_path: Path) -> None:
    signatures = tmp_path / "signatures"
    shutil.copytree(ROOT / "signatures", signatures)
    console = await make_console(signatures=signatures)
    version = (await console.json("/signatures"))["version"]
    (signatures / "domains" / "local.txt").write_text("this is not a domain!\n")
    response = await console.post("/reload")
    assert response.status == 422
    problem = await response.json()
    assert problem["version"] == version
    assert problem["problems"][0]["file"].endswith("domains/local.txt")
    assert problem["problems"][0]["line"] == 1
    assert (await console.json("/signatures"))["version"] == version


async def test_dry_run_shows_the_full_verdict(console: Console) -> None:
    url = "https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2Fus02web.zoom.us%2Fj%2F1%3Fpwd%3DSECRET"
    answer = await (await console.post("/dry-run", {"url": url})).json()
    verdict = answer["verdict"]
    assert verdict["class"] == "warned" and verdict["platform"] == "zoom"
    assert verdict["unwrapped"] and "SECRET" not in json.dumps(verdict)
    assert {"secret-in-link", "warned-platform"} <= {r["code"] for r in verdict["reasons"]}
    bad = await console.post("/dry-run", {"url": 42})
    assert bad.status == 400


async def test_v1_api_is_untouched_by_the_console(console: Console) -> None:
    """The console adds no /v1 route and does not weaken bearer auth on the admin API."""
    response = await console.client.get("/v1/logs")  # the session cookie is not a bearer token
    assert response.status == 401


async def test_sign_in_twice_gives_two_sessions(make_console) -> None:
    console = await make_console()
    assert await sign_in(console.client) != console.csrf


@pytest.mark.parametrize("value", [
    None, "", "plain", "=SUM(A1)", "+1", "-1", "@cmd", "\tx", "\rx", "a,b", 'say "hi"',
    "line\nbreak", "cr\rin", "Nguyễn Văn A", "\u202egnp.exe", "'already", "a;b", ",",
])
def test_fast_csv_rows_are_exactly_the_v1_rows(value) -> None:
    """The console's export and /v1/logs write the same bytes for any cell."""
    from meetguard.web.exports import CSV_COLUMNS, csv_chunk, csv_row

    # (No lone surrogate: the API replaces them, and no store could keep one.)
    records = [LogRecord.new("link", "pc-1", ts=1767323045.2509, user=value, host=value,
                             target=value, codes=("a", "b"), rules=(value or "r",),
                             verdict_class="unknown", action="warn", context=value)]
    got = csv_chunk(records)
    assert got == b"".join(csv_row(r) for r in records)
    rows = list(csv.reader(io.StringIO(got.decode(), newline="")))
    assert len(rows) == 1 and len(rows[0]) == len(CSV_COLUMNS)
