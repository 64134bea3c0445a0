"""Every message a person reads exists in Vietnamese and English, never mixed."""

from __future__ import annotations

import re

import pytest

from meetguard.classify import Classifier, FileFacts, ScanResult
from meetguard.verdict import Text

ENGLISH = re.compile(r"\b(the|which|written|hidden|disguised|cannot|another|larger|could)\b")

LINKS = [
    "https://zoom.us/j/1?pwd=x", "https://emeeting.mic.gov.vn/", "https://zo0m.us/",
    "https://zoom.us.evil.example/", "https://a@b.example/", "http://0x7f.1/",
    "https:\\\\evil.example\\x", "https://evil\t.example/", "\\\\host\\share",
    "file:///C:/x", "blob:https://a.example/1", "tel:+84123", "ms-msdt:/id x", "bit.ly/x",
    "http://10.0.0.1/", "nonsense", "x" * 9000, "https://xn--zz-.example/",
    "https://nam12.safelinks.protection.outlook.com/?data=1",
    "https://cdn.example/ZoomInstaller.exe", "javascript:alert(1)",
]


@pytest.mark.parametrize("link", LINKS)
def test_link_messages_in_both_languages(classifier: Classifier, link: str) -> None:
    verdict = classifier.link(link)
    for reason in verdict.reasons:
        english, vietnamese = reason.message.get("en"), reason.message.get("vi")
        assert english and vietnamese and english != vietnamese, reason
        assert not ENGLISH.search(vietnamese), vietnamese


@pytest.mark.parametrize("name", ["invite.pdf.exe", "a\u202egpj.exe", "setup.msi", "x.iso"])
def test_file_messages_in_both_languages(classifier: Classifier, name: str) -> None:
    error = Text("the file could not be scanned", "không quét được tệp")
    verdict = classifier.file(FileFacts("0" * 64, 1, name), ScanResult(error=error))
    for reason in verdict.reasons:
        vietnamese = reason.message.get("vi")
        assert vietnamese != reason.message.get("en")
        assert not ENGLISH.search(vietnamese), vietnamese
