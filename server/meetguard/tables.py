"""Tables people read in a terminal: aligned columns fitted to its width, never wrapped.

Widths are display widths, not `len()`: a CJK character takes two columns, a combining mark
(Vietnamese written decomposed) none. A cell too long for its column is shortened with `…`, at
the end (messages) or in the middle (links, paths, hosts: both ends tell where they go).

Rows stream: column widths are settled from the first rows (a window) and kept, so a table of a
million rows neither sits in memory nor shifts its columns halfway down.
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

ELLIPSIS = "…"
GAP = "  "
WINDOW = 256
"""Rows measured before the column widths are settled."""


def printable(text: str) -> str:
    """No control or format characters reach the terminal: a link may carry escape sequences
    or a right-to-left override that would redraw what the reader sees."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else "\ufffd" for c in text)


def char_width(char: str) -> int:
    """Columns a terminal gives one (printable) character: 0, 1 or 2."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


# Characters one column wide each, whatever their neighbours: ASCII, Latin-1 to the spacing
# modifiers, Vietnamese precomposed letters, punctuation. Most cells are made of them only, and
# are measured and cut by index instead of character by character.
_NARROW = re.compile("[\x20-\x7e\u00a0-\u00ac\u00ae-\u02ff\u1e00-\u1eff\u2010-\u2027]*")


def _narrow(text: str) -> bool:
    return text.isascii() or _NARROW.fullmatch(text) is not None


def display_width(text: str) -> int:
    """
    >>> display_width("Liên kết"), display_width("Lie\u0302n"), display_width("会议")
    (8, 4, 4)
    """
    if _narrow(text):
        return len(text)
    return sum(map(char_width, text))


def _head(text: str, width: int) -> str:
    """The longest start of `text` within `width` columns (its combining marks kept)."""
    used = 0
    for i, char in enumerate(text):
        used += char_width(char)
        if used > width:
            return text[:i]
    return text


def _tail(text: str, width: int) -> str:
    """The longest end of `text` within `width` columns, not starting with a stray mark."""
    used, start = 0, len(text)
    for i in range(len(text) - 1, -1, -1):
        used += char_width(text[i])
        if used > width:
            break
        start = i
    while start < len(text) and char_width(text[start]) == 0:
        start += 1
    return text[start:]


def shorten(text: str, width: int, *, middle: bool = False) -> str:
    """`text` within `width` display columns: whole if it fits, else cut with `…`.

    >>> shorten("https://example.com/a/very/long/path", 20, middle=True)
    'https://ex…long/path'
    >>> shorten("Liên kết được tạo ra để đánh lừa", 12)
    'Liên kết đư…'
    """
    if display_width(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    if _narrow(text):  # the common case, without measuring character by character
        if middle:
            head = width // 2
            return text[:head] + ELLIPSIS + text[len(text) - (width - 1 - head):]
        return text[:width - 1] + ELLIPSIS
    if middle:
        head = _head(text, width // 2)
        return head + ELLIPSIS + _tail(text, width - 1 - display_width(head))
    return _head(text, width - 1) + ELLIPSIS


@dataclass(frozen=True, slots=True)
class Column:
    """How one column behaves when the terminal is too narrow for the whole rows."""

    name: str
    minimum: int = 6
    """Never narrower than this (or its widest cell, when that is less)."""
    middle: bool = False
    """A long cell loses its middle (links, paths, hosts), else its end (messages)."""
    typical: int = 12
    """The width assumed when rows come one at a time or none is seen yet (`logs --follow`)."""
    drop: int = 0
    """When even the minimums do not fit: columns with a higher `drop` go first; 0 stays."""
    weight: int = 1
    """How much of the room this column claims beside the others (the long texts: 2)."""


def output_width(out: TextIO) -> int | None:
    """Columns to fit: $COLUMNS when set, the terminal's width when `out` is one, else None.

    None (a pipe or a file, no $COLUMNS): cells are never shortened; nothing read by a
    program or kept in a file loses text.
    """
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    isatty = getattr(out, "isatty", None)
    if isatty is not None and isatty():
        return shutil.get_terminal_size().columns
    return None


def fit(columns: Sequence[Column], natural: Sequence[int], budget: int | None
        ) -> list[int | None]:
    """Each column's width within `budget` display columns (None: the column is dropped).

    Columns give way by a common cap (times their `weight`), never below their minimum; when
    even the minimums do not fit, the droppable columns go, then the minimums; the last column
    takes what is left over, so a long link later on is cut as little as possible.

    >>> fit([Column("a"), Column("b", minimum=4)], [10, 40], 30)
    [10, 18]
    >>> fit([Column("a", drop=1), Column("b", minimum=20)], [10, 40], 21)
    [None, 21]
    """
    if budget is None:
        return list(natural)
    floors = [min(n, c.minimum) for c, n in zip(columns, natural, strict=True)]
    kept = list(range(len(columns)))

    def room() -> int:
        return budget - len(GAP) * (len(kept) - 1)

    for i in sorted((i for i, c in enumerate(columns) if c.drop), key=lambda i: -columns[i].drop):
        if sum(floors[k] for k in kept) <= room():
            break
        kept.remove(i)
    if sum(floors[k] for k in kept) > room():  # a very narrow terminal: cut every column
        floors = [min(n, 1) for n in natural]

    def width(k: int, cap: int) -> int:
        return min(natural[k], max(floors[k], cap * columns[k].weight))

    low, high = 0, max(natural[k] for k in kept)
    while low < high:  # the largest cap at which the kept columns fit
        mid = (low + high + 1) // 2
        fits = sum(width(k, mid) for k in kept) <= room()
        low, high = (mid, high) if fits else (low, mid - 1)
    widths = {k: width(k, low) for k in kept}
    widths[kept[-1]] += max(0, room() - sum(widths.values()))
    return [widths.get(i) for i in range(len(columns))]


class Table:
    """A table written as rows come: header and widths once the first `window` rows are in."""

    def __init__(self, columns: Sequence[Column], out: TextIO, width: int | None, *,
                 window: int = WINDOW) -> None:
        self.columns = tuple(columns)
        self.out = out
        self.width = width
        self.window = max(1, window)
        self._pending: list[list[str]] = []
        self._widths: list[int | None] | None = None

    def add(self, cells: Sequence[str]) -> None:
        """One row of cells (already `printable`), in the order of the columns."""
        if self._widths is None:
            self._pending.append(list(cells))
            if len(self._pending) >= self.window:
                self.settle()
        else:
            self.out.write(self._line(cells))

    def settle(self) -> None:
        """Fix the widths from the rows seen so far (or the typical ones), write the header
        and the rows waiting. Later calls do nothing."""
        if self._widths is not None:
            return
        names = [c.name.upper() for c in self.columns]
        # Rows that come one at a time (or not yet) say little: typical widths are the floor.
        guess = self.window == 1 or not self._pending
        natural = [max(display_width(n), c.typical if guess else 0,
                       *(display_width(r[i]) for r in self._pending))
                   for i, (n, c) in enumerate(zip(names, self.columns, strict=True))]
        self._widths = fit(self.columns, natural, self.width)
        self.out.write(self._line(names) + "".join(self._line(r) for r in self._pending))
        self._pending.clear()

    def close(self) -> None:
        self.settle()

    def _line(self, cells: Sequence[str]) -> str:
        assert self._widths is not None
        shortened = self.width is not None
        parts = []
        for cell, width, column in zip(cells, self._widths, self.columns, strict=True):
            if width is None:
                continue
            used = display_width(cell)
            if shortened and used > width:
                cell = shorten(cell, width, middle=column.middle)
                used = display_width(cell)
            parts.append(cell + " " * (width - used))
        return GAP.join(parts).rstrip(" ") + "\n"
