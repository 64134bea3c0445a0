"""RFC 3339 times: the same text datetime writes, in UTC and in zones with summer time."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from meetguard.settings import StartupError, load_settings
from meetguard.timefmt import parse_zone, rfc3339

ZONES = ("UTC", "Asia/Ho_Chi_Minh", "Europe/Berlin", "America/St_Johns", "Australia/Lord_Howe")


def reference(ts: float, zone) -> str:
    return datetime.fromtimestamp(ts, zone).isoformat(timespec="milliseconds")


@pytest.mark.parametrize("name", ZONES)
def test_times_match_datetime_across_offset_changes(name: str) -> None:
    zone = parse_zone(name)
    rng = random.Random(name)
    # 2026 has the offset changes of every zone above; both sides of each are drawn.
    stamps = [rng.uniform(1767225600, 1798761600) for _ in range(20_000)]
    stamps += [1774746000 + d for d in (-0.0004, -0.0006, 0, 0.9995, 59.9999)]
    wrong = [(ts, rfc3339(ts, zone), reference(ts, zone)) for ts in stamps
             if rfc3339(ts, zone) != reference(ts, zone)]
    assert wrong == []


def test_a_vietnamese_office_reads_its_own_time() -> None:
    assert rfc3339(1796400787.123, parse_zone("Asia/Ho_Chi_Minh")) == \
        "2026-12-04T23:13:07.123+07:00"
    assert rfc3339(1796400787.123) == "2026-12-04T16:13:07.123+00:00"
    assert parse_zone("utc") is UTC


def test_an_unknown_zone_is_refused_at_start_up() -> None:
    with pytest.raises(StartupError, match=r"time_zone.*Asia/Hanoii.*IANA"):
        load_settings(environ={"MEETGUARD_TIME_ZONE": "Asia/Hanoii"})
    assert load_settings(environ={"MEETGUARD_TIME_ZONE": "Asia/Ho_Chi_Minh"}).time_zone == \
        "Asia/Ho_Chi_Minh"
