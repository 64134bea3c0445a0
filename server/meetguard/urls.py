"""Parsing links exactly as a browser does, unwrapping redirectors, and redacting secrets.

Hosts come from the WHATWG URL standard (the `ada-url` parser), never from `urllib.parse`: the
two disagree on backslashes, tabs and newlines, percent-encoded hosts, IPv4 shorthand and `@`
tricks, and every disagreement is a way to make a malicious link look approved. Pure: no I/O.
"""

from __future__ import annotations

import base64
import functools
import re
import string
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple
from urllib.parse import unquote

import ada_url
from ada_url.ada_adapter import ffi as _ffi
from ada_url.ada_adapter import lib as _lib

DEFAULT_MAX_URL_LENGTH = 8192

# WHATWG: leading and trailing C0 controls and spaces are stripped, tabs and newlines removed.
_C0_SPACE = "".join(chr(c) for c in range(0x21))
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_UNC = re.compile(r"^\\\\([^\\/?#]+)(?:[\\/](.*))?$", re.DOTALL)
_BARE_HOST = re.compile(
    r"^(?:[A-Za-z0-9\-]+\.)+[A-Za-z][A-Za-z0-9\-]*\.?(?::\d{1,5})?(?:[/?#].*)?$", re.DOTALL
)
_AUTHORITY = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[\\/]*([^\\/?#]*)")
_SPECIAL_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp", "file"})


class HostKind(StrEnum):
    DOMAIN = "domain"
    IPV4 = "ipv4"
    IPV6 = "ipv6"
    OPAQUE = "opaque"  # non-special schemes: the host is not normalised by the browser
    NONE = "none"


class Quirk(StrEnum):
    """Things in how a link is written that a browser silently accepts, and people misread."""

    WHITESPACE = "whitespace"  # tab/newline inside the link, removed by the browser
    BACKSLASH = "backslash"  # `\` read as `/` in the authority
    ENCODED_HOST = "encoded-host"  # percent-escapes in the host
    NUMERIC_HOST = "numeric-host"  # IPv4 written in hex, octal or shorthand
    USERINFO = "userinfo"  # `user:pass@` before the host
    UNC = "unc"  # a Windows UNC path `\\host\share`
    BARE_HOST = "bare-host"  # no scheme: read as http:// like mail clients do


class InvalidUrl(ValueError):
    """Not a URL a browser would open; `detail` says why in plain words."""

    code = "invalid-url"

    def __init__(self, detail: str, vi: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.vi = vi or detail


class ParsedUrl(NamedTuple):
    """A link as the browser sees it (a NamedTuple: immutable and cheap to build).

    `host` is the canonical ASCII host (IDNA/UTS-46 applied, punycode kept; IPv6 in brackets),
    `display_host` the same host decoded for people, `scheme` without the colon.
    """

    href: str
    scheme: str
    username: str
    password: str
    host: str
    display_host: str
    host_kind: HostKind
    port: str
    path: str
    query: str  # without the leading "?"
    fragment: str  # without the leading "#"
    quirks: frozenset[Quirk]

    @property
    def is_web(self) -> bool:
        return self.scheme in ("http", "https")


def parse_url(
    raw: str, *, base: str | None = None, max_length: int = DEFAULT_MAX_URL_LENGTH
) -> ParsedUrl:
    """Parse `raw` the way a browser would, or raise `InvalidUrl`.

    With `base` (the page a link is on), `raw` may be relative, as in an `href` attribute.
    Without it, UNC paths and scheme-less host names are recognised explicitly.

    >>> parse_url("https://ZOOM.us./j/1").host
    'zoom.us.'
    >>> parse_url("http://0x7f.1/").host, sorted(map(str, parse_url("http://0x7f.1/").quirks))
    ('127.0.0.1', ['numeric-host'])
    >>> parse_url(r"\\\\fileserver\\share\\invite.lnk").href
    'file://fileserver/share/invite.lnk'
    """
    if not isinstance(raw, str):
        raise InvalidUrl("not text", "không phải văn bản")
    if len(raw) > max_length:
        raise InvalidUrl(f"longer than {max_length} characters", f"dài hơn {max_length} ký tự")
    text = raw.strip(_C0_SPACE)
    quirks: set[Quirk] = set()
    if "\t" in text or "\n" in text or "\r" in text:
        quirks.add(Quirk.WHITESPACE)
        text = text.replace("\t", "").replace("\n", "").replace("\r", "")
    if not text and base is None:
        raise InvalidUrl("empty", "trống")
    if base is None:
        text = _recognise_non_urls(text, quirks)
    return _from_ada(text, base, quirks)


def _recognise_non_urls(text: str, quirks: set[Quirk]) -> str:
    """UNC paths and scheme-less hosts, which mail clients turn into links."""
    if text.startswith(("https://", "http://")):
        return text  # the common case, decided without a regular expression
    unc = _UNC.match(text)
    if unc:
        quirks.add(Quirk.UNC)
        rest = (unc.group(2) or "").replace("\\", "/")
        return f"file://{unc.group(1)}/{rest}"
    scheme = _SCHEME.match(text)
    # "zoom.us:443/j/1" looks like scheme "zoom.us"; real schemes carry no dot in practice.
    if (scheme is None or "." in scheme.group(1)) and _BARE_HOST.match(text):
        quirks.add(Quirk.BARE_HOST)
        return "http://" + text
    if scheme is None:
        raise InvalidUrl("no scheme and not a host name",
                         "không có giao thức và không phải tên miền")
    return text


# ada-url's own cffi binding, used directly: one C call per component instead of a Python
# property lookup each (a third of the parse cost). The version is pinned in pyproject.toml.
_OMITTED = 0xFFFFFFFF


def _ada_str(value: object) -> str:
    length = value.length  # type: ignore[attr-defined]
    return _ffi.buffer(value.data, length)[:].decode() if length else ""  # type: ignore[attr-defined]


def _from_ada(text: str, base: str | None, quirks: set[Quirk]) -> ParsedUrl:
    """Parse with ada-url and read every component in a handful of C calls."""
    try:
        data = text.encode("utf-8")
        base_data = base.encode("utf-8") if base is not None else b""
    except UnicodeEncodeError:
        raise InvalidUrl("the link is not valid text",
                         "liên kết không phải văn bản hợp lệ") from None
    if base is None:
        handle = _lib.ada_parse(data, len(data))
    else:
        handle = _lib.ada_parse_with_base(data, len(data), base_data, len(base_data))
    try:
        if not _lib.ada_is_valid(handle):
            raise InvalidUrl("the browser cannot parse it", "trình duyệt không đọc được")
        parts = _lib.ada_get_components(handle)
        href = _ada_str(_lib.ada_get_href(handle))  # always ASCII: byte offsets = char offsets
        hostname = _ada_str(_lib.ada_get_hostname(handle))
        host_type = _lib.ada_get_host_type(handle)
        username = password = port = ""
        if _lib.ada_has_credentials(handle):
            username = _ada_str(_lib.ada_get_username(handle))
            password = _ada_str(_lib.ada_get_password(handle))
        if _lib.ada_has_port(handle):
            port = _ada_str(_lib.ada_get_port(handle))
        protocol_end, path_start = parts.protocol_end, parts.pathname_start
        search_start, hash_start = parts.search_start, parts.hash_start
    finally:
        _lib.ada_free(handle)
    scheme = href[: protocol_end - 1]
    kind = _host_kind(host_type, scheme, hostname)
    display = hostname
    if kind is HostKind.DOMAIN and "xn--" in hostname:
        _check_punycode(hostname)
        display = ada_url.idna_to_unicode(hostname)
    if scheme in _SPECIAL_SCHEMES and (kind is HostKind.IPV4 or "%" in text or "\\" in text):
        quirks.update(_authority_quirks(text, hostname, kind))
    if username or password:
        quirks.add(Quirk.USERINFO)
    end = len(href)
    if hash_start == _OMITTED:
        hash_start = end
    if search_start == _OMITTED:
        search_start = hash_start
    return ParsedUrl(href, scheme, username, password, hostname, display, kind, port,
                     href[path_start:search_start], href[search_start + 1 : hash_start],
                     href[hash_start + 1 :], frozenset(quirks) if quirks else _NO_QUIRKS)


_NO_QUIRKS: frozenset[Quirk] = frozenset()


_IPV4, _IPV6 = int(ada_url.HostType.IPV4), int(ada_url.HostType.IPV6)


def _host_kind(host_type: int, scheme: str, hostname: str) -> HostKind:
    if not hostname:
        return HostKind.NONE
    if host_type == _IPV4:
        return HostKind.IPV4
    if host_type == _IPV6:
        return HostKind.IPV6
    return HostKind.DOMAIN if scheme in _SPECIAL_SCHEMES else HostKind.OPAQUE


def _check_punycode(hostname: str) -> None:
    """Reject `xn--` labels that do not decode to a valid IDNA label (WHATWG via UTS-46).

    ada-url accepts them; browsers do not, and an undecodable label cannot be checked for
    homoglyphs, so it must not pass as "some host".
    """
    for label in hostname.split("."):
        if not label.startswith("xn--"):
            continue
        try:
            decoded = label[4:].encode("ascii").decode("punycode")
        except (UnicodeError, ValueError):
            raise InvalidUrl(f"the host label {label!r} is not valid punycode",
                             f"nhãn tên miền {label!r} không phải punycode hợp lệ") from None
        if not decoded or decoded.isascii() or ada_url.idna_to_ascii(decoded) != label.encode():
            raise InvalidUrl(f"the host label {label!r} is not a valid internationalised name",
                             f"nhãn tên miền {label!r} không phải tên quốc tế hợp lệ")


def _authority_quirks(text: str, hostname: str, kind: HostKind) -> set[Quirk]:
    found: set[Quirk] = set()
    match = _AUTHORITY.match(text)
    if match is None:
        return found
    if "\\" in text[: match.end() + 1]:
        found.add(Quirk.BACKSLASH)
    raw_host = match.group(1).rpartition("@")[2]
    if "%" in raw_host:
        found.add(Quirk.ENCODED_HOST)
    if kind is HostKind.IPV4:
        bare = raw_host.rsplit(":", 1)[0] if raw_host.count(":") == 1 else raw_host
        if bare.rstrip(".") != hostname:
            found.add(Quirk.NUMERIC_HOST)
    return found


# ---------------------------------------------------------------------------------------------
# Redirect unwrapping: the destination is in the URL itself, so it is decoded, never fetched.


@dataclass(frozen=True, slots=True)
class Wrapper:
    """A redirector whose destination is carried in the link (signatures/wrappers.toml)."""

    id: str
    hosts: tuple[str, ...]
    paths: tuple[str, ...]  # path prefixes; empty means any path
    params: tuple[str, ...]  # query parameters that carry the destination, first found wins
    decoder: str  # "query" | "proofpoint-v2" | "proofpoint-v3" | "path"


DECODERS = ("query", "proofpoint-v2", "proofpoint-v3", "path")


class Wrappers:
    """The redirectors of a policy, indexed by host: finding one costs a few dict lookups."""

    def __init__(self, wrappers: tuple[Wrapper, ...], *, cache_size: int = 65536) -> None:
        self.all = wrappers
        self._by_host: dict[str, list[Wrapper]] = {}
        for wrapper in wrappers:
            for host in wrapper.hosts:
                self._by_host.setdefault(host, []).append(wrapper)
        self._for_host = functools.lru_cache(maxsize=cache_size)(self._candidates)

    def __len__(self) -> int:
        return len(self.all)

    def find(self, url: ParsedUrl) -> Wrapper | None:
        """The wrapper `url` is an instance of: genuine host (or subdomain) and path."""
        if not url.is_web:
            return None
        for wrapper in self._for_host(url.host):
            if not wrapper.paths or url.path.startswith(wrapper.paths):
                return wrapper
        return None

    def _candidates(self, host: str) -> tuple[Wrapper, ...]:
        """Wrappers whose hosts `host` equals or is a subdomain of, most specific first."""
        found: list[Wrapper] = []
        current = host.rstrip(".")
        while current:
            found.extend(self._by_host.get(current, ()))
            current = current.partition(".")[2]
        return tuple(found)


def decode_wrapped(url: ParsedUrl, wrapper: Wrapper) -> str | None:
    """The destination a redirector link carries, or None when it cannot be read.

    >>> w = Wrapper("google", ("google.com",), ("/url",), ("q", "url"), "query")
    >>> decode_wrapped(parse_url("https://www.google.com/url?q=https%3A%2F%2Fzoom.us%2Fj%2F1"), w)
    'https://zoom.us/j/1'
    """
    try:
        if wrapper.decoder == "query":
            return _query_param(url.query, wrapper.params)
        if wrapper.decoder == "proofpoint-v2":
            value = _query_param(url.query, wrapper.params)
            return unquote(value.replace("-", "%").replace("_", "/")) if value else None
        if wrapper.decoder == "proofpoint-v3":
            return _decode_proofpoint_v3(url.href)
        if wrapper.decoder == "path":
            tail = url.path.rsplit("/", 1)[-1]
            return unquote(tail) if tail else None
    except (ValueError, IndexError, UnicodeError):
        return None
    return None


def _query_param(query: str, names: tuple[str, ...]) -> str | None:
    if not query:
        return None
    params = ada_url.URLSearchParams(query)
    for name in names:
        if params.has(name):
            return params.get(name) or None
    return None


_PP_V3 = re.compile(r"/v3/__(?P<url>.+?)__;(?P<enc>[^!]*)!")
_PP_V3_TOKEN = re.compile(r"\*(\*.)?")
# Proofpoint v3 run-length markers: "**A" stands for 2 characters, "**B" for 3, and so on.
_PP_V3_RUNS = {c: i + 2 for i, c in enumerate(string.ascii_uppercase + string.ascii_lowercase
                                                + string.digits + "-_")}


def _decode_proofpoint_v3(href: str) -> str | None:
    """URL Defense v3: `__<url>__;<base64 of the characters replaced by *>!!…`."""
    match = _PP_V3.search(href)
    if match is None:
        return None
    embedded = unquote(match.group("url"))
    enc = match.group("enc")
    chars = base64.urlsafe_b64decode(enc + "=" * (-len(enc) % 4)).decode("utf-8") if enc else ""
    out: list[str] = []
    pos = 0
    last = 0
    for token in _PP_V3_TOKEN.finditer(embedded):
        out.append(embedded[last : token.start()])
        run = 1 if token.group(1) is None else _PP_V3_RUNS[token.group(1)[1]]
        if pos + run > len(chars):
            return None
        out.append(chars[pos : pos + run])
        pos += run
        last = token.end()
    out.append(embedded[last:])
    return "".join(out)


class Unwrapped(NamedTuple):
    """The innermost destination and the redirectors passed on the way."""

    url: ParsedUrl
    hops: tuple[tuple[str, str], ...]  # (wrapper id, wrapper host)
    too_deep: bool
    undecodable: str | None  # id of a wrapper whose destination could not be read


def unwrap(
    url: ParsedUrl,
    wrappers: Wrappers,
    *,
    max_depth: int = 5,
    max_length: int = DEFAULT_MAX_URL_LENGTH,
) -> Unwrapped:
    """Follow redirectors (Safe Links, Google /url, URL Defense…) down to the destination.

    Only the genuine redirector hosts are unwrapped: `evil.example/url?q=<approved>` stays
    `evil.example`. Depth is bounded because wrappers nest and a crafted link must not loop.
    """
    hops: list[tuple[str, str]] = []
    current = url
    while True:
        wrapper = wrappers.find(current)
        if wrapper is None:
            return Unwrapped(current, tuple(hops), False, None)
        if len(hops) >= max_depth:
            return Unwrapped(current, tuple(hops), True, None)
        inner = decode_wrapped(current, wrapper)
        try:
            nested = parse_url(inner, max_length=max_length) if inner else None
        except InvalidUrl:
            nested = None
        if nested is None:
            return Unwrapped(current, tuple(hops), False, wrapper.id)
        hops.append((wrapper.id, current.host))
        current = nested


# ---------------------------------------------------------------------------------------------
# Secrets: meeting passwords and tokens are redacted before anything is stored or shown.

REDACTED = "REDACTED"


def secret_params_in(query: str, names: frozenset[str]) -> list[str]:
    """Names of the query parameters of `query` that are secrets, in order.

    >>> secret_params_in("confno=1&PWD=abc&tk=x", frozenset({"pwd", "tk"}))
    ['pwd', 'tk']
    """
    found = []
    for name in param_names(query):
        if name in names and name not in found:
            found.append(name)
    return found


def param_names(query: str) -> list[str]:
    """The parameter names of `query`, decoded and lower-cased.

    >>> param_names("a=1&P%57D=x&flag")
    ['a', 'pwd', 'flag']
    """
    if "%" in query:
        return [unquote(pair.partition("=")[0]).lower() for pair in query.split("&")]
    return [pair.partition("=")[0].lower() for pair in query.split("&")]


def redact_query(query: str, names: frozenset[str]) -> str:
    """`query` with the values of secret parameters replaced.

    >>> redact_query("j=1&pwd=s3cret&x=2", frozenset({"pwd"}))
    'j=1&pwd=REDACTED&x=2'
    """
    pairs = query.split("&")
    for i, pair in enumerate(pairs):
        name, eq, _ = pair.partition("=")
        if eq and unquote(name).lower() in names:
            pairs[i] = f"{name}={REDACTED}"
    return "&".join(pairs)


def redact_url(url: ParsedUrl, names: frozenset[str]) -> str:
    """The link with its userinfo password and secret parameters (query and fragment) redacted."""
    has_secret = url.password or _any_secret(url.query, names) or _any_secret(url.fragment, names)
    if not has_secret:
        return url.href
    out = ada_url.URL(url.href)
    if url.password:
        out.password = REDACTED
    if url.query:
        out.search = redact_query(url.query, names)
    if url.fragment:
        out.hash = redact_query(url.fragment, names)
    return out.href


def _any_secret(query: str, names: frozenset[str]) -> bool:
    return bool(query) and not names.isdisjoint(param_names(query))


def redact_text(text: str, names: frozenset[str]) -> str:
    """Redact secrets anywhere in free text, including inside encoded, wrapped links.

    Used for what a person typed or pasted (the `url` echoed back and logged), where a secret
    may sit inside a percent-encoded redirector parameter. Over-redaction is the safe failure.

    >>> redact_text("https://x.safelinks.protection.outlook.com/?url=https%3A%2F%2Fzoom.us"
    ...             "%2Fj%2F1%3Fpwd%3Dabc%26x%3D1", frozenset({"pwd"}))
    'https://x.safelinks.protection.outlook.com/?url=https%3A%2F%2Fzoom.us%2Fj%2F1%3Fpwd%3DREDACTED%26x%3D1'
    >>> redact_text("https://bob:hunter2@example.com/", frozenset())
    'https://bob:REDACTED@example.com/'
    """
    if "@" in text:
        text = _USERINFO_PASSWORD.sub(rf"\g<1>{REDACTED}\g<3>", text)
    if not names or ("=" not in text and "3d" not in text.lower()):
        return text
    pattern = _secret_pattern(names)
    return pattern.sub(rf"\g<1>{REDACTED}", text)


_USERINFO_PASSWORD = re.compile(r"(//[^/@:\s?#]*:)([^/@\s?#]+)(@)")


@functools.lru_cache(maxsize=64)
def _secret_pattern(names: frozenset[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    # Separators in plain, percent-encoded, double-encoded and Proofpoint-v2 ("-26") forms.
    return re.compile(
        r"(?i)((?:^|[?&;#]|%26|%3f|%23|%2526|%253f|-26|-3f)(?:" + alternatives + r")"
        r"(?:=|%3d|%253d|-3d))(.*?)(?=$|[&#\s]|%26|%2526|%23|-26)"
    )
