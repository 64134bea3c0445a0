"""Terminal tables: display widths, shortening with …, fitting columns to a width, streaming."""

from __future__ import annotations

import io
import unicodedata

import pytest

from meetguard.tables import Column, Table, display_width, fit, printable, shorten

VI = "Liên kết được tạo ra để đánh lừa người dùng"
VI_DECOMPOSED = unicodedata.normalize("NFD", VI)
CJK = "https://会议.例え.jp/会议室/第一次会议"


def test_display_width_counts_columns_not_code_points() -> None:
    assert display_width(VI) == len(VI)  # precomposed: one column each
    assert len(VI_DECOMPOSED) > len(VI) and display_width(VI_DECOMPOSED) == len(VI)
    assert display_width("会议") == 4 and display_width("ｚｏｏｍ") == 8  # wide and fullwidth
    assert display_width("abc") == 3


@pytest.mark.parametrize("text", [VI, VI_DECOMPOSED, CJK, "https://example.com/" + "x" * 80])
@pytest.mark.parametrize("middle", [False, True])
def test_shorten_fits_and_keeps_marks_on_their_letters(text: str, middle: bool) -> None:
    for width in range(1, display_width(text) + 3):
        short = shorten(text, width, middle=middle)
        assert display_width(short) <= width
        # at most one column lost, to a wide character that did not fit
        assert display_width(short) >= min(width, display_width(text)) - 1
        if display_width(text) <= width:
            assert short == text
            continue
        assert short.count("…") == 1
        head, _, tail = short.partition("…")
        assert text.startswith(head) and text.endswith(tail)
        assert middle or tail == ""
        # a combining mark never loses its letter (it would land on the … or a space)
        assert not tail or not unicodedata.combining(tail[0])


def test_shorten_cuts_links_in_the_middle_and_messages_at_the_end() -> None:
    link = "https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2Fzoom.us"
    assert shorten(link, 30, middle=True) == "https://nam12.s…A%2F%2Fzoom.us"
    assert shorten(VI, 12) == "Liên kết đư…"


def test_printable_replaces_escapes_and_direction_overrides() -> None:
    assert printable("a\x1b[31mb\u202ec") == "a\ufffd[31mb\ufffdc"
    assert printable(VI_DECOMPOSED) == VI_DECOMPOSED  # combining marks are text


def test_fit_shrinks_the_widest_first_then_drops_columns_in_order() -> None:
    columns = [Column("time", minimum=29), Column("kind", minimum=5, drop=2),
               Column("host", minimum=12, drop=1), Column("reason", minimum=16, weight=2)]
    natural = [29, 5, 40, 80]
    assert fit(columns, natural, None) == natural  # no width: nothing is cut
    assert fit(columns, natural, 200) == [29, 5, 40, 200 - 29 - 5 - 40 - 6]
    wide = fit(columns, natural, 100)
    assert wide[:2] == [29, 5] and sum(wide) + 6 == 100 and wide[3] > wide[2] >= 12
    assert fit(columns, natural, 60) == [29, None, None, 60 - 29 - 2]  # host went first
    # narrower than every minimum: every column is cut rather than the line wrapped
    tiny = fit(columns, natural, 20)
    assert sum(w for w in tiny if w) + 2 * (sum(1 for w in tiny if w) - 1) <= 20


def test_a_table_keeps_the_widths_of_its_first_rows() -> None:
    out = io.StringIO()
    table = Table([Column("a"), Column("b", middle=True)], out, 30, window=2)
    table.add(["x", "short"])
    table.add(["xxxx", "also short"])
    table.add(["a much longer first cell", "and a much longer second one too"])
    table.close()
    lines = out.getvalue().splitlines()
    assert lines[0] == "A     B"
    assert lines[1] == "x     short"
    assert lines[3].startswith("a m…  ") and "…" in lines[3][6:]
    assert all(display_width(line) <= 30 for line in lines)


def test_a_table_without_rows_yet_has_typical_widths() -> None:
    out = io.StringIO()
    table = Table([Column("time", typical=29), Column("host", typical=8)], out, 80)
    table.settle()
    table.add(["2026-06-05T08:13:07.123+07:00", "zoom.us"])
    assert out.getvalue().splitlines() == ["TIME" + " " * 27 + "HOST",
                                           "2026-06-05T08:13:07.123+07:00  zoom.us"]


def test_the_narrow_fast_path_only_takes_one_column_characters() -> None:
    from meetguard.tables import _NARROW, char_width

    narrow = [chr(c) for c in range(0x3000) if _NARROW.fullmatch(chr(c))]
    assert len(narrow) > 800 and {char_width(c) for c in narrow} == {1}
