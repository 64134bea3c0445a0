"""Loading signatures: every problem named with its file and line; versions; lists."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from meetguard.classify import Classifier, FileFacts
from meetguard.errors import SignatureError
from meetguard.policy import check_signatures, load_policy, policy_version

SIGNATURES = Path(__file__).resolve().parents[2] / "signatures"


@pytest.fixture
def sigdir(tmp_path: Path) -> Path:
    target = tmp_path / "signatures"
    shutil.copytree(SIGNATURES, target)
    return target


def _edit(path: Path, old: str, new: str) -> int:
    """Replace `old` by `new` in `path`; returns the line number of the change."""
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


def _append(path: Path, text: str) -> int:
    """Append `text`; returns the line number where it starts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    if existing and not existing.endswith("\n"):
        existing += "\n"
    path.write_text(existing + text, encoding="utf-8")
    return existing.count("\n") + 1


BROKEN: list[tuple[str, Callable[[Path], tuple[str, int]]]] = [
    ("bad platform domain", lambda d: (
        "platforms.toml",
        _edit(d / "platforms.toml", '"zoomgov.com"', '"zoom gov.com"'))),
    ("TOML syntax", lambda d: (
        "policy.toml",
        _edit(d / "policy.toml", "max_unwrap_depth = 5", "max_unwrap_depth = = 5"))),
    ("bad hash line", lambda d: (
        "hashes/local.txt",
        _append(d / "hashes" / "local.txt", "not-a-sha256\n"))),
    ("bad known-bad domain", lambda d: (
        "domains/local.txt",
        _append(d / "domains" / "local.txt", "evil..example\n"))),
    ("bad link shape", lambda d: (
        "platforms.toml",
        _edit(d / "platforms.toml", "{ path = '^/c/' }", "{ path = '^/c/(' }"))),
    ("bad vetted suffix", lambda d: (
        "lookalike/vetted_suffixes.txt",
        _append(d / "lookalike" / "vetted_suffixes.txt", "gov vn\n"))),
    ("bad real domain", lambda d: (
        "lookalike/real_domains.txt",
        _append(d / "lookalike" / "real_domains.txt", "not a domain\n"))),
    ("YARA syntax", lambda d: (
        "yara/url/broken.yar",
        _append(d / "yara" / "url" / "broken.yar",
                "rule broken {\n  condition:\n    no_such_identifier\n}\n") + 2)),
    ("YARA rule without meta", lambda d: (
        "yara/url/nometa.yar",
        _append(d / "yara" / "url" / "nometa.yar",
                "// no meta\nrule no_meta { condition: host == \"x\" }\n") + 1)),
    ("slow YARA rule", lambda d: (
        "yara/url/slow.yar",
        _append(d / "yara" / "url" / "slow.yar",
                "rule slow {\n meta:\n  code = \"signature\"\n  severity = \"low\"\n"
                "  message_en = \"x\"\n  message_vi = \"x\"\n strings:\n  $a = /a.*b/\n"
                " condition:\n  $a\n}\n") + 7)),
]


@pytest.mark.parametrize(("case", "breaker"), BROKEN, ids=[c for c, _ in BROKEN])
def test_problems_name_file_and_line(
    sigdir: Path, case: str, breaker: Callable[[Path], tuple[str, int]]
) -> None:
    name, line = breaker(sigdir)
    problems = check_signatures(sigdir)
    assert problems, case
    located = [(Path(p.file).resolve(), p.line) for p in problems]
    assert ((sigdir / name).resolve(), line) in located, [str(p) for p in problems]
    with pytest.raises(SignatureError):
        load_policy(sigdir)


def test_bundled_signatures_have_no_problems() -> None:
    assert check_signatures(SIGNATURES) == []


def test_version_is_a_digest_of_the_files(sigdir: Path) -> None:
    before = policy_version(sigdir)
    assert before == policy_version(sigdir)
    _append(sigdir / "domains" / "local.txt", "evil.example\n")
    assert policy_version(sigdir) != before
    assert load_policy(sigdir).version == policy_version(sigdir)


def test_known_bad_domains_and_urls_block(sigdir: Path) -> None:
    _append(sigdir / "domains" / "feed.txt",
            "evil.example\nhttps://files.example/payload.html\n")
    classifier = Classifier(load_policy(sigdir))
    for link in ("https://evil.example/", "https://sub.evil.example/x",
                 "https://files.example/payload.html", "https://FILES.example/payload.html#x"):
        verdict = classifier.link(link)
        assert "known-bad" in verdict.codes, link
        assert "domains/feed" in verdict.rules
        assert verdict.action.value == "block"
    assert "known-bad" not in classifier.link("https://files.example/other.html").codes


def test_known_bad_hashes_block_files(sigdir: Path) -> None:
    digest = "a" * 64
    _append(sigdir / "hashes" / "feed.txt", f"{digest.upper()}  # sample from a feed\n")
    classifier = Classifier(load_policy(sigdir))
    verdict = classifier.file(FileFacts(digest, 10, "report.pdf"))
    assert verdict.codes == ["known-bad"] and verdict.action.value == "block"


def test_organisation_domains_and_vmeet_are_configuration(sigdir: Path) -> None:
    _edit(sigdir / "policy.toml", "domains = []", 'domains = ["moj.gov.vn"]')
    text = (sigdir / "platforms.toml").read_text(encoding="utf-8")
    vmeet_at = text.index('id = "vmeet"')
    text = text[:vmeet_at] + text[vmeet_at:].replace("domains = []",
                                                     'domains = ["vmeet.moj.gov.vn"]', 1)
    (sigdir / "platforms.toml").write_text(text, encoding="utf-8")
    classifier = Classifier(load_policy(sigdir))
    own = classifier.link("https://portal.moj.gov.vn/")
    assert (own.verdict_class.value, own.platform) == ("approved", "organisation")
    vmeet = classifier.link("https://vmeet.moj.gov.vn/room/7")
    assert (vmeet.verdict_class.value, vmeet.platform) == ("approved", "vmeet")
    fake = classifier.link("https://vmeet-moj.gov.vn.example/")
    assert fake.verdict_class.value == "unknown" and fake.action.value != "allow"


def test_a_domain_listed_by_two_platforms_is_refused(sigdir: Path) -> None:
    line = _edit(sigdir / "platforms.toml", '"join.me"', '"join.me", "zoom.us"')
    problems = check_signatures(sigdir)
    assert any("zoom.us" in p.message and "both" in p.message for p in problems)
    assert line > 0


def test_policy_actions_are_configuration(sigdir: Path) -> None:
    _edit(sigdir / "policy.toml", 'warned = "warn"', 'warned = "block"')
    verdict = Classifier(load_policy(sigdir)).link("https://zoom.us/j/1")
    assert verdict.action.value == "block" and verdict.click_through is False
