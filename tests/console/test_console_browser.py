"""The admin page in Debian's Chromium against `meetguard serve`: sign in, filter, page, open a
record, export, the dashboard's totals, the URL as state, sign out; hostile log content shown
as text; client keys and missing CSRF tokens refused. Screenshots go to $MEETGUARD_ARTIFACTS."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.service import ADMIN_TOKEN, CLIENT_KEY, ServiceProcess

from meetguard.store.base import LogRecord
from meetguard.store.sqlite import SQLiteLogStore

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
HOSTILE_TARGET = ('https://evil.example/"><script>window.__pwned=1</script>'
                  '<img src=x onerror="window.__pwned=2">\x1b[31m\u202egnp.exe\n<a href=x>')
HOSTILE_CLIENT = "<svg onload=window.__pwned=3>"
HOSTILE_USER = "<b>Nguyễn</b>\x07"


def seed_records(now: float) -> list[LogRecord]:
    """A day of verdicts and events, one hostile record, and one from three days ago."""
    records = []

    def add(i: int, count: int, hosts: tuple[str, ...], **values: Any) -> None:
        for j in range(count):
            ts = now - 60 - (i * 997 + j * 613) % (20 * 3600)  # spread over the last 20 hours
            records.append(LogRecord.new("link", f"pc-{j % 7}", ts=ts, context="click",
                                         host=hosts[j % len(hosts)], **values))

    add(1, 60, ("zoom.us", "us02web.zoom.us", "us05web.zoom.us"), verdict_class="warned",
        action="warn", platform="zoom", target="https://zoom.us/j/123?pwd=[redacted]",
        codes=("warned-platform",), rules=("platform:zoom",), policy_version="seeded-policy")
    add(2, 15, ("teams.microsoft.com",), verdict_class="warned", action="warn",
        platform="teams", target="https://teams.microsoft.com/l/meetup-join/1",
        codes=("warned-platform",), rules=("platform:teams",))
    for i in range(40):
        records.append(LogRecord.new(
            "link", "pc-9", ts=now - 120 - i * 1500, verdict_class="unknown", action="allow",
            host=f"site{i % 8}.example", target=f"https://site{i % 8}.example/{i}",
            codes=("unknown-origin",), context="click"))
    add(3, 5, ("zo0m.us",), verdict_class="unknown", action="block",
        target="https://zo0m.us/j/1", codes=("unknown-origin", "impersonation"),
        rules=("lookalike:zoom",))
    add(4, 15, ("emeeting.mic.gov.vn",), verdict_class="approved", action="allow",
        platform="emeeting-mic", target="https://emeeting.mic.gov.vn/room/7",
        codes=("approved-platform",))
    records.append(LogRecord.new(
        "link", HOSTILE_CLIENT, ts=now - 30, user=HOSTILE_USER, verdict_class="unknown",
        action="block", host="evil.example", target=HOSTILE_TARGET, context="click",
        codes=("unknown-origin", "known-bad"), rules=("domains/local",),
        detail={"note": "<script>window.__pwned=4</script>\u202e"}))
    records.append(LogRecord.new(
        "event", "pc-1", ts=now - 45, event="override", verdict_class="warned", action="warn",
        platform="zoom", host="zoom.us", target="https://zoom.us/j/9", context="click",
        codes=("warned-platform",)))
    records.append(LogRecord.new(
        "event", "pc-2", ts=now - 50, event="download-blocked", context="download",
        sha256="a" * 64, detail={"filename": "invite.pdf.exe"}))
    records.append(LogRecord.new(
        "link", "pc-3", ts=now - 3 * 86400, verdict_class="approved", action="allow",
        host="emeeting.mic.gov.vn", target="https://emeeting.mic.gov.vn/old", context="click",
        codes=("approved-platform",)))
    return records


async def _write(path: Path, records: list[LogRecord]) -> None:
    store = SQLiteLogStore(path)
    await store.start()
    try:
        await store.append(records)
    finally:
        await store.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Iterator[tuple[ServiceProcess, list[LogRecord]]]:
    data_dir = tmp_path_factory.mktemp("console")
    records = seed_records(time.time())
    asyncio.run(_write(data_dir / "meetguard.sqlite3", records))
    signatures = data_dir / "signatures"
    shutil.copytree(ROOT / "signatures", signatures)
    service = ServiceProcess(data_dir, args=("--signatures", str(signatures))).start()
    try:
        yield service, records
    finally:
        service.stop()


@pytest.fixture(scope="module")
def browser(seeded) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: scripts/test installs it "
                    "(apt-get install chromium)")
    tmp = Path(tempfile.mkdtemp(prefix="meetguard-console-"))
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, headless=True, env={**os.environ, "TMPDIR": str(tmp)},
                args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                      "--disable-background-networking", "--disable-component-update",
                      "--disable-sync"])
            yield browser
            browser.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def page(browser, seeded) -> Iterator[Any]:
    context = browser.new_context(accept_downloads=True, locale="en-GB",
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("dialog", lambda dialog: page.errors.append(f"dialog: {dialog.message}"))
    yield page
    context.close()


@pytest.fixture
def artifacts() -> Path:
    path = Path(os.environ.get("MEETGUARD_ARTIFACTS") or ROOT / "artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def until(page: Any, script: str, arg: Any = None, timeout: float = 10.0) -> Any:
    """Poll `script` (a JS function) in the page until it returns something truthy.

    `page.wait_for_function` polls with `eval` inside the page, which the console's CSP
    (rightly) forbids; `page.evaluate` goes through the DevTools protocol instead."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(script, arg)
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {script}"
        time.sleep(0.05)


def ready(page: Any, view: str) -> None:
    until(page, "view => document.body.dataset.ready === view", view)


def sign_in(page: Any, url: str, query: str = "lang=en", token: str = ADMIN_TOKEN) -> None:
    page.goto(f"{url}/admin?{query}")
    ready(page, "signin")
    page.fill("#token", token)
    page.click("#signin-form button[type=submit]")


def rows(page: Any) -> list[dict[str, str]]:
    return page.eval_on_selector_all(
        "#log-table tbody tr",
        "trs => trs.map(tr => ({id: tr.dataset.recordId, cls: tr.dataset.class,"
        " host: tr.querySelector('.host').textContent}))")


def within(records: list[LogRecord], seconds: float) -> list[LogRecord]:
    return [r for r in records if r.ts >= time.time() - seconds]


# -- the log view --------------------------------------------------------------------------------


def test_sign_in_filter_page_open_export_reload_and_sign_out(page, seeded) -> None:
    service, records = seeded
    expected = sorted((r for r in within(records, 86400) if r.verdict_class == "warned"
                       and r.host and (r.host == "zoom.us" or r.host.endswith(".zoom.us"))),
                      key=lambda r: (r.ts, r.id), reverse=True)
    assert len(expected) == 61
    sign_in(page, service.url)
    ready(page, "logs")
    assert "since=24h" in page.url
    page.select_option("#filters select[name=class]", "warned")
    page.fill("#filters input[name=host]", "zoom.us")
    page.click("#filters button[type=submit]")
    ready(page, "logs")
    assert "class=warned" in page.url and "host=zoom.us" in page.url
    first = rows(page)
    assert [r["id"] for r in first] == [r.id for r in expected[:50]]
    assert {r["cls"] for r in first} == {"warned"}

    page.click("#page-next")
    ready(page, "logs")
    second = rows(page)
    assert [r["id"] for r in second] == [r.id for r in expected[50:]]
    assert page.is_disabled("#page-next") and "cursor=" in page.url
    page.reload()  # the page (cursor and filters) survives a reload
    ready(page, "logs")
    assert [r["id"] for r in rows(page)] == [r.id for r in expected[50:]]
    assert page.input_value("#filters select[name=class]") == "warned"
    assert page.input_value("#filters input[name=host]") == "zoom.us"
    page.click("#page-prev")
    ready(page, "logs")
    assert [r["id"] for r in rows(page)] == [r.id for r in expected[:50]]

    target = expected[3]
    page.click(f'#log-table tr[data-record-id="{target.id}"] button.details')
    ready(page, "logs")
    assert f"record={target.id}" in page.url
    detail = page.locator("#record")
    assert detail.is_visible()
    assert page.text_content('#record-fields dd[data-field="id"]') == target.id
    assert page.text_content('#record-fields dd[data-field="rules"]') == "platform:zoom"
    assert "warned-platform" in page.text_content("#record-reasons")
    page.reload()
    ready(page, "logs")
    assert page.text_content('#record-fields dd[data-field="id"]') == target.id

    with page.expect_download() as download:
        page.click("#export-csv")
    exported = Path(download.value.path()).read_text(encoding="utf-8-sig")
    exported_rows = list(csv.DictReader(io.StringIO(exported)))
    assert [r["id"] for r in exported_rows] == [r.id for r in expected]
    assert {r["class"] for r in exported_rows} == {"warned"}

    page.click("#signout")
    ready(page, "signin")
    assert page.locator("#log-table tbody tr").count() == 0
    status = page.evaluate("fetch('/admin/api/logs').then(r => r.status)")
    assert status == 401
    assert page.context.cookies() == [] or all(c["value"] == "" for c in page.context.cookies())
    assert page.errors == []


def test_quick_time_picks(page, seeded) -> None:
    service, records = seeded
    sign_in(page, service.url, "lang=en&view=logs&class=approved&limit=200")
    ready(page, "logs")
    assert len(rows(page)) == len([r for r in within(records, 86400)
                                   if r.verdict_class == "approved"])
    page.click('#filters .quick button[data-since="7d"]')
    ready(page, "logs")
    assert "since=7d" in page.url and "class=approved" in page.url
    assert len(rows(page)) == len([r for r in records if r.verdict_class == "approved"])
    page.click('#filters .quick button[data-since="1h"]')
    ready(page, "logs")
    assert len(rows(page)) == len([r for r in within(records, 3600)
                                   if r.verdict_class == "approved"])


def test_a_stored_script_url_is_shown_as_text_and_never_runs(page, seeded) -> None:
    service, records = seeded
    hostile = next(r for r in records if r.host == "evil.example")
    sign_in(page, service.url, f"lang=en&host=evil.example&record={hostile.id}")
    ready(page, "logs")
    assert page.evaluate("window.__pwned") is None
    cell = page.text_content(f'#log-table tr[data-record-id="{hostile.id}"] td.target')
    assert '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">' in cell
    assert "\u241b[31m" in cell and "\u27e8U+202E\u27e9" in cell and "\u240a<a href=x>" in cell
    assert "\x1b" not in cell and "\u202e" not in cell
    client = page.text_content(f'#log-table tr[data-record-id="{hostile.id}"] td.client')
    assert HOSTILE_CLIENT in client and "\u2407" in client
    assert page.locator("#view-logs script, #view-logs img, #view-logs svg, #view-logs b,"
                        " #view-logs tbody a, #record a").count() == 0
    full = page.text_content('#record-fields dd[data-field="target"]')
    assert "<script>window.__pwned=1</script>" in full
    assert "<script>window.__pwned=4</script>" in page.text_content("#record-detail")
    assert page.evaluate("window.__pwned") is None and page.errors == []


def test_a_client_key_cannot_sign_in(page, seeded) -> None:
    service, _ = seeded
    sign_in(page, service.url, token=CLIENT_KEY)
    until(page, "() => document.querySelector('#signin-error').textContent !== ''")
    assert page.text_content("#signin-error") == "A client key cannot sign in: use an admin token."
    assert page.context.cookies() == []
    assert page.is_hidden("#view-logs")
    page.fill("#token", "not-the-token-at-all")
    page.click("#signin-form button[type=submit]")
    until(page, "() => document.querySelector('#signin-error').textContent.includes('not')")
    assert page.context.cookies() == []


def test_actions_need_the_csrf_token(page, seeded) -> None:
    service, _ = seeded
    sign_in(page, service.url, "lang=en&view=signatures")
    ready(page, "signatures")
    statuses = page.evaluate("""async () => {
        const post = (headers) => fetch('/admin/api/reload', {method: 'POST', headers})
          .then(r => r.status);
        return [await post({}), await post({'X-CSRF-Token': 'guessed'})];
    }""")
    assert statuses == [403, 403]
    page.click("#reload")  # the page's own button carries the token
    page.wait_for_selector("#reload-result.ok")
    assert "nothing changed" in page.text_content("#reload-result")


def test_signatures_page_and_dry_run(page, seeded) -> None:
    service, _ = seeded
    sign_in(page, service.url, "lang=en&view=signatures")
    ready(page, "signatures")
    assert len(page.get_attribute("#sig-summary", "data-version")) == 16
    assert page.locator('#sig-platforms tr[data-platform="zoom"]').count() == 1
    assert "zoom.us" in page.text_content('#sig-platforms tr[data-platform="zoom"] .domains')
    assert int(page.text_content('#sig-counts tr[data-count="url_rules"] td')) > 0
    page.fill("#dryrun-url", "https://zo0m.us/j/1?pwd=SECRET<script>")
    page.click("#dryrun-form button[type=submit]")
    page.wait_for_selector("#dryrun-result dl[data-class]")
    assert page.get_attribute("#dryrun-result dl", "data-class") == "unknown"
    assert page.get_attribute("#dryrun-result dl", "data-action") == "block"
    codes = page.eval_on_selector_all("#dryrun-result li[data-code]",
                                      "els => els.map(e => e.dataset.code)")
    assert "impersonation" in codes
    assert "SECRET" not in page.text_content("#dryrun-result")
    assert page.errors == []


# -- the dashboard -------------------------------------------------------------------------------


def test_dashboard_chart_totals_match_the_log(page, seeded) -> None:
    service, records = seeded
    day = within(records, 86400)
    by_class = Counter(r.verdict_class for r in day if r.verdict_class)
    by_action = Counter(r.action for r in day if r.action)
    sign_in(page, service.url, "lang=en&view=dashboard&since=24h")
    ready(page, "dashboard")
    for group, counts in (("class", by_class), ("action", by_action)):
        figure = f"#chart-{group}"
        legend = page.eval_on_selector_all(
            f"{figure} .legend li", "els => Object.fromEntries(els.map("
            "e => [e.dataset.series, Number(e.dataset.total)]))")
        bars = page.eval_on_selector_all(
            f"{figure} rect.bar",
            "els => els.map(e => [e.dataset.series, Number(e.dataset.count)])")
        drawn = Counter()
        for series, count in bars:
            drawn[series] += count
        assert {k: v for k, v in legend.items() if k != "total" and v} == dict(counts)
        assert dict(drawn) == dict(counts)
        assert legend["total"] == sum(counts.values())
    cards = page.eval_on_selector_all(
        "#cards .card", "els => Object.fromEntries(els.map(e => [e.dataset.card,"
        " Number(e.dataset.value)]))")
    assert cards["overrides"] == 1 and cards["blocked_downloads"] == 1
    assert cards["lookalikes"] == sum(1 for r in day if "impersonation" in r.codes)
    assert cards["total"] == sum(by_class.values())
    top = page.eval_on_selector_all("#top-platforms tr", "els => els.map(e => e.textContent)")
    assert top[0].startswith("Zoom") and top[0].endswith("61")
    override = next(r for r in records if r.event == "override")
    assert page.eval_on_selector_all("#recent-overrides tr[data-record-id]",
                                     "els => els.map(e => e.dataset.recordId)") == [override.id]
    page.click('#view-dashboard .quick button[data-since="7d"]')
    ready(page, "dashboard")
    week_total = page.get_attribute("#chart-class svg", "data-total")
    assert int(week_total) == sum(1 for r in records if r.verdict_class)
    page.click("#top-unknown a >> nth=0")  # a top host opens the log, filtered
    ready(page, "logs")
    assert "host=site" in page.url and "class=unknown" in page.url
    page.go_back()
    ready(page, "dashboard")
    page.click("#recent-overrides a >> nth=0")  # an override opens its record
    ready(page, "logs")
    assert page.text_content('#record-fields dd[data-field="id"]') == override.id
    assert page.errors == []


# -- both languages, for the record --------------------------------------------------------------


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_screenshots_of_the_log_and_the_dashboard(page, seeded, artifacts, lang) -> None:
    service, _ = seeded
    sign_in(page, service.url, f"lang={lang}&class=warned&limit=25")
    ready(page, "logs")
    first = page.get_attribute("#log-table tbody tr >> nth=0", "data-record-id")
    page.click(f'#log-table tr[data-record-id="{first}"] button.details')
    ready(page, "logs")
    expected = {"vi": ("Nhật ký", "Cảnh báo"), "en": ("Logs", "Warned")}[lang]
    assert page.text_content('#nav a[data-view="logs"]') == expected[0]
    assert page.text_content("#log-table tbody .badge") == expected[1]
    assert page.evaluate("document.documentElement.lang") == lang
    page.screenshot(path=str(artifacts / f"console-logs-{lang}.png"), full_page=True)
    page.click('#nav a[data-view="dashboard"]')
    ready(page, "dashboard")
    assert f"lang={lang}" in page.url
    page.screenshot(path=str(artifacts / f"console-dashboard-{lang}.png"), full_page=True)
    page.select_option("#lang", "en" if lang == "vi" else "vi")  # switching keeps the view
    ready(page, "dashboard")
    assert f"lang={'en' if lang == 'vi' else 'vi'}" in page.url
    assert page.errors == []


# -- Newly flagged (retro-hunt) ------------------------------------------------------------------
# Last in this module: it adds a known-bad domain and retro records to the shared log.


def _admin(service: ServiceProcess, method: str, path: str) -> Any:
    import json
    import urllib.request

    body = b"" if method == "POST" else None
    request = urllib.request.Request(  # noqa: S310 (the test's own service on loopback)
        service.url + path, method=method, data=body,
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
        return json.loads(response.read())


def test_newly_flagged_lists_who_clicked_and_links_their_records(page, seeded,
                                                                 artifacts) -> None:
    service, records = seeded
    clicked = [r for r in records if r.host == "site3.example"]
    with (service.data_dir / "signatures" / "domains" / "local.txt").open("a") as handle:
        handle.write("\nsite3.example\n")
    version = _admin(service, "POST", "/v1/admin/reload")["version"]
    deadline = time.monotonic() + 60
    while not [r for r in _admin(service, "GET", "/v1/logs?kind=retro&event=retrohunt-run")
               ["items"] if r["policy_version"] == version]:
        assert time.monotonic() < deadline, "the retro-hunt after the reload never ended"
        time.sleep(0.1)

    sign_in(page, service.url, "lang=en&view=retro&since=24h")
    ready(page, "retro")
    found = page.eval_on_selector_all("#retro-findings tr[data-record-id]",
                                      "trs => trs.map(tr => tr.dataset.target)")
    assert sorted(found) == sorted({r.target for r in clicked})
    ids = page.eval_on_selector_all("#retro-findings td.ids a",
                                    "as => as.map(a => new URL(a.href).searchParams.get('record'))")
    assert sorted(ids) == sorted(r.id for r in clicked)
    assert "allow" in page.text_content("#retro-findings").lower()
    assert "known-bad" in page.text_content("#retro-findings")
    assert "flagged (" in page.text_content("#retro-last")  # the last run's summary

    page.click("#retro-run")
    until(page, "() => document.querySelector('#retro-result').className === 'ok'")
    assert "0 new" in page.text_content("#retro-result")
    page.screenshot(path=str(artifacts / "console-newly-flagged.png"), full_page=True)

    page.click("#retro-findings td.people a >> nth=0")  # the person: their records in the log
    ready(page, "logs")
    assert {r["id"] for r in rows(page)} >= {r.id for r in clicked if r.client == "pc-9"}
    assert page.errors == []
