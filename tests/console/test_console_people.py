"""The console's People page (the hygiene report) in Debian's Chromium against `meetguard
serve` with a seeded log: counts per person, each opening its log view with as many rows,
sorting, the filter, the weekly trend and the CSV export."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.console.test_console_browser import (  # the module's fixtures and helpers
    _write,
    artifacts,
    browser,
    page,
    ready,
    rows,
    sign_in,
    until,
)
from tests.support.service import ServiceProcess

from meetguard.report import week_of
from meetguard.store.base import LogRecord

pytestmark = pytest.mark.browser
__all__ = ["artifacts", "browser", "page"]
DAY = 86400


def people_records(now: float) -> list[LogRecord]:
    out = []

    def add(kind: str, user: str | None, client: str, ago_days: float, **values: Any) -> None:
        out.append(LogRecord.new(kind, client, user=user, ts=now - ago_days * DAY - 60,
                                 **values))

    for ago in (0, 1, 2, 9):
        add("link", "an.nguyen", "pc-an", ago, context="navigation", verdict_class="warned",
            action="warn", platform="zoom", host="zoom.us", target="https://zoom.us/j/1")
    add("event", "an.nguyen", "pc-an", 1, event="override", context="click")
    add("event", "binh.tran", "pc-binh", 3, event="room-details-shared", context="compose",
        platform="zoom", target="text")
    add("event", "binh.tran", "pc-binh", 3, event="room-details-shared", context="compose")
    add("file", "binh.tran", "pc-binh", 4, action="block", context="download",
        verdict_class="unknown")
    add("link", None, "pc-anon", 5, context="navigation", verdict_class="unknown",
        action="warn", codes=("impersonation",), host="zo0m.us")
    return out


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Iterator[tuple[ServiceProcess, list[LogRecord]]]:
    import time

    data_dir = tmp_path_factory.mktemp("people")
    records = people_records(time.time())
    asyncio.run(_write(data_dir / "meetguard.sqlite3", records))
    service = ServiceProcess(data_dir).start()
    try:
        yield service, records
    finally:
        service.stop()


def table(page: Any) -> list[dict[str, Any]]:
    return page.eval_on_selector_all(
        "#people-table tbody tr",
        "trs => trs.map(tr => ({person: tr.dataset.person, by: tr.dataset.by,"
        " counts: Object.fromEntries([...tr.querySelectorAll('td[data-count]')]"
        ".map(td => [td.dataset.count, Number(td.textContent)])),"
        " trend: tr.querySelector('svg.trend').dataset.trend}))")


def test_people_counts_open_their_log_views(page, seeded, artifacts) -> None:
    service, _ = seeded
    sign_in(page, service.url, "lang=en&view=people&since=28d")
    ready(page, "people")
    people = {r["person"]: r for r in table(page)}
    assert list(people) == ["an.nguyen", "binh.tran", "pc-anon"]  # most first
    assert people["an.nguyen"]["counts"] == {
        "warned_visits": 4, "overrides": 1, "lookalikes": 0, "blocked_downloads": 0,
        "room_details_shared": 0}
    assert people["binh.tran"]["counts"]["room_details_shared"] == 2
    assert people["pc-anon"]["by"] == "client" and people["pc-anon"]["counts"]["lookalikes"] == 1
    assert sum(int(n) for n in people["an.nguyen"]["trend"].split(",")) == 5
    page.screenshot(path=str(artifacts / "console-people.png"), full_page=True)

    page.click('#people-table tr[data-person="binh.tran"] td[data-count="room_details_shared"] a')
    ready(page, "logs")
    assert "event=room-details-shared" in page.url and "user=binh.tran" in page.url
    assert len(rows(page)) == 2
    page.go_back()
    ready(page, "people")
    page.click('#people-table tr[data-person="pc-anon"] td[data-count="lookalikes"] a')
    ready(page, "logs")
    assert "client=pc-anon" in page.url and "code=impersonation" in page.url
    assert len(rows(page)) == 1
    assert page.errors == []


def test_sort_filter_and_csv(page, seeded) -> None:
    service, records = seeded
    sign_in(page, service.url, "lang=vi&view=people&since=28d")
    ready(page, "people")
    assert page.text_content("#nav a[data-view=people]") == "Người dùng"
    page.click('#people-table th button[data-sort="person"]')
    until(page, "() => location.search.includes('sort=-person')")
    until(page, "() => document.querySelector('#people-table tbody tr').dataset.person"
                " === 'pc-anon'")
    page.click('#people-table th button[data-sort="person"]')
    until(page, "() => document.querySelector('#people-table tbody tr').dataset.person"
                " === 'an.nguyen'")
    page.fill("#people-filter", "binh")
    until(page, "() => document.querySelectorAll('#people-table tbody tr').length === 1")
    assert [r["person"] for r in table(page)] == ["binh.tran"]
    page.reload()  # sort and filter are in the URL
    ready(page, "people")
    assert [r["person"] for r in table(page)] == ["binh.tran"]

    with page.expect_download() as download:
        page.click("#people-csv")
    exported = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert {r["person"]: r["total"] for r in exported} == {
        "an.nguyen": "5", "binh.tran": "3", "pc-anon": "1"}
    weeks = [k for k in exported[0] if k.startswith("week_")]
    assert f"week_{week_of(max(r.ts for r in records))}" in weeks
    assert page.errors == []
