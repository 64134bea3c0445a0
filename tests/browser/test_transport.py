"""The options page and the popup say plainly when the service URL is plain http:// to a host
that is not loopback (the client key would travel in clear), and say nothing otherwise."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect


@pytest.mark.parametrize(("server_url", "warned"), [
    ("http://meetguard.example.org", True),
    ("loopback", False),
])
def test_cleartext_service_url_is_pointed_out(open_browser, service, h, server_url, warned):
    url = service.url if server_url == "loopback" else server_url
    with open_browser(url, wait_policy=False) as (ctx, _):
        for page_path in ("pages/options/options.html", "pages/popup/popup.html"):
            page = ctx.new_page()
            page.goto(h.extension_url(page_path))
            note = page.locator("#cleartext")
            if warned:
                expect(note).to_be_visible(timeout=10_000)
                expect(note).to_contain_text("https://")
            else:
                # Wait for the page to have shown its data (the note is decided in the same
                # synchronous step), then it must not be there.
                if "options" in page_path:
                    expect(page.locator("#fields")).to_be_enabled(timeout=10_000)
                else:
                    expect(page.locator("#connection")).to_have_attribute(
                        "data-state", re.compile(".+"), timeout=10_000)
                expect(note).to_be_hidden()
