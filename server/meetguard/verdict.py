"""Verdicts: the classes, actions, reason codes and their messages (a stable API).

A verdict says *where a link goes* (its class), *what is wrong with it* (its reasons) and *what
the organisation's policy makes of both* (its action). Everything here is plain data: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple


class VerdictClass(StrEnum):
    APPROVED = "approved"
    WARNED = "warned"
    UNKNOWN = "unknown"


class Action(StrEnum):
    ALLOW = "allow"
    WARN = "warn"
    BLOCK = "block"

    @property
    def rank(self) -> int:
        return _ACTION_RANK[self]


_ACTION_RANK = {Action.ALLOW: 0, Action.WARN: 1, Action.BLOCK: 2}


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}


def most_severe(severities: Sequence[str]) -> int:
    """The index of the most severe of `severities` (Severity values; the first of equals, as
    the extension shows it; an unknown value ranks lowest). `severities` must not be empty.

    >>> most_severe(["low", "high", "critical", "critical"]), most_severe(["later", "info"])
    (2, 0)
    """
    return max(range(len(severities)), key=lambda i: _SEVERITY_RANK.get(severities[i], 0))


class Code(StrEnum):
    """Reason codes: stable API values (DESIGN.md)."""

    APPROVED_PLATFORM = "approved-platform"
    WARNED_PLATFORM = "warned-platform"
    UNKNOWN_ORIGIN = "unknown-origin"
    IMPERSONATION = "impersonation"
    DECEPTIVE_URL = "deceptive-url"
    DANGEROUS_SCHEME = "dangerous-scheme"
    IP_HOST = "ip-host"
    SECRET_IN_LINK = "secret-in-link"  # noqa: S105 (a reason code, not a password)
    SHORTENER = "shortener"
    INSECURE_TRANSPORT = "insecure-transport"
    SIGNATURE = "signature"
    KNOWN_BAD = "known-bad"
    DANGEROUS_FILE_TYPE = "dangerous-file-type"
    UNVERIFIABLE = "unverifiable"
    INVALID_URL = "invalid-url"


class _Blank(dict):
    """Template parameters; one not given reads as empty."""

    def __missing__(self, key: str) -> str:
        return ""


class Text(NamedTuple):
    """A message in every shipped language, its parameters filled in when it is read.

    Filling in lazily keeps classifying cheap: most verdicts are cached and many are never
    shown in more than one language.

    >>> Text("Hello {name}", "Xin chào {name}").format(name="Lan").get("vi")
    'Xin chào Lan'
    """

    en: str
    vi: str
    params: tuple[tuple[str, Any], ...] = ()

    def get(self, lang: str) -> str:
        template = self.vi if lang == "vi" else self.en
        if not self.params:
            return template
        # A parameter may itself be a Text: it is read in the same language.
        values = {k: v.get(lang) if isinstance(v, Text) else v for k, v in self.params}
        return template.format_map(_Blank(values))

    def format(self, **params: str | Text) -> Text:
        return Text(self.en, self.vi, tuple(params.items()))


class Reason(NamedTuple):
    """One thing found about a link or file.

    `rule` names the signature that produced it (a YARA rule, a list file), when one did.
    """

    code: Code
    severity: Severity
    message: Text
    rule: str | None = None

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code.value,
            "severity": self.severity.value,
            "message": self.message.get(lang),
        }
        if self.rule is not None:
            out["rule"] = self.rule
        return out


def codes_of(reasons: tuple[Reason, ...]) -> list[str]:
    return [r.code.value for r in reasons]


def rules_of(reasons: tuple[Reason, ...]) -> list[str]:
    return [r.rule for r in reasons if r.rule]


class Hop(NamedTuple):
    """One redirector unwrapped on the way to the destination (no URL: it may carry secrets)."""

    wrapper: str
    host: str

    def to_dict(self) -> dict[str, str]:
        return {"wrapper": self.wrapper, "host": self.host}


class LinkVerdict(NamedTuple):
    """The verdict on one link.

    `url` is the input as given (redacted: it may carry a meeting password); `target` is the
    innermost destination as the browser sees it, secrets redacted; `host` its ASCII host.
    """

    url: str
    target: str
    host: str
    display_host: str
    domain: str
    verdict_class: VerdictClass
    platform: str | None
    action: Action
    reasons: tuple[Reason, ...]
    unwrapped: tuple[Hop, ...]
    policy_version: str
    click_through: bool

    @property
    def codes(self) -> list[str]:
        return codes_of(self.reasons)

    @property
    def rules(self) -> list[str]:
        return rules_of(self.reasons)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "url": self.url,
            "target": self.target,
            "host": self.host,
            "display_host": self.display_host,
            "domain": self.domain,
            "class": self.verdict_class.value,
            "platform": self.platform,
            "action": self.action.value,
            "click_through": self.click_through,
            "reasons": [r.to_dict(lang) for r in self.reasons],
            "unwrapped": [h.to_dict() for h in self.unwrapped],
            "policy_version": self.policy_version,
        }


@dataclass(frozen=True, slots=True)
class FileVerdict:
    """The verdict on one file, known by its SHA-256 and where it came from."""

    sha256: str
    size: int | None
    filename: str
    verdict_class: VerdictClass
    action: Action
    reasons: tuple[Reason, ...]
    policy_version: str
    source: LinkVerdict | None = None
    scanned: bool = False

    @property
    def codes(self) -> list[str]:
        return codes_of(self.reasons)

    @property
    def rules(self) -> list[str]:
        return rules_of(self.reasons)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "size": self.size,
            "filename": self.filename,
            "class": self.verdict_class.value,
            "action": self.action.value,
            "reasons": [r.to_dict(lang) for r in self.reasons],
            "source_host": self.source.host if self.source else None,
            "platform": self.source.platform if self.source else None,
            "scanned": self.scanned,
            "policy_version": self.policy_version,
        }


# Built-in messages, one per code. `{platform}`, `{name}`, `{detail}` are filled in by the
# classifier; platform-specific advice comes from signatures/platforms.toml instead.
MESSAGES: dict[Code, Text] = {
    Code.APPROVED_PLATFORM: Text(
        "{platform} is a sanctioned meeting platform.",
        "{platform} là nền tảng họp trực tuyến được phép sử dụng.",
    ),
    Code.WARNED_PLATFORM: Text(
        "{platform} is not a sanctioned meeting platform: {detail}",
        "{platform} không phải là nền tảng họp được phép: {detail}",
    ),
    Code.UNKNOWN_ORIGIN: Text(
        "This link goes to a site of unknown origin ({name}).",
        "Liên kết này dẫn tới một trang không rõ nguồn gốc ({name}).",
    ),
    Code.IMPERSONATION: Text(
        "{name} imitates {platform}: {detail}. It is not the real site.",
        "{name} giả mạo {platform}: {detail}. Đây không phải trang thật.",
    ),
    Code.DECEPTIVE_URL: Text(
        "The link is built to mislead: {detail}",
        "Liên kết được tạo ra để đánh lừa: {detail}",
    ),
    Code.DANGEROUS_SCHEME: Text(
        "The link runs or opens something directly ({detail}), not a web page.",
        "Liên kết chạy hoặc mở trực tiếp một thứ khác ({detail}), không phải trang web.",
    ),
    Code.IP_HOST: Text(
        "The link points at a bare IP address ({name}) instead of a named site.",
        "Liên kết trỏ tới một địa chỉ IP ({name}) thay vì tên miền.",
    ),
    Code.SECRET_IN_LINK: Text(
        "The link carries a meeting password or access token ({detail}); "
        "room details must never be shared.",
        "Liên kết chứa mật khẩu phòng họp hoặc mã truy cập ({detail}); "
        "không được chia sẻ thông tin phòng họp.",
    ),
    Code.SHORTENER: Text(
        "A link shortener ({name}) hides the real destination.",
        "Dịch vụ rút gọn liên kết ({name}) che giấu địa chỉ thật.",
    ),
    Code.INSECURE_TRANSPORT: Text(
        "The connection is not encrypted ({detail}).",
        "Kết nối không được mã hoá ({detail}).",
    ),
    Code.SIGNATURE: Text("Matched signature {name}.", "Khớp mẫu nhận diện {name}."),
    Code.KNOWN_BAD: Text(
        "{name} is on a list of known malicious sites or files.",
        "{name} nằm trong danh sách trang hoặc tệp độc hại đã biết.",
    ),
    Code.DANGEROUS_FILE_TYPE: Text(
        "The file {name} is a type that can run code on this computer ({detail}).",
        "Tệp {name} thuộc loại có thể chạy mã trên máy tính này ({detail}).",
    ),
    Code.UNVERIFIABLE: Text(
        "This could not be checked: {detail}",
        "Không thể kiểm tra: {detail}",
    ),
    Code.INVALID_URL: Text(
        "This is not a link a browser would open: {detail}",
        "Đây không phải là liên kết trình duyệt có thể mở: {detail}",
    ),
}


def reason(
    code: Code, severity: Severity, *, rule: str | None = None, **params: str | Text
) -> Reason:
    """A reason with the built-in message for `code`, filled with `params`.

    >>> reason(Code.IP_HOST, Severity.MEDIUM, name="10.0.0.1").message.get("en")
    'The link points at a bare IP address (10.0.0.1) instead of a named site.'
    """
    template = MESSAGES[code]
    return Reason(code, severity, Text(template.en, template.vi, tuple(params.items())), rule)
