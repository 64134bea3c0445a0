"""What a domain label looks like to a person: Latin readings of Unicode labels. Pure: no I/O.

A label such as `ԍооԍӏе` (Cyrillic) is read by a person as `google`. We compute that reading the
way Chrome's IDN spoof checker does: ICU's TR39 confusable skeleton (through PyICU), after
removing diacritics (`gőøgle` reads `google`), with Chrome's extra mappings for letters ICU
leaves alone (`ԍ→g`, `ь→b`, `ø→o`, …). ASCII labels get a cheaper reading of the digits and
letter pairs that pass for letters (`zo0m`, `rnicrosoft`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

# Digits and symbols read as letters, and letter pairs read as one letter, in ASCII names.
_ASCII_LOOKS_LIKE = str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t",
                                   "8": "b", "9": "g", "$": "s", "@": "a", "|": "l"})
_ASCII_PAIRS = (("rn", "m"), ("vv", "w"), ("cl", "d"))
_DIGITS = re.compile(r"\d")
# For comparing names as shapes: every group of ASCII characters attackers swap for one another
# (the look-alike classes of dnstwist and ail-typo-squatting) written as one of them. Applied to
# both sides, so `clickrneetinq` and `clickmeeting` compare equal.
_SHAPE_PAIRS = (("rn", "m"), ("nn", "m"), ("rr", "m"), ("vv", "w"), ("cl", "d"), ("dl", "d"),
                ("lh", "h"), ("lc", "k"), ("lb", "b"))
_SHAPE_PAIR_FOUND = re.compile("|".join(many for many, _ in _SHAPE_PAIRS))
_SHAPE_CHARS = str.maketrans({"0": "o", "1": "l", "i": "l", "|": "l", "3": "e", "c": "e",
                              "4": "a", "@": "a", "5": "s", "$": "s", "7": "t", "8": "b",
                              "d": "b", "6": "b", "9": "g", "q": "g", "n": "m", "u": "v"})

# Letters ICU's skeleton leaves as they are though they pass for a Latin letter in a URL bar:
# the supplement Chrome's spoof checker applies before the skeleton (skeleton_generator.cc),
# written out here as a table. Digit look-alikes are read as the letter they pass for in a name.
_EXTRA_GROUPS = {
    "ae": "æӕ", "p": "ϼҏþ", "h": "ħнћңҥӈӊԋԧԩ", "k": "ĸκкқҝҟҡӄԟ", "n": "ŋпԥกח",
    "t": "ŧтҭԏ", "b": "ƅьҍв", "w": "ωшщพฟພຟ", "m": "мӎ", "e": "єҽҿၔ", "r": "ґ", "f": "ғӻ",
    "c": "ҫင", "y": "ұ", "x": "χҳӽӿ", "d": "ԃძ", "g": "ԍဌ", "s": "ടรຣຮ", "j": "၂",
    "o": "०০੦૦ଠ୦೦θð", "q": "৭੧૧", "u": "บບ", "3": "зҙӡउওਤ੩૩౩ဒვპ",
}
_EXTRA = {ord(c): latin for latin, chars in _EXTRA_GROUPS.items() for c in chars}
# Letters with two readings: Chrome reads Cyrillic palochka `ӏ` as both `l` and `i`.
_ALTERNATES = {"ӏ": ("l", "i"), "œ": ("oe", "ce")}
# Fold what NFD leaves whole (Chrome's diacritic remover does the same three).
_FOLD = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ı": "i"})

_MAX_READINGS = 8  # a label with many two-way letters is no convincing spoof; bound the work


def ascii_reading(label: str) -> str:
    """How an ASCII label reads when digits and letter pairs pass for letters.

    >>> [ascii_reading(t) for t in ("zo0m", "rnicrosoft", "g00gle", "we6ex")]
    ['zoom', 'microsoft', 'google', 'we6ex']
    """
    text = label.translate(_ASCII_LOOKS_LIKE)
    for many, one in _ASCII_PAIRS:
        if many in text:
            text = text.replace(many, one)
    return text


def shape_key(reading: str) -> str:
    """A reading reduced to its shape: characters that pass for one another made one.

    >>> shape_key("clickrneetinq") == shape_key("clickmeeting"), shape_key("zoom")
    (True, 'zoom')
    """
    if _SHAPE_PAIR_FOUND.search(reading):
        for many, one in _SHAPE_PAIRS:
            reading = reading.replace(many, one)
    return reading.translate(_SHAPE_CHARS)


def readings(label: str) -> frozenset[str]:
    """Every Latin reading of a label (one for most labels; letters with two readings add).

    ASCII labels read as themselves and as `ascii_reading`. Letters with no Latin look-alike
    are kept, so such labels read as nothing protected.

    >>> sorted(readings("ԍооԍӏе"))
    ['googie', 'google']
    >>> sorted(readings("gőøgle")), sorted(readings("ԝеьех")), sorted(readings("zo0m"))
    (['google'], ['webex'], ['zo0m', 'zoom'])
    """
    if label.isascii():
        if not _passes_for_letters(label):
            return frozenset({label})
        return frozenset({label, ascii_reading(label)})
    return _unicode_readings(label)


def _passes_for_letters(label: str) -> bool:
    """True when a label's digits could pass for letters: a few among letters (`g00gle`), not
    a number (`hanoi2024`, `123`)."""
    digits = len(_DIGITS.findall(label))
    if digits == 0:
        return any(pair in label for pair, _ in _ASCII_PAIRS)
    return digits <= 3 and digits * 2 <= len(label) - digits - label.count("-")


@functools.lru_cache(maxsize=4096)
def _unicode_readings(label: str) -> frozenset[str]:
    text = unicodedata.normalize("NFKC", label).casefold()
    options: list[tuple[str, ...]] = [_char_reading(c) for c in text]
    out = {""}
    for choice in options:
        out = {prefix + option for prefix in out for option in choice}
        if len(out) > _MAX_READINGS:
            out = set(sorted(out)[:_MAX_READINGS])
    return frozenset(ascii_reading(r) for r in out)


@functools.lru_cache(maxsize=4096)
def _char_reading(char: str) -> tuple[str, ...]:
    if char.isascii():
        return (char,)
    if char in _ALTERNATES:
        return _ALTERNATES[char]
    if ord(char) in _EXTRA:
        return (_EXTRA[ord(char)],)
    bare = "".join(c for c in unicodedata.normalize("NFD", char)
                   if not unicodedata.combining(c)).translate(_FOLD)
    if bare.isascii():
        return (bare,)
    if ord(bare[0]) in _EXTRA:
        return (_EXTRA[ord(bare[0])],)
    skeleton = _skeleton(bare)
    if skeleton.isascii() and skeleton.isalnum():
        # ICU writes `m` as `rn` in skeletons; a reading wants the letter.
        return ("m" if skeleton == "rn" else skeleton,)
    named = _latin_letter_named(bare) or _latin_letter_named(skeleton[:1])
    return (named or char,)


_LATIN_NAME = re.compile(r"^LATIN (?:SMALL |CAPITAL )?LETTER (?:SMALL CAPITAL )?([A-Z])(?: |$)")


def _latin_letter_named(char: str) -> str:
    """The letter a Latin variant is named after (`ᴍ` small capital M, `ʐ` z with a hook)."""
    match = _LATIN_NAME.match(unicodedata.name(char, "")) if len(char) == 1 else None
    return match.group(1).lower() if match else ""


@functools.cache
def _checker():  # -> icu.SpoofChecker
    import icu  # PyICU: imported on first non-ASCII label, not at start-up

    return icu.SpoofChecker()


def _skeleton(text: str) -> str:
    """ICU's TR39 confusable skeleton of `text` (lower case)."""
    return _checker().getSkeleton(0, text).lower()


def scripts_of(label: str) -> tuple[str, ...]:
    """The scripts of a label's letters, in order of first use (Common and Inherited left out).

    >>> scripts_of("zооm"), scripts_of("ԍооԍӏе"), scripts_of("zoom-2")
    (('Latin', 'Cyrillic'), ('Cyrillic',), ('Latin',))
    """
    found: list[str] = []
    for char in label:
        script = _script(char)
        if script and script not in found:
            found.append(script)
    return tuple(found)


@functools.lru_cache(maxsize=4096)
def _script(char: str) -> str:
    if char.isascii():
        return "Latin" if char.isalpha() else ""
    import icu

    name = icu.Script.getScript(ord(char)).getName()
    return "" if name in ("Common", "Inherited", "Unknown") else name


def is_mixed_script(label: str) -> bool:
    """True when a label mixes scripts that no language writes together (TR39 'highly
    restrictive': Latin with one of Han/Hiragana/Katakana/Hangul/Bopomofo is fine).

    >>> is_mixed_script("zооm"), is_mixed_script("điện"), is_mixed_script("東京tokyo")
    (True, False, False)
    """
    scripts = set(scripts_of(label))
    if len(scripts) < 2:
        return False
    return not scripts <= _CJK_WITH_LATIN


_CJK_WITH_LATIN = frozenset({"Latin", "Han", "Hiragana", "Katakana", "Hangul", "Bopomofo"})


def script_names(scripts: Iterable[str]) -> tuple[str, str]:
    """The scripts for people, in English and Vietnamese ("Cyrillic and Latin")."""
    names = list(scripts)
    en = " and ".join(names)
    vi = " và ".join(_VI_SCRIPT.get(n, n) for n in names)
    return en, vi


_VI_SCRIPT = {"Latin": "Latinh", "Cyrillic": "Kirin", "Greek": "Hy Lạp",
              "Armenian": "Armenia", "Georgian": "Gruzia", "Hebrew": "Do Thái",
              "Arabic": "Ả Rập", "Thai": "Thái", "Han": "Hán"}
