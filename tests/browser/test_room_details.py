"""The room-details guard in Debian's Chromium with the real extension and the real service:
fixture compose pages (textarea, contenteditable, an editor in an iframe, a chat box sent with
Enter) and a public post box, each with a plain send control."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

ORG = "moj.gov.vn"
CHAT_HOST = "chat.example.org"
SOCIAL_HOST = "social.example.org"
LINK = "https://us02web.zoom.us/j/85012345678?pwd=aBcD1234.1"
CLEAN = "https://us02web.zoom.us/j/85012345678"
INVITE = f"Join Zoom Meeting\n{LINK}\n\nMeeting ID: 850 1234 5678\nPasscode: 778899\nSee you"
DIALOG = 'iframe[data-meetguard-dialog="room-details"]'

# The page records what it sent in body[data-sent]: the recipients and the editor's text.
_SEND = """<script>
function sent(body) {
  const to = document.getElementById('to');
  document.body.dataset.sent = JSON.stringify({to: to ? to.value : '', body});
}
</script>"""
PAGES = {
    "textarea": f"""<!doctype html><meta charset=utf-8><title>Compose</title>
<input id=to name=to aria-label=To><textarea id=editor rows=8 cols=60></textarea>
<button id=send onclick="sent(document.getElementById('editor').value)">Send</button>{_SEND}""",
    "contenteditable": f"""<!doctype html><meta charset=utf-8><title>Compose</title>
<input id=to name=to>
<div id=editor contenteditable=true style="min-height:80px;border:1px solid"></div>
<div role=button id=send tabindex=0
     onclick="sent(document.getElementById('editor').innerText)">Gửi</div>{_SEND}""",
    "iframe": f"""<!doctype html><meta charset=utf-8><title>Compose</title>
<input id=to name=to><iframe id=editor style="width:500px;height:150px"></iframe>
<button id=send
  onclick="sent(document.getElementById('editor').contentDocument.body.innerText)">Send</button>
{_SEND}<script>
const doc = document.getElementById('editor').contentDocument;
doc.designMode = 'on';
</script>""",
}
CHAT = f"""<!doctype html><meta charset=utf-8><title>Chat</title>
<div id=editor contenteditable=true role=textbox style="min-height:40px;border:1px solid"></div>
{_SEND}<script>
document.getElementById('editor').addEventListener('keydown', (e) => {{
  if (e.key === 'Enter' && !e.shiftKey) {{ e.preventDefault(); sent(e.target.innerText); }}
}});
</script>"""
POST = """<!doctype html><meta charset=utf-8><title>Post</title>
<textarea id=editor rows=6 cols=60></textarea>"""


@pytest.fixture(scope="module")
def guard_service(tmp_path_factory, h):
    """The service with the organisation's domain and the test hosts in room_details.toml."""
    root = tmp_path_factory.mktemp("room-details")
    sig = root / "signatures"
    shutil.copytree(Path(h.ROOT) / "signatures", sig)
    policy = sig / "policy.toml"
    policy.write_text(policy.read_text().replace("domains = []", f'domains = ["{ORG}"]', 1))
    rooms = sig / "room_details.toml"
    text = rooms.read_text(encoding="utf-8")
    text = re.sub(r'^(compose|enter_sends) = \[', rf'\1 = ["{CHAT_HOST}", ', text, flags=re.M)
    text = re.sub(r"^public = \[", f'public = ["{SOCIAL_HOST}", ', text, flags=re.M)
    rooms.write_text(text, encoding="utf-8")
    (root / "data").mkdir()
    svc = h.Service(root / "data", env={"MEETGUARD_SIGNATURES": str(sig)}).start()
    yield svc
    svc.stop()


@pytest.fixture
def pages(site, h):
    for name, html in PAGES.items():
        site.pages[h.WEBMAIL_HOST, f"/compose/{name}"] = html
    site.pages[CHAT_HOST, "/chat"] = CHAT
    site.pages[SOCIAL_HOST, "/post"] = POST
    return site


def fill(page, kind: str, text: str) -> None:
    if kind == "iframe":
        page.frame_locator("#editor").locator("body").fill(text)
    else:
        page.locator("#editor").fill(text)


def sent(page) -> dict | None:
    value = page.locator("body").get_attribute("data-sent")
    return json.loads(value) if value else None


def events(service, name: str) -> list[dict]:
    return service.logs(kind="event", event=name)


def compose(ctx, h, kind: str, to: str):
    page = ctx.new_page()
    page.goto(f"https://{h.WEBMAIL_HOST}/compose/{kind}")
    page.locator("#to").fill(to)
    fill(page, kind, INVITE)
    return page


@pytest.mark.parametrize("kind", list(PAGES))
def test_remove_the_password_and_send(open_browser, guard_service, pages, h, artifacts, kind):
    before = len(events(guard_service, "room-details-removed"))
    with open_browser(guard_service.url) as (ctx, _):
        page = compose(ctx, h, kind, "Friend <friend@gmail.com>, an@moj.gov.vn")
        page.locator("#send").click()
        dialog = page.frame_locator(DIALOG)
        expect(dialog.locator("html[data-ready='1']")).to_be_attached(timeout=10_000)
        expect(dialog.locator("mark").first).to_have_text("aBcD1234.1")
        expect(dialog.locator("#recipients")).to_contain_text("gmail.com")
        # The page cannot read the dialog: it is another origin's document.
        assert page.evaluate(f"document.querySelector('{DIALOG}').contentDocument") is None
        assert sent(page) is None
        page.screenshot(path=str(artifacts / f"room-details-dialog-{kind}.png"))
        dialog.get_by_role("button", name="Remove the password and send").click()
        expect(page.locator("body[data-sent]")).to_be_attached(timeout=10_000)
        body = sent(page)["body"]
        assert CLEAN in body and "pwd" not in body and "aBcD" not in body, body
        assert "778899" not in body and "Passcode" not in body, body
        assert "Meeting ID: 850 1234 5678" in body and "See you" in body, body
        expect(page.locator(DIALOG)).to_have_count(0)
        records = h.poll(lambda: events(guard_service, "room-details-removed")[before:])
        assert records, "no room-details-removed event in /v1/logs"
        record = records[0]
        assert record["platform"] == "zoom" and record["target"] == CLEAN
        assert record["detail"]["recipient_domains"] == "gmail.com,moj.gov.vn"
        assert "friend@" not in json.dumps(record)


@pytest.mark.parametrize(("lang", "button", "event"), [
    ("vi", "Vẫn gửi", "room-details-shared"),
    ("en", "Cancel", "room-details-cancelled"),
])
def test_send_anyway_and_cancel_are_logged(open_browser, guard_service, pages, h, lang,
                                           button, event):
    before = len(events(guard_service, event))
    with open_browser(guard_service.url, language=lang) as (ctx, _):
        page = compose(ctx, h, "textarea", "friend@gmail.com")
        page.locator("#send").click()
        page.frame_locator(DIALOG).get_by_role("button", name=button).click()
        records = h.poll(lambda: events(guard_service, event)[before:])
        assert records and records[0]["platform"] == "zoom"
        if event == "room-details-shared":
            expect(page.locator("body[data-sent]")).to_be_attached()
            assert sent(page)["body"] == INVITE
        else:
            expect(page.locator(DIALOG)).to_have_count(0)
            assert sent(page) is None
            assert page.locator("#editor").input_value() == INVITE


def test_inside_recipients_and_plain_messages_go_straight_out(open_browser, guard_service,
                                                              pages, h):
    with open_browser(guard_service.url) as (ctx, _):
        page = compose(ctx, h, "textarea", "an@moj.gov.vn, binh@hcm.moj.gov.vn")
        page.locator("#send").click()
        expect(page.locator("body[data-sent]")).to_be_attached()
        assert sent(page)["body"] == INVITE
        other = compose(ctx, h, "contenteditable", "friend@gmail.com")
        fill(other, "contenteditable", f"Agenda attached; join at {CLEAN}")
        other.locator("#send").click()
        expect(other.locator("body[data-sent]")).to_be_attached()
        assert other.locator(DIALOG).count() == 0


def test_chat_box_sent_with_enter_and_paste_into_a_public_post(open_browser, guard_service,
                                                               pages, h):
    with open_browser(guard_service.url) as (ctx, _):
        chat = ctx.new_page()
        chat.goto(f"https://{CHAT_HOST}/chat")
        chat.locator("#editor").fill(f"join {LINK}")
        chat.locator("#editor").press("Enter")
        dialog = chat.frame_locator(DIALOG)
        # No recipients on the page: treated as outside the organisation.
        expect(dialog.locator("#recipients")).to_contain_text("does not show who receives")
        dialog.get_by_role("button", name="Remove the password and send").click()
        expect(chat.locator("body[data-sent]")).to_be_attached()
        assert sent(chat)["body"].strip() == f"join {CLEAN}"

        ctx.grant_permissions(["clipboard-read", "clipboard-write"])
        post = ctx.new_page()
        post.goto(f"https://{SOCIAL_HOST}/post")
        post.evaluate("(t) => navigator.clipboard.writeText(t)", INVITE)
        post.locator("#editor").focus()
        post.keyboard.press("Control+V")
        dialog = post.frame_locator(DIALOG)
        dialog.get_by_role("button", name="Remove the password and paste").click()
        expect(post.locator("#editor")).not_to_have_value("")
        value = post.locator("#editor").input_value()
        assert CLEAN in value and "pwd" not in value and "778899" not in value, value
