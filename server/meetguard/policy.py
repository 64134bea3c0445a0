"""The policy snapshot: everything in `signatures/`, validated, compiled and versioned.

A snapshot is immutable. Reloading builds a new one and swaps it in; a broken file raises
`SignatureError` naming every problem with its file and line, and the old snapshot stays.
The version is a digest of every signature file, reported with every verdict.
"""

from __future__ import annotations

import functools
import hashlib
import re
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import validators

from .domains import DomainIndex, DomainResolver
from .errors import Problem, SignatureError
from .lookalikes import Lookalike, LookalikeDetector, Protected
from .rules import FILE_EXTERNALS, URL_EXTERNALS, RuleSet, compile_rules
from .urls import DECODERS, InvalidUrl, Wrapper, Wrappers, parse_url
from .verdict import Action, Severity, Text, VerdictClass

SIGNATURE_SUFFIXES = (".toml", ".txt", ".yar")
ORGANISATION = "organisation"
# Real popular domains (never look-alikes) and registries only vetted bodies can use.
REAL_DOMAINS = "lookalike/real_domains.txt"
VETTED_SUFFIXES = "lookalike/vetted_suffixes.txt"


@dataclass(frozen=True, slots=True)
class LinkShape:
    """How a platform's meeting links look (`/j/85012345678` for Zoom), found on another site.

    `alone`: the shape is the platform's so plainly that it is impersonation on any other site;
    otherwise it only confirms a name that is close to the platform's.
    """

    owner: str
    pattern: re.Pattern[str]
    alone: bool = False


class LinkShapes:
    """Every platform's link shapes, compiled once and matched from the start of the path.
    Most links match none, so one combined pattern answers first and the per-platform ones run
    only after it matched."""

    def __init__(self, shapes: Iterable[LinkShape]) -> None:
        shapes = tuple(shapes)
        self._alone = tuple(s for s in shapes if s.alone)
        self._any_alone = _any_of(s.pattern for s in self._alone)
        owners = {s.owner for s in shapes}
        self._by_owner = {o: _any_of(s.pattern for s in shapes if s.owner == o) for o in owners}

    def alone(self, path: str) -> str | None:
        """The platform whose unmistakable link shape `path` has (path and query), or None."""
        if self._any_alone is None or not self._any_alone.match(path):
            return None
        return next(s.owner for s in self._alone if s.pattern.match(path))

    def matches(self, owner: str, path: str) -> bool:
        """True when `path` has any link shape of `owner`."""
        pattern = self._by_owner.get(owner)
        return pattern is not None and pattern.match(path) is not None


def _any_of(patterns: Iterable[re.Pattern[str]]) -> re.Pattern[str] | None:
    sources = [f"(?:{p.pattern})" for p in patterns]
    return re.compile("|".join(sources)) if sources else None


@dataclass(frozen=True, slots=True)
class Platform:
    """A meeting platform (or the organisation itself) and what the policy says of it.

    `related` are domains the platform's owner uses besides (sign-in, CDNs, regional sites):
    never look-alikes, but not the platform either.
    """

    id: str
    name: str
    verdict_class: VerdictClass
    domains: tuple[str, ...]
    schemes: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    secret_params: frozenset[str] = frozenset()
    reason: Text | None = None
    advisory: bool = False
    action: Action | None = None
    note: str = ""
    references: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    link_shapes: tuple[LinkShape, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "class": self.verdict_class.value,
            "domains": list(self.domains),
            "schemes": list(self.schemes),
            "advisory": self.advisory,
        }


@dataclass(frozen=True, slots=True)
class ActionPolicy:
    """How class and reasons become an action (DESIGN.md "Policy")."""

    by_class: Mapping[VerdictClass, Action]
    by_severity: Mapping[Severity, Action]
    click_through: Mapping[VerdictClass, bool]
    override_ttl_seconds: int = 900
    verdict_ttl_seconds: int = 300

    def decide(
        self, verdict_class: VerdictClass, severities: Iterable[Severity],
        platform_action: Action | None = None,
    ) -> tuple[Action, bool]:
        """The action, and whether the person may continue past it.

        >>> p = ActionPolicy({VerdictClass.UNKNOWN: Action.ALLOW},
        ...                  {Severity.CRITICAL: Action.BLOCK}, {VerdictClass.UNKNOWN: True})
        >>> p.decide(VerdictClass.UNKNOWN, [Severity.LOW, Severity.CRITICAL])
        (<Action.BLOCK: 'block'>, False)
        """
        action = platform_action or self.by_class.get(verdict_class, Action.WARN)
        for severity in severities:
            floor = self.by_severity.get(severity)
            if floor is not None and floor.rank > action.rank:
                action = floor
        may_continue = action is Action.WARN and self.click_through.get(verdict_class, False)
        return action, may_continue


@dataclass(frozen=True, slots=True)
class LinkSettings:
    max_url_length: int = 8192
    max_unwrap_depth: int = 5
    insecure_schemes: frozenset[str] = frozenset({"http", "ws", "ftp"})
    dangerous_schemes: frozenset[str] = frozenset({"javascript", "vbscript", "data"})
    inert_schemes: frozenset[str] = frozenset({"mailto", "tel"})


@dataclass(frozen=True, slots=True)
class FileSettings:
    max_scan_bytes: int = 32 * 1024 * 1024
    scan_timeout_seconds: int = 10
    dangerous_extensions: Mapping[str, Text] = field(default_factory=dict)
    document_extensions: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Secrets:
    meeting_params: frozenset[str]
    redact_params: frozenset[str]


class HostFacts(NamedTuple):
    """What the lists say of one host; memoised per snapshot (mail links share few hosts)."""

    registered: str
    platform: Platform | None
    known_bad: str | None  # the list naming it
    lookalike: Lookalike | None
    shortener: bool
    real: bool  # a real registered domain: listed as real, or a platform owner's
    vetted: bool  # registered under a registry only vetted bodies can use (gov.vn)


def host_facts_function(
    resolver: DomainResolver,
    owned: DomainIndex[Platform],
    known_bad: DomainIndex[str],
    lookalikes: LookalikeDetector,
    shorteners: DomainIndex[str],
    *,
    cache_size: int = 65536,
) -> Callable[[str], HostFacts]:
    """One memoised function answering every per-host question of the pipeline."""

    @functools.lru_cache(maxsize=cache_size)
    def host_facts(host: str) -> HostFacts:
        bare = host.rstrip(".")
        platform = owned.lookup(bare)
        info = resolver.info(bare)
        return HostFacts(
            registered=info.registered,
            platform=platform,
            known_bad=known_bad.lookup(bare),
            # A host a platform owns imitates nothing.
            lookalike=None if platform is not None else lookalikes.check(bare, info),
            shortener=shorteners.lookup(bare) is not None,
            real=platform is not None or lookalikes.is_real(info),
            vetted=lookalikes.is_vetted(info),
        )

    return host_facts


@dataclass(frozen=True, slots=True)
class Policy:
    """One immutable, versioned snapshot of the signatures directory."""

    version: str
    directory: str
    loaded_at: float
    platforms: tuple[Platform, ...]
    owned: DomainIndex[Platform]
    schemes: Mapping[str, Platform]
    resolver: DomainResolver
    lookalikes: LookalikeDetector
    wrappers: Wrappers
    shorteners: DomainIndex[str]
    known_bad: DomainIndex[str]
    known_bad_urls: Mapping[str, str]
    hashes: Mapping[str, str]
    url_rules: RuleSet
    file_rules: RuleSet
    actions: ActionPolicy
    links: LinkSettings
    files: FileSettings
    secrets: Secrets
    advisory: Text
    host_facts: Callable[[str], HostFacts]
    shapes: LinkShapes
    warnings: tuple[str, ...] = ()

    def warm(self) -> Policy:
        """Build everything built lazily (a long-running service wants it before serving)."""
        self.lookalikes.warm()
        self.host_facts("warm-up.example")
        return self

    def platform(self, platform_id: str) -> Platform | None:
        return next((p for p in self.platforms if p.id == platform_id), None)

    def summary(self) -> dict[str, Any]:
        """Counts for people: what this snapshot holds."""
        return {
            "version": self.version,
            "directory": self.directory,
            "loaded_at": self.loaded_at,
            "platforms": len(self.platforms),
            "platform_domains": len(self.owned),
            "wrappers": len(self.wrappers),
            "shorteners": len(self.shorteners),
            "known_bad_domains": len(self.known_bad),
            "known_bad_urls": len(self.known_bad_urls),
            "hashes": len(self.hashes),
            "url_rules": self.url_rules.count,
            "file_rules": self.file_rules.count,
        }


def policy_version(directory: Path) -> str:
    """A digest of every signature file (name and content): the policy version."""
    digest = hashlib.sha256()
    for path in _signature_files(directory):
        digest.update(path.relative_to(directory).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _signature_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.suffix in SIGNATURE_SUFFIXES)


def load_policy(directory: str | Path, *, strict: bool = True) -> Policy:
    """Load, validate and compile `directory`, or raise SignatureError listing every problem."""
    root = Path(directory).resolve()
    if not root.is_dir():
        raise SignatureError([Problem(str(root), None, "not a directory")])
    loader = _Loader(root)
    policy = loader.build(strict=strict)
    if loader.problems or policy is None:
        raise SignatureError(loader.problems)
    return policy


def check_signatures(directory: str | Path) -> list[Problem]:
    """Every problem in `directory` (empty when it loads cleanly)."""
    try:
        load_policy(directory)
    except SignatureError as exc:
        return exc.problems
    return []


class _Loader:
    """Reads each file, collecting every problem rather than stopping at the first."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []

    def build(self, *, strict: bool) -> Policy | None:
        policy_doc = self._toml("policy.toml")
        platforms_doc = self._toml("platforms.toml")
        wrappers_doc = self._toml("wrappers.toml", required=False)
        if policy_doc is None or platforms_doc is None:
            return None
        platforms = self._platforms(platforms_doc, policy_doc)
        settings = self._settings(policy_doc)
        wrappers = self._wrappers(wrappers_doc or {})
        url_rules, file_rules = self._rules(strict)
        if self.problems or settings is None:
            return None
        return self._assemble(platforms, settings, wrappers, url_rules, file_rules,
                              platforms_doc, policy_doc)

    def _assemble(self, platforms, settings, wrappers, url_rules, file_rules,
                  platforms_doc, policy_doc) -> Policy:
        resolver = DomainResolver()
        owned = DomainIndex({d: p for p in platforms for d in p.domains})
        schemes = {s: p for p in platforms for s in p.schemes}
        lookalike_doc = policy_doc.get("lookalike", {})
        detector = LookalikeDetector(
            _protected(platforms),
            affixes=lookalike_doc.get("affixes", []),
            exempt=self._real_domains(lookalike_doc, platforms),
            vetted_suffixes=self._lines(VETTED_SUFFIXES, _suffix),
            owned=owned,
            resolver=resolver,
        )
        known_bad, known_bad_urls = self._known_bad()
        shorteners = DomainIndex({d: d for d in self._lines("shorteners.txt", _domain)})
        actions, links, files, secrets = settings
        # Every platform's secret parameters are redacted wherever they appear.
        secrets = Secrets(secrets.meeting_params, secrets.redact_params.union(
            *(p.secret_params for p in platforms)))
        advisory = platforms_doc.get("advisory", {})
        return Policy(
            version=policy_version(self.root),
            directory=str(self.root),
            loaded_at=time.time(),
            platforms=tuple(platforms),
            owned=owned,
            schemes=schemes,
            resolver=resolver,
            lookalikes=detector,
            wrappers=Wrappers(tuple(wrappers)),
            shorteners=shorteners,
            known_bad=known_bad,
            known_bad_urls=known_bad_urls,
            hashes=self._hashes(),
            url_rules=url_rules,
            file_rules=file_rules,
            actions=actions,
            links=links,
            files=files,
            secrets=secrets,
            advisory=Text(advisory.get("reason_en", ""), advisory.get("reason_vi", "")),
            host_facts=host_facts_function(resolver, owned, known_bad, detector, shorteners),
            shapes=LinkShapes(shape for p in platforms for shape in p.link_shapes),
            warnings=tuple(_warnings(platforms)),
        )

    # -- files ---------------------------------------------------------------------------------

    def _toml(self, name: str, *, required: bool = True) -> dict[str, Any] | None:
        path = self.root / name
        if not path.is_file():
            if required:
                self._problem(name, None, "missing")
            return None
        try:
            return tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            line = re.search(r"at line (\d+)", str(exc))
            self._problem(name, int(line.group(1)) if line else None, str(exc))
            return None

    def _problem(self, name: str, line: int | None, message: str) -> None:
        self.problems.append(Problem(str(self.root / name), line, message))

    def _line_of(self, name: str, value: str) -> int | None:
        """The first line of file `name` where `value` is written (TOML keeps no positions).

        A quoted value (either quote) is preferred over a bare mention.
        """
        path = self.root / name
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return None
        bare = value.strip("\"'")
        for needles in ((f'"{bare}"', f"'{bare}'"), (bare,)):
            for number, line in enumerate(lines, 1):
                if any(n in line for n in needles):
                    return number
        return None

    def _lines(self, name: str, parse) -> list[Any]:
        """Non-comment lines of a list file, each parsed; bad lines are problems."""
        path = self.root / name
        if not path.is_file():
            return []
        out = []
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            text = raw.split("#", 1)[0].strip()
            if not text:
                continue
            try:
                out.append(parse(text))
            except ValueError as exc:
                self._problem(str(path.relative_to(self.root)), number, str(exc))
        return out

    # -- sections ------------------------------------------------------------------------------

    def _platforms(self, doc: dict[str, Any], policy_doc: dict[str, Any]) -> list[Platform]:
        platforms = []
        seen: set[str] = set()
        for entry in doc.get("platform", []):
            platform = self._platform(entry)
            if platform is None:
                continue
            if platform.id in seen:
                self._problem("platforms.toml", self._line_of("platforms.toml", platform.id),
                              f"platform id {platform.id!r} is defined twice")
            seen.add(platform.id)
            platforms.append(platform)
        self._check_domain_overlap(platforms)
        org = policy_doc.get("organisation", {})
        org_domains = [self._valid_domain("policy.toml", d) for d in org.get("domains", [])]
        if any(org_domains):
            platforms.append(Platform(
                id=ORGANISATION, name=org.get("name") or "Your organisation",
                verdict_class=VerdictClass.APPROVED,
                domains=tuple(d for d in org_domains if d),
            ))
        return platforms

    def _platform(self, entry: dict[str, Any]) -> Platform | None:
        pid = entry.get("id")
        line = self._line_of("platforms.toml", pid) if isinstance(pid, str) else None
        if not isinstance(pid, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", pid):
            self._problem("platforms.toml", line, f"platform id {pid!r} must be lower-case "
                                                  "letters, digits and hyphens")
            return None
        try:
            verdict_class = VerdictClass(entry.get("class", ""))
            action = Action(entry["action"]) if "action" in entry else None
        except ValueError:
            self._problem("platforms.toml", line, f"platform {pid}: class must be approved or "
                                                  "warned, action allow, warn or block")
            return None
        domains = tuple(d for d in (self._valid_domain("platforms.toml", d)
                                    for d in entry.get("domains", [])) if d)
        reason = None
        if entry.get("reason_en") or entry.get("reason_vi"):
            reason = Text(entry.get("reason_en", ""), entry.get("reason_vi", ""))
        return Platform(
            id=pid,
            name=str(entry.get("name") or pid),
            verdict_class=verdict_class,
            domains=domains,
            schemes=tuple(s.lower() for s in entry.get("schemes", [])),
            brands=tuple(entry.get("brands", [])),
            keywords=tuple(entry.get("keywords", [])),
            secret_params=frozenset(p.lower() for p in entry.get("secret_params", [])),
            reason=reason,
            advisory=bool(entry.get("advisory", False)),
            action=action,
            note=str(entry.get("note", "")),
            references=tuple(entry.get("references", [])),
            related=tuple(d for d in (self._related_domain(d)
                                      for d in entry.get("related", [])) if d),
            link_shapes=tuple(self._link_shapes(pid, entry.get("link_shapes", []))),
        )

    def _related_domain(self, value: object) -> str | None:
        """A related domain: `microsoftonline.com`, or `google.*` for every suffix."""
        if isinstance(value, str) and value.endswith(".*"):
            label = value[:-2].lower()
            if re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", label):
                return f"{label}.*"
        return self._valid_domain("platforms.toml", value)

    def _link_shapes(self, pid: str, entries: object) -> Iterable[LinkShape]:
        for entry in entries if isinstance(entries, list) else [entries]:
            path = entry.get("path") if isinstance(entry, dict) else None
            line = self._line_of("platforms.toml", str(path)) if path else None
            try:
                pattern = re.compile(path) if isinstance(path, str) and path else None
            except re.error as exc:
                self._problem("platforms.toml", line, f"platform {pid}: link shape {path!r} "
                                                      f"is not a valid pattern ({exc})")
                continue
            if pattern is None:
                self._problem("platforms.toml", line,
                              f"platform {pid}: each link shape needs a path pattern, "
                              "e.g. { path = '^/j/\\d+' }")
                continue
            yield LinkShape(pid, pattern, bool(entry.get("alone", False)))

    def _real_domains(self, lookalike_doc: Mapping[str, Any],
                      platforms: Iterable[Platform]) -> set[str]:
        """Registered domains that are never look-alikes: the shipped list of real popular
        domains, the policy's own `allow` list, and every platform's related domains."""
        real = set(self._lines(REAL_DOMAINS, _listed_domain))
        real.update(d for d in (self._valid_domain("policy.toml", d)
                                for d in lookalike_doc.get("allow", [])) if d)
        real.update(d for p in platforms for d in p.related)
        return real

    def _valid_domain(self, name: str, value: object) -> str | None:
        domain = value.lower().rstrip(".") if isinstance(value, str) else ""
        if not domain or validators.domain(domain, consider_tld=False) is not True:
            self._problem(name, self._line_of(name, str(value)),
                          f"{value!r} is not a valid domain name")
            return None
        return domain

    def _check_domain_overlap(self, platforms: list[Platform]) -> None:
        owner: dict[str, str] = {}
        for platform in platforms:
            for domain in platform.domains:
                if domain in owner and owner[domain] != platform.id:
                    self._problem("platforms.toml", self._line_of("platforms.toml", domain),
                                  f"domain {domain} is listed by both {owner[domain]} and "
                                  f"{platform.id}")
                owner[domain] = platform.id

    def _settings(self, doc: dict[str, Any]):
        try:
            return (_action_policy(doc.get("actions", {})), _link_settings(doc.get("links", {})),
                    _file_settings(doc.get("files", {})), _secrets(doc.get("secrets", {})))
        except (ValueError, TypeError) as exc:
            self._problem("policy.toml", None, str(exc))
            return None

    def _wrappers(self, doc: dict[str, Any]) -> list[Wrapper]:
        wrappers = []
        for entry in doc.get("wrapper", []):
            wid = str(entry.get("id", ""))
            line = self._line_of("wrappers.toml", wid)
            decoder = entry.get("decoder", "query")
            hosts = tuple(h for h in (self._valid_domain("wrappers.toml", h)
                                      for h in entry.get("hosts", [])) if h)
            if decoder not in DECODERS or not wid or not hosts:
                self._problem("wrappers.toml", line, f"wrapper {wid!r}: needs an id, hosts and a "
                                                     f"decoder among {', '.join(DECODERS)}")
                continue
            if decoder in ("query", "proofpoint-v2") and not entry.get("params"):
                self._problem("wrappers.toml", line,
                              f"wrapper {wid}: decoder {decoder} needs params")
                continue
            wrappers.append(Wrapper(wid, hosts, tuple(entry.get("paths", [])),
                                    tuple(entry.get("params", [])), decoder))
        return wrappers

    def _rules(self, strict: bool) -> tuple[RuleSet, RuleSet]:
        url_rules, problems = compile_rules(self.root / "yara" / "url", "url", URL_EXTERNALS,
                                            strict=strict)
        self.problems.extend(problems)
        file_rules, problems = compile_rules(self.root / "yara" / "file", "file", FILE_EXTERNALS,
                                             strict=strict)
        self.problems.extend(problems)
        return url_rules, file_rules

    def _known_bad(self) -> tuple[DomainIndex[str], dict[str, str]]:
        domains: dict[str, str] = {}
        urls: dict[str, str] = {}
        folder = self.root / "domains"
        for path in sorted(folder.glob("*.txt")) if folder.is_dir() else []:
            name = path.relative_to(self.root).as_posix()
            for kind, value in self._lines(name, _domain_or_url):
                (urls if kind == "url" else domains).setdefault(value, path.stem)
        return DomainIndex(domains), urls

    def _hashes(self) -> dict[str, str]:
        hashes: dict[str, str] = {}
        folder = self.root / "hashes"
        for path in sorted(folder.glob("*.txt")) if folder.is_dir() else []:
            for value in self._lines(path.relative_to(self.root).as_posix(), _sha256):
                hashes.setdefault(value, path.stem)
        return hashes


# -- small parsers (pure) -------------------------------------------------------------------------


_LISTED_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")


def _listed_domain(text: str) -> str:
    """A domain of a generated list (thousands of lines): one pattern, not a validator call
    per line, so a start loads it in milliseconds."""
    domain = text.lower().rstrip(".")
    if not _LISTED_DOMAIN.fullmatch(domain):
        raise ValueError(f"{text!r} is not a valid domain name")
    return domain


def _domain(text: str) -> str:
    domain = text.lower().rstrip(".")
    if validators.domain(domain, consider_tld=False) is not True:
        raise ValueError(f"{text!r} is not a valid domain name")
    return domain


def _suffix(text: str) -> str:
    """A public suffix: `gov.vn`, or a bare top-level label such as `gov`."""
    suffix = text.lower().strip(".")
    if not re.fullmatch(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*", suffix):
        raise ValueError(f"{text!r} is not a domain suffix (e.g. gov.vn, or gov)")
    return suffix


def _warnings(platforms: Iterable[Platform]) -> Iterable[str]:
    """What is not wrong but leaves a gap an operator should know of."""
    for platform in platforms:
        if platform.verdict_class is VerdictClass.APPROVED and not platform.domains:
            yield (f"platform {platform.id} ({platform.name}) is sanctioned but has no domains: "
                   f"links to it are 'unknown' until you add its host(s) to platforms.toml "
                   f"(domains = [\"…\"]) and reload")


def _domain_or_url(text: str) -> tuple[str, str]:
    if "://" in text:
        try:
            return "url", parse_url(text).href.partition("#")[0]
        except InvalidUrl as exc:
            raise ValueError(f"{text!r} is not a valid URL: {exc.detail}") from None
    return "domain", _domain(text)


def _sha256(text: str) -> str:
    value = text.lower()
    if validators.hashes.sha256(value) is not True:
        raise ValueError(f"{text!r} is not a SHA-256 (64 hexadecimal digits)")
    return value


def _action_policy(doc: Mapping[str, Any]) -> ActionPolicy:
    by_class = {c: Action(doc.get(c.value, default)) for c, default in
                ((VerdictClass.APPROVED, "allow"), (VerdictClass.WARNED, "warn"),
                 (VerdictClass.UNKNOWN, "allow"))}
    by_severity = {Severity(k): Action(v) for k, v in doc.get("severity", {}).items()}
    click = doc.get("click_through", {})
    click_through = {c: bool(click.get(c.value, c is not VerdictClass.APPROVED))
                     for c in VerdictClass}
    return ActionPolicy(by_class, by_severity, click_through,
                        _positive(doc, "override_ttl_seconds", 900),
                        _positive(doc, "verdict_ttl_seconds", 300))


def _positive(doc: Mapping[str, Any], key: str, default: int) -> int:
    value = doc.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{key} must be a positive whole number, not {value!r}")
    return value


def _link_settings(doc: Mapping[str, Any]) -> LinkSettings:
    base = LinkSettings()
    return LinkSettings(
        max_url_length=_positive(doc, "max_url_length", base.max_url_length),
        max_unwrap_depth=_positive(doc, "max_unwrap_depth", base.max_unwrap_depth),
        insecure_schemes=frozenset(doc.get("insecure_schemes", base.insecure_schemes)),
        dangerous_schemes=frozenset(doc.get("dangerous_schemes", base.dangerous_schemes)),
        inert_schemes=frozenset(doc.get("inert_schemes", base.inert_schemes)),
    )


def _file_settings(doc: Mapping[str, Any]) -> FileSettings:
    base = FileSettings()
    return FileSettings(
        max_scan_bytes=_positive(doc, "max_scan_bytes", base.max_scan_bytes),
        scan_timeout_seconds=_positive(doc, "scan_timeout_seconds", base.scan_timeout_seconds),
        dangerous_extensions={k.lower(): _text(v) for k, v in
                              doc.get("dangerous_extensions", {}).items()},
        document_extensions=frozenset(e.lower() for e in doc.get("document_extensions", [])),
    )


def _text(value: object) -> Text:
    """A description in both languages: `["English", "Tiếng Việt"]`, or one string for both."""
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return Text(value[0], value[1])
    if isinstance(value, str):
        return Text(value, value)
    raise ValueError(f"{value!r} must be a string or [english, vietnamese]")


def _secrets(doc: Mapping[str, Any]) -> Secrets:
    meeting = frozenset(p.lower() for p in doc.get("meeting_params", []))
    redact = frozenset(p.lower() for p in doc.get("redact_params", [])) | meeting
    return Secrets(meeting, redact)


def _protected(platforms: Iterable[Platform]) -> list[Protected]:
    protected = []
    for platform in platforms:
        sanctioned = platform.verdict_class is VerdictClass.APPROVED
        protected += [Protected(platform.id, d, False, sanctioned) for d in platform.domains]
        protected += [Protected(platform.id, b, True, sanctioned) for b in platform.brands]
        protected += [Protected(platform.id, k, True, sanctioned, typos=False)
                      for k in platform.keywords]
    return protected
