"""Public Suffix List conformance: registered domains from tldextract's bundled snapshot.

Runs every `checkPublicSuffix(input, expected)` case of ../shared/data/psl/test_psl.txt.
Inputs go through the same host normalisation as a link's host (WHATWG/UTS-46 to ASCII).
"""

from __future__ import annotations

import re
from pathlib import Path

import ada_url

from meetguard.domains import DomainResolver

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "psl" / "test_psl.txt"
CASE = re.compile(r"^checkPublicSuffix\((null|'[^']*'), (null|'[^']*')\);")

# Known, justified exceptions: input -> reason. A case differing only because the bundled list
# snapshot changed goes here with the rule that changed.
_KOBE = (
    "the shared copy expects 'kobe.jp', but the bundled list has `*.kobe.jp` and the exception "
    "`!city.kobe.jp`, for which the PSL algorithm (and the upstream test_psl.txt) gives "
    "'city.kobe.jp': an exception rule's suffix is the rule minus its leftmost label, and the "
    "registrable domain is that suffix plus one label"
)
EXCEPTIONS: dict[str | None, str] = {
    "city.kobe.jp": _KOBE,
    "www.city.kobe.jp": _KOBE,
}


def _arg(text: str) -> str | None:
    return None if text == "null" else text[1:-1]


def _to_ascii(host: str) -> str:
    return ada_url.idna_to_ascii(host).decode("ascii") if host else ""


def _cases() -> list[tuple[str | None, str | None]]:
    out = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        match = CASE.match(line.strip())
        if match:
            out.append((_arg(match.group(1)), _arg(match.group(2))))
    return out


def test_whole_psl_test_file() -> None:
    resolver = DomainResolver()
    cases = _cases()
    wrong = {}
    for given, expected in cases:
        if given in EXCEPTIONS:
            continue
        got = resolver.info(_to_ascii(given)).registered if given else ""
        want = _to_ascii(expected) if expected else ""
        if got != want:
            wrong[given] = f"got {got!r}, expected {want!r}"
    passed = len(cases) - len(wrong) - len(EXCEPTIONS)
    print(f"\nPSL test_psl.txt: {len(cases)} cases; agree {passed}; "
          f"listed exceptions {len(EXCEPTIONS)}")
    assert len(cases) >= 70, "the shared data set changed: review the counts"
    assert not wrong, wrong


def test_listed_exceptions_still_differ() -> None:
    """An exception that starts agreeing with the data must be removed from the list."""
    resolver = DomainResolver()
    expected = dict(_cases())
    for given in EXCEPTIONS:
        assert given in expected, f"{given!r} is no longer in the data set"
        assert resolver.info(_to_ascii(given)).registered == "city.kobe.jp"
        assert expected[given] != "city.kobe.jp"
