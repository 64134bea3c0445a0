"""Redirect unwrapping: the destination inside a wrapped link is what gets classified."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from meetguard.classify import Classifier

INNER = "https://us02web.zoom.us/j/85012345678?pwd=abc&uname=Alice"


def q(url: str) -> str:
    return quote(url, safe="")


def proofpoint_v2(url: str) -> str:
    return quote(url, safe="/").replace("%", "-").replace("/", "_")


# (wrapper id, wrapped link)
WRAPPED = [
    ("outlook-safelinks", "https://nam12.safelinks.protection.outlook.com/?url="
     f"{q(INNER)}&data=05%7C01%7Calice%40example.org&sdata=abc&reserved=0"),
    ("outlook-safelinks", f"https://apc01.safelinks.protection.outlook.com/?url={q(INNER)}"),
    ("teams-safelinks", "https://statics.teams.cdn.office.net/evergreen-assets/safelinks/1/"
     f"atp-safelinks.html?url={q(INNER)}&locale=en-us"),
    ("google-url", f"https://www.google.com/url?q={q(INNER)}&sa=D&source=editors"),
    ("google-url", f"https://www.google.com.vn/url?sa=t&url={q(INNER)}"),
    ("proofpoint-v1", f"https://urldefense.proofpoint.com/v1/url?u={q(INNER)}&k=abc%3D%0A"),
    ("proofpoint-v2", "https://urldefense.proofpoint.com/v2/url?u="
     f"{proofpoint_v2(INNER)}&d=DwMFaQ&c=euGZstcaTDllvimEN8b7jXrwqOf-v5A_CdpgnVfiiMM&e="),
    ("proofpoint-v3", f"https://urldefense.com/v3/__{INNER}__;!!ABCdEf!gHiJ$"),
    ("facebook-l", f"https://l.facebook.com/l.php?u={q(INNER)}&h=AT0abc"),
    ("facebook-l", f"https://l.messenger.com/l.php?u={q(INNER)}&h=AT1"),
    ("youtube-redirect", f"https://www.youtube.com/redirect?event=video&q={q(INNER)}"),
    ("linkedin-redirect", f"https://www.linkedin.com/redir/redirect?url={q(INNER)}"),
    ("slack-redir", f"https://slack-redir.net/link?url={q(INNER)}"),
    ("barracuda-linkprotect", f"https://linkprotect.cudasvc.com/url?a={q(INNER)}&c=E,1,xyz"),
    ("cisco-secure-web", f"https://secure-web.cisco.com/1aBcD-eFgH/{q(INNER)}"),
    ("vk-away", f"https://vk.com/away.php?to={q(INNER)}&utf=1"),
]


@pytest.mark.parametrize(("wrapper", "link"), WRAPPED)
def test_each_wrapper_is_unwrapped(classifier: Classifier, wrapper: str, link: str) -> None:
    verdict = classifier.link(link)
    assert [h.wrapper for h in verdict.unwrapped] == [wrapper]
    assert verdict.host == "us02web.zoom.us"
    assert verdict.platform == "zoom"
    assert verdict.target == "https://us02web.zoom.us/j/85012345678?pwd=REDACTED&uname=REDACTED"


def test_every_shipped_wrapper_is_covered(classifier: Classifier) -> None:
    assert {w.id for w in classifier.policy.wrappers.all} == {w for w, _ in WRAPPED}


def test_proofpoint_v3_replaces_starred_characters(classifier: Classifier) -> None:
    # "*" stands for one character carried base64-encoded after "__;" ("Iw" is "#").
    verdict = classifier.link("https://urldefense.com/v3/__https://emeeting.mic.gov.vn/a*b__;Iw!!x$")
    assert verdict.target == "https://emeeting.mic.gov.vn/a#b"
    assert verdict.verdict_class.value == "approved"


def test_nested_wrappers_are_followed(classifier: Classifier) -> None:
    inner = f"https://www.google.com/url?q={q('https://emeeting.mic.gov.vn/room/1')}"
    outer = f"https://nam12.safelinks.protection.outlook.com/?url={q(inner)}&data=x"
    verdict = classifier.link(outer)
    assert [h.wrapper for h in verdict.unwrapped] == ["outlook-safelinks", "google-url"]
    assert verdict.verdict_class.value == "approved"
    assert verdict.action.value == "allow"


def test_nesting_is_bounded(classifier: Classifier) -> None:
    link = "https://emeeting.mic.gov.vn/"
    for _ in range(8):
        link = f"https://www.google.com/url?q={q(link)}"
    verdict = classifier.link(link)
    assert len(verdict.unwrapped) == classifier.policy.links.max_unwrap_depth
    assert ("deceptive-url", "high") in [(r.code.value, r.severity.value) for r in verdict.reasons]
    assert verdict.verdict_class.value != "approved"


@pytest.mark.parametrize(
    "link",
    [
        f"https://evil.example/url?q={q('https://emeeting.mic.gov.vn/')}",
        f"https://safelinks.protection.outlook.com.evil.example/?url={q('https://emeeting.mic.gov.vn/')}",
        f"https://www.google.com.evil.example/url?q={q('https://emeeting.mic.gov.vn/')}",
        f"https://evil.example/l.php?u={q('https://emeeting.mic.gov.vn/')}",
    ],
)
def test_only_genuine_wrapper_hosts_are_unwrapped(classifier: Classifier, link: str) -> None:
    verdict = classifier.link(link)
    assert verdict.unwrapped == ()
    assert verdict.verdict_class.value == "unknown"
    assert "emeeting.mic.gov.vn" not in verdict.host


@pytest.mark.parametrize(
    "link",
    [
        "https://nam12.safelinks.protection.outlook.com/?data=05%7Cnothing",
        "https://nam12.safelinks.protection.outlook.com/?url=not%20a%20url",
        "https://urldefense.com/v3/__https://x.example/*__;!!x$",  # a star with no character
    ],
)
def test_undecodable_wrappers_are_flagged_not_trusted(classifier: Classifier, link: str) -> None:
    verdict = classifier.link(link)
    assert "deceptive-url" in [r.code.value for r in verdict.reasons]
    assert verdict.verdict_class.value == "unknown"
