"""Feed imports: sample files in each format (with malformed lines) into a copy of the
signatures, then the core must say `known-bad` for what was imported, and nothing else."""
# ruff: noqa: E501  (the samples are feed lines as the feeds write them, long columns and all)

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from meetguard.classify import Classifier, FileFacts, classify_link
from meetguard.feeds import FEEDS, FeedError, format_report, import_feed
from meetguard.policy import load_policy

ROOT = Path(__file__).resolve().parents[2]
SHA_A = "a" * 64
SHA_B = "0123456789abcdef" * 4
SHA_C = "C" * 64  # upper case in the feed, lower case in the list

URLHAUS = """\
################################################################
# abuse.ch URLhaus Database Dump (CSV - recent URLs)           #
# Terms Of Use: https://urlhaus.abuse.ch/api/                  #
################################################################
#
# id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter
"3000001","2026-01-02 03:04:05","http://198.51.100.7:8080/bins/mozi.m","online","2026-01-02 03:04:05","malware_download","elf,Mozi","https://urlhaus.abuse.ch/url/3000001/","lrz_urlhaus"
"3000002","2026-01-02 03:05:00","https://evil-invite.example/zoom/setup.exe#frag","online","","malware_download","exe","https://urlhaus.abuse.ch/url/3000002/","anonymous"
"3000003","2026-01-02 03:06:00","https://evil-invite.example/zoom/setup.exe","online","","malware_download","exe","https://urlhaus.abuse.ch/url/3000003/","anonymous"
"3000004","2026-01-02 03:07:00","not a url","online","","malware_download","","",""
"3000005","2026-01-02 03:08:00"
"3000006","2026-01-02 03:09:00","javascript:alert(1)","online","","","","",""
"3000007","2026-01-02 03:10:00","http://bad\x1b[31m.example/x","online","","","","",""
"""

THREATFOX = """\
################################################################
# ThreatFox IOCs: CSV export                                   #
################################################################
#
# "first_seen_utc","ioc_id","ioc_value","ioc_type","threat_type","fk_malware","malware_alias","malware_printable","last_seen_utc","confidence_level","reference","tags","anonymous","reporter"
"2026-01-02 03:04:05", "1400001", "c2.teams-update.example", "domain", "botnet_cc", "win.cobalt_strike", "", "Cobalt Strike", "", "100", "", "", "0", "abuse_ch"
"2026-01-02 03:04:06", "1400002", "https://payload.example/a.ps1", "url", "payload_delivery", "", "", "", "", "75", "", "", "0", "x"
"2026-01-02 03:04:07", "1400003", "203.0.113.9:443", "ip:port", "botnet_cc", "", "", "", "", "100", "", "", "0", "x"
"2026-01-02 03:04:08", "1400004", "{SHA_A}", "sha256_hash", "payload", "", "", "", "", "100", "", "", "0", "x"
"2026-01-02 03:04:09", "1400005", "d41d8cd98f00b204e9800998ecf8427e", "md5_hash", "payload", "", "", "", "", "100", "", "", "0", "x"
"2026-01-02 03:04:10", "1400006", "zoom.us", "domain", "botnet_cc", "", "", "", "", "10", "", "", "0", "x"
"2026-01-02 03:04:11", "1400007", "co.uk", "domain", "botnet_cc", "", "", "", "", "10", "", "", "0", "x"
"2026-01-02 03:04:12", "1400008", "not_a_domain!", "domain", "botnet_cc", "", "", "", "", "10", "", "", "0", "x"
"2026-01-02 03:04:13", "1400009", "xyz"
"2026-01-02 03:04:14", "1400010", "C2.Teams-Update.example", "domain", "botnet_cc", "", "", "", "", "100", "", "", "0", "x"
""".replace("{SHA_A}", SHA_A)

MALWAREBAZAAR = f"""\
################################################################
# MalwareBazaar full malware samples dump (CSV)                #
################################################################
#
# "first_seen_utc","sha256_hash","md5_hash","sha1_hash","reporter","file_name","file_type_guess","mime_type","signature","clamav","vtpercent","imphash","ssdeep","tlsh"
"2026-01-02 03:04:05", "{SHA_B}", "d41d8cd98f00b204e9800998ecf8427e", "da39a3ee5e6b4b0d3255bfef95601890afd80709", "x", "invite.pdf.exe", "exe", "application/x-dosexec", "AgentTesla", "", "", "", "", ""
"2026-01-02 03:04:06", "{SHA_C}", "", "", "x", "a.lnk", "lnk", "", "", "", "", "", "", ""
"2026-01-02 03:04:07", "nothex", "", "", "x", "b", "", "", "", "", "", "", "", ""
"2026-01-02 03:04:08", "{SHA_B}", "", "", "x", "dup", "", "", "", "", "", "", "", ""
"""

SHA256_TXT = f"""\
# MalwareBazaar: SHA256 hashes of all malware samples
{SHA_A}
{SHA_B}  invite.pdf.exe
{SHA_A}
12345
"""

PHISHTANK_CSV = """\
phish_id,url,phish_detail_url,submission_time,verified,verification_time,online,target
9000001,https://zoom-us.login-verify.example/j/123,http://www.phishtank.com/phish_detail.php?phish_id=9000001,2026-01-02T03:04:05+00:00,yes,2026-01-02T04:00:00+00:00,yes,Other
9000002,http://unverified.example/,http://www.phishtank.com/phish_detail.php?phish_id=9000002,2026-01-02T03:04:05+00:00,no,,yes,Other
9000003,"ftp://",x,y,yes,z,yes,Other
9000004
"""

PHISHTANK_JSON = json.dumps([
    {"phish_id": 1, "url": "https://teams-microsoft.signin-check.example/meet",
     "verified": "yes", "online": "yes", "target": "Microsoft"},
    {"phish_id": 2, "url": "https://not-yet.example/", "verified": "no"},
    {"phish_id": 3},
    "just a string",
    {"phish_id": 4, "url": "https://teams-microsoft.signin-check.example/meet"},
])

OPENPHISH = """\
https://meet-google.account-check.example/login
https://meet-google.account-check.example/login

http://[::1
<script>alert(1)</script>
https://emeeting.mic.gov.vn.phish.example/room
"""

MISP = json.dumps({
    "name": "Known phishing hosts (test)",
    "version": 1,
    "description": "bad hosts",
    "type": "hostname",
    "matching_attributes": ["hostname", "domain"],
    "list": ["phish-host.example", ".dot-prefixed.example", "*.wild.example", "mic.gov.vn",
             "sub.emeeting.mic.gov.vn", 42, "bad host.example"],
})


@pytest.fixture
def signatures(tmp_path: Path) -> Path:
    target = tmp_path / "signatures"
    shutil.copytree(ROOT / "signatures", target)
    return target


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Imports never open a socket: any attempt fails the test."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("a feed import tried to use the network")
    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def lines_of(path: Path) -> list[str]:
    return [ln for ln in path.read_text().splitlines() if ln and not ln.startswith("#")]


def test_urlhaus_urls_become_exact_url_lines_and_bad_lines_are_reported(
        tmp_path: Path, signatures: Path) -> None:
    report = import_feed("urlhaus-csv", write(tmp_path, "u.csv", URLHAUS), signatures)
    listed = lines_of(signatures / "domains" / "urlhaus.txt")
    assert listed == ["http://198.51.100.7:8080/bins/mozi.m",
                      "https://evil-invite.example/zoom/setup.exe"]
    assert report.duplicates == 1  # the fragment variant is the same URL
    assert sum(report.malformed.values()) == 4
    assert [n for n, _, _ in report.examples] == [10, 11, 12, 13]
    reasons = " ".join(r for _, r, _ in report.examples)
    assert "CSV columns" in reasons and "not an absolute URL" in reasons
    text = "\n".join(format_report(report))
    assert "\x1b" not in text and "\\x1b" in text  # the escape is shown, never sent
    policy = load_policy(signatures)
    verdict = classify_link(policy, "https://evil-invite.example/zoom/setup.exe")
    assert "known-bad" in verdict.codes and verdict.action.value == "block"
    assert "known-bad" not in classify_link(policy, "https://evil-invite.example/other").codes


def test_threatfox_splits_domains_urls_and_hashes_and_skips_what_it_cannot_match(
        tmp_path: Path, signatures: Path) -> None:
    report = import_feed("threatfox-csv", write(tmp_path, "t.csv", THREATFOX), signatures)
    assert lines_of(signatures / "domains" / "threatfox.txt") == [
        "c2.teams-update.example", "https://payload.example/a.ps1"]
    assert lines_of(signatures / "hashes" / "threatfox.txt") == [SHA_A]
    assert report.duplicates == 1
    assert report.skipped["ioc type ip:port is not matched by MeetGuard"] == 1
    assert report.skipped["ioc type md5_hash is not matched by MeetGuard"] == 1
    assert report.skipped["would block the meeting platform Zoom"] == 1
    assert any("public suffix" in reason for reason in report.skipped)
    assert sum(report.malformed.values()) == 2
    policy = load_policy(signatures)
    for url in ("https://c2.teams-update.example/", "https://x.c2.teams-update.example/a"):
        assert "known-bad" in classify_link(policy, url).codes, url
    assert "known-bad" not in classify_link(policy, "https://zoom.us/j/1").codes
    facts = FileFacts(SHA_A, 10, "a.bin")
    assert "known-bad" in Classifier(policy).file(facts).codes


@pytest.mark.parametrize(("kind", "text"), [("malwarebazaar-csv", MALWAREBAZAAR),
                                            ("malwarebazaar-txt", SHA256_TXT)])
def test_malwarebazaar_hashes(tmp_path: Path, signatures: Path, kind: str, text: str) -> None:
    report = import_feed(kind, write(tmp_path, "mb", text), signatures)
    listed = lines_of(signatures / "hashes" / "malwarebazaar.txt")
    expected = sorted({SHA_B, SHA_C.lower()} if kind.endswith("csv") else {SHA_A, SHA_B})
    assert listed == expected
    assert report.duplicates == 1 and sum(report.malformed.values()) == 1
    policy = load_policy(signatures)
    blocked = Classifier(policy).file(FileFacts(SHA_B, 10, "invite.pdf.exe"))
    assert blocked.action.value == "block" and "known-bad" in blocked.codes


@pytest.mark.parametrize(("kind", "text", "url"), [
    ("phishtank-csv", PHISHTANK_CSV, "https://zoom-us.login-verify.example/j/123"),
    ("phishtank-json", PHISHTANK_JSON, "https://teams-microsoft.signin-check.example/meet"),
])
def test_phishtank_keeps_verified_urls(tmp_path: Path, signatures: Path, kind: str, text: str,
                                       url: str) -> None:
    report = import_feed(kind, write(tmp_path, "p", text), signatures)
    assert lines_of(signatures / "domains" / "phishtank.txt") == [url]
    assert report.skipped["not verified by PhishTank"] == 1
    assert sum(report.malformed.values()) == 2
    assert "known-bad" in classify_link(load_policy(signatures), url).codes


def test_openphish_text(tmp_path: Path, signatures: Path) -> None:
    report = import_feed("openphish-txt", write(tmp_path, "feed.txt", OPENPHISH), signatures)
    assert lines_of(signatures / "domains" / "openphish.txt") == [
        "https://emeeting.mic.gov.vn.phish.example/room",
        "https://meet-google.account-check.example/login"]
    assert report.duplicates == 1 and sum(report.malformed.values()) == 2


def test_misp_warninglist_domains_with_protection_of_sanctioned_platforms(
        tmp_path: Path, signatures: Path) -> None:
    report = import_feed("misp-warninglist", write(tmp_path, "list.json", MISP), signatures)
    assert report.name == "misp-known-phishing-hosts-test"
    path = signatures / "domains" / "misp-known-phishing-hosts-test.txt"
    assert lines_of(path) == ["dot-prefixed.example", "phish-host.example", "wild.example"]
    assert any("sanctioned domain emeeting.mic.gov.vn" in r for r in report.skipped)
    assert any("would block the meeting platform" in r for r in report.skipped)
    assert sum(report.malformed.values()) == 2  # 42 and a name with a space
    assert any("BENIGN" in note for note in report.notes)
    assert "known-bad" in classify_link(load_policy(signatures),
                                        "https://a.wild.example/").codes


def test_reimport_replaces_and_merge_adds(tmp_path: Path, signatures: Path) -> None:
    first = write(tmp_path, "a.txt", "https://one.example/\nhttps://two.example/\n")
    second = write(tmp_path, "b.txt", "https://three.example/\n")
    import_feed("openphish-txt", first, signatures)
    report = import_feed("openphish-txt", second, signatures)
    path = signatures / "domains" / "openphish.txt"
    assert lines_of(path) == ["https://three.example/"]
    assert report.added == {"domains/openphish.txt": 1}
    assert report.removed == {"domains/openphish.txt": 2}
    import_feed("openphish-txt", first, signatures, merge=True)
    assert len(lines_of(path)) == 3


def test_a_file_of_the_wrong_kind_writes_nothing(tmp_path: Path, signatures: Path) -> None:
    before = load_policy(signatures).version
    with pytest.raises(FeedError, match="no usable entry"):
        import_feed("malwarebazaar-txt", write(tmp_path, "u.csv", URLHAUS), signatures)
    assert not (signatures / "hashes" / "malwarebazaar.txt").exists()
    assert load_policy(signatures).version == before


def test_every_kind_is_tested() -> None:
    tested = {"urlhaus-csv", "threatfox-csv", "malwarebazaar-csv", "malwarebazaar-txt",
              "phishtank-csv", "phishtank-json", "openphish-txt", "misp-warninglist"}
    assert set(FEEDS) - tested == {"sha256-txt"}  # an alias of malwarebazaar-txt's reader


def test_cli_import_prints_the_report_and_the_new_version(tmp_path: Path,
                                                          signatures: Path) -> None:
    feed = write(tmp_path, "t.csv", THREATFOX)
    done = subprocess.run(
        [sys.executable, "-m", "meetguard.cli", "feeds", "import", "threatfox-csv", str(feed),
         "--signatures", str(signatures)], capture_output=True, text=True, timeout=60,
        cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    assert "domains/threatfox.txt: 2 entries (2 new, 0 removed)" in done.stdout
    assert "hashes/threatfox.txt: 1 entries" in done.stdout
    assert "malformed: 2" in done.stdout and "policy version" in done.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "meetguard.cli", "feeds", "import", "nope", str(feed)],
        capture_output=True, text=True, timeout=60, cwd=ROOT, check=False)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
