"""`QuietLog`: a repeating warning is logged once per interval, the next line counting the rest."""

from __future__ import annotations

import logging

import pytest

from meetguard.quietlog import QuietLog


def test_one_line_a_minute_and_the_next_counts_what_was_held(
        caplog: pytest.LogCaptureFixture) -> None:
    now = [1000.0]
    quiet = QuietLog(logging.getLogger("meetguard.test"), every=60.0, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="meetguard.test"):
        assert quiet.warning("disk full: %s", "a")
        for _ in range(41):
            now[0] += 1.0
            assert not quiet.warning("disk full: %s", "b")
        now[0] = 1060.0
        assert quiet.warning("disk full: %s", "c")
        assert not quiet.warning("disk full: %s", "d")
    assert [r.getMessage() for r in caplog.records] == [
        "disk full: a", "disk full: c (and 41 more like it since the last one logged)"]
    assert [r.suppressed for r in caplog.records] == [0, 41]
