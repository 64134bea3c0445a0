"""Retro-hunt through the real service: clicks logged through the API by several people, a
domain then added to a copy of the signatures and reloaded (POST /v1/admin/reload, SIGHUP, the
Redis reload channel); the findings name exactly the affected records and people, a reload
with nothing new finds nothing new, and no secret appears anywhere."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from tests.support.service import ROOT, ServiceProcess, admin_headers, client_headers

from meetguard.retrohunt import FINDING_EVENT, RUN_EVENT
from meetguard.web.keys import SERVICE

SECRET = "Sup3rSecretPwd"  # a meeting password inside a link: must never be stored
WAIT = 60.0  # bound on waiting for a run in the background (a bound, not a timing assert)


def signatures_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "signatures"
    shutil.copytree(ROOT / "signatures", copy)
    return copy


def add_known_bad(signatures: Path, domain: str) -> None:
    with (signatures / "domains" / "local.txt").open("a") as handle:
        handle.write(f"\n{domain}\n")


def unique_domain() -> str:
    return f"mtg-{uuid.uuid4().hex[:10]}.example"


class Clicks:
    """Clicks of several people, through the API; who clicked what, by record id."""

    def __init__(self, domain: str) -> None:
        self.bad = [f"https://{domain}/join/42?pwd={SECRET}", f"https://login.{domain}/sso"]
        self.fine = ["https://fine.example.org/agenda", "https://us02web.zoom.us/j/8501"]
        self.clicked: dict[str, dict[str, str]] = {}  # bad target -> record id -> person

    async def send(self, post: Any) -> None:
        """`post(urls, install, user)` -> verdicts: lan clicks both bad links, minh one bad
        and one fine, hoa only fine ones (and hovers over a bad one: an allow, not stored)."""
        plan = [("pc-lan", "lan", self.bad), ("pc-minh", "minh", [self.bad[0], self.fine[0]]),
                ("pc-hoa", "hoa", self.fine)]
        for install, user, urls in plan:
            verdicts = await post(urls, install, user, "click")
            for url, verdict in zip(urls, verdicts, strict=True):
                if url in self.bad:
                    target = url.replace(SECRET, "REDACTED")
                    self.clicked.setdefault(target, {})[verdict["id"]] = user
            assert all(v["action"] != "block" for v in verdicts)
        await post([self.bad[1]], "pc-hoa", "hoa", "hover")



def poster(session: aiohttp.ClientSession | TestClient, base: str = "") -> Any:
    async def post(urls: list[str], install: str, user: str, context: str) -> list[dict]:
        headers = client_headers(install=install, **{"X-MeetGuard-User": user})
        async with session.post(f"{base}/v1/links/check", json={"urls": urls,
                                "context": context}, headers=headers) as response:
            assert response.status == 200, await response.text()
            return (await response.json())["verdicts"]
    return post


async def retro_records(session: Any, base: str = "", **filters: str) -> list[dict]:
    async with session.get(f"{base}/v1/logs", params={"format": "ndjson", "kind": "retro",
                                                      **filters},
                           headers=admin_headers()) as response:
        assert response.status == 200, await response.text()
        return [json.loads(line) for line in (await response.text()).splitlines() if line]


async def wait_for_run(session: Any, version: str, base: str = "") -> dict:
    """The summary record of the run for `version` (waits for the run in the background)."""
    deadline = time.monotonic() + WAIT
    while True:
        runs = [r for r in await retro_records(session, base, event=RUN_EVENT)
                if r["policy_version"] == version]
        if runs:
            return runs[0]
        assert time.monotonic() < deadline, "no retro-hunt ran after the reload"
        await asyncio.sleep(0.1)


def check_findings(findings: list[dict], clicks: Clicks) -> None:
    """Exactly the bad targets, each naming exactly the records and people that clicked it."""
    assert sorted(f["target"] for f in findings) == sorted(clicks.clicked)
    for finding in findings:
        detail = finding.get("detail", finding)
        clicked = clicks.clicked[finding["target"]]
        assert sorted(detail["records"]) == sorted(clicked)
        assert detail["people"] == sorted(set(clicked.values()))
        assert detail["installs"] == sorted({f"pc-{p}" for p in clicked.values()})
        assert detail["old_action"] == "allow" and detail["new_action"] == "block"
        assert "known-bad" in detail["gained"]
    assert {p for f in findings for p in f.get("detail", f)["people"]} == {"lan", "minh"}


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text


async def metric(session: Any, name: str, base: str = "") -> float:
    async with session.get(f"{base}/metrics") as response:
        text = await response.text()
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))


# -- SQLite, in process: reload by the API, then on demand ---------------------------------------


async def test_reload_by_the_api_finds_who_clicked_the_newly_bad_domain(
    make_client: Any, tmp_path: Path
) -> None:
    signatures = signatures_copy(tmp_path)
    client = await make_client(signatures=str(signatures), retrohunt_workers=1)
    domain = unique_domain()
    clicks = Clicks(domain)
    await clicks.send(poster(client))
    add_known_bad(signatures, domain)
    async with client.post("/v1/admin/reload", headers=admin_headers()) as response:
        assert response.status == 200
        version = (await response.json())["version"]
    summary = await wait_for_run(client, version)
    assert summary["detail"]["trigger"] == "reload"
    assert (summary["detail"]["findings"], summary["detail"]["new_findings"]) == (2, 2)
    assert summary["detail"]["records"] == 6  # every stored click re-checked (hover not stored)
    findings = await retro_records(client, event=FINDING_EVENT)
    check_findings(findings, clicks)
    assert {f["policy_version"] for f in findings} == {version}
    assert await metric(client, "meetguard_retrohunt_findings_total") == 2

    # A reload with nothing new: nothing new found, nothing written again.
    async with client.post("/v1/admin/reload", headers=admin_headers()) as response:
        assert (await response.json())["version"] == version
    deadline = time.monotonic() + WAIT
    while await metric(client, 'meetguard_retrohunt_runs_total{outcome="skipped"}') < 1:
        assert time.monotonic() < deadline, "the run after the second reload never ended"
        await asyncio.sleep(0.05)
    async with client.post("/v1/admin/retrohunt", json={"since": "1d"},
                           headers=admin_headers()) as response:
        assert response.status == 200, await response.text()
        answer = await response.json()
    assert (answer["summary"]["findings"], answer["summary"]["new_findings"]) == (2, 0)
    check_findings(answer["findings"], clicks)
    assert all(not f["new"] for f in answer["findings"])
    assert len(await retro_records(client, event=FINDING_EVENT)) == 2
    assert await metric(client, "meetguard_retrohunt_findings_total") == 2

    async with client.get("/v1/logs", params={"format": "ndjson"},
                          headers=admin_headers()) as response:
        everything = await response.text()
    assert_no_secret(everything, json.dumps(answer))
    database = b"".join(p.read_bytes() for p in (tmp_path / "data0").glob("meetguard.sqlite3*"))
    assert SECRET.encode() not in database


async def test_nothing_changed_nothing_found(make_client: Any, tmp_path: Path) -> None:
    """The redacted targets re-checked with the policy they were logged with: no finding (a
    redacted link is classified as its original was)."""
    client = await make_client(retrohunt_workers=0)
    await Clicks(unique_domain()).send(poster(client))
    await poster(client)([f"https://zo0m-us.com/j/1?pwd={SECRET}", "javascript:alert(1)",
                          "https://micros0ft.com/teams", "\\\\host\\share"], "pc-x", "x", "click")
    async with client.post("/v1/admin/retrohunt", json={}, headers=admin_headers()) as response:
        assert response.status == 200, await response.text()
        answer = await response.json()
    assert answer["findings"] == []
    assert answer["summary"]["records"] == 10 and answer["summary"]["new_findings"] == 0


BAD_BODIES = [
    ({"since": "yesterday"}, 400, "invalid-request"),
    ({"since": "1d", "until": "2d"}, 400, "invalid-request"),
    ({"since": True}, 400, "invalid-request"),
    ({"since": "400d"}, 400, "invalid-request"),
    ([1, 2], 400, "invalid-request"),
]


@pytest.mark.parametrize(("body", "status", "slug"), BAD_BODIES,
                         ids=[json.dumps(b) for b, _, _ in BAD_BODIES])
async def test_bad_retrohunt_requests_are_problems(
    client: TestClient, body: Any, status: int, slug: str
) -> None:
    async with client.post("/v1/admin/retrohunt", json=body, headers=admin_headers()) as response:
        assert response.status == status
        assert response.content_type == "application/problem+json"
        assert (await response.json())["type"].endswith("/" + slug)


async def test_retrohunt_needs_an_admin_token(client: TestClient) -> None:
    async with client.post("/v1/admin/retrohunt", json={}) as response:
        assert response.status == 401
    async with client.post("/v1/admin/retrohunt", json={}, headers=client_headers()) as response:
        assert response.status == 403


async def test_a_second_run_while_one_holds_the_log_is_a_conflict(
    make_client: Any, tmp_path: Path
) -> None:
    client = await make_client(retrohunt_workers=0)
    store = client.server.app[SERVICE].store
    assert await store.lease("retrohunt", "someone-else", 30)
    async with client.post("/v1/admin/retrohunt", json={}, headers=admin_headers()) as response:
        assert response.status == 409
        assert (await response.json())["type"].endswith("/retrohunt-running")
    assert await store.lease("retrohunt", "someone-else", 0)
    async with client.post("/v1/admin/retrohunt", json={}, headers=admin_headers()) as response:
        assert response.status == 200


# -- SQLite, a real `meetguard serve`: SIGHUP, and SIGTERM in the middle of a run ---------------


async def signatures_version(session: aiohttp.ClientSession, base: str) -> str:
    async with session.get(f"{base}/v1/admin/signatures", headers=admin_headers()) as response:
        return (await response.json())["version"]


def serve(tmp_path: Path, signatures: Path, **settings: str) -> ServiceProcess:
    env = {"MEETGUARD_SIGNATURES": str(signatures), "MEETGUARD_RETROHUNT_WORKERS": "1",
           **{f"MEETGUARD_{k.upper()}": v for k, v in settings.items()}}
    return ServiceProcess(tmp_path / "data", env=env)


async def test_sighup_runs_it_and_the_service_log_keeps_no_secret(tmp_path: Path) -> None:
    signatures = signatures_copy(tmp_path)
    service = serve(tmp_path, signatures).start()
    try:
        domain = unique_domain()
        clicks = Clicks(domain)
        async with aiohttp.ClientSession() as session:
            await clicks.send(poster(session, service.url))
            before = await signatures_version(session, service.url)
            add_known_bad(signatures, domain)
            service.signal(signal.SIGHUP)
            deadline = time.monotonic() + WAIT
            while (version := await signatures_version(session, service.url)) == before:
                assert time.monotonic() < deadline, "SIGHUP did not reload"
                await asyncio.sleep(0.05)
            summary = await wait_for_run(session, version, service.url)
            assert summary["detail"]["new_findings"] == 2
            check_findings(await retro_records(session, service.url, event=FINDING_EVENT),
                           clicks)
    finally:
        assert service.stop() == 0
    assert_no_secret(service.log.read_text())
    assert "retro-hunt finding" in service.log.read_text()


def seed(db: Path, domain: str, n: int, now: float) -> list[str]:
    """`n` clicks on `n` distinct targets, half of them on `domain`, logged before the domain
    was known bad: written with the real store, as the service would have."""
    from meetguard.store.base import LogRecord
    from meetguard.store.sqlite import SQLiteLogStore

    async def write() -> list[str]:
        store = SQLiteLogStore(db)
        await store.start()
        records = []
        for i in range(n):
            host = f"h{i}.{domain}" if i % 2 else f"h{i}.fine.example.org"
            records.append(LogRecord.new(
                "link", f"pc-{i % 50}", ts=now - 3600 + i * 0.01, user=f"user-{i % 50}",
                context="click", verdict_class="unknown", action="allow", host=host,
                target=f"https://{host}/m/{i}", codes=("unknown-origin",), policy_version="old"))
        for start in range(0, n, 5000):
            await store.append(records[start:start + 5000])
        await store.close()
        return [r.id for r in records if domain in (r.host or "")]
    return asyncio.run(write())


def sql(db: Path, query: str) -> list[tuple]:
    conn = sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        return conn.execute(query).fetchall()
    finally:
        conn.close()


def wait_for_line(service: ServiceProcess, text: str, after: int = 0) -> None:
    deadline = time.monotonic() + WAIT
    while text not in service.log.read_text()[after:]:
        assert time.monotonic() < deadline, f"never logged {text!r}"
        time.sleep(0.05)


def test_sigterm_during_a_run_leaves_nothing_half_written_and_it_runs_again(
    tmp_path: Path,
) -> None:
    signatures = signatures_copy(tmp_path)
    domain = unique_domain()
    db = tmp_path / "data" / "meetguard.sqlite3"
    bad_ids = seed(db, domain, 60_000, time.time())
    service = serve(tmp_path, signatures).start()
    add_known_bad(signatures, domain)
    service.signal(signal.SIGHUP)
    wait_for_line(service, "retro-hunt started")
    time.sleep(2)  # into the classification (60,000 targets take several times that)
    assert service.stop() == 0
    text = service.log.read_text()
    assert "retro-hunt interrupted" in text, "the run ended before SIGTERM: seed more records"
    assert sql(db, "SELECT COUNT(*) FROM all_records WHERE kind = 'retro'") == [(0,)]
    assert sql(db, "SELECT COUNT(*) FROM leases") == [(0,)]

    mark = len(text)
    service.start()
    service.signal(signal.SIGHUP)
    wait_for_line(service, "retro-hunt finished", after=mark)
    assert service.stop() == 0
    rows = sql(db, "SELECT event, detail FROM all_records WHERE kind = 'retro'")
    assert sorted(event for event, _ in rows).count(RUN_EVENT) == 1
    findings = [json.loads(detail) for event, detail in rows if event == FINDING_EVENT]
    assert len(findings) == len(bad_ids) == 30_000
    assert sorted(i for f in findings for i in f["records"]) == sorted(bad_ids)


# -- Redis: two instances, a reload announced on the channel: one run, both see it --------------


@pytest.fixture(params=["redis", "cluster"])
def redis_url(request: pytest.FixtureRequest) -> str:
    if request.param == "redis":
        return request.getfixturevalue("redis_own_server").url
    return request.getfixturevalue("redis_cluster").url


async def runs_ended(client: TestClient) -> float:
    """Retro-hunts this instance finished or skipped (a newer one was done already)."""
    async with client.get("/metrics") as response:
        text = await response.text()
    return sum(float(line.split()[-1]) for line in text.splitlines()
               if line.startswith("meetguard_retrohunt_runs_total")
               and ('"finished"' in line or '"skipped"' in line))


@pytest.mark.redis
async def test_redis_two_instances_one_run_both_see_the_findings(
    make_client: Any, redis_url: str, tmp_path: Path
) -> None:
    from meetguard.store.redis import RedisState

    signatures = signatures_copy(tmp_path)
    a = await make_client(redis_url=redis_url, signatures=str(signatures), retrohunt_workers=0)
    b = await make_client(redis_url=redis_url, signatures=str(signatures), retrohunt_workers=0)
    for instance in (a, b):
        deadline = time.monotonic() + 5
        while not (await (await instance.get("/readyz")).json())["state"]["listening"]:
            assert time.monotonic() < deadline, "the reload listener never subscribed"
            await asyncio.sleep(0.02)
    domain = unique_domain()
    clicks = Clicks(domain)
    post_a, post_b = poster(a), poster(b)

    async def either(urls: list[str], install: str, user: str, context: str) -> list[dict]:
        return await (post_a if user == "lan" else post_b)(urls, install, user, context)

    await clicks.send(either)
    add_known_bad(signatures, domain)
    announcer = RedisState(redis_url)
    await announcer.start()
    try:
        await announcer.publish_reload("announced-by-another-instance")
    finally:
        await announcer.close()
    deadline = time.monotonic() + WAIT
    while not (await runs_ended(a) and await runs_ended(b)):
        assert time.monotonic() < deadline, "the instances never ended their retro-hunts"
        await asyncio.sleep(0.1)
    version = await signatures_version(a, "")  # type: ignore[arg-type]
    assert await signatures_version(b, "") == version  # type: ignore[arg-type]
    for instance in (a, b):
        runs = [r for r in await retro_records(instance, event=RUN_EVENT)
                if r["policy_version"] == version]
        assert len(runs) == 1  # one instance ran it; the other waited, then skipped it
        findings = [r for r in await retro_records(instance, event=FINDING_EVENT)
                    if r["policy_version"] == version]
        check_findings(findings, clicks)
    total = await metric(a, "meetguard_retrohunt_findings_total") + \
        await metric(b, "meetguard_retrohunt_findings_total")
    assert total == 2
