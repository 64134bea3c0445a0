"""Roundcube (Debian's package) as the real webmail, with Dovecot and an SMTP server that
delivers into Dovecot: hover badges in an opened message, and the room-details guard on
Roundcube's own compose page, plain-text and HTML (TinyMCE), read back over IMAP."""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

_spec = importlib.util.spec_from_file_location("meetguard_roundcube",
                                               Path(__file__).with_name("roundcube.py"))
rc = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = rc
_spec.loader.exec_module(rc)

ORG = "moj.gov.vn"
LINK = "https://us02web.zoom.us/j/85012345678?pwd=aBcD1234.1"
CLEAN = "https://us02web.zoom.us/j/85012345678"
INVITE = f"Join Zoom Meeting\n{LINK}\n\nMeeting ID: 850 1234 5678\nPasscode: 778899\nThanks"
DIALOG = 'iframe[data-meetguard-dialog="room-details"]'
MESSAGE = (
    b"From: Boss <boss@moj.gov.vn>\r\nTo: alice@moj.gov.vn\r\nSubject: Meeting links\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
    b'<p>Links: <a href="https://zoom.us/j/5551234567">Zoom</a> and '
    b'<a href="https://emeeting.mic.gov.vn/room/4711">eMeeting</a></p>\r\n'
)


@pytest.fixture(scope="module")
def webmail():
    if not rc.available():
        pytest.fail("Roundcube, PHP or Dovecot is missing: scripts/test installs them "
                    "(roundcube-core roundcube-sqlite3 php-cli dovecot-imapd)")
    mail = rc.Webmail().start()
    mail.put("alice", MESSAGE)
    yield mail
    mail.stop()


@pytest.fixture(scope="module")
def org_service(tmp_path_factory, h):
    root = tmp_path_factory.mktemp("roundcube-service")
    sig = root / "signatures"
    shutil.copytree(Path(h.ROOT) / "signatures", sig)
    policy = sig / "policy.toml"
    policy.write_text(policy.read_text().replace("domains = []", f'domains = ["{ORG}"]', 1))
    (root / "data").mkdir()
    svc = h.Service(root / "data", env={"MEETGUARD_SIGNATURES": str(sig)}).start()
    yield svc
    svc.stop()


@pytest.fixture
def roundcube(open_browser, org_service, webmail):
    with open_browser(org_service.url, webmailHosts=[webmail.host]) as (ctx, _):
        page = ctx.new_page()
        page.goto(webmail.url + "/")
        page.fill("#rcmloginuser", "alice")
        page.fill("#rcmloginpwd", rc.USERS["alice"])
        page.click("#rcmloginsubmit")
        page.wait_for_url(re.compile(r"_task=mail"))
        yield page


def compose(page, webmail, *, to: str, body: str, html: bool) -> None:
    page.goto(webmail.url + "/?_task=mail&_action=compose")
    if html:  # the editor's own switch to HTML: TinyMCE, in an iframe
        page.locator(".editor-toolbar a.mce-i-html").click()
        expect(page.locator("#composebody_ifr")).to_be_visible()
    recipient = page.locator("#compose_to input:not([type=hidden])").first
    recipient.fill(to)
    recipient.press("Enter")
    page.fill("#compose-subject", "Meeting")
    if html:
        page.frame_locator("#composebody_ifr").locator("body").fill(body)
    else:
        page.fill("#composebody", body)


def delivered(webmail, before: int) -> str:
    """The body of the newest message delivered to friend after the first `before`."""
    def fetch():
        messages = webmail.messages("friend")
        return messages[before:] if len(messages) > before else None
    from meetguard_browser_harness import poll

    found = poll(fetch, timeout=20)
    assert found, "nothing was delivered"
    return found[-1].get_body(("plain", "html")).get_content()


def test_hover_badges_in_an_opened_message(roundcube, webmail):
    page = roundcube
    page.locator("#messagelist tr", has_text="Meeting links").first.click()
    frame = page.frame_locator("#messagecontframe")
    for href, cls in (("zoom.us", "warned"), ("emeeting.mic.gov.vn", "approved")):
        frame.locator(f"a[href*='{href}']").hover()
        expect(frame.locator("meetguard-badge")).to_have_attribute(
            "data-meetguard-class", cls, timeout=10_000)


@pytest.mark.parametrize("html", [False, True], ids=["plain", "tinymce"])
def test_remove_the_password_and_send_delivers_without_it(roundcube, webmail, org_service,
                                                           h, html):
    page = roundcube
    before = len(webmail.messages("friend"))
    compose(page, webmail, to="friend@gmail.com", body=INVITE, html=html)
    page.locator("button.send").click()
    dialog = page.frame_locator(DIALOG)
    expect(dialog.locator("#recipients")).to_contain_text("gmail.com", timeout=10_000)
    dialog.get_by_role("button", name="Remove the password and send").click()
    body = delivered(webmail, before)
    assert CLEAN in body and "pwd=" not in body and "aBcD1234" not in body, body
    assert "778899" not in body and "Meeting ID: 850 1234 5678" in body, body
    records = h.poll(lambda: [r for r in org_service.logs(kind="event",
                                                          event="room-details-removed")
                              if r["detail"].get("recipient_domains") == "gmail.com"])
    assert records and records[-1]["target"] == CLEAN


def test_send_anyway_is_logged_and_an_inside_address_sees_nothing(roundcube, webmail,
                                                                  org_service, h):
    page = roundcube
    before_events = len(org_service.logs(kind="event", event="room-details-shared"))
    before = len(webmail.messages("friend"))
    compose(page, webmail, to="friend@gmail.com", body=INVITE, html=False)
    page.locator("button.send").click()
    page.frame_locator(DIALOG).get_by_role("button", name="Send anyway").click()
    body = delivered(webmail, before)
    assert LINK in body and "Passcode: 778899" in body
    shared = h.poll(lambda: org_service.logs(kind="event",
                                             event="room-details-shared")[before_events:])
    assert shared and shared[0]["platform"] == "zoom"
    assert shared[0]["detail"]["recipient_domains"] == "gmail.com"

    before = len(webmail.messages("friend"))
    compose(page, webmail, to="binh@moj.gov.vn", body=INVITE, html=False)
    page.locator("button.send").click()
    body = delivered(webmail, before)
    assert LINK in body
    assert page.locator(DIALOG).count() == 0
