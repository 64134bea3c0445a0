"""Room-details events as the extension reports them, and the policy it gets: the real app on a
real socket, a real SQLite file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from tests.support.service import admin_headers, client_headers

SIGNATURES = Path(__file__).resolve().parents[2] / "signatures"


async def report(client: TestClient, *events: dict[str, Any]) -> Any:
    headers = client_headers(**{"X-MeetGuard-User": "an.nguyen"})
    response = await client.post("/v1/events", headers=headers, json={"events": list(events)})
    return response.status, await response.json()


async def event_records(client: TestClient, event: str) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/logs?kind=event&event={event}", headers=admin_headers())
    assert response.status == 200
    return (await response.json())["items"]


async def test_policy_ships_the_room_details(client: TestClient) -> None:
    doc = await (await client.get("/v1/policy", headers=client_headers())).json()
    room = doc["room_details"]
    assert {lb["lang"] for lb in room["labels"]} == {"en", "vi"}
    assert any(p["id"] == "zoom" and "pwd" in p["secret_params"] for p in room["platforms"])
    assert "chat.zalo.me" in room["compose_hosts"]


@pytest.mark.parametrize(("event", "extra", "platform", "target"), [
    ("room-details-shared", {"url": "https://us02web.zoom.us/j/85012345678"}, "zoom",
     "https://us02web.zoom.us/j/85012345678"),
    # A link still holding its secret is redacted like every link the service stores.
    ("room-details-removed", {"url": "https://zoom.us/j/1?pwd=SECRET"}, "zoom", None),
    ("room-details-cancelled", {}, "teams", "text"),
])
async def test_room_details_events_keep_platform_target_and_domains_only(
    client: TestClient, event: str, extra: dict[str, Any], platform: str, target: str | None,
) -> None:
    status, body = await report(client, {
        "type": event, "context": "compose", **extra,
        "detail": {"found": "link" if extra else "text", "platform": "teams", "links": 1,
                   "texts": 0, "recipient_domains": "gmail.com,an@moj.gov.vn,yahoo.com.vn",
                   "message": "Meeting ID: 850 1234 5678 Passcode: 123456"}})
    assert status == 202, body
    [record] = await event_records(client, event)
    assert record["platform"] == platform and record["context"] == "compose"
    assert record["user"] == "an.nguyen"
    if target is not None:
        assert record["target"] == target
    assert record["detail"]["recipient_domains"] == "gmail.com,yahoo.com.vn"
    text = json.dumps(record)
    assert "SECRET" not in text and "Passcode" not in text and "an@moj" not in text


async def test_an_unknown_platform_name_is_not_stored(client: TestClient) -> None:
    status, _ = await report(client, {"type": "room-details-shared", "context": "paste",
                                      "detail": {"platform": "<script>", "found": "text"}})
    assert status == 202
    [record] = await event_records(client, "room-details-shared")
    assert record["platform"] is None and record["target"] == "text"


async def test_a_broken_room_details_file_is_refused_on_reload(
    make_client: Any, tmp_path: Path,
) -> None:
    sig = tmp_path / "signatures"
    shutil.copytree(SIGNATURES, sig)
    client = await make_client(signatures=str(sig))
    before = (await (await client.get("/v1/policy", headers=client_headers())).json())["version"]
    (sig / "room_details.toml").write_text("[text]\nmax_gap = 'far'\n")
    response = await client.post("/v1/admin/reload", headers=admin_headers())
    assert response.status == 422
    problem = await response.json()
    assert problem["problems"][0]["file"].endswith("room_details.toml")
    assert problem["problems"][0]["line"] == 2
    after = (await (await client.get("/v1/policy", headers=client_headers())).json())["version"]
    assert after == before
