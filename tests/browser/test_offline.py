"""The service goes away: the last policy snapshot still decides known domains, the rest follows
the fail mode, and what was decided meanwhile reaches the log when the service is back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

WARNING_PAGE = re.compile(r"^chrome-extension://[a-p]{32}/pages/warning/warning\.html")


@pytest.mark.parametrize("mode", ["open", "closed"])
def test_service_down_follows_fail_mode_and_reports_when_back(open_browser, tmp_path, h, mode):
    if not h.serve_available():
        pytest.fail("`meetguard serve` is not available: the browser tests need the real service")
    data = tmp_path / "service"
    data.mkdir()
    service = h.Service(data).start()
    try:
        with open_browser(service.url, failMode=mode) as (ctx, _):
            # The messages are open before the service goes away (with fail-closed, an unknown
            # webmail host could not even be opened while the service is down).
            tabs = {name: ctx.new_page() for name in ("warned", "approved", "unknown")}
            for page in tabs.values():
                page.goto(f"https://{h.WEBMAIL_HOST}/inbox")
            # Webmail links were checked while the service was up (and stay cached for their
            # ttl); this page's link was not.
            tabs["unknown"].goto("https://news.example.com/today")
            service.stop()

            tabs["warned"].click("#warned")
            tabs["warned"].wait_for_url(WARNING_PAGE)
            root = tabs["warned"].locator("html")
            expect(root).to_have_attribute("data-meetguard-class", "warned", timeout=10_000)

            tabs["approved"].click("#approved")
            tabs["approved"].wait_for_url(h.LINKS["approved"][0])

            page = tabs["unknown"]
            page.click("#onward")
            if mode == "open":
                page.wait_for_url("https://onward.example.net/from/news.example.com")
                expect(page.locator("#landed")).to_have_text("onward.example.net")
            else:
                page.wait_for_url(WARNING_PAGE)
                root = page.locator("html")
                expect(root).to_have_attribute("data-meetguard-action", "block", timeout=10_000)
                expect(root).to_have_attribute("data-meetguard-class", "unknown")
                expect(page.locator("#continue")).to_be_hidden()

            service.start()
            popup = ctx.new_page()
            popup.goto(h.extension_url("pages/popup/popup.html"))
            expect(popup.locator("#connection")).to_have_attribute(
                "data-state", "connected", timeout=15_000
            )

            def reported_hosts():
                records = service.logs(kind="event", event="offline-decision")
                return {r.get("host") for r in records} >= {"onward.example.net", "zoom.us"}

            assert h.poll(reported_hosts, timeout=20), service.logs(kind="event")
    finally:
        service.stop()
