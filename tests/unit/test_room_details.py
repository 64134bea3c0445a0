"""Room-details definitions (signatures/room_details.toml): loaded, validated with file and line,
and shipped to the extension with what the policy knows of each platform's secrets."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from meetguard.errors import SignatureError
from meetguard.policy import Policy
from meetguard.room_details import load_room_details, room_details_document

from .conftest import SIGNATURES


def test_the_bundled_definitions_load_with_both_languages() -> None:
    details = load_room_details(SIGNATURES)
    assert {lb.lang for lb in details.labels} == {"en", "vi"}
    vi = next(lb for lb in details.labels if lb.lang == "vi")
    assert "Mật khẩu" in vi.passcode and "ID cuộc họp" in vi.meeting_id
    assert "mail.google.com" in details.compose_hosts
    assert set(details.enter_sends_hosts) <= set(details.compose_hosts)


def test_the_document_carries_each_platforms_secret_params_and_query_wrappers(
    policy: Policy,
) -> None:
    doc = room_details_document(load_room_details(SIGNATURES), policy)
    platforms = {p["id"]: p for p in doc["platforms"]}
    assert "pwd" in platforms["zoom"]["secret_params"]
    assert platforms["teams"]["secret_params"] == ["p"]
    assert "zoom.us" in platforms["zoom"]["domains"]
    assert "google-meet" not in platforms  # no secret in its links
    wrappers = {w["id"] for w in doc["wrappers"]}
    assert "outlook-safelinks" in wrappers and "proofpoint-v2" not in wrappers


@pytest.mark.parametrize(("replace", "by", "message", "on_line"), [
    ('lang = "vi"', 'lang = "fr"', "lang must be one of en, vi", 'lang = "fr"'),
    ('passcode = ["Mật khẩu"', 'passcode = ["Mật: khẩu"', "without ':'", "Mật: khẩu"),
    ("max_gap = 400", "max_gap = -1", "max_gap must be a whole number", "max_gap = -1"),
    ('"chat.zalo.me", "id.zalo.me"', '"chat zalo", "id.zalo.me"', "'chat zalo' is not a host",
     '"chat zalo"'),
    ("[hosts]", "[hosts", "Expected", "[hosts"),
])
def test_a_broken_file_names_the_line(tmp_path: Path, replace: str, by: str,
                                      message: str, on_line: str) -> None:
    sig = tmp_path / "signatures"
    shutil.copytree(SIGNATURES, sig)
    path = sig / "room_details.toml"
    text = path.read_text(encoding="utf-8")
    assert replace in text
    path.write_text(text.replace(replace, by, 1), encoding="utf-8")
    with pytest.raises(SignatureError) as caught:
        load_room_details(sig)
    problem = caught.value.problems[0]
    assert message in problem.message and problem.file == str(path)
    line = path.read_text(encoding="utf-8").splitlines()[problem.line - 1]
    assert on_line in line


def test_no_file_means_no_definitions(tmp_path: Path) -> None:
    assert load_room_details(tmp_path).labels == ()


def test_signatures_check_reports_room_details_problems(tmp_path: Path) -> None:
    import subprocess
    import sys

    sig = tmp_path / "signatures"
    shutil.copytree(SIGNATURES, sig)
    path = sig / "room_details.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("min_id_digits = 6",
                                                              "min_id_digits = 99"))
    done = subprocess.run([sys.executable, "-m", "meetguard.cli", "signatures", "check", str(sig)],
                          capture_output=True, timeout=60, check=False)
    assert done.returncode == 1
    assert f"{path}:" in done.stdout.decode() and "min_id_digits" in done.stdout.decode()


def test_room_details_events_in_the_cli(tmp_path: Path) -> None:
    import asyncio
    import json
    import subprocess
    import sys

    from meetguard.store.base import LogRecord
    from meetguard.store.sqlite import SQLiteLogStore

    async def seed() -> None:
        async with SQLiteLogStore(tmp_path / "log.sqlite3") as store:
            await store.append([LogRecord.new(
                "event", "pc-1", user="an", event="room-details-shared", context="compose",
                platform="zoom", target="https://zoom.us/j/1",
                detail={"recipient_domains": "gmail.com", "found": "link"})])

    asyncio.run(seed())
    done = subprocess.run(
        [sys.executable, "-m", "meetguard.cli", "logs", "--db", str(tmp_path / "log.sqlite3"),
         "--event", "room-details-shared", "--format", "jsonl"],
        capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    [row] = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert (row["event"], row["platform"], row["detail"]["recipient_domains"]) == (
        "room-details-shared", "zoom", "gmail.com")
