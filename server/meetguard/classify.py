"""Classifying links and files: pure functions of a policy snapshot and the input. No I/O.

The class says where a link goes, the reasons what is wrong with it, the action what the
policy makes of both. A look-alike is never given the class of what it imitates.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from . import lookalike_texts
from .lookalikes import Lookalike
from .policy import Platform, Policy
from .rules import ScanError
from .urls import (
    HostKind,
    InvalidUrl,
    ParsedUrl,
    Quirk,
    parse_url,
    redact_text,
    redact_url,
    secret_params_in,
    unwrap,
)
from .verdict import (
    Action,
    Code,
    FileVerdict,
    Hop,
    LinkVerdict,
    Reason,
    Severity,
    Text,
    VerdictClass,
    reason,
)

_ECHO_LIMIT = 2048  # how much of an invalid input is echoed back (and logged)
_WEB_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp"})
_LOCAL_FILE_HOSTS = frozenset({"", "localhost"})

_QUIRK_REASONS: dict[Quirk, tuple[Severity, Text]] = {
    Quirk.USERINFO: (Severity.HIGH, Text(
        "text before '@' hides the real site, which is after it",
        "phần chữ trước '@' che giấu trang thật, nằm sau dấu '@'")),
    Quirk.ENCODED_HOST: (Severity.HIGH, Text(
        "the site name is written in percent-encoding",
        "tên trang được viết bằng mã hoá phần trăm (%)")),
    Quirk.NUMERIC_HOST: (Severity.HIGH, Text(
        "the address is an IP number written in disguise",
        "địa chỉ là một số IP được viết ngụy trang")),
    Quirk.BACKSLASH: (Severity.MEDIUM, Text(
        "backslashes that the browser reads as slashes",
        "dấu gạch ngược mà trình duyệt hiểu là dấu gạch chéo")),
    Quirk.WHITESPACE: (Severity.MEDIUM, Text(
        "hidden tabs or line breaks inside the link",
        "ký tự tab hoặc xuống dòng ẩn bên trong liên kết")),
}


def classify_link(policy: Policy, raw: str) -> LinkVerdict:
    """The verdict on one link, as the browser would follow it.

    >>> from meetguard.policy import load_policy
    >>> v = classify_link(load_policy("signatures"), "https://us02web.zoom.us/j/123?pwd=abc")
    >>> v.verdict_class.value, v.platform, v.action.value, v.target
    ('warned', 'zoom', 'warn', 'https://us02web.zoom.us/j/123?pwd=REDACTED')
    """
    try:
        parsed = parse_url(raw, max_length=policy.links.max_url_length)
    except InvalidUrl as exc:
        shown = redact_text(raw, policy.secrets.redact_params) if isinstance(raw, str) else ""
        return invalid_link_verdict(policy, shown, Text(exc.detail, exc.vi))
    unwrapped = unwrap(parsed, policy.wrappers, max_depth=policy.links.max_unwrap_depth,
                       max_length=policy.links.max_url_length)
    url = unwrapped.url
    reasons: list[Reason] = []
    if unwrapped.too_deep:
        depth = policy.links.max_unwrap_depth
        reasons.append(reason(Code.DECEPTIVE_URL, Severity.HIGH, detail=Text(
            f"wrapped in more than {depth} redirectors",
            f"được bọc qua hơn {depth} lớp chuyển hướng")))
    if unwrapped.undecodable:
        reasons.append(reason(Code.DECEPTIVE_URL, Severity.MEDIUM, rule=unwrapped.undecodable,
                              detail=Text("a redirector whose destination cannot be read",
                                          "một lớp chuyển hướng không đọc được địa chỉ đích")))
    platform = _scheme_and_host_signals(policy, url, reasons)
    reasons.extend(_link_content_signals(policy, url, platform))
    hops = tuple(Hop(wrapper, host) for wrapper, host in unwrapped.hops)
    return _link_verdict(policy, raw, url, platform, reasons, hops)


def invalid_link_verdict(policy: Policy, shown: str, detail: Text) -> LinkVerdict:
    """What a link no browser would open gets: class unknown, action block."""
    return LinkVerdict(
        url=shown[:_ECHO_LIMIT],
        target="",
        host="",
        display_host="",
        domain="",
        verdict_class=VerdictClass.UNKNOWN,
        platform=None,
        action=Action.BLOCK,
        reasons=(reason(Code.INVALID_URL, Severity.HIGH, detail=detail),),
        unwrapped=(),
        policy_version=policy.version,
        click_through=False,
    )


def _scheme_and_host_signals(
    policy: Policy, url: ParsedUrl, reasons: list[Reason]
) -> Platform | None:
    """Signals from where the link goes; returns the platform it really belongs to, if any."""
    scheme = url.scheme
    if scheme in policy.schemes:
        return policy.schemes[scheme]
    if scheme in policy.links.dangerous_schemes:
        reasons.append(reason(Code.DANGEROUS_SCHEME, Severity.CRITICAL, detail=f"{scheme}:"))
        return None
    if scheme == "file":
        reasons.append(_file_scheme_reason(url))
        return None
    if scheme in policy.links.inert_schemes:
        return None
    if scheme not in _WEB_SCHEMES:
        # blob:, and custom schemes that launch some application.
        reasons.append(reason(Code.DANGEROUS_SCHEME, Severity.MEDIUM, detail=Text(
            f"{scheme}: opens something other than a web page",
            f"{scheme}: mở một thứ khác không phải trang web")))
        return None
    return _host_signals(policy, url, reasons)


def _file_scheme_reason(url: ParsedUrl) -> Reason:
    if url.host not in _LOCAL_FILE_HOSTS:
        # Opening \\host\share makes Windows send the person's password hash to that host.
        return reason(Code.DANGEROUS_SCHEME, Severity.CRITICAL, detail=Text(
            f"a file on another computer ({url.host}), which can leak your Windows password",
            f"một tệp trên máy tính khác ({url.host}), có thể làm lộ mật khẩu Windows của bạn"))
    return reason(Code.DANGEROUS_SCHEME, Severity.MEDIUM,
                  detail=Text("a file on this computer", "một tệp trên máy tính này"))


def _host_signals(policy: Policy, url: ParsedUrl, reasons: list[Reason]) -> Platform | None:
    if url.host_kind in (HostKind.IPV4, HostKind.IPV6):
        reasons.append(reason(Code.IP_HOST, Severity.MEDIUM, name=url.host))
        return None
    facts = policy.host_facts(url.host)
    if facts.known_bad is not None:
        reasons.append(reason(Code.KNOWN_BAD, Severity.CRITICAL, rule=f"domains/{facts.known_bad}",
                              name=url.display_host))
    if facts.platform is None and not facts.real:
        found = _imitation(policy, url, facts.lookalike, facts.registered, facts.vetted)
        if found is not None:
            reasons.append(found)
    if facts.shortener:
        reasons.append(reason(Code.SHORTENER, Severity.MEDIUM, name=url.display_host))
    return facts.platform


def _imitation(
    policy: Policy, url: ParsedUrl, lookalike: Lookalike | None, registered: str, vetted: bool
) -> Reason | None:
    """The look-alike reason, weighed with the link's shape: a platform's meeting-link shape
    confirms a name close to the platform's (and makes it critical), and the plainest shapes
    are impersonation on any other site by themselves."""
    path = f"{url.path}?{url.query}" if url.query else url.path
    if lookalike is not None:
        shaped = policy.shapes.matches(lookalike.owner, path)
        if not lookalike.weak or shaped:
            return _lookalike_reason(policy, url, lookalike, registered, shaped)
    # A government body's own site (gov.vn) hosting a meeting-shaped path imitates nobody.
    owner = None if vetted else policy.shapes.alone(path)
    if owner is None:
        return None
    platform = policy.platform(owner)
    name = platform.name if platform else owner
    return reason(Code.IMPERSONATION, Severity.HIGH, rule=f"shape:{owner}",
                  name=_both_forms(url), platform=name,
                  detail=lookalike_texts.shape(name, registered or url.display_host))


def _lookalike_reason(
    policy: Policy, url: ParsedUrl, lookalike: Lookalike, registered: str, shaped: bool
) -> Reason:
    owner = policy.platform(lookalike.owner)
    imitated = owner.name if owner else lookalike.imitated
    severity = Severity.CRITICAL if lookalike.critical or shaped else Severity.HIGH
    detail = lookalike_texts.explain(lookalike, url.display_host, registered, imitated, shaped)
    code = Code.DECEPTIVE_URL if lookalike.how in ("subdomain", "embedded") else Code.IMPERSONATION
    return reason(code, severity, rule=f"lookalike:{lookalike.owner}",
                  name=_both_forms(url), platform=imitated, detail=detail)


def _both_forms(url: ParsedUrl) -> str:
    """The host as people read it, and as the browser sends it when they differ (punycode)."""
    if url.display_host == url.host:
        return url.host
    return f"{url.display_host} ({url.host})"


def _link_content_signals(
    policy: Policy, url: ParsedUrl, platform: Platform | None
) -> list[Reason]:
    """Signals from how the link is written: quirks, transport, secrets, lists, YARA rules."""
    found = [reason(Code.DECEPTIVE_URL, sev, detail=detail)
             for quirk, (sev, detail) in _QUIRK_REASONS.items() if quirk in url.quirks] \
        if url.quirks else []
    # Listed URLs carry no fragment (it never leaves the browser); compare without it.
    bad_list = policy.known_bad_urls.get(url.href.partition("#")[0])
    if bad_list is not None:
        found.append(reason(Code.KNOWN_BAD, Severity.CRITICAL, rule=f"domains/{bad_list}",
                            name=url.display_host or url.scheme))
    if url.scheme in policy.links.insecure_schemes:
        severity = Severity.MEDIUM if platform else Severity.LOW
        found.append(reason(Code.INSECURE_TRANSPORT, severity, detail=f"{url.scheme}://"))
    secrets = _secrets_in(policy, url, platform)
    if secrets:
        found.append(reason(Code.SECRET_IN_LINK, Severity.MEDIUM, detail=", ".join(secrets)))
    if policy.url_rules.count and url.scheme in _WEB_SCHEMES:
        found.extend(policy.url_rules.match(url.href.encode("utf-8", "surrogatepass"),
                                            _url_externals(policy, url), timeout=1))
    return found


def _secrets_in(policy: Policy, url: ParsedUrl, platform: Platform | None) -> list[str]:
    names = policy.secrets.meeting_params
    if platform is not None:
        names = names | platform.secret_params
    found = secret_params_in(url.query, names) if url.query else []
    if url.fragment and "=" in url.fragment:
        found += [n for n in secret_params_in(url.fragment, names) if n not in found]
    if url.password:
        found.append("user:password@")
    return found


def _url_externals(policy: Policy, url: ParsedUrl) -> dict[str, str]:
    return {
        "url": url.href,
        "host": url.host,
        "domain": policy.host_facts(url.host).registered if url.host else "",
        "scheme": url.scheme,
        "path": url.path,
        "query": url.query,
    }


def _link_verdict(
    policy: Policy,
    raw: str,
    url: ParsedUrl,
    platform: Platform | None,
    reasons: list[Reason],
    hops: tuple[Hop, ...],
) -> LinkVerdict:
    verdict_class = platform.verdict_class if platform else VerdictClass.UNKNOWN
    domain = policy.host_facts(url.host).registered if url.host_kind is HostKind.DOMAIN else ""
    first = _class_reason(policy, verdict_class, platform, url, domain)
    all_reasons = (first, *reasons)
    action, click_through = policy.actions.decide(
        verdict_class, (r.severity for r in all_reasons), platform.action if platform else None
    )
    target = redact_url(url, policy.secrets.redact_params)
    # A link already written the way the browser writes it needs no second, slower redaction.
    shown = target if raw == url.href else redact_text(raw, policy.secrets.redact_params)
    return LinkVerdict(
        url=shown,
        target=target,
        host=url.host,
        display_host=url.display_host,
        domain=domain,
        verdict_class=verdict_class,
        platform=platform.id if platform else None,
        action=action,
        reasons=all_reasons,
        unwrapped=hops,
        policy_version=policy.version,
        click_through=click_through,
    )


def _class_reason(
    policy: Policy, verdict_class: VerdictClass, platform: Platform | None, url: ParsedUrl,
    domain: str,
) -> Reason:
    if platform is not None and verdict_class is VerdictClass.APPROVED:
        return reason(Code.APPROVED_PLATFORM, Severity.INFO, rule=f"platform:{platform.id}",
                      platform=platform.name)
    if platform is not None:
        return _warned_reason(policy, platform)
    return reason(Code.UNKNOWN_ORIGIN, Severity.LOW,
                  name=url.display_host or domain or f"{url.scheme}:")


@functools.lru_cache(maxsize=256)
def _warned_text(platform: Platform, advisory: Text) -> Text:
    detail = platform.reason or (
        advisory if platform.advisory else Text(
            "use Vmeet or eMeeting MIC (emeeting.mic.gov.vn) for official meetings.",
            "hãy dùng Vmeet hoặc eMeeting của Bộ TT&TT (emeeting.mic.gov.vn) cho họp công vụ.",
        )
    )
    template = Text("{platform} is not a sanctioned meeting platform. ",
                    "{platform} không phải là nền tảng họp được phép. ")
    return Text(template.en.format(platform=platform.name) + detail.en,
                template.vi.format(platform=platform.name) + detail.vi)


def _warned_reason(policy: Policy, platform: Platform) -> Reason:
    return Reason(Code.WARNED_PLATFORM, Severity.MEDIUM,
                  _warned_text(platform, policy.advisory), f"platform:{platform.id}")


# ---------------------------------------------------------------------------------------------
# Files


@dataclass(frozen=True, slots=True)
class FileFacts:
    """What is known of a file without its bytes: hash, size, name, type, where it came from."""

    sha256: str
    size: int | None
    filename: str
    mime: str = ""
    source_url: str | None = None


@dataclass(frozen=True, slots=True)
class ScanResult:
    """The outcome of running the file rules over the bytes: reasons, or why it could not run."""

    reasons: tuple[Reason, ...] = ()
    error: Text | None = None


def scan_bytes(policy: Policy, data: bytes, filename: str, mime: str = "") -> ScanResult:
    """Run the file rules over `data` (blocking: the service calls it in an executor)."""
    if len(data) > policy.files.max_scan_bytes:
        limit = policy.files.max_scan_bytes
        return ScanResult(error=Text(f"the file is larger than the {limit} bytes scanned",
                                     f"tệp lớn hơn giới hạn quét {limit} byte"))
    externals = {"filename": filename, "extension": _extension(filename), "mime": mime}
    try:
        found = policy.file_rules.match(data, externals,
                                        timeout=policy.files.scan_timeout_seconds)
    except ScanError as exc:
        return ScanResult(error=Text(f"the file could not be scanned ({exc})",
                                     f"không quét được tệp ({exc})"))
    return ScanResult(tuple(found))


def classify_file(
    policy: Policy,
    facts: FileFacts,
    *,
    scan: ScanResult | None = None,
    link: Callable[[str], LinkVerdict] | None = None,
) -> FileVerdict:
    """The verdict on a file from its hash, name, origin and (when scanned) its content.

    `link` classifies the source URL (pass a cached classifier); a file that could not be
    scanned is reported `unverifiable`, never clean.
    """
    reasons: list[Reason] = []
    bad_list = policy.hashes.get(facts.sha256.lower())
    if bad_list is not None:
        reasons.append(reason(Code.KNOWN_BAD, Severity.CRITICAL, rule=f"hashes/{bad_list}",
                              name=facts.filename or facts.sha256[:12]))
    reasons.extend(file_name_reasons(policy, facts.filename))
    source = _source_verdict(policy, facts.source_url, link)
    if source is not None:
        reasons.extend(r for r in source.reasons if r.severity.rank >= Severity.MEDIUM.rank
                       and r.code is not Code.WARNED_PLATFORM)
    if scan is not None:
        reasons.extend(scan.reasons)
        if scan.error:
            reasons.append(reason(Code.UNVERIFIABLE, Severity.HIGH, detail=scan.error))
    verdict_class = source.verdict_class if source else VerdictClass.UNKNOWN
    platform = policy.platform(source.platform) if source and source.platform else None
    action, _ = policy.actions.decide(verdict_class, (r.severity for r in reasons),
                                      platform.action if platform else None)
    return FileVerdict(
        sha256=facts.sha256.lower(),
        size=facts.size,
        filename=facts.filename,
        verdict_class=verdict_class,
        action=action,
        reasons=tuple(reasons),
        policy_version=policy.version,
        source=source,
        scanned=scan is not None and scan.error is None,
    )


def _source_verdict(
    policy: Policy, source_url: str | None, link: Callable[[str], LinkVerdict] | None
) -> LinkVerdict | None:
    if not source_url:
        return None
    classify = link or functools.partial(classify_link, policy)
    if source_url.startswith("blob:"):
        # Page-made downloads (blob:) come from the page's origin; their content is what the
        # file rules look at (HTML smuggling), the scheme itself is ordinary here.
        return classify(source_url[5:])
    if source_url.startswith("data:"):
        return None
    return classify(source_url)


_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def _extension(filename: str) -> str:
    name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    return name.rsplit(".", 1)[-1].strip().lower() if "." in name else ""


def file_name_reasons(policy: Policy, filename: str) -> list[Reason]:
    """Reasons a file name alone gives: a type that runs code, or a disguised name.

    >>> from meetguard.policy import load_policy
    >>> [r.severity.value for r in file_name_reasons(load_policy("signatures"), "invite.pdf.exe")]
    ['critical']
    """
    name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    if any(c in _BIDI_CONTROLS for c in name):
        shown = "".join(c for c in name if c not in _BIDI_CONTROLS)
        return [reason(Code.DANGEROUS_FILE_TYPE, Severity.CRITICAL, name=shown, detail=Text(
            "its name hides its real type with right-to-left characters",
            "tên tệp dùng ký tự viết từ phải sang trái để che giấu loại thật"))]
    ext = _extension(name)
    kind = policy.files.dangerous_extensions.get(ext)
    if kind is None:
        return []
    stem = unicodedata.normalize("NFKC", name[: -(len(ext) + 1)])
    decoy = _extension(stem.rstrip(" ._\u00a0"))
    padded = stem != stem.rstrip(" \u00a0") or "   " in stem
    if decoy in policy.files.document_extensions or padded:
        disguise = f".{decoy}" if decoy else "a document"
        return [reason(Code.DANGEROUS_FILE_TYPE, Severity.CRITICAL, name=name, detail=Text(
            f"{kind.en} disguised as {disguise}",
            f"{kind.vi} ngụy trang thành {disguise if decoy else 'tài liệu'}"))]
    return [reason(Code.DANGEROUS_FILE_TYPE, Severity.HIGH, name=name, detail=kind)]


class Classifier:
    """The pure classifier with an in-process verdict cache, bound to one policy snapshot.

    URL verdicts are cached in process only: classifying is cheaper than a network round trip.
    A new snapshot gets a new Classifier, so the cache can never outlive its policy.
    """

    def __init__(self, policy: Policy, *, cache_size: int = 65536) -> None:
        self.policy = policy
        self.link = functools.lru_cache(maxsize=cache_size)(
            functools.partial(classify_link, policy)
        )

    def file(self, facts: FileFacts, scan: ScanResult | None = None) -> FileVerdict:
        return classify_file(self.policy, facts, scan=scan, link=self.link)
