"""Options, popup and enterprise policy: how the extension is configured and what it reports."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

FRAME_IT = """(u) => {
  const f = document.createElement('iframe');
  f.src = u;
  document.body.append(f);
}"""


def test_options_page_configures_the_service_without_policy(playwright, site, service, h):
    with h.launch_browser(playwright, site, None) as ctx:
        h.service_worker(ctx)
        page = ctx.new_page()
        page.goto(h.extension_url("pages/options/options.html"))
        expect(page.locator("#serverUrl")).to_be_enabled(timeout=10_000)
        page.fill("#serverUrl", "ftp://wrong.example.org")
        page.fill("#apiKey", h.CLIENT_KEY)
        page.click("#save")
        expect(page.locator("[data-error='serverUrl']")).not_to_be_empty()
        page.fill("#serverUrl", service.url)
        page.click("#save")
        expect(page.locator("#status")).not_to_be_empty(timeout=10_000)

        popup = ctx.new_page()
        popup.goto(h.extension_url("pages/popup/popup.html"))
        expect(popup.locator("#connection")).to_have_attribute(
            "data-state", "connected", timeout=15_000
        )
        status, policy = service.get("/v1/policy")
        assert status == 200
        expect(popup.locator("#policy")).to_have_text(policy["version"])


def test_enterprise_policy_locks_fields_and_invalid_values_are_ignored(open_browser, service, h):
    with open_browser(service.url, webmailHosts=["https://not-a-host/"], language="vi") as (ctx, _):
        page = ctx.new_page()
        page.goto(h.extension_url("pages/options/options.html"))
        expect(page.locator("#serverUrl")).to_be_disabled(timeout=10_000)
        expect(page.locator("#serverUrl")).to_have_value(service.url)
        expect(page.locator("#apiKey")).to_be_disabled()
        expect(page.locator("#webmailHosts")).to_be_enabled()
        expect(page.locator("#managed-errors li")).to_have_count(1)
        expect(page.locator("html")).to_have_attribute("lang", "vi")


def test_bad_client_key_is_shown_in_the_popup(open_browser, service, h):
    with open_browser(service.url, wait_policy=False, apiKey="wrong-key-123") as (ctx, _):
        popup = ctx.new_page()
        popup.goto(h.extension_url("pages/popup/popup.html"))
        expect(popup.locator("#connection")).to_have_attribute("data-state", "auth", timeout=15_000)


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_explanation_page(open_browser, service, h, artifacts, lang):
    with open_browser(service.url, language=lang) as (ctx, _):
        page = ctx.new_page()
        page.goto(h.extension_url("pages/warning/warning.html?explain=1"))
        expect(page.locator("#explain")).to_be_visible(timeout=10_000)
        expect(page.locator("#advice")).to_contain_text("emeeting.mic.gov.vn")
        expect(page.locator("#continue")).to_be_hidden()


def test_warning_page_refuses_to_work_inside_a_frame(open_browser, service, site, h):
    with open_browser(service.url) as (ctx, _):
        page = ctx.new_page()
        page.goto(f"https://{h.WEBMAIL_HOST}/inbox")
        url = h.extension_url("pages/warning/warning.html?via=click#https://zoom.us/j/1")
        page.evaluate(FRAME_IT, url)
        page.wait_for_timeout(2000)
        framed = [f for f in page.frames if f != page.main_frame]
        assert framed, "the frame was not created"
        for frame in framed:
            assert frame.locator("#continue:visible").count() == 0
