"""Every platform's link forms land on that platform, with the class the policy gives it."""

from __future__ import annotations

import pytest

from meetguard.classify import Classifier

# (link, platform, class, action)
PLATFORM_LINKS = [
    # Sanctioned
    ("https://emeeting.mic.gov.vn/", "emeeting-mic", "approved", "allow"),
    ("https://emeeting.mic.gov.vn/room/12345", "emeeting-mic", "approved", "allow"),
    ("https://EMEETING.MIC.GOV.VN./join?id=1", "emeeting-mic", "approved", "allow"),
    # Zoom: main, regional and vanity hosts, other domains, app schemes
    ("https://zoom.us/j/85012345678", "zoom", "warned", "warn"),
    ("https://us02web.zoom.us/j/85012345678?pwd=abc", "zoom", "warned", "warn"),
    ("https://us06web.zoom.us/w/85012345678", "zoom", "warned", "warn"),
    ("https://acme.zoom.us/my/alice", "zoom", "warned", "warn"),
    ("https://zoom.com/", "zoom", "warned", "warn"),
    ("https://www.zoomgov.com/j/1600000000", "zoom", "warned", "warn"),
    ("https://zoom.com.cn/j/123", "zoom", "warned", "warn"),
    ("zoommtg://zoom.us/join?action=join&confno=85012345678", "zoom", "warned", "warn"),
    ("zoomus://zoom.us/join?confno=1", "zoom", "warned", "warn"),
    # Teams: commercial, consumer, cloud.microsoft, government, China, app scheme
    ("https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0", "teams",
     "warned", "warn"),
    ("https://teams.live.com/meet/9384726154", "teams", "warned", "warn"),
    ("https://teams.cloud.microsoft/meet/123", "teams", "warned", "warn"),
    ("https://gov.teams.microsoft.us/l/meetup-join/x", "teams", "warned", "warn"),
    ("https://dod.teams.microsoft.us/l/meetup-join/x", "teams", "warned", "warn"),
    ("https://teams.microsoftonline.cn/l/meetup-join/x", "teams", "warned", "warn"),
    ("msteams:/l/meetup-join/19:meeting_x@thread.v2/0", "teams", "warned", "warn"),
    # Google Hangouts / Meet
    ("https://meet.google.com/abc-defg-hij", "google-meet", "warned", "warn"),
    ("https://hangouts.google.com/call/xyz", "google-meet", "warned", "warn"),
    # The rest the advisory names
    ("https://acme.workplace.com/groups/1/", "workplace", "warned", "warn"),
    ("https://trueconf.com/c/room", "trueconf", "warned", "warn"),
    ("https://video.trueconf.ru/c/room", "trueconf", "warned", "warn"),
    ("https://global.gotomeeting.com/join/123456789", "gotomeeting", "warned", "warn"),
    ("https://gotomeet.me/alice", "gotomeeting", "warned", "warn"),
    ("https://meet.goto.com/123456789", "gotomeeting", "warned", "warn"),
    ("https://join.me/alice", "joinme", "warned", "warn"),
    ("https://clickmeeting.com/", "clickmeeting", "warned", "warn"),
    ("https://acme.clickmeeting.com/webinar", "clickmeeting", "warned", "warn"),
    ("https://emeeting.vn/room/1", "emeeting-vn", "warned", "warn"),
    # Other well-known platforms
    ("https://acme.webex.com/meet/alice", "webex", "warned", "warn"),
    ("https://meet.jit.si/SomeRoom", "jitsi", "warned", "warn"),
    ("https://8x8.vc/company/room", "jitsi", "warned", "warn"),
    ("https://join.skype.com/abcDEF", "skype", "warned", "warn"),
    ("https://bluejeans.com/123456", "bluejeans", "warned", "warn"),
    ("https://whereby.com/room", "whereby", "warned", "warn"),
]


@pytest.mark.parametrize(("link", "platform", "verdict_class", "action"), PLATFORM_LINKS)
def test_platform_links(
    classifier: Classifier, link: str, platform: str, verdict_class: str, action: str
) -> None:
    verdict = classifier.link(link)
    assert (verdict.platform, verdict.verdict_class.value, verdict.action.value) == (
        platform, verdict_class, action)
    expected_code = "approved-platform" if verdict_class == "approved" else "warned-platform"
    assert verdict.reasons[0].code.value == expected_code


ADVISORY_PLATFORMS = ["zoom", "teams", "google-meet", "workplace", "trueconf", "gotomeeting",
                      "joinme", "clickmeeting", "emeeting-vn"]
OTHER_WARNED = ["webex", "jitsi", "skype", "bluejeans", "whereby"]


def test_every_named_platform_is_in_the_signatures(classifier: Classifier) -> None:
    policy = classifier.policy
    for pid in ADVISORY_PLATFORMS:
        platform = policy.platform(pid)
        assert platform is not None and platform.advisory, pid
        assert platform.verdict_class.value == "warned"
        assert platform.reason and platform.reason.en and platform.reason.vi, pid
    for pid in OTHER_WARNED:
        assert policy.platform(pid).verdict_class.value == "warned"
    for pid in ("emeeting-mic", "vmeet"):
        assert policy.platform(pid).verdict_class.value == "approved"


def test_vmeet_ships_without_a_guessed_domain(classifier: Classifier) -> None:
    assert classifier.policy.platform("vmeet").domains == ()


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_warned_platform_message_carries_the_advisory_reason(
    classifier: Classifier, lang: str
) -> None:
    message = classifier.link("https://zoom.us/j/1").to_dict(lang)["reasons"][0]["message"]
    assert "Zoom" in message
    assert ("CVE-2020-11469" in message) and (("Năm 2020" in message) == (lang == "vi"))
