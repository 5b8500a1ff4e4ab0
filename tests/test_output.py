"""The terminal table's arithmetic: cells and cuts, against ``unicodedata`` one character at a time."""

from __future__ import annotations

import random
import re
import unicodedata

from wicnews.output.table import WIDE_BLOCKS, cells, fit


def _cell(ch: str) -> int:
    if unicodedata.category(ch) in ("Mn", "Me") or ch in "\u200b\u200c\u200d\u2060\ufeff":
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _cells(text: str) -> int:
    return sum(map(_cell, text))


def _fit(text: str, width: int) -> str:
    """The plain definition: the longest prefix that leaves a cell for the ellipsis."""
    if _cells(text) <= width:
        return text + " " * (width - _cells(text))
    out = ""
    for ch in text:
        if _cells(out + ch) > width - 1:
            break
        out += ch
    return out + "…" + " " * (width - 1 - _cells(out))


def test_every_character_of_the_wide_blocks_is_wide():
    blocks = re.findall(r"(.)-(.)", WIDE_BLOCKS)
    assert len(blocks) == 3
    for low, high in blocks:
        assert all(_cells(chr(c)) == 2 for c in range(ord(low), ord(high) + 1)), (low, high)


def test_cells_and_fit_agree_with_unicodedata_on_mixed_scripts():
    pool = ("abc XYZ 123", "é", "ñ", "世界互联网大会", "乌镇", "，。！", "（）", "ｗｉｃ", "한국어", "カタカナ", "ｶﾀｶﾅ",
            "\u0301", "😀", "\u3000", "Ω", "\u0378", "\u2e80", "\ufe31", "\U00020000", "ไทยรัฐ ออนไลน์",
            "हिन्दी", "e\u0301\u0301\u0301", "\u200d", "\u302a")
    rng = random.Random(5)
    for _ in range(3000):
        text = "".join(rng.choice(pool)[: rng.randint(1, 6)] for _ in range(rng.randint(1, 12)))
        assert cells(text) == _cells(text), text
        width = rng.randint(1, 40)
        assert fit(text, width) == _fit(text, width), (text, width)


def test_bidirectional_controls_and_escapes_never_reach_the_terminal():
    from wicnews.output.table import printable

    shown = printable("World \u202eInternet\u202c \x1b]0;title\x07 \u2066x\u2069 \u200f")
    assert shown == "World \\u202eInternet\\u202c \\x1b]0;title\\x07 \\u2066x\\u2069 \\u200f"
    assert printable("乌镇 café") == "乌镇 café"


def test_a_title_with_combining_marks_keeps_the_columns_aligned():
    assert cells("ไทยรัฐ ออนไลน์") == 12 and cells("e\u0301") == 1
    assert cells(fit("ไทยรัฐ ออนไลน์ ข่าว", 10)) == 10 and cells(fit("हिन्दी समाचार", 26)) == 26
