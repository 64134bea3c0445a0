"""Signals: what is wrong with a link. Table-driven, one row per case a person would meet."""

from __future__ import annotations

import json

import ada_url
import pytest

from meetguard.classify import Classifier
from meetguard.homoglyphs import readings

# (link, reason code expected, severity, action)
LOOKALIKES = [
    # typos: missing, doubled, swapped letters
    ("https://zom.us/", "impersonation", "high", "warn"),
    ("https://zooom.us/", "impersonation", "high", "warn"),
    ("https://ozom.us/", "impersonation", "high", "warn"),
    ("https://gotomeetting.com/", "impersonation", "high", "warn"),
    ("https://clickmeting.com/", "impersonation", "high", "warn"),
    ("https://webx.com/meet/john", "impersonation", "critical", "block"),  # Webex's link shape
    # the same names in the platform's own link shape: the strongest case
    ("https://zom.us/j/1", "impersonation", "critical", "block"),
    ("https://zooom.us/j/1", "impersonation", "critical", "block"),
    ("https://ozom.us/j/1", "impersonation", "critical", "block"),
    ("https://gotomeetting.com/join/1", "impersonation", "critical", "block"),
    ("https://zoon.us/", "impersonation", "critical", "block"),  # n passes for m
    # digit/letter swaps that copy a real domain's look exactly are blocked
    ("https://micros0ft.com/teams", "impersonation", "critical", "block"),
    ("https://zo0m.us/j/1", "impersonation", "critical", "block"),
    ("https://z00m.com/j/1", "impersonation", "critical", "block"),
    # hyphenation
    ("https://zo-om.us/", "impersonation", "high", "warn"),
    ("https://web-ex.com/meet", "impersonation", "high", "warn"),
    # the brand in a foreign registered domain
    ("https://zoom-us.com/", "impersonation", "high", "warn"),
    ("https://zoom.vn/", "impersonation", "high", "warn"),
    ("https://zoom-us.com/j/85012345678", "impersonation", "critical", "block"),
    ("https://joinzoommeeting.net/", "impersonation", "high", "warn"),
    ("https://zoommeeting.com/", "impersonation", "high", "warn"),
    ("https://microsoftteams-join.com/", "impersonation", "high", "warn"),
    ("https://teams-meeting.net/", "impersonation", "high", "warn"),
    ("https://webex-login.com/", "impersonation", "high", "warn"),
    ("https://emeeting-mic.com/", "impersonation", "high", "warn"),
    ("https://emeetingmic.vn/", "impersonation", "high", "warn"),
    ("https://google-meet.com.vn/abc", "impersonation", "high", "warn"),
    ("https://mlc.gov.vn/", "impersonation", "high", "warn"),
    # Unicode confusables (punycode), full-width letters are mapped by IDNA itself
    ("https://zооm.us/j/1", "impersonation", "critical", "block"),  # Cyrillic о
    ("https://" + ada_url.idna_to_ascii("zооm.us").decode() + "/j/1", "impersonation",
     "critical", "block"),  # the same, as punycode
    ("https://emeeting.mіc.gov.vn/", "impersonation", "critical", "block"),  # Cyrillic і
    ("https://ԝebex.com/", "impersonation", "critical", "block"),  # Cyrillic ԝ
    ("https://zôom.us/", "impersonation", "critical", "block"),  # Vietnamese diacritic
    # a platform host as a subdomain of another domain
    ("https://zoom.us.meeting-invite.com/j/1", "deceptive-url", "critical", "block"),
    ("https://emeeting.mic.gov.vn.evil.example/", "deceptive-url", "critical", "block"),
    ("https://teams.microsoft.com.evil.example/", "deceptive-url", "critical", "block"),
    ("https://zoom.evil.example/", "deceptive-url", "high", "warn"),
    ("https://us02web-zoom.evil.example/", "deceptive-url", "high", "warn"),
    ("https://zoom.evil.example/j/1", "deceptive-url", "critical", "block"),
]


@pytest.mark.parametrize(("link", "code", "severity", "action"), LOOKALIKES)
def test_lookalikes_are_never_the_platform(
    classifier: Classifier, link: str, code: str, severity: str, action: str
) -> None:
    verdict = classifier.link(link)
    assert verdict.platform is None
    assert verdict.verdict_class.value == "unknown"
    found = [(r.code.value, r.severity.value) for r in verdict.reasons]
    assert (code, severity) in found, found
    assert verdict.action.value == action


REAL_SITES = [
    "https://www.zoominfo.com/c/acme",
    "https://www.teamviewer.com/en/",
    "https://www.meetup.com/",
    "https://www.loom.com/share/abc",
    "https://room.co/",
    "https://www.teamspeak.com/",
    "https://docs.google.com/document/d/1",
    "https://www.microsoft.com/vi-vn",
    "https://outlook.live.com/mail/",
    "https://mic.gov.vn/",
    "https://moj.gov.vn/",
    "https://chinhphu.vn/",
    "https://vnexpress.net/",
    "https://www.skyscanner.com/",
    "https://github.com/zoom/sdk",
    "https://en.wikipedia.org/wiki/Zoom_Video_Communications",
    "https://www.google.com/search?q=zoom",
    "https://zoo.org/",
    "https://boom.com/",
    "https://webexpo.net/",
]


@pytest.mark.parametrize("link", REAL_SITES)
def test_real_sites_are_not_lookalikes(classifier: Classifier, link: str) -> None:
    verdict = classifier.link(link)
    codes = [r.code.value for r in verdict.reasons]
    assert "impersonation" not in codes and "deceptive-url" not in codes, verdict.reasons
    assert verdict.action.value == "allow"


def _variants(name: str) -> set[str]:
    """Simple typo variants of a label: drop, double, swap neighbours."""
    out = set()
    for i in range(len(name)):
        out.add(name[:i] + name[i + 1:])
        out.add(name[:i] + name[i] + name[i:])
        if i + 1 < len(name):
            out.add(name[:i] + name[i + 1] + name[i] + name[i + 2:])
    out.discard(name)
    return out


def test_no_typo_of_a_protected_domain_is_ever_approved(classifier: Classifier) -> None:
    """Invariant: only the real host of a sanctioned platform is approved."""
    policy = classifier.policy
    checked = 0
    for platform in policy.platforms:
        for domain in platform.domains:
            label, _, rest = domain.partition(".")
            for variant in _variants(label):
                host = f"{variant}.{rest}" if variant else rest
                verdict = classifier.link(f"https://{host}/")
                if verdict.host in {d for p in policy.platforms for d in p.domains}:
                    continue  # a variant that is itself a real platform domain
                owner = policy.owned.lookup(verdict.host)
                if owner is None:
                    assert verdict.verdict_class.value != "approved", host
                    assert verdict.platform is None, host
                checked += 1
    assert checked > 300


# (link, code, severity)
SIGNALS = [
    # deceptive URLs: userinfo, encoded and numeric hosts, backslashes, hidden whitespace
    ("https://emeeting.mic.gov.vn@evil.example/", "deceptive-url", "high"),
    ("https://zoom.us:pwd@evil.example/", "deceptive-url", "high"),
    ("http://%65%76%69%6c.example/", "deceptive-url", "high"),
    ("http://0x7f000001/", "deceptive-url", "high"),
    ("http://2130706433/", "deceptive-url", "high"),
    ("https:\\\\evil.example\\path", "deceptive-url", "medium"),
    ("https://evil\t.example/", "deceptive-url", "medium"),
    # dangerous schemes
    ("javascript:alert(document.cookie)", "dangerous-scheme", "critical"),
    ("JaVaScRiPt:alert(1)", "dangerous-scheme", "critical"),
    ("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "dangerous-scheme", "critical"),
    ("vbscript:msgbox(1)", "dangerous-scheme", "critical"),
    ("file://fileserver/share/invite.lnk", "dangerous-scheme", "critical"),
    ("\\\\203.0.113.9\\share\\doc.pdf", "dangerous-scheme", "critical"),
    ("ms-msdt:/id PCWDiagnostic /skip force", "dangerous-scheme", "critical"),
    ("search-ms:query=invoice&crumb=location:\\\\evil.example\\share", "dangerous-scheme",
     "critical"),
    ("file:///C:/Users/Public/report.pdf", "dangerous-scheme", "medium"),
    ("blob:https://evil.example/1c2d3e", "dangerous-scheme", "medium"),
    # IP-literal hosts
    ("http://203.0.113.7/zoom/j/1", "ip-host", "medium"),
    ("https://[2001:db8::1]/meeting", "ip-host", "medium"),
    # secrets in links
    ("https://zoom.us/j/85012345678?pwd=Zx12AbCdEf", "secret-in-link", "medium"),
    ("https://teams.microsoft.com/meet/2345?p=Xy7Kq", "secret-in-link", "medium"),
    ("https://zoom.us/s/1?zak=eyJ0eXAiOiJKV1Qi", "secret-in-link", "medium"),
    ("https://zoom.us/w/1?tk=abcdef", "secret-in-link", "medium"),
    ("https://emeeting.mic.gov.vn/join?room=1&password=abc", "secret-in-link", "medium"),
    ("https://alice:hunter2@intranet.example/", "secret-in-link", "medium"),
    ("https://meet.jit.si/room?jwt=eyJhbGciOi", "secret-in-link", "medium"),
    ("https://whereby.com/room?roomKey=abc123", "secret-in-link", "medium"),
    # shorteners, insecure transport
    ("https://bit.ly/3xYzAbC", "shortener", "medium"),
    ("https://tinyurl.com/meeting-link", "shortener", "medium"),
    ("http://example.org/", "insecure-transport", "low"),
    ("http://zoom.us/j/1", "insecure-transport", "medium"),
    # YARA URL rules
    ("https://cdn-files.example/ZoomInstaller.exe", "signature", "critical"),
    ("https://downloads.example/teams_setup.msi?v=2", "signature", "critical"),
    ("https://login-portal.example/zoom/signin.php", "signature", "high"),
    ("https://meeting-7f3a.web.app/join", "signature", "high"),
    ("https://ipfs.io/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
     "signature", "medium"),
]


@pytest.mark.parametrize(("link", "code", "severity"), SIGNALS)
def test_signals(classifier: Classifier, link: str, code: str, severity: str) -> None:
    verdict = classifier.link(link)
    found = [(r.code.value, r.severity.value) for r in verdict.reasons]
    assert (code, severity) in found, found


@pytest.mark.parametrize(
    ("link", "rule"),
    [
        ("https://cdn-files.example/ZoomInstaller.exe", "fake_meeting_app_installer"),
        ("https://login-portal.example/zoom/signin.php", "meeting_signin_lure"),
        ("https://meeting-7f3a.web.app/join", "meeting_lure_on_throwaway_hosting"),
    ],
)
def test_yara_reasons_name_their_rule(classifier: Classifier, link: str, rule: str) -> None:
    assert rule in classifier.link(link).rules


@pytest.mark.parametrize(
    "link",
    [
        "https://zoom.us/client/latest/ZoomInstaller.exe",  # the vendor's own download
        "https://www.microsoft.com/en/microsoft-teams/download-app",
        "https://zoom.us/signin",
    ],
)
def test_yara_rules_spare_the_vendors_own_sites(classifier: Classifier, link: str) -> None:
    assert "signature" not in [r.code.value for r in classifier.link(link).reasons]


SECRET_LINKS = [
    "https://us02web.zoom.us/j/85012345678?pwd=Zx12AbCdEfSECRET",
    "https://teams.microsoft.com/meet/2345?p=SECRETxyz",
    "https://alice:SECRETpass@intranet.example/",
    "https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2Fzoom.us%2Fj%2F1%3F"
    "pwd%3DSECRETwrapped%26uname%3Dx&data=05",
    "https://urldefense.proofpoint.com/v2/url?u=https-3A__zoom.us_j_1-3Fpwd-3DSECRETpp&d=x",
    "https://zoom.us/j/1#pwd=SECRETfrag",
    "zoommtg://zoom.us/join?confno=1&pwd=SECRETapp",
]


@pytest.mark.parametrize("link", SECRET_LINKS)
def test_secrets_are_redacted_everywhere(classifier: Classifier, link: str) -> None:
    verdict = classifier.link(link)
    for lang in ("en", "vi"):
        text = json.dumps(verdict.to_dict(lang), ensure_ascii=False)
        assert "SECRET" not in text, text


def test_readings_map_confusables_to_ascii() -> None:
    assert readings("ｚｏｏｍ") == {"zoom"}
    assert readings("ԝеbех") == {"webex"}
