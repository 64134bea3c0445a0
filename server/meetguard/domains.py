"""Registered domains, platform matching and look-alike detection. Pure: no I/O.

The registered domain comes from tldextract built on its *bundled* Public Suffix List snapshot
(`suffix_list_urls=()`): classifying a link never touches the network.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Generic, NamedTuple, TypeVar

T = TypeVar("T")


class DomainInfo(NamedTuple):
    """A host split at its public suffix.

    For `us02web.zoom.us`: `registered` is `zoom.us`, `label` is `zoom`, `suffix` is `us`,
    `subdomain` is `us02web`. `registered` is empty when the host is itself a public suffix.
    """

    host: str
    registered: str
    label: str
    suffix: str
    subdomain: str


class DomainResolver:
    """Registered domains from the bundled Public Suffix List (ICANN and private sections).

    Private-section suffixes (`blogspot.com`, `github.io`…) count: every site under them has its
    own owner, so `zoom.github.io` is not GitHub's.
    """

    def __init__(self) -> None:
        self._extractor: Any = None

    def _extract(self, host: str) -> Any:
        # Built on first use: tldextract (and the requests it imports) costs ~0.2 s to load,
        # which `meetguard scan` of local files never needs. Two threads racing here build
        # two equal extractors; either is fine.
        if self._extractor is None:
            import tldextract

            self._extractor = tldextract.TLDExtract(
                suffix_list_urls=(),  # bundled snapshot only: never the network
                cache_dir=None,
                fallback_to_snapshot=True,
                include_psl_private_domains=True,
            )
        return self._extractor.extract_str(host)

    def info(self, host: str) -> DomainInfo:
        """The host split at its public suffix (not memoised: the policy's host memo is)."""
        host = host.rstrip(".").lower()
        # A single label is at most a TLD, and an empty label makes no domain at all.
        if "." not in host or host.startswith(".") or ".." in host:
            return DomainInfo(host, "", "", "", "")
        parts = self._extract(host)
        label, suffix, sub = parts.domain, parts.suffix, parts.subdomain
        if not suffix and "." in host:
            # PSL's default rule "*": an unlisted TLD is itself the public suffix.
            sub_and_label, _, suffix = host.rpartition(".")
            sub, _, label = sub_and_label.rpartition(".")
        if not label:
            return DomainInfo(host, "", "", suffix, sub)
        return DomainInfo(host, f"{label}.{suffix}" if suffix else label, label, suffix, sub)


class DomainIndex(Generic[T]):
    """Maps domains to values; a host matches a domain when it equals it or is a subdomain.

    >>> index = DomainIndex({"zoom.us": "zoom"})
    >>> [index.lookup(h) for h in ("us02web.zoom.us", "zoom.us.evil.example", "zoom.us")]
    ['zoom', None, 'zoom']
    """

    def __init__(self, entries: Mapping[str, T]) -> None:
        self._map = {d.lower().rstrip("."): v for d, v in entries.items()}

    def lookup(self, host: str) -> T | None:
        if not self._map:
            return None
        current = host.rstrip(".")
        while True:
            found = self._map.get(current)
            if found is not None:
                return found
            dot = current.find(".")
            if dot < 0:
                return None
            current = current[dot + 1 :]

    def __len__(self) -> int:
        return len(self._map)

    def domains(self) -> list[str]:
        return sorted(self._map)


# ---------------------------------------------------------------------------------------------
# Skeletons: what a name looks like, so that look-alikes compare equal (Unicode TR39 idea).

# Digits and symbols people read as letters in a domain name.
_LOOKS_LIKE = str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t",
                             "8": "b", "9": "g", "$": "s", "@": "a", "|": "l"})
_MULTI = (("rn", "m"), ("vv", "w"), ("cl", "d"))


@functools.cache
def _confusables_to_ascii() -> dict[int, str]:
    """Every character the Unicode confusables table says looks like an ASCII letter or digit.

    The table is the maintained copy of Unicode's confusables.txt shipped by
    `confusable-homoglyphs`; built once per process on first use, not at import.
    """
    text = resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    table: dict[int, str] = {}
    for char, homoglyphs in json.loads(text).items():
        if len(char) != 1 or char.isascii():
            continue
        ascii_forms = [h["c"] for h in homoglyphs if len(h["c"]) == 1 and h["c"].isascii()
                       and h["c"].isalnum()]
        if ascii_forms:
            table[ord(char)] = ascii_forms[0].lower()
    return table


def skeleton(text: str) -> str:
    """What `text` looks like, reduced to plain ASCII letters.

    >>> [skeleton(t) for t in ("zооm", "ZO0M", "mіcrosоft", "zôom", "rnicrosoft")]
    ['zoom', 'zoom', 'microsoft', 'zoom', 'microsoft']
    """
    if text.isascii():
        text = text.lower()  # NFKC and casefold are the identity/lower() on ASCII
    else:
        text = unicodedata.normalize("NFKC", text).casefold()
        text = text.translate(_confusables_to_ascii())
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    text = text.translate(_LOOKS_LIKE)
    for many, one in _MULTI:
        text = text.replace(many, one)
    return text


# ---------------------------------------------------------------------------------------------
# Typos: one slip of the finger or the eye.

_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
_LOOK_ALIKE_PAIRS = ("il", "uv", "ce", "vw", "oa")


@functools.cache
def _near_keys() -> frozenset[tuple[str, str]]:
    """Pairs of keys next to each other on a QWERTY keyboard, plus letters that look alike."""
    position = {c: (r, i) for r, row in enumerate(_ROWS) for i, c in enumerate(row)}
    pairs = set()
    for a, (ra, ia) in position.items():
        for b, (rb, ib) in position.items():
            same_row = ra == rb and abs(ia - ib) == 1
            next_row = abs(ra - rb) == 1 and (ib - ia) in ((0, 1) if rb < ra else (-1, 0))
            if a != b and (same_row or next_row):
                pairs.add((a, b))
    for a, b in _LOOK_ALIKE_PAIRS:
        pairs.update({(a, b), (b, a)})
    return frozenset(pairs)


def is_typo(candidate: str, name: str) -> bool:
    """True when `candidate` is `name` with one typing slip.

    A slip is a missing, doubled or extra letter, two swapped neighbours, or one letter replaced
    by a key next to it or a letter that looks alike. Replacing a letter by an unrelated one is
    not a slip: `loom` and `room` are not typos of `zoom`.

    >>> [is_typo(c, "zoom") for c in ("zooom", "zom", "ozom", "zoon", "xoom", "loom", "zoom")]
    [True, True, True, True, True, False, False]
    """
    la, lb = len(candidate), len(name)
    if candidate == name or abs(la - lb) > 1:
        return False
    if la == lb:
        diffs = [i for i in range(la) if candidate[i] != name[i]]
        if len(diffs) == 1:
            i = diffs[0]
            return (candidate[i], name[i]) in _near_keys()
        if len(diffs) == 2:
            i, j = diffs
            return j == i + 1 and candidate[i] == name[j] and candidate[j] == name[i]
        return False
    short, long = (candidate, name) if la < lb else (name, candidate)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1 :]


def _deletions(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


# ---------------------------------------------------------------------------------------------
# Look-alikes of protected names (platform domains and brands, the organisation's own domains).


@dataclass(frozen=True, slots=True)
class Protected:
    """A name to protect and who owns it (a platform id, or "organisation")."""

    owner: str
    name: str  # a domain ("zoom.us") or a brand word ("zoom")
    is_brand: bool
    sanctioned: bool = False  # imitating a sanctioned platform is the more dangerous lie
    typos: bool = True  # False for common words ("teams"): only exact use counts, no typos


@dataclass(frozen=True, slots=True)
class Lookalike:
    """A host that imitates a protected name; `how` is homoglyph|typo|brand|subdomain."""

    owner: str
    imitated: str
    how: str
    critical: bool


_TOKEN_SPLIT = re.compile(r"[-_.]+")


class LookalikeDetector:
    """Finds hosts that imitate protected names, with indexes so each check is a few lookups.

    `affixes` are lure words attackers glue to a brand ("zoom-us", "joinzoommeeting");
    `allowed` are real registered domains that resemble a brand but are not look-alikes
    (zoominfo.com, loom.com): IT tunes precision there, not in code.
    """

    def __init__(
        self,
        protected: Iterable[Protected],
        *,
        affixes: Iterable[str],
        allowed: Iterable[str],
        owned: DomainIndex[str],
        resolver: DomainResolver,
    ) -> None:
        self._resolver = resolver
        self._owned = owned
        self._allowed = frozenset(a.lower() for a in allowed)
        self._affixes = frozenset(skeleton(a) for a in affixes)
        self._protected = tuple(protected)
        self._built = False
        self._building = threading.Lock()

    def warm(self) -> None:
        """Build the indexes now (the service does at load; the CLI on first use)."""
        with self._building:
            if not self._built:
                self._build()

    def _build(self) -> None:
        self._brands: dict[str, Protected] = {}
        self._exact_only: set[str] = set()
        self._domains: dict[str, Protected] = {}  # skeleton of a registered domain -> owner
        self._registered: set[str] = set()  # the real registered domains behind protected ones
        self._full_domains: set[str] = set()
        for item in self._protected:
            self._add(item)
        self._brand_pattern = _alternation(self._brands)
        # Typos of short names are mostly other words (zoo, room): a short brand only counts
        # through its whole domain (zom.us for zoom.us), a longer one anywhere (gotometing.net).
        typo_prone = {k: v for k, v in self._brands.items() if k not in self._exact_only}
        self._brand_typos = _TypoIndex(typo_prone, min_length=6)
        self._domain_typos = _TypoIndex(self._domains, min_length=6)
        self._built = True

    def _add(self, item: Protected) -> None:
        if item.is_brand:
            key = skeleton(item.name).replace("-", "")
            # Two platforms may share a brand word ("emeeting"); the sanctioned one's claim wins.
            if key not in self._brands or item.sanctioned:
                self._brands[key] = item
            if not item.typos:
                self._exact_only.add(key)
            return
        self._full_domains.add(item.name)
        registered = self._resolver.info(item.name).registered or item.name
        self._registered.add(registered)
        self._domains.setdefault(skeleton(registered), item)

    def check(self, host: str, info: DomainInfo | None = None) -> Lookalike | None:
        """The protected name `host` imitates, or None. Hosts owned by their platform pass.

        Not memoised itself: the policy memoises every per-host answer together.
        """
        if not self._built:
            self.warm()
        info = info or self._resolver.info(host)
        # docs.google.com is not Meet, but it is Google's: only its owner can name hosts there.
        if info.registered in self._registered or info.registered in self._allowed:
            return None
        if self._owned.lookup(info.host) is not None:
            return None
        found = self._in_registered(info)
        if found is None and info.subdomain:
            found = self._in_subdomain(info)
        return found

    def _in_registered(self, info: DomainInfo) -> Lookalike | None:
        if not info.registered:
            return None
        punycode = "xn--" in info.registered
        shape = skeleton(_unicode(info.registered))
        hit = self._domains.get(shape)
        if hit is not None:
            return Lookalike(hit.owner, hit.name, "homoglyph", True)
        label = skeleton(_unicode(info.label))
        flat = label.replace("-", "").replace("_", "")
        hit = self._brands.get(flat)
        if hit is not None:
            how = "homoglyph" if punycode or flat != info.label else "brand"
            return Lookalike(hit.owner, hit.name, how, punycode)
        hit = self._brand_with_lures(label, flat)
        if hit is not None:
            return Lookalike(hit.owner, hit.name, "brand", punycode)
        hit = self._brand_typos.find(flat) or self._domain_typos.find(shape)
        if hit is not None:
            return Lookalike(hit.owner, hit.name, "typo", punycode)
        return None

    def _brand_with_lures(self, label: str, flat: str) -> Protected | None:
        """A brand as one word of the name (`zoom-us`), or glued to lure words (`joinzoomus`)."""
        for token in _TOKEN_SPLIT.split(label):
            if token in self._brands:
                return self._brands[token]
        if self._brand_pattern is None:
            return None
        for match in self._brand_pattern.finditer(flat):
            before, after = flat[: match.start()], flat[match.end() :]
            if _made_of(before, self._affixes) and _made_of(after, self._affixes):
                return self._brands[match.group(0)]
        return None

    def _in_subdomain(self, info: DomainInfo) -> Lookalike | None:
        """A protected domain or brand placed left of a foreign registered domain."""
        labels = info.subdomain.split(".")
        for i in range(len(labels)):
            for j in range(i + 1, len(labels) + 1):
                candidate = ".".join(labels[i:j])
                if candidate in self._full_domains or self._owned.lookup(candidate) is not None:
                    return Lookalike(self._owned.lookup(candidate) or "", candidate,
                                     "subdomain", True)
        for label in labels:
            for token in _TOKEN_SPLIT.split(skeleton(_unicode(label))):
                if token in self._brands:
                    hit = self._brands[token]
                    return Lookalike(hit.owner, hit.name, "subdomain", False)
        return None


def _unicode(label: str) -> str:
    if "xn--" not in label:
        return label
    try:
        return ".".join(
            p[4:].encode("ascii").decode("punycode") if p.startswith("xn--") else p
            for p in label.split(".")
        )
    except (UnicodeError, ValueError):
        return label


def _alternation(words: Mapping[str, object]) -> re.Pattern[str] | None:
    if not words:
        return None
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))


class _TypoIndex:
    """Names indexed by their one-letter deletions (the SymSpell idea): a word's candidates
    are found with len(word) + 1 lookups, then confirmed by `is_typo`."""

    def __init__(self, names: Mapping[str, Protected], *, min_length: int) -> None:
        assert min_length >= 5, "the head/tail filter below needs names of 5 letters or more"
        self._names = names
        self._index: dict[str, list[str]] = {}
        for name in names:
            if len(name) >= min_length:
                for variant in _deletions(name):
                    self._index.setdefault(variant, []).append(name)
        self._longest = max(map(len, self._index), default=0)
        # One slip changes the length by at most one and leaves the first two or the last two
        # letters of a name (of 5 letters or more) in place: a word that fits no name's
        # length with either cannot be a typo, and most words are skipped here.
        self._ends: set[tuple[int, str, str]] = set()
        for name in names:
            if len(name) >= min_length:
                for length in (len(name) - 1, len(name), len(name) + 1):
                    self._ends.add((length, name[:2], ""))
                    self._ends.add((length, "", name[-2:]))

    def find(self, word: str) -> Protected | None:
        if not word or len(word) > self._longest + 1:
            return None
        size = len(word)
        if (size, word[:2], "") not in self._ends and (size, "", word[-2:]) not in self._ends:
            return None
        for variant in _deletions(word):
            for name in self._index.get(variant, ()):
                if is_typo(word, name):
                    return self._names[name]
        return None


def _made_of(text: str, words: frozenset[str]) -> bool:
    """True when `text` is empty or a concatenation of `words`.

    >>> _made_of("joinus", frozenset({"join", "us"})), _made_of("info", frozenset({"in"}))
    (True, False)
    """
    if not text:
        return True
    reachable = [True] + [False] * len(text)
    for end in range(1, len(text) + 1):
        reachable[end] = any(
            reachable[start] and text[start:end] in words for start in range(max(0, end - 12), end)
        )
    return reachable[-1]
