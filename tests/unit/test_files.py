"""File verdicts from facts alone: the name, the hash lists and where the file came from."""

from __future__ import annotations

import pytest

from meetguard.classify import Classifier, FileFacts, ScanResult, file_name_reasons, scan_bytes
from meetguard.policy import Policy
from meetguard.verdict import Code, Reason, Severity, Text

# (file name, severity of the dangerous-file-type reason or None)
NAMES = [
    ("agenda.pdf", None),
    ("minutes.docx", None),
    ("photo.jpg", None),
    ("ZoomInstaller.exe", "high"),
    ("setup.msi", "high"),
    ("run.ps1", "high"),
    ("invite.lnk", "high"),
    ("meeting.iso", "high"),
    ("payload.hta", "high"),
    ("macro.docm", "high"),
    ("invite.pdf.exe", "critical"),
    ("Bien_ban_hop.docx.js", "critical"),
    ("photo.JPG.scr", "critical"),
    ("report.pdf          .exe", "critical"),
    ("invoice\u202egpj.exe", "critical"),  # right-to-left override: shows as "invoiceexe.jpg"
    ("C:\\Users\\a\\Downloads\\agenda.pdf.lnk", "critical"),
]


@pytest.mark.parametrize(("name", "severity"), NAMES)
def test_file_names(policy: Policy, name: str, severity: str | None) -> None:
    found = [r.severity.value for r in file_name_reasons(policy, name)
             if r.code is Code.DANGEROUS_FILE_TYPE]
    assert found == ([severity] if severity else [])


def test_file_class_follows_its_source(classifier: Classifier) -> None:
    sha = "0" * 64
    from_mic = classifier.file(FileFacts(sha, 10, "agenda.pdf",
                                         source_url="https://emeeting.mic.gov.vn/files/1"))
    assert (from_mic.verdict_class.value, from_mic.action.value) == ("approved", "allow")
    from_zoom = classifier.file(FileFacts(sha, 10, "agenda.pdf",
                                          source_url="https://zoom.us/rec/1"))
    assert (from_zoom.verdict_class.value, from_zoom.source.platform) == ("warned", "zoom")
    nowhere = classifier.file(FileFacts(sha, 10, "agenda.pdf"))
    assert (nowhere.verdict_class.value, nowhere.action.value) == ("unknown", "allow")


def test_a_file_from_a_lookalike_carries_the_impersonation(classifier: Classifier) -> None:
    verdict = classifier.file(FileFacts("1" * 64, 10, "agenda.pdf",
                                        source_url="https://zo0m.us/rec/agenda.pdf"))
    assert "impersonation" in verdict.codes
    assert verdict.verdict_class.value == "unknown" and verdict.action.value == "block"


def test_blob_downloads_are_judged_by_the_page_origin(classifier: Classifier) -> None:
    verdict = classifier.file(FileFacts("2" * 64, 10, "a.pdf",
                                        source_url="blob:https://emeeting.mic.gov.vn/9f1c"))
    assert verdict.verdict_class.value == "approved"


def test_a_file_that_could_not_be_scanned_is_never_clean(classifier: Classifier) -> None:
    verdict = classifier.file(FileFacts("3" * 64, 10, "a.pdf"),
                              ScanResult(error="signature scan timed out after 10 s"))
    assert "unverifiable" in verdict.codes
    assert verdict.action.value != "allow" and verdict.scanned is False


def test_scan_reasons_decide_the_action(classifier: Classifier) -> None:
    hit = Reason(Code.SIGNATURE, Severity.CRITICAL, Text("x", "x"), "eicar_test_file")
    verdict = classifier.file(FileFacts("4" * 64, 68, "eicar.com.txt"), ScanResult((hit,)))
    assert verdict.rules == ["eicar_test_file"] and verdict.action.value == "block"
    assert verdict.scanned is True


def test_a_flood_of_one_string_cannot_switch_scanning_off(policy: Policy) -> None:
    """yara-python aborts a scan when one string matches over a million times, unless told to
    go on: an attacker could pad a file to skip every rule."""
    from tests.support.samples import eicar

    result = scan_bytes(policy, eicar() + b" " + b"http://" * 1_500_000, "notes.txt")
    assert result.error is None
    assert "EICAR_Test_File" in [r.rule for r in result.reasons]


def test_a_file_over_the_scan_limit_is_unverifiable(policy: Policy) -> None:
    result = scan_bytes(policy, b"\0" * (policy.files.max_scan_bytes + 1), "big.bin")
    assert result.error is not None and "larger than" in result.error.en
