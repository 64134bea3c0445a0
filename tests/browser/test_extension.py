"""The extension in Debian's Chromium against the real service: what a person meets in webmail,
on clicks, on typed navigations and on downloads."""

from __future__ import annotations

import contextlib
import hashlib
import re

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

WARNING_PAGE = re.compile(r"^chrome-extension://[a-p]{32}/pages/warning/warning\.html")
EXPECTED_ACTION = {"approved": "allow", "warned": "warn", "unknown": "allow"}


def badge(page):
    return page.locator("meetguard-badge")


def inbox(ctx, h, *, add_late: bool = True):
    page = ctx.new_page()
    page.goto(f"https://{h.WEBMAIL_HOST}/inbox")
    if add_late:
        add_late_links(page)
    return page


def add_late_links(page):
    page.evaluate("window.addLateLinks()")
    expect(page.locator("body[data-late-added='1']")).to_be_attached()


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_hover_badge_shows_each_class_and_visible_links_are_batched(
    open_browser, proxy, h, artifacts, lang
):
    with open_browser(proxy.url, language=lang) as (ctx, _):
        page = inbox(ctx, h, add_late=False)
        # The links the snapshot cannot decide went to the service in one hover request.
        server_checked = {h.LINKS[n][0] for n in ("unknown", "lookalike", "safelinks")}
        first = h.poll(lambda: proxy.link_checks("hover"))
        assert first, "no hover check reached the service"
        assert set(first[0]["json"]["urls"]) == server_checked
        add_late_links(page)
        late = h.poll(
            lambda: len(proxy.link_checks("hover")) >= 2 and proxy.link_checks("hover")[1]
        )
        assert late["json"]["urls"] == [h.LATE_LINKS["late-unknown"][0]], "link added after load"
        assert all(len(r["json"]["urls"]) > 0 for r in proxy.link_checks("hover"))

        for name, (_, cls) in {**h.LINKS, **h.LATE_LINKS}.items():
            page.hover(f"#{name}")
            expect(badge(page)).to_have_attribute("data-meetguard-class", cls, timeout=10_000)
            if name == "lookalike":
                expect(badge(page)).to_have_attribute(
                    "data-meetguard-action", re.compile("^(warn|block)$")
                )
            else:
                expect(badge(page)).to_have_attribute("data-meetguard-action", EXPECTED_ACTION[cls])
            expect(badge(page)).to_be_visible()
            if name in ("warned", "lookalike"):
                page.screenshot(path=str(artifacts / f"hover-badge-{name}-{lang}.png"))
        # Hovering reads from the batch already made: no request per link.
        assert len(proxy.link_checks("hover")) == 2


def test_page_cannot_use_hover_checks_outside_webmail(open_browser, proxy, h):
    with open_browser(proxy.url, webmailHosts=["other-mail.example.org"]) as (ctx, _):
        page = ctx.new_page()
        page.goto(f"https://{h.WEBMAIL_HOST}/inbox")
        page.hover("#unknown")
        page.wait_for_timeout(1500)
        assert badge(page).count() == 0
        assert proxy.link_checks("hover") == []


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_warned_link_opens_warning_page_and_continue_is_logged(
    open_browser, proxy, service, site, h, artifacts, lang
):
    href = h.LINKS["warned"][0]
    before = len(service.logs(kind="event", event="override"))
    with open_browser(proxy.url, language=lang) as (ctx, _):
        page = inbox(ctx, h)
        site.requests.clear()
        page.click("#warned")
        page.wait_for_url(WARNING_PAGE)
        root = page.locator("html")
        expect(root).to_have_attribute("data-meetguard-class", "warned", timeout=10_000)
        expect(root).to_have_attribute("data-meetguard-action", "warn")
        expect(root).to_have_attribute("data-meetguard-target", href)
        expect(page.locator("#continue")).to_be_visible()
        expect(page.locator("#back")).to_be_visible()
        page.screenshot(path=str(artifacts / f"warning-page-{lang}.png"), full_page=True)
        assert "zoom.us" not in site.hosts_requested(), (
            "the warned destination was contacted before the user chose"
        )

        page.click("#continue")
        page.wait_for_url(href)
        expect(page.locator("#landed")).to_have_text("zoom.us")
        overrides = h.poll(
            lambda: [r for r in service.logs(kind="event", event="override")][before:]
        )
        assert overrides, "no override event in /v1/logs"
        assert overrides[-1]["host"] == "zoom.us"

        # Remembered for that destination: the next visit is not stopped again.
        page.goto("https://zoom.us/j/1112223333")
        expect(page.locator("#landed")).to_have_text("zoom.us")


def test_go_back_returns_to_the_message(open_browser, proxy, h):
    with open_browser(proxy.url) as (ctx, _):
        page = inbox(ctx, h)
        page.click("#warned")
        page.wait_for_url(WARNING_PAGE)
        expect(page.locator("html")).to_have_attribute(
            "data-meetguard-action", "warn", timeout=10_000
        )
        page.click("#back")
        page.wait_for_url(f"https://{h.WEBMAIL_HOST}/inbox")


def test_approved_link_is_not_interrupted(open_browser, proxy, h):
    href = h.LINKS["approved"][0]
    with open_browser(proxy.url) as (ctx, _):
        page = inbox(ctx, h)
        seen = []
        page.on("framenavigated", lambda f: f == page.main_frame and seen.append(f.url))
        page.click("#approved")
        page.wait_for_url(href)
        expect(page.locator("#landed")).to_have_text("emeeting.mic.gov.vn")
        assert not [u for u in seen if WARNING_PAGE.match(u)]
        asked = [u for r in proxy.link_checks() for u in r["json"]["urls"]]
        assert href not in asked, "an approved destination needs no round trip"


@pytest.mark.parametrize(
    ("name", "cls"), [("lookalike", "unknown"), ("safelinks", "warned"), ("deeplink", "warned")]
)
def test_click_on_disguised_links_is_stopped(open_browser, proxy, h, name, cls):
    href = h.LINKS[name][0]
    with open_browser(proxy.url) as (ctx, _):
        page = inbox(ctx, h)
        page.click(f"#{name}")
        page.wait_for_url(WARNING_PAGE)
        root = page.locator("html")
        expect(root).to_have_attribute("data-meetguard-class", cls, timeout=10_000)
        expect(root).to_have_attribute("data-meetguard-action", re.compile("^(warn|block)$"))
        assert root.get_attribute("data-meetguard-target") in (href, href.replace("%7C", "|"))
        if name == "lookalike":  # the trick shown: the letters people see, and the punycode
            expect(page.locator("#real-host")).to_have_text(
                "meet.ԍооԍӏе.com (meet.xn--e1ara49ctjc.com)")


def test_unknown_link_goes_through_after_a_service_check(open_browser, proxy, h):
    href = h.LINKS["unknown"][0]
    with open_browser(proxy.url) as (ctx, _):
        page = ctx.new_page()
        page.goto(f"https://{h.WEBMAIL_HOST}/inbox")
        page.click("#unknown")
        page.wait_for_url(href)
        expect(page.locator("#landed")).to_have_text("docs.example.net")


def test_typed_navigation_to_warned_domain_is_stopped_before_any_request(
    open_browser, proxy, site, h
):
    with open_browser(proxy.url) as (ctx, sw):
        rules = sw.evaluate("chrome.declarativeNetRequest.getDynamicRules()")
        assert any("zoom.us" in (r["condition"].get("requestDomains") or []) for r in rules)
        page = ctx.new_page()
        site.requests.clear()
        page.goto("https://us02web.zoom.us/j/999")
        page.wait_for_url(WARNING_PAGE)
        expect(page.locator("html")).to_have_attribute(
            "data-meetguard-class", "warned", timeout=10_000
        )
        assert not [host for host in site.hosts_requested() if host.endswith("zoom.us")]


def test_typed_navigation_to_lookalike_is_checked_by_the_worker(open_browser, proxy, h):
    with open_browser(proxy.url) as (ctx, _):
        page = ctx.new_page()
        with contextlib.suppress(PlaywrightError):  # the worker replaces this navigation
            page.goto("https://zo0m-us.com/j/5551234567", wait_until="commit")
        expect(page).to_have_url(WARNING_PAGE, timeout=10_000)
        expect(page.locator("html")).to_have_attribute(
            "data-meetguard-class", "unknown", timeout=10_000
        )
        navigation_checks = proxy.link_checks("navigation")
        assert any(
            "https://zo0m-us.com/j/5551234567" in r["json"]["urls"] for r in navigation_checks
        )


def test_eicar_download_is_removed_and_logged_clean_file_kept(open_browser, proxy, service, h):
    eicar_sha = hashlib.sha256(h.EICAR).hexdigest()
    clean_sha = hashlib.sha256(h.CLEAN_FILE).hexdigest()
    with open_browser(proxy.url) as (ctx, sw):
        page = ctx.new_page()
        page.goto("https://files.example.org/downloads.html")
        with ctx.expect_page(
            lambda p: WARNING_PAGE.match(p.url) is not None, timeout=20_000
        ) as opened:
            page.click("#eicar")
        warning = opened.value
        expect(warning.locator("html")).to_have_attribute(
            "data-meetguard-action", "block", timeout=10_000
        )
        expect(warning.locator("#file-sha")).to_have_text(eicar_sha)
        left = sw.evaluate(
            "chrome.downloads.search({})"
            ".then((all) => all.filter((d) => d.url.endsWith('/eicar.com')))"
        )
        assert left == [], f"the EICAR download is still listed: {left}"
        removed = h.poll(
            lambda: [
                r
                for r in service.logs(kind="event", event="download-removed")
                if eicar_sha in str(r)
            ]
        )
        assert removed, "no download-removed event for the EICAR file"

        with page.expect_download() as got:
            page.click("#clean")
        got.value.path()
        kept = h.poll(
            lambda: sw.evaluate(
                "chrome.downloads.search({}).then((all) => all.filter((d) =>"
                " d.url.endsWith('/agenda.txt') && d.state === 'complete' && d.exists))"
            )
        )
        assert kept, "the clean download did not complete"

        def checked():
            return {r["json"]["sha256"] for r in proxy.records if r["path"] == "/v1/files/check"}

        assert h.poll(lambda: checked() >= {eicar_sha, clean_sha}), checked()
        # Bytes go to the service only when it asks for them, and then they do.
        wanted = {
            r["json"]["sha256"]
            for r in proxy.records
            if r["path"] == "/v1/files/check" and r["answer"]["verdict"].get("content_wanted")
        }
        def uploads():
            return {r["path"].split("/")[3] for r in proxy.records if r["method"] == "PUT"}

        assert h.poll(lambda: uploads() >= wanted), (wanted, uploads())
        assert uploads() <= wanted
        assert not [
            r for r in service.logs(kind="event", event="download-removed") if clean_sha in str(r)
        ]
