"""Look-alikes of protected names: homographs, typosquats, split and embedded names. Pure: no I/O.

Protected names are every platform's domains and brand words and the organisation's own domains.
A host imitates one when, read as a person reads it (`homoglyphs.readings`):
  * it reads exactly as a protected domain with different characters (`zo0m.us`, `ԍооԍӏе.com`);
  * it is one slip away from it (a letter replaced, left out, added, doubled, swapped or moved,
    vowels swapped, a doubled key; two slips in names of nine letters or more). Names under five
    letters are ordinary words too: a slip that makes another word (`room.us`) counts only with
    more evidence (the link's shape, the platform host's own subdomain kept, digits put in);
  * the name is split by dots or hyphens (`we.bex.com`, `zo-om.us`), or the whole platform host
    is glued into one name (`meetgoto.com`);
  * a brand is the whole name under another suffix (`zoom.vn`), one word of it (`zoom-us.bot`),
    glued to lure words (`joinzoommeeting.net`) or one slip from it (`gotomeating.net`);
  * a protected domain stands inside a foreign host (`zoom.us.meeting-join.info`,
    `emeeting.mic.gov.vn-login.com`) or a brand is a label left of a foreign domain.
Real domains are never look-alikes: every platform's own registered domains, the domains their
owners use besides (sign-in, CDNs), the real popular domains shipped in `signatures/`, and
under a registry only vetted bodies can use (`gov.vn`, `.gov`, …) the commercial brands.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import NamedTuple

from .domains import DomainIndex, DomainInfo, DomainResolver
from .homoglyphs import is_mixed_script, readings, scripts_of, shape_key

DOMAIN, BRAND = "domain", "brand"  # what a slipped name is: a platform domain's name, a brand
SHORT = 5  # names shorter than this are mostly other words too (zoom/room, goto/got)
LONG = 9  # names this long stay recognisable with two slips (gotomeeting -> gotomeetnig)


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
    """A host that imitates a protected name.

    `how`: homoglyph (reads exactly as the name), typo (`slip` says which), split, brand,
    subdomain (the name left of a foreign registered domain) or embedded (a protected domain
    glued into a foreign host). `weak` look-alikes (a slip of a short name that is also an
    ordinary word) count only when the link also has the platform's shape.
    """

    owner: str
    imitated: str
    how: str
    critical: bool
    weak: bool = False
    slip: str = ""
    scripts: tuple[str, ...] = ()


_TOKEN_SPLIT = re.compile(r"[-_.]+")


class _Form(NamedTuple):
    """One way to read a label: as read (`zo-0m`), its shape key (`zo-om`) and flat (`zoom`);
    `plain` is the reading flat without the shape mapping (a slip may hide in either)."""

    reading: str
    key: str
    flat: str
    plain: str


class LookalikeDetector:
    """Finds hosts that imitate protected names, with indexes so each check is a few lookups.

    Names are compared as shape keys (`homoglyphs.shape_key`) so characters that pass for one
    another compare equal. `affixes` are lure words attackers glue to a brand ("zoom-us",
    "joinzoommeeting"); `exempt` are real registered domains that are never look-alikes (IT
    tunes precision there, not in code); `vetted_suffixes` are registries only vetted bodies can
    register under.
    """

    def __init__(
        self,
        protected: Iterable[Protected],
        *,
        affixes: Iterable[str],
        exempt: Iterable[str],
        vetted_suffixes: Iterable[str],
        owned: DomainIndex[object],
        resolver: DomainResolver,
    ) -> None:
        self._resolver = resolver
        self._owned = owned
        self._exempt = frozenset(e.lower() for e in exempt)
        self._vetted = frozenset(s.lower().strip(".") for s in vetted_suffixes)
        self._affix_words = frozenset(a.lower() for a in affixes)
        self._protected = tuple(protected)
        self._built = False
        self._building = threading.Lock()

    def warm(self) -> None:
        """Build the indexes now (the service does at load; the CLI on first use)."""
        with self._building:
            if not self._built:
                self._build()

    def _build(self) -> None:
        self._affixes = frozenset(shape_key(a) for a in self._affix_words)
        self._brands: dict[str, Protected] = {}  # words that count inside other names too
        self._labels: dict[str, Protected] = {}  # a platform domain's name: counts whole only
        self._domains: dict[tuple[str, str], Protected] = {}  # (name, suffix) -> protected
        self._registered: set[str] = set()  # the real registered domains behind protected ones
        self._words: dict[str, str] = {}  # shape key -> the word as the platform writes it
        self._domain_words: dict[str, str] = {}  # the same for protected domains' names
        self._prefixes: dict[tuple[str, str], set[str]] = {}  # (name, suffix) -> subdomains
        for item in self._protected:
            if item.is_brand:
                self._add_brand(item)
            else:
                self._add_domain(item)
        self._by_domain = {p.name: p for p in self._protected if not p.is_brand}
        self._brand_pattern = _alternation(self._brands)
        self._glue = self._affixes | frozenset(self._brands)  # hangoutsgoogle: brands glue too
        self._embedded_pattern = _embedding_pattern(self._by_domain)
        self._suffixes: dict[str, set[str]] = {}
        for name, suffix in self._domains:
            self._suffixes.setdefault(name, set()).add(suffix)
        self._slips = _SlipIndex(
            [(k, self._domain_words[k], DOMAIN) for k in self._suffixes]
            + [(b, self._words[b], BRAND) for b, p in self._brands.items()
               if p.typos and len(b) >= SHORT])
        self._registered_answers = functools.lru_cache(maxsize=65536)(self._answers_for)
        self._built = True

    def _add_brand(self, item: Protected) -> None:
        word = item.name.lower().replace("-", "")
        key = shape_key(word)
        # Two platforms may share a brand word ("emeeting"); the sanctioned one's claim wins.
        if key not in self._brands or item.sanctioned:
            self._brands[key] = item
            self._words[key] = word

    def _add_domain(self, item: Protected) -> None:
        info = self._resolver.info(item.name)
        registered = info.registered or item.name
        self._registered.add(registered)
        if not info.label:
            return
        self._domains.setdefault((shape_key(info.label), info.suffix), item)
        self._domain_words.setdefault(shape_key(info.label), info.label)
        if info.subdomain:  # meet.goto.com: "meet" before a slip of goto.com is evidence
            self._prefixes.setdefault((shape_key(info.label), info.suffix),
                                      set()).add(info.subdomain)
        # The platform's own name as a whole name under another suffix (workplace.moi,
        # meeting.zoho.observer) imitates it, unless the name is a lure word (teams.office.com
        # makes no claim on "office").
        key = shape_key(info.label)
        if info.label not in self._affix_words:
            self._labels.setdefault(key, item)
            self._words.setdefault(key, info.label)
        # The whole host with its dots dropped (meetgoto.com, bjnvc.com, trueconfru.com).
        for glued in {item.name[: -len(info.suffix) - 1], item.name}:
            word = glued.replace(".", "")
            if word != info.label:
                self._labels.setdefault(shape_key(word), item)
                self._words.setdefault(shape_key(word), word)

    def is_real(self, info: DomainInfo) -> bool:
        """True for a registered domain that is a platform's own or listed as real
        (`google.*` lists a name under every suffix of the list's ICANN section)."""
        if not self._built:
            self.warm()
        return (info.registered in self._registered or info.registered in self._exempt
                or (not info.private and f"{info.label}.*" in self._exempt))

    def is_vetted(self, info: DomainInfo) -> bool:
        """True under a registry only vetted bodies can use (`gov.vn`)."""
        return info.suffix in self._vetted

    def check(self, host: str, info: DomainInfo | None = None, *,
              quick: bool = True) -> Lookalike | None:
        """The protected name `host` imitates, or None. Real and owned hosts imitate nothing.

        What the registered name alone says is memoised per registered name (its subdomains
        share it); the policy memoises every per-host answer. `quick=False` skips the fast answer
        for plain names (the tests compare both on large corpora).
        """
        if not self._built:
            self.warm()
        info = _with_label(info or self._resolver.info(host))
        if not info.label or self.is_real(info) or self._owned.lookup(info.host) is not None:
            return None
        found, brand = self._registered_answers(info.label, info.suffix, quick)
        if found is not None:
            if found.weak and self._same_prefix(info, found.imitated):
                return replace(found, weak=False)  # meet.gmto.com: the whole host slipped
            return found
        if info.suffix in self._vetted:
            return None  # under gov.vn only a government body registers: a brand is no lie
        if info.subdomain:
            found = (self._split(info)
                     or self._embedded_domain(info.host, info.subdomain, info.registered))
            if found is not None:
                return found
        return brand or self._brand_in_subdomain(info.subdomain)

    def _answers_for(self, ascii_label: str, suffix: str,
                     quick: bool) -> tuple[Lookalike | None, Lookalike | None]:
        """What the registered name alone says: imitating a protected domain, or a brand.
        Memoised per registered name (`_registered_answers`): its subdomains share it."""
        label = _unicode(ascii_label)
        if quick and self._plainly_nothing(label, suffix):
            return None, None
        forms = _forms(label)
        slips = self._slips_of(forms)
        found = self._as_domain(suffix, label, forms, slips)
        if found is not None or suffix in self._vetted:
            return found, None
        return None, self._as_brand(label, forms, slips)

    def _plainly_nothing(self, label: str, suffix: str) -> bool:
        """True for most names, cheaply: a plain ASCII name (read one way only, no letter pairs
        that pass for others) that no check of the registered name could match. Each test is a
        precondition of one of those checks (an exact name, a slip's letters, a brand inside),
        so True never changes an answer, only skips work (a test compares both)."""
        if not label.isascii() or _LETTER_PAIRS.search(label) or len(readings(label)) != 1:
            return False
        key = shape_key(label)
        flat = _brand_form(key)
        words = self._words
        if (flat, suffix) in self._domains or flat in words or _singular(flat) in words:
            return False
        pattern = self._brand_pattern
        if pattern is not None and (pattern.search(flat) or pattern.search(key)):
            return False
        if flat not in self._affixes and self._slips.may_find(flat, double=True):
            return False
        if key != flat:
            for token in _TOKEN_SPLIT.split(key):
                if (len(token) >= SHORT - 1 and not token.isdigit()
                        and token not in self._affixes
                        and self._slips.may_find(token, double=False)):
                    return False
        return True

    def _slips_of(self, forms: list[_Form]) -> list[tuple[str, str, str]]:
        """(name, kind, slip) for every protected name a form of the label, or one word of it,
        is a slip of. Lure words are not slips of a brand ("meeting" of "emeeting")."""
        # A word's shape key finds what it looks like; the word as written is asked too only
        # when letter pairs collapsed in the key (`goognn` is one slip of `google`, `googm` not).
        whole = {w for form in forms
                 for w in ((form.flat, form.plain) if len(form.plain) != len(form.flat)
                           else (form.flat,))}
        found = [(name, kind, slip) for word in whole - self._affixes
                 for name, kind, slip in self._slips.find(word)]
        for form in forms:
            if form.key != form.flat:  # more than one word: each may be a slipped brand
                tokens = {t for t in _TOKEN_SPLIT.split(form.key)
                          if len(t) >= SHORT - 1 and not t.isdigit()}
                found += [(name, kind, slip) for word in tokens - self._affixes - whole
                          for name, kind, slip in self._slips.find(word, double=False)
                          if kind == BRAND]
        return found

    # -- the registered domain read as a protected one -----------------------------------------

    def _as_domain(self, suffix: str, label: str, forms: list[_Form],
                   slips: list[tuple[str, str, str]]) -> Lookalike | None:
        scripts = scripts_of(label) if not label.isascii() else ()
        for form in forms:
            hit = self._domains.get((form.flat, suffix))
            if hit is not None:
                imitated = self._resolver.info(hit.name).registered
                how = "split" if _flat(label) == imitated.split(".")[0] else "homoglyph"
                return Lookalike(hit.owner, imitated, how, how == "homoglyph", scripts=scripts)
        mixed = not label.isascii() and is_mixed_script(label)
        for name, kind, slip in slips:
            if kind == DOMAIN and suffix in self._suffixes[name]:
                hit = self._domains[(name, suffix)]
                word = self._domain_words[name]
                weak = (len(name) < SHORT and _makes_a_word(slip, _flat(label), word)
                        and not mixed and not _new_digits(label, word))
                return Lookalike(hit.owner, self._resolver.info(hit.name).registered, "typo",
                                 mixed, weak=weak, slip=slip, scripts=scripts)
        return None

    def _same_prefix(self, info: DomainInfo, imitated: str) -> bool:
        """True when the host keeps the platform host's own subdomain (meet.gmto.com for
        meet.goto.com, `imitated` goto.com): the whole host is one slip from the platform's."""
        name = shape_key(imitated.split(".", 1)[0])
        prefixes = self._prefixes.get((name, info.suffix), ())
        sub = info.subdomain
        return any(sub == p or sub.endswith("." + p) for p in prefixes) if sub else False

    def _split(self, info: DomainInfo) -> Lookalike | None:
        """A protected name cut by dots into the subdomain (`we.bex.com`, `z.oom.us`)."""
        if not info.subdomain:
            return None
        joined = info.label
        for part in reversed(info.subdomain.split(".")[-2:]):
            joined = part + joined
            key = shape_key(joined)
            hit = self._domains.get((key, info.suffix))  # bj.n.vc: the same suffix tells
            if hit is not None:
                return Lookalike(hit.owner, self._resolver.info(hit.name).registered, "split",
                                 False)
            if len(joined) < SHORT - 1:
                continue
            hit = self._brands.get(key) or self._labels.get(key)
            if hit is not None:
                return Lookalike(hit.owner, hit.name, "split", False)
        return None

    # -- brands -------------------------------------------------------------------------------

    def _as_brand(self, label: str, forms: list[_Form],
                  slips: list[tuple[str, str, str]]) -> Lookalike | None:
        unicode_label = not label.isascii()
        critical = unicode_label and is_mixed_script(label)
        scripts = scripts_of(label) if unicode_label else ()
        for form in forms:
            flat = form.flat if form.flat in self._words else _singular(form.flat)
            hit = self._brands.get(flat) or self._labels.get(flat)
            if hit is not None:
                word = self._words.get(flat)
                plain = _flat(label) == word or _singular(_flat(label)) == word
                how = "brand" if plain else "homoglyph"
                return Lookalike(hit.owner, hit.name, how, critical or not plain,
                                 scripts=scripts)
        for form in forms:
            found = self._brand_in(form)
            if found is not None:
                return Lookalike(found.owner, found.name, "brand", critical, scripts=scripts)
        for name, kind, slip in slips:
            if kind == BRAND:
                brand = self._brands[name]
                return Lookalike(brand.owner, brand.name, "typo", critical, slip=slip,
                                 scripts=scripts)
        return None

    def _brand_in(self, form: _Form) -> Protected | None:
        """A brand as one word of the name (`zoom-us`), or glued to lure words (`joinzoomus`)."""
        for token in _TOKEN_SPLIT.split(form.key):
            if token in self._brands:
                return self._brands[token]
        if self._brand_pattern is None:
            return None
        for match in self._brand_pattern.finditer(form.flat):
            before, after = form.flat[: match.start()], form.flat[match.end() :]
            if _made_of(before, self._glue) and _made_of(after, self._glue):
                return self._brands[match.group(0)]
        return None

    # -- names inside a foreign host ----------------------------------------------------------

    def _embedded_domain(self, host: str, subdomain: str, registered: str) -> Lookalike | None:
        """A protected domain written inside a foreign host, with dots or hyphens."""
        if self._embedded_pattern is None:
            return None
        match = self._embedded_pattern.search(host)
        if match is None and ("xn--" in host or any(c.isdigit() for c in subdomain)):
            # as people read it: ernееting.mic.gov.vn.evil.net, emeet1ng.mic.gov.vn.evil.net
            read = ".".join(min(readings(_unicode(label))) for label in host.split("."))
            match = self._embedded_pattern.search(read)
            host = read
        if match is None:
            return None
        labels = host.split(".")
        kept = len(labels) - registered.count(".") - 1  # labels left of the registered domain
        registered_start = len(".".join(labels[:kept])) + 1 if kept > 0 else 0
        if match.start(1) >= registered_start:
            return None  # inside the registered name (zoom-us.com): a brand, not a disguise
        hit = self._by_domain[_dotted(match.group(1), self._by_domain)]
        # Whole labels left of the registered domain (zoom.us.evil.example), or glued into it
        # (emeeting.mic.gov.vn-login.com).
        how = "subdomain" if match.end(1) < registered_start else "embedded"
        return Lookalike(hit.owner, hit.name, how, True)

    def _brand_in_subdomain(self, subdomain: str) -> Lookalike | None:
        """A brand as a label (or one word of one) left of a foreign registered domain."""
        for label in subdomain.split(".") if subdomain else ():
            if label in _PLAIN_LABELS:
                continue
            for form in _forms(_unicode(label)):
                for token in _TOKEN_SPLIT.split(form.key):
                    if token in self._brands:
                        hit = self._brands[token]
                        return Lookalike(hit.owner, hit.name, "subdomain", False)
        return None


# Letter pairs that pass for one letter (`rn` for m): a name with one is not plain.
_LETTER_PAIRS = re.compile(r"rn|nn|rr|vv|cl|dl|lh|lc|lb")
_PLAIN_LABELS = frozenset({"www", "m", "mail", "web", "app", "login", "secure", "en", "vi"})


def _forms(label: str) -> list[_Form]:
    """Every reading of a label with its shape key and flat key."""
    out = []
    for reading in readings(label):
        key = shape_key(reading)
        flat = _brand_form(key)
        plain = flat if key == reading else _brand_form(reading)
        out.append(_Form(reading, key, flat, plain))
    return out


def _singular(word: str) -> str:
    """A plural made of a name (webexes, wherebies, zohos) as the name."""
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("es"):
        return word[:-2]
    return word[:-1] if word.endswith("s") else word


def _flat(label: str) -> str:
    return label.replace("-", "").replace("_", "")


def _with_label(info: DomainInfo) -> DomainInfo:
    """A host that is itself a public suffix under a wildcard rule (`x.bd`, `*.ck`) has no
    registered domain; read its first label as the name all the same."""
    if info.label or "." not in info.host:
        return info
    label, _, suffix = info.host.partition(".")
    return info._replace(registered=info.host, label=label, suffix=suffix, subdomain="")


def _makes_a_word(slip: str, label: str, name: str) -> bool:
    """True when a slip of a short name likely makes another ordinary word: a letter replaced
    by another of its kind (zoom -> room, loom, boom; zoom -> zaom), which counts only with
    more evidence (the link's shape, the platform host's own subdomain kept as in
    meet.gmto.com, digits put among the letters as in z9om). A letter doubled, dropped, added,
    swapped or moved, a neighbouring key, a look-alike letter or a vowel put for a consonant
    keeps the name's look; names with no vowel or with digits (bjn, 8x8) make no words.

    >>> [_makes_a_word("replacement", w, "zoom") for w in ("room", "zaom", "zgom")]
    [True, True, False]
    """
    if slip not in ("replacement", "vowels"):
        return False
    if any(c.isdigit() for c in name) or not any(c in "aeiouy" for c in name):
        return False
    if slip == "vowels" or len(label) != len(name):
        return True
    i = _first_difference(label, name)
    return (label[i] in "aeiouy") == (name[i] in "aeiouy")


def _new_digits(label: str, name: str) -> bool:
    """True when `label` has digits where the name it slips from has none (z9om for zoom)."""
    return not any(c.isdigit() for c in name) and any(c.isdigit() for c in label)


def _brand_form(reading: str) -> str:
    """A label as a brand word: hyphens and underscores out, a glued-on `www` off."""
    flat = _flat(reading)
    if flat.startswith("www") and len(flat) >= 3 + SHORT - 1:
        return flat[3:]
    return flat


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


def _dotted(written: str, domains: Mapping[str, object]) -> str:
    """The protected domain a host wrote with dots or hyphens (`zoom-us` -> `zoom.us`)."""
    if written in domains:
        return written
    return next(d for d in domains if len(d) == len(written)
                and re.fullmatch("[.-]".join(map(re.escape, d.split("."))), written))


def _alternation(words: Mapping[str, object]) -> re.Pattern[str] | None:
    if not words:
        return None
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))


def _embedding_pattern(domains: Iterable[str]) -> re.Pattern[str] | None:
    """Protected domains written inside a host, their dots as dots or hyphens, followed by more
    host (`zoom.us.evil.example`, `zoom-us-login.example`, `emeeting.mic.gov.vn-login.com`)."""
    alternatives = ["[.-]".join(re.escape(p) for p in d.split("."))
                    for d in sorted(domains, key=len, reverse=True) if "." in d]
    if not alternatives:
        return None
    return re.compile(r"(?:^|[.-])(" + "|".join(alternatives) + r")[.-]")


# ---------------------------------------------------------------------------------------------
# Slips: one (or, in long names, two) slips of the finger or the eye.

_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
_LOOK_ALIKE_PAIRS = ("il", "l1", "i1", "o0", "uv", "ce", "vw", "oa", "rn", "mn", "bd", "pq",
                     "gq", "b6", "s5", "z2", "e3", "g9", "a4", "t7")


def _neighbour_keys() -> frozenset[tuple[str, str]]:
    """Pairs of keys next to each other on a QWERTY keyboard."""
    position = {c: (r, i) for r, row in enumerate(_ROWS) for i, c in enumerate(row)}
    pairs = set()
    for a, (ra, ia) in position.items():
        for b, (rb, ib) in position.items():
            same_row = ra == rb and abs(ia - ib) == 1
            next_row = abs(ra - rb) == 1 and (ib - ia) in ((0, 1) if rb < ra else (-1, 0))
            if a != b and (same_row or next_row):
                pairs.add((a, b))
    return frozenset(pairs)


_NEIGHBOURS = _neighbour_keys()
_LOOK_ALIKES = frozenset({(a, b) for a, b in _LOOK_ALIKE_PAIRS} |
                         {(b, a) for a, b in _LOOK_ALIKE_PAIRS})


def slip_of(candidate: str, name: str) -> str | None:
    """The one slip that turns `name` into `candidate`, or None.

    Slips: omission (a letter left out), repetition (a letter doubled), insertion (a letter
    added), transposition (two neighbours swapped), moved (a letter moved further), double-key
    (two neighbours typed as one letter twice), and a replaced letter: `neighbour` (the key
    next to it), `look-alike` (a letter or digit that looks the same) or `replacement`.

    >>> [slip_of(c, "zoom") for c in ("zom", "zooom", "zoomy", "ozom", "xoom", "zo0m", "room")]
    ['omission', 'repetition', 'insertion', 'transposition', 'neighbour', 'look-alike', \
'replacement']
    >>> slip_of("zoom", "zoom"), slip_of("zm", "zoom")
    (None, None)
    """
    la, lb = len(candidate), len(name)
    if candidate == name or abs(la - lb) > 1:
        return None
    if la == lb:
        diffs = [i for i in range(la) if candidate[i] != name[i]]
        if len(diffs) == 1:
            pair = (candidate[diffs[0]], name[diffs[0]])
            return "look-alike" if pair in _LOOK_ALIKES else (
                "neighbour" if pair in _NEIGHBOURS else "replacement")
        if len(diffs) == 2 and diffs[1] == diffs[0] + 1:
            i, j = diffs
            if candidate[i] == name[j] and candidate[j] == name[i]:
                return "transposition"
            if candidate[i] == candidate[j]:
                return "double-key"  # two neighbours typed as one key twice (webex -> wqqex)
        return "moved" if _moved(candidate, name) else None
    if la < lb:
        i = _first_difference(candidate, name)
        return "omission" if candidate[i:] == name[i + 1 :] else None
    i = _first_difference(name, candidate)
    if name[i:] != candidate[i + 1 :]:
        # the last letter typed as a doubled other one (join -> joixx)
        doubled_end = candidate[:-2] == name[:-1] and candidate[-1] == candidate[-2]
        return "double-key" if doubled_end else None
    doubled = (i > 0 and candidate[i] == candidate[i - 1]) or (
        i + 1 < la and candidate[i] == candidate[i + 1])
    return "repetition" if doubled else "insertion"


def _moved(candidate: str, name: str) -> bool:
    """True when one letter of `name` moved elsewhere gives `candidate` (trueconf/tueconrf)."""
    if sorted(candidate) != sorted(name):
        return False
    for i, letter in enumerate(name):
        rest = name[:i] + name[i + 1 :]
        if any(rest[:j] + letter + rest[j:] == candidate for j in range(len(rest) + 1)):
            return True
    return False


def _first_difference(short: str, long: str) -> int:
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return i


def _blank_pair(word: str, i: int) -> str:
    """`word` with letters i and i+1 blanked (past the end counts as a letter)."""
    return f"{word[:i]}\0\0{word[i + 2:]}"


def _deletions(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


class _SlipIndex:
    """Names indexed by their one-letter deletions (the SymSpell idea): a word's candidates are
    found with len(word) + 1 lookups, then confirmed by `slip_of`. Long names are also found
    two slips away, through the letter pairs they share (two slips change at most four), when
    the first or the last letter stayed in place.

    Each name is indexed as it is written and as its shape key (`homoglyphs.shape_key`), so a
    slip is found whichever form kept it; `find` answers with the shape key.
    """

    def __init__(self, names: Iterable[tuple[str, str, str]]) -> None:
        """`names`: (shape key, the name as written, kind) each."""
        self._index: dict[str, list[_Entry]] = {}
        self._blanked: dict[str, list[_Entry]] = {}  # two letters blanked -> names
        self._bigrams: dict[str, list[_Entry]] = {}  # long names by letter pair
        # One slip leaves a name's first or last letters in place (`_ends`): most words share
        # neither with any name of their length and are dismissed with a few set lookups.
        self._ends: set[tuple[int, str, str]] = set()
        self._long_ends: set[tuple[int, str, str]] = set()  # the same for two slips
        # A letter moved far (tfruecon) keeps the letters; vowels swapped (wubux) keep the
        # consonants: names of five or more are found by either too.
        self._anagrams: dict[str, list[_Entry]] = {}
        self._consonants: dict[tuple[int, str], list[_Entry]] = {}
        for key, word, kind in names:
            for form in {key, word}:
                self._add(_Entry(form, key, kind))

    def _add(self, entry: _Entry) -> None:
        form = entry.form
        for variant in _deletions(form):
            self._index.setdefault(variant, []).append(entry)
        for i in range(len(form)):  # the last position too: one letter typed as two (joixx)
            self._blanked.setdefault(_blank_pair(form, i), []).append(entry)
        for size in (len(form) - 1, len(form), len(form) + 1):
            self._ends.update(_ends(form, size))
        if len(form) >= SHORT:
            self._anagrams.setdefault("".join(sorted(form)), []).append(entry)
            skeleton = _consonants(form)
            if len(skeleton) >= 3 and form.isalpha():
                self._consonants.setdefault((len(form), skeleton), []).append(entry)
        if len(form) >= LONG:
            for pair in set(_letter_pairs(form)):
                self._bigrams.setdefault(pair, []).append(entry)
            for size in range(len(form) - 2, len(form) + 3):  # two slips: two letters kept
                self._long_ends.update({(size, form[:2], ""), (size, "", form[-2:])})

    def find(self, word: str, *, double: bool = True) -> list[tuple[str, str, str]]:
        """(key, kind, slip) for each name `word` is a slip of; "double" for two slips."""
        if not word:
            return []
        seen: set[_Entry] = set()
        found = self._shuffled(word, seen) if double else []
        ends = _word_ends(word)
        single = not self._ends.isdisjoint(ends)
        double = double and not self._long_ends.isdisjoint(ends)
        if not (single or double):
            return found  # most words: nothing of their length begins or ends like them
        if single:
            for variant in _deletions(word):
                found += _confirmed(word, self._index.get(variant, ()), seen)
            for i in range(len(word) - 1):
                if word[i] == word[i + 1]:
                    found += _confirmed(word, self._blanked.get(_blank_pair(word, i), ()), seen)
        if double:
            found += self._find_double(word, seen)
        return found

    def may_find(self, word: str, *, double: bool) -> bool:
        """False when `find` surely finds nothing for `word` (its cheap first tests fail)."""
        size = len(word)
        if not word:
            return False
        if double and size >= SHORT and (
                "".join(sorted(word)) in self._anagrams
                or (word.isalpha() and (size, _consonants(word)) in self._consonants)):
            return True
        ends = _word_ends(word)
        return not self._ends.isdisjoint(ends) or (
            double and not self._long_ends.isdisjoint(ends))

    def _shuffled(self, word: str, seen: set[_Entry]) -> list[tuple[str, str, str]]:
        """A name with a letter moved (tfruecon) or its vowels swapped (wubux, jatsa)."""
        found: list[tuple[str, str, str]] = []
        if len(word) < SHORT:
            return found
        found += _confirmed(word, self._anagrams.get("".join(sorted(word)), ()), seen)
        vowels_swapped = self._consonants.get((len(word), _consonants(word)), ()) \
            if word.isalpha() else ()
        for entry in vowels_swapped:
            if entry not in seen and entry.form != word:
                seen.add(entry)
                found.append((entry.key, entry.kind, "vowels"))
        return found

    def _find_double(self, word: str, seen: set[_Entry]) -> Iterable[tuple[str, str, str]]:
        shared: dict[_Entry, int] = {}
        for pair in set(_letter_pairs(word)):
            for entry in self._bigrams.get(pair, ()):
                shared[entry] = shared.get(entry, 0) + 1
        for entry, count in shared.items():
            form = entry.form
            if count >= len(form) - 5 and entry not in seen and form != word:
                seen.add(entry)
                if _within_two(word, form):
                    yield entry.key, entry.kind, "double"


def _ends(name: str, size: int) -> set[tuple[int, str, str]]:
    """What of `name` a slip of it `size` letters long keeps in place: its first or its last
    three letters (seven letters or more), two (five or six), one (shorter names)."""
    n = 3 if len(name) >= 7 else 2 if len(name) >= SHORT else 1
    return {(size, name[:n], ""), (size, "", name[-n:])}


def _word_ends(word: str) -> tuple[tuple[int, str, str], ...]:
    size = len(word)
    return ((size, word[:1], ""), (size, word[:2], ""), (size, word[:3], ""),
            (size, "", word[-1:]), (size, "", word[-2:]), (size, "", word[-3:]))


class _Entry(NamedTuple):
    form: str  # the name as indexed (written, or its shape key)
    key: str  # its shape key
    kind: str  # DOMAIN or BRAND


def _confirmed(word: str, entries: Iterable[_Entry],
               seen: set[_Entry]) -> Iterable[tuple[str, str, str]]:
    for entry in entries:
        if entry not in seen:
            seen.add(entry)
            slip = slip_of(word, entry.form)
            if slip is not None:
                yield entry.key, entry.kind, slip


_VOWELS = str.maketrans("", "", "aeiouy")


def _consonants(word: str) -> str:
    return word.translate(_VOWELS)


def _letter_pairs(word: str) -> list[str]:
    return [word[i : i + 2] for i in range(len(word) - 1)]


def _within_two(a: str, b: str) -> bool:
    """True when at most two edits (replace, insert, delete, swap neighbours) turn a into b.

    >>> _within_two("gotomeetnig", "gotomeeting"), _within_two("gatomtetnig", "gotomeeting")
    (True, False)
    """
    if abs(len(a) - len(b)) > 2:
        return False
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > 2:
            return False
        before, previous = previous, current
    return previous[-1] <= 2


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
