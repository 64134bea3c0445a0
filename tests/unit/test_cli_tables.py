"""What people read from `meetguard check`, `scan` and `logs`: aligned columns that fit the
width asked for without wrapping, the main reason in the language asked for, and times as
RFC 3339 in the zone asked for. A real process, real files, a real service for `--url`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import unicodedata
import urllib.request
from pathlib import Path

import pytest
from tests.support.service import ADMIN_TOKEN, ServiceProcess, client_headers

from meetguard.store.base import LogRecord
from meetguard.timefmt import parse_zone, rfc3339

ROOT = Path(__file__).resolve().parents[2]
LINKS = [
    "https://zoom.us/j/1",
    "https://us02web.zoom.us/j/85012345678?pwd=abcdefghijkl",
    "https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2Fteams.microsoft.com%2Fl%2F"
    "meetup-join%2F19%253ameeting_abcdefghijklmnopqrstuvwxyz&data=05%7C01",
    "https://会议.例え.jp/第一次会议/" + unicodedata.normalize("NFD", "Tài-liệu-họp"),
    "zo0m-us.com/j/1",
    "https://emeeting.mic.gov.vn/room/1",
]


def meetguard(*args: str, columns: int | None = None, **env: str
              ) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items()
               if k != "COLUMNS" and not k.startswith("MEETGUARD_")}
    if columns is not None:
        environ["COLUMNS"] = str(columns)
    return subprocess.run([sys.executable, "-m", "meetguard.cli", *args], capture_output=True,
                          text=True, timeout=60, cwd=ROOT, check=False, env={**environ, **env})


def screen(line: str) -> list[str]:
    """The line as terminal cells: a wide character fills two, a combining mark joins its
    letter's cell."""
    cells: list[str] = []
    for char in line:  # measured here as a terminal does, not with the code under test
        width = 0 if unicodedata.combining(char) else (
            2 if unicodedata.east_asian_width(char) in "WF" else 1)
        if width == 0 and cells:
            cells[-1] += char
        else:
            cells.extend([char] + [""] * (width - 1))
    return cells


def column_starts(header: str) -> list[int]:
    cells = screen(header)
    return [i for i, c in enumerate(cells) if c != " " and (i == 0 or cells[i - 1] == " ")]


def assert_aligned(text: str, width: int | None) -> list[list[str]]:
    """Every row's cells start where the header's names do (two spaces before each, never a
    blank cell), every line within `width`; returns the rows' cells."""
    lines = text.splitlines()
    starts = column_starts(lines[0])
    rows = []
    for line in lines:
        cells = screen(line)
        if width is not None:
            assert len(cells) <= width, line
        for start in starts:
            assert cells[start] not in (" ", ""), (start, line)
            assert start == 0 or cells[start - 2:start] == [" ", " "], (start, line)
        ends = [*starts[1:], None]
        rows.append(["".join(cells[a:b]).strip() for a, b in zip(starts, ends, strict=True)])
    return rows


def table_column(rows: list[list[str]], name: str) -> list[str]:
    index = rows[0].index(name)
    return [row[index] for row in rows[1:]]


@pytest.mark.parametrize("width", [60, 80, 132])
def test_check_table_is_aligned_and_fits_the_width(width: int) -> None:
    done = meetguard("check", *LINKS, columns=width)
    assert done.returncode == 0, done.stderr
    rows = assert_aligned(done.stdout, width)
    assert len(rows) == len(LINKS) + 1  # one line per link: nothing wrapped
    assert rows[0][:3] == ["CLASS", "ACTION", "REASON" if width == 60 else "PLATFORM"]
    urls = table_column(rows, "URL")
    assert any("…" in url for url in urls)  # the Safe Links one is shortened in the middle
    safelinks = urls[2]
    assert safelinks.startswith("https://na") and safelinks.endswith(LINKS[2][-3:])


def test_check_without_a_width_cuts_nothing() -> None:
    """A pipe or a file with no $COLUMNS: whole cells, still aligned."""
    done = meetguard("check", *LINKS)
    rows = assert_aligned(done.stdout, None)
    assert "…" not in done.stdout
    assert table_column(rows, "URL")[0] == LINKS[0]
    assert table_column(rows, "URL")[3] == LINKS[3]
    verdicts = json.loads(meetguard("check", "--format", "json", *LINKS).stdout)
    assert table_column(rows, "CODES") == [",".join(r["code"] for r in v["reasons"])
                                           for v in verdicts]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_check_shows_the_main_reason_in_the_language_asked(lang: str) -> None:
    verdicts = json.loads(meetguard("check", "--format", "json", "--lang", lang, *LINKS).stdout)
    done = meetguard("check", "--lang", lang, *LINKS, columns=1000)
    shown = table_column(assert_aligned(done.stdout, 1000), "REASON")
    rank = ["info", "low", "medium", "high", "critical"]
    for verdict, reason in zip(verdicts, shown, strict=True):
        main = max(verdict["reasons"], key=lambda r: rank.index(r["severity"]))
        assert reason == main["message"]
    if lang == "vi":
        assert shown[0].startswith("Zoom không phải là nền tảng họp được phép")
        assert "imitates" not in done.stdout
    else:
        assert shown[0].startswith("Zoom is not a sanctioned meeting platform")


def test_scan_table_is_aligned_with_vietnamese_and_cjk_names(tmp_path: Path) -> None:
    names = ["agenda.pdf", "invite.pdf.exe",
             unicodedata.normalize("NFD", "Biên bản cuộc họp ") + "会议记录-" + "x" * 40 + ".docx"]
    for name in names:
        (tmp_path / name).write_bytes(b"MZ" if name.endswith(".exe") else b"%PDF-1.4\n")
    done = meetguard("scan", "--lang", "vi", *(str(tmp_path / n) for n in names), columns=60)
    assert done.returncode == 0, done.stderr
    rows = assert_aligned(done.stdout, 60)
    assert len(rows) == 4
    assert table_column(rows, "REASON")[1].startswith("Tệp invite.pdf.exe")
    assert table_column(rows, "PATH")[2].endswith(".docx") and "…" in done.stdout


# -- meetguard logs --------------------------------------------------------------------------------

TS = 1780621987.123  # 2026-06-05T01:13:07.123Z


@pytest.fixture(scope="module")
def log_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from meetguard.store.sqlite import SQLiteLogStore

    db = tmp_path_factory.mktemp("logs") / "meetguard.sqlite3"

    async def seed() -> None:
        async with SQLiteLogStore(db) as store:
            await store.append([
                LogRecord.new("link", "pc-lan", ts=TS, user="lan", context="click",
                              verdict_class="warned", action="warn", platform="zoom",
                              host="us02web.zoom.us", target="https://us02web.zoom.us/j/1",
                              codes=("warned-platform", "secret-in-link"),
                              detail={"severities": ["medium", "high"]}),
                LogRecord.new("link", "máy-của-Nguyễn-Văn-Đức-会议室", ts=TS + 3.5,
                              context="click", verdict_class="unknown", action="block",
                              host="xn--zom-dmd.us-a-very-long-host-name.example",
                              codes=("unknown-origin", "impersonation"),
                              detail={"severities": ["info", "critical"]}),
                LogRecord.new("event", "pc-lan", ts=TS + 13, event="override",
                              platform="zoom", host="zoom.us"),
            ])

    asyncio.run(seed())
    return db


@pytest.mark.parametrize("width", [60, 100, 200])
def test_logs_table_is_aligned_and_shows_rfc3339_times_in_the_zone(log_db: Path,
                                                                   width: int) -> None:
    done = meetguard("logs", "--db", str(log_db), "--since", "3000d", "--time-zone",
                     "Asia/Ho_Chi_Minh", columns=width)
    assert done.returncode == 0, done.stderr
    rows = assert_aligned(done.stdout, width)
    assert table_column(rows, "TIME") == ["2026-06-05T08:13:20.123+07:00",
                                          "2026-06-05T08:13:10.623+07:00",
                                          "2026-06-05T08:13:07.123+07:00"]
    assert table_column(rows, "REASON")[1:] != ["-", "-"]


def test_logs_table_says_the_main_reason_in_the_language_asked(log_db: Path) -> None:
    vi = table_column(assert_aligned(meetguard("logs", "--db", str(log_db), "--since", "3000d",
                                               "--lang", "vi", columns=300).stdout, 300),
                      "REASON")
    assert vi == ["Vẫn tiếp tục sau cảnh báo", "Giả mạo một nền tảng hoặc tên miền của cơ quan",
                  "Mật khẩu cuộc họp nằm trong liên kết"]
    en = table_column(assert_aligned(meetguard("logs", "--db", str(log_db), "--since", "3000d",
                                               columns=300).stdout, 300), "REASON")
    assert en[2] == "Meeting password inside the link"


def test_logs_json_lines_and_csv_carry_time_beside_ts(log_db: Path) -> None:
    jsonl = meetguard("logs", "--db", str(log_db), "--since", "3000d", "--format", "ndjson",
                      MEETGUARD_TIME_ZONE="Asia/Ho_Chi_Minh")
    rows = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert [r["ts"] for r in rows] == [TS + 13, TS + 3.5, TS]
    assert rows[2]["time"] == "2026-06-05T08:13:07.123+07:00"
    assert list(rows[2])[:3] == ["id", "ts", "time"]
    utc = meetguard("logs", "--db", str(log_db), "--since", "3000d", "--format", "csv")
    header, *lines = utc.stdout.splitlines()
    time_at = header.split(",").index("time")
    assert lines[2].split(",")[time_at] == "2026-06-05T01:13:07.123+00:00"
    # the flag wins over the environment
    flag = meetguard("logs", "--db", str(log_db), "--since", "3000d", "--format", "jsonl",
                     "--time-zone", "UTC", MEETGUARD_TIME_ZONE="Asia/Ho_Chi_Minh")
    assert json.loads(flag.stdout.splitlines()[2])["time"] == "2026-06-05T01:13:07.123+00:00"


def test_a_bad_time_zone_is_one_line_and_a_non_zero_exit(log_db: Path) -> None:
    for env in ({"MEETGUARD_TIME_ZONE": "Mars/Olympus"}, {}):
        args = () if env else ("--time-zone", "Mars/Olympus")
        done = meetguard("logs", "--db", str(log_db), *args, **env)
        assert done.returncode == 1 and done.stdout == ""
        assert done.stderr.strip().splitlines() == [
            "meetguard logs: --time-zone: 'Mars/Olympus' is not an IANA time zone "
            "(e.g. UTC, Asia/Ho_Chi_Minh)"]


def test_logs_from_the_service_get_their_time_from_ts(tmp_path: Path) -> None:
    service = ServiceProcess(tmp_path / "svc").start()
    try:
        request = urllib.request.Request(  # noqa: S310 (the test's own service on loopback)
            service.url + "/v1/links/check", data=json.dumps({"urls": LINKS[:2]}).encode(),
            headers={**client_headers(), "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            assert response.status == 200
        remote = ("logs", "--url", service.url, "--token", ADMIN_TOKEN, "--since", "1h")
        rows = [json.loads(line) for line in meetguard(
            *remote, "--format", "jsonl", "--time-zone", "Asia/Ho_Chi_Minh").stdout.splitlines()]
        assert len(rows) == 2
        for row in rows:
            assert row["time"] == rfc3339(row["ts"], parse_zone("Asia/Ho_Chi_Minh"))
            assert row["time"].endswith("+07:00")
        table = meetguard(*remote, "--lang", "vi", columns=80)
        assert table.returncode == 0, table.stderr
        shown = assert_aligned(table.stdout, 80)
        assert table_column(shown, "TIME") == [rfc3339(r["ts"]) for r in rows]  # UTC
        assert all(r.startswith("Nền tảng họp") for r in table_column(shown, "REASON"))
    finally:
        service.stop()
