"""How a look-alike imitates its target, said in English and Vietnamese. Pure: no I/O.

A person shown a warning should see the trick: which name is imitated and how (written in
Cyrillic letters, one letter changed, the name cut by a dot, …).
"""

from __future__ import annotations

from .homoglyphs import script_names
from .lookalikes import Lookalike
from .verdict import Text

_SLIPS: dict[str, Text] = {
    "omission": Text("a letter left out", "thiếu một chữ cái"),
    "insertion": Text("a letter added", "thêm một chữ cái"),
    "repetition": Text("a letter doubled", "một chữ cái bị lặp"),
    "transposition": Text("two letters swapped", "hai chữ cái bị đổi chỗ"),
    "neighbour": Text("one letter changed to the key next to it",
                      "một chữ cái bị thay bằng phím bên cạnh"),
    "look-alike": Text("one letter changed to one that looks alike",
                       "một chữ cái bị thay bằng chữ trông giống"),
    "replacement": Text("one letter changed", "một chữ cái bị thay"),
    "double": Text("two letters changed", "hai chữ cái bị thay đổi"),
    "moved": Text("a letter moved", "một chữ cái bị chuyển chỗ"),
    "vowels": Text("its vowels changed", "các nguyên âm bị thay đổi"),
    "double-key": Text("two letters typed as one doubled letter",
                       "hai chữ cái bị gõ thành một chữ lặp đôi"),
}

_HOW: dict[str, Text] = {
    "typo": Text("it is {imitated} with {slip}", "đó là {imitated} với {slip}"),
    "split": Text("it is {imitated} cut apart by a dot or a hyphen",
                  "đó là {imitated} bị tách ra bằng dấu chấm hoặc gạch nối"),
    "brand": Text("it uses the name {imitated} on a site that does not belong to {platform} "
                  "({registered})",
                  "tên miền dùng tên {imitated} nhưng không thuộc về {platform} ({registered})"),
    "subdomain": Text("{platform} ({imitated}) is only part of the name of another site, "
                      "{registered}",
                      "{platform} ({imitated}) chỉ là một phần tên của một trang khác, "
                      "{registered}"),
    "embedded": Text("{imitated} is glued into the name of another site, {registered}",
                     "{imitated} bị ghép vào tên của một trang khác, {registered}"),
    "digits": Text("it uses characters that look alike (digits for letters) to pass for "
                   "{imitated}",
                   "tên dùng ký tự trông giống nhau (chữ số thay chữ cái) để giả làm {imitated}"),
    "accents": Text("it uses letters with accents or strokes to look like {imitated}",
                    "tên dùng chữ có dấu hoặc nét phụ để trông giống {imitated}"),
    "script": Text("it is written in {scripts} letters that look like {imitated}",
                   "tên được viết bằng chữ {scripts} trông giống {imitated}"),
}
_SHAPED = Text("; the link also has the shape of a {platform} meeting link",
               "; liên kết còn có dạng liên kết họp của {platform}")
_WRITTEN_IN = Text(", written in {scripts} letters", ", viết bằng chữ {scripts}")
_SHAPE = Text("the link has the shape of a {platform} meeting link, but goes to {registered}",
              "liên kết có dạng liên kết họp của {platform} nhưng dẫn tới {registered}")


def explain(lookalike: Lookalike, shown: str, registered: str, platform: str,
            shaped: bool) -> Text:
    """What the look-alike does, e.g. "it is written in Cyrillic letters that look like
    google.com".

    >>> from meetguard.lookalikes import Lookalike
    >>> found = Lookalike("zoom", "zoom.us", "typo", False, slip="omission")
    >>> explain(found, "zom.us", "zom.us", "Zoom", shaped=True).get("en")
    'it is zoom.us with a letter left out; the link also has the shape of a Zoom meeting link'
    """
    how = lookalike.how
    if how == "homoglyph":
        how = ("digits" if not lookalike.scripts else
               "accents" if lookalike.scripts == ("Latin",) else "script")
    scripts = Text(*script_names(lookalike.scripts))
    text = _HOW[how].format(imitated=lookalike.imitated, platform=platform,
                            registered=registered or shown, scripts=scripts,
                            slip=_SLIPS.get(lookalike.slip, _SLIPS["replacement"]))
    if lookalike.how in ("typo", "split") and lookalike.scripts not in ((), ("Latin",)):
        text = _joined(text, _WRITTEN_IN.format(scripts=scripts))
    if shaped:
        return _joined(text, _SHAPED.format(platform=platform))
    return text


def shape(platform: str, registered: str) -> Text:
    """A meeting link's shape on another site."""
    return _SHAPE.format(platform=platform, registered=registered)


def _joined(first: Text, second: Text) -> Text:
    return Text("{first}{second}", "{first}{second}").format(first=first, second=second)
