"""WHATWG URL conformance: the host we extract is the host the browser will connect to.

Runs the whole web-platform-tests `urltestdata.json` from ../shared/data (never copied). Every
valid case's host must equal the expected `hostname`; every `failure` case must be rejected.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from meetguard.urls import InvalidUrl, parse_url

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "wpt" / "urltestdata.json"

# Known, justified exceptions: (input, base) -> reason. Keep this list empty unless a case
# cannot hold for a reason that is ours to state.
EXCEPTIONS: dict[tuple[str, str | None], str] = {}


def _cases() -> list[dict]:
    return [c for c in json.loads(DATA.read_text(encoding="utf-8")) if isinstance(c, dict)]


def _outcome(case: dict) -> str | None:
    """None when the project agrees with the browser, else what went wrong."""
    try:
        parsed = parse_url(case["input"], base=case.get("base"), max_length=10**6)
    except InvalidUrl as exc:
        return None if case.get("failure") else f"rejected: {exc.detail}"
    if case.get("failure"):
        return f"accepted (host {parsed.host!r})"
    if parsed.host != case["hostname"]:
        return f"host {parsed.host!r}, browser {case['hostname']!r}"
    return None


def test_whole_wpt_url_data_set() -> None:
    cases = _cases()
    valid = [c for c in cases if not c.get("failure")]
    failures = [c for c in cases if c.get("failure")]
    wrong = {}
    for case in cases:
        problem = _outcome(case)
        key = (case["input"], case.get("base"))
        if problem and key not in EXCEPTIONS:
            wrong[key] = problem
    agreed_valid = sum(1 for c in valid if _outcome(c) is None)
    rejected = sum(1 for c in failures if _outcome(c) is None)
    print(
        f"\nWPT urltestdata: {len(cases)} cases; hosts equal {agreed_valid}/{len(valid)}; "
        f"rejected {rejected}/{len(failures)}; listed exceptions {len(EXCEPTIONS)}"
    )
    assert len(cases) == 869, "the shared data set changed: review the counts"
    assert not wrong, "\n".join(f"{k!r}: {v}" for k, v in wrong.items())


@pytest.mark.parametrize(
    ("raw", "host"),
    [
        # The disagreements with urllib that the DESIGN names, one of each.
        ("https://emeeting.mic.gov.vn\\@evil.example/", "emeeting.mic.gov.vn"),
        ("https://evil.example\\@emeeting.mic.gov.vn/", "evil.example"),
        ("https://zoom.us\t.evil.example/", "zoom.us.evil.example"),
        ("http://%7A%6F%6F%6D.us/", "zoom.us"),
        ("http://0x7f.1/", "127.0.0.1"),
        ("https://zoom.us@evil.example/", "evil.example"),
        ("https://ＺＯＯＭ.us/", "zoom.us"),
    ],
)
def test_browser_host_where_urllib_differs(raw: str, host: str) -> None:
    assert parse_url(raw).host == host
