"""The service hosting the packed extension (`extension_dir`): update manifests, CRX, XPI; no
key needed; content types; ETags; a new pack served without a restart."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from tests.support.crx import read_crx3

from meetguard.extension_kit import generate_key, pack

GUPDATE = "{http://www.google.com/update2/response}"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("key") / "key.pem"
    path.write_bytes(generate_key())
    return path


@pytest.fixture
def dist(tmp_path: Path, key: Path) -> Path:
    pack(ROOT / "extension", key, tmp_path / "dist", version="1.0.0")
    return tmp_path / "dist"


def app_of(body: bytes) -> ET.Element:
    return ET.fromstring(body).find(f"{GUPDATE}app")  # noqa: S314 - our own answer


async def test_chromium_update_manifest_points_at_the_crx(make_client, dist: Path) -> None:
    client = await make_client(extension_dir=dist)
    described = json.loads((dist / "pack.json").read_text())
    response = await client.get("/extension/updates.xml")  # no Authorization header
    assert response.status == 200
    assert response.content_type == "application/xml"
    app = app_of(await response.read())
    assert app.get("appid") == described["id"]
    check = app.find(f"{GUPDATE}updatecheck")
    assert check.get("version") == "1.0.0"
    codebase = check.get("codebase")
    assert codebase == f"http://127.0.0.1:{client.port}/extension/meetguard-1.0.0.crx"
    crx = await client.get(codebase.split(str(client.port), 1)[1])
    assert crx.status == 200 and crx.content_type == "application/x-chrome-extension"
    assert read_crx3(await crx.read()).extension_id == described["id"]


async def test_firefox_update_manifest_has_the_xpi_and_its_hash(make_client, dist: Path) -> None:
    client = await make_client(extension_dir=dist)
    described = json.loads((dist / "pack.json").read_text())
    response = await client.get("/extension/updates.json",
                                headers={"X-Forwarded-Proto": "https"})
    assert response.status == 200 and response.content_type == "application/json"
    [update] = (await response.json())["addons"][described["gecko_id"]]["updates"]
    assert update["version"] == "1.0.0"
    assert update["update_link"] == f"https://127.0.0.1:{client.port}/extension/meetguard-1.0.0.xpi"
    assert update["update_hash"] == "sha256:" + described["xpi_sha256"]
    xpi = await client.get("/extension/meetguard.xpi")  # the newest, by a stable name
    assert xpi.status == 200 and xpi.content_type == "application/x-xpinstall"
    assert await xpi.read() == (dist / "meetguard-1.0.0.xpi").read_bytes()


@pytest.mark.parametrize("path", ["/extension/updates.xml", "/extension/updates.json",
                                  "/extension/meetguard-1.0.0.crx", "/extension/meetguard.xpi"])
async def test_etags_answer_304_until_the_content_changes(make_client, dist: Path,
                                                         path: str) -> None:
    client = await make_client(extension_dir=dist)
    first = await client.get(path)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"
    again = await client.get(path, headers={"If-None-Match": etag})
    assert again.status == 304 and await again.read() == b""
    other = await client.get(path, headers={"If-None-Match": '"something-else"'})
    assert other.status == 200


async def test_a_new_pack_is_served_without_a_restart(make_client, dist: Path, key: Path) -> None:
    client = await make_client(extension_dir=dist)
    before = await client.get("/extension/updates.xml")
    pack(ROOT / "extension", key, dist, version="1.1.0")
    after = await client.get("/extension/updates.xml",
                             headers={"If-None-Match": before.headers["ETag"]})
    assert after.status == 200
    check = app_of(await after.read()).find(f"{GUPDATE}updatecheck")
    assert check.get("version") == "1.1.0" and check.get("codebase").endswith("-1.1.0.crx")
    old = await client.get("/extension/meetguard-1.0.0.crx")
    assert old.status == 404  # only the current pack is served


@pytest.mark.parametrize("path", ["/extension/updates.xml", "/extension/pack.json",
                                  "/extension/..%2Fkeys.json", "/extension/other.crx"])
async def test_what_is_not_served(make_client, dist: Path, tmp_path: Path, path: str) -> None:
    client = await make_client(extension_dir=tmp_path / "empty")
    response = await client.get(path)
    assert response.status == 404
    assert response.content_type == "application/problem+json"
    served = await make_client(extension_dir=dist)
    if path != "/extension/updates.xml":
        assert (await served.get(path)).status == 404


async def test_not_served_without_the_setting(client) -> None:
    response = await client.get("/extension/updates.xml")
    assert response.status == 404
    assert response.content_type == "application/problem+json"
