"""A topic's patterns, compiled when first needed and searched only where a match can start.

A topic's names are unions of alternatives (``alias|alias|(?:regex)``), case-insensitive, with
word-boundary lookarounds: ``pattern.finditer(text)`` tries every alternative at every
character, and most articles name none of them. Here each alternative gets an *anchor*, a
literal that any of its matches holds at a known distance from its start (``"wuzhen"`` at 0,
``"之光博"`` at 3). The text is lowered once (and the topic's script variants folded to one
spelling); only where an anchor occurs is the pattern tried, by ``pattern.match(text, start)``.
A position where none occurs cannot start a match, so ``Lazy.finditer`` returns exactly the
matches of ``pattern.finditer(text)``.

Lowering agrees with the regex engine's case-insensitive comparison for every character an
anchor may hold (ASCII, or without case) except against ``İ`` (lowered to two characters),
``ı`` and ``ſ`` (which ``IGNORECASE`` matches to ``i`` and ``s``): a text holding one of them
is searched the plain way. An alternative without an anchor (a regex starting with ``\\w+``)
makes its pattern search the plain way too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from re import _constants as sre  # type: ignore[attr-defined]  # the parser's opcodes (Python >= 3.11)
from re import _parser as sre_parse  # type: ignore[attr-defined]

_UNALIGNED = ("\u0130", "\u0131", "\u017f")
_UNIT = (sre.LITERAL, sre.NOT_LITERAL, sre.IN, sre.ANY)
_EMPTY = (sre.AT, sre.ASSERT, sre.ASSERT_NOT)
_REPEATS = tuple(getattr(sre, name) for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") if hasattr(sre, name))
_GROUPS = tuple(getattr(sre, name) for name in ("SUBPATTERN", "ATOMIC_GROUP") if hasattr(sre, name))

# The letters and digits that the boundaries of an alias (wicnews.topic.alias_regex) keep apart.
LATIN = r"0-9A-Za-z\u00C0-\u024F"
_LATIN_WORD = re.compile(f"[{LATIN}]+")
_LATIN_WORDS = re.compile(f"[{LATIN}]+", re.IGNORECASE)
# An alternative's anchor: (whole words and other literals that must all be in the text; offset
# of the start literal from the match's start, None when not fixed; start literal). None: it has none.
Anchor = tuple[frozenset[str], tuple[str, ...], "int | None", str]


def _uncased(char: str) -> bool:
    return char == char.lower() == char.upper()


class Folding:
    """How a topic lowers text for its anchors: ``lower()``, then each script variant to the
    first spelling of its group (only when every variant is a non-ASCII character without
    case, each in one group: otherwise variants end an anchor)."""

    def __init__(self, variants: Iterable[str]):
        groups = list(variants)
        chars = [c for g in groups for c in g]
        self.variants = set(chars)
        foldable = len(chars) == len(set(chars)) and all(not c.isascii() and _uncased(c) for c in chars)
        self.table = {ord(c): g[0] for g in groups for c in g} if foldable else {}
        self.wide: set[str] = {c for c in chars if not c.isascii()} if foldable else set()
        self._wide: re.Pattern | None = None

    def char(self, char: str, literal: bool = True) -> str | None:
        """``char`` as an anchor holds it, None when it cannot be in one. A variant in an alias
        (``literal=False``) matches any spelling of its group."""
        if not literal:
            return self.table.get(ord(char)) if char in self.variants else None
        if not (char.isascii() or _uncased(char)):
            return None
        low = char.lower()
        return self.table.get(ord(low), low)

    def note(self, anchor: str) -> None:
        """Remembers the non-ASCII characters of an anchor: a text without any needs no fold,
        and holds no such anchor."""
        self.wide.update(c for c in anchor if not c.isascii())
        self._wide = None

    def view(self, text: str) -> View:
        if self._wide is None:
            self._wide = re.compile("[" + "".join(map(re.escape, sorted(self.wide))) + "]") if self.wide else re.compile("(?!)")
        return View(text, self.table, self._wide)


class View:
    """A text and its lowered, folded copy (``low``, None when it does not line up with the
    text), with the places each anchor occurs."""

    def __init__(self, text: str, table: dict, wide: re.Pattern):
        self.text = text
        self.low: str | None = None
        self.wide = False
        if text.isascii():
            self.low = text.lower()
        elif not any(c in text for c in _UNALIGNED):
            low = text.lower()
            self.wide = wide.search(low) is not None
            self.low = low.translate(table) if self.wide and table else low
        self._places: dict[str, list[int]] = {}
        self._has: dict[str, bool] = {}
        self._words: set[str] | None = None

    @property
    def words(self) -> set[str]:
        """The text's words (runs of ``LATIN`` characters, as the boundaries see them), lowered."""
        if self._words is None:
            self._words = set(map(str.lower, _LATIN_WORDS.findall(self.text)))
        return self._words

    def has(self, literal: str) -> bool:
        found = self._has.get(literal)
        if found is None:
            assert self.low is not None
            found = self._has[literal] = (self.wide or literal.isascii()) and literal in self.low
        return found

    def places(self, literal: str) -> list[int]:
        found = self._places.get(literal)
        if found is None:
            found, low, at = [], self.low, -1
            if self.wide or literal.isascii():
                assert low is not None
                while (at := low.find(literal, at + 1)) >= 0:
                    found.append(at)
            self._places[literal] = found
        return found


def alias_anchor(alias: str, fold: Folding, case_sensitive: bool = False) -> Anchor | None:
    """The anchor of ``wicnews.topic.alias_regex(alias)``: whitespace there matches any run of
    whitespace (so offsets after it are not fixed), a variant any spelling of its group. A
    word of Latin letters and digits, matched case-insensitively, is a whole word of the text
    (the regex's boundaries): looked for among the text's words, not scanned for."""
    runs: list[tuple[int | None, str, bool]] = []
    for index, word in enumerate(alias.split()):
        run, start = "", 0
        for at, char in enumerate(word):
            low = fold.char(char, literal=char not in fold.variants)
            if low is None:
                if run:
                    runs.append((start if index == 0 else None, run, False))
                run = ""
                continue
            if not run:
                start = at
            run += low
        if run:
            whole = start == 0 and not case_sensitive and _LATIN_WORD.fullmatch(word) is not None
            runs.append((start if index == 0 else None, run, whole))
    return _best(runs, fold)


def regex_anchor(source: str, flags: int, fold: Folding) -> Anchor | None:
    """The anchor of a regex (None when it has none or its parse is not understood)."""
    try:
        parsed = sre_parse.parse(source, flags)
    except (re.error, RecursionError):
        return None
    runs: list[tuple[int | None, str, bool]] = []
    try:
        _walk(parsed, 0, runs, fold)
    except (TypeError, ValueError, AttributeError, IndexError):
        return None
    return _best(runs, fold)


def _best(runs: list[tuple[int | None, str, bool]], fold: Folding) -> Anchor | None:
    """Every run must be there (whole words among the words, the longest other run first);
    the longest run at a fixed offset says where a match can start."""
    if not runs:
        return None
    words = frozenset(r for _, r, whole in runs if whole)
    scans = tuple(sorted({r for _, r, whole in runs if not whole}, key=len, reverse=True))
    for _, literal, _ in runs:
        fold.note(literal)
    fixed = [(len(r), -i, o, r) for i, (o, r, _) in enumerate(runs) if o is not None]
    if not fixed:
        return (words, scans, None, max((r for _, r, _ in runs), key=len))
    *_, offset, literal = max(fixed)
    return (words, scans, offset, literal)


def _width(sub) -> int | None:
    lo, hi = sub.getwidth()
    return lo if lo == hi and hi < sre.MAXREPEAT else None


def _walk(items, offset: int | None, runs: list, fold: Folding) -> int | None:
    """Appends the literal runs of a parsed sequence to ``runs`` as ``(offset or None, text,
    False)``; returns the offset after it (None when not fixed)."""
    run, start = "", offset
    for op, av in items:
        low = fold.char(chr(av)) if op is sre.LITERAL else None
        if low is not None:
            if not run:
                start = offset
            run += low
            offset = None if offset is None else offset + 1
            continue
        if run:
            runs.append((start, run, False))
            run = ""
        if op in _UNIT:
            width: int | None = 1
        elif op in _EMPTY:
            width = 0
        elif op in _GROUPS:
            offset = _walk(av[-1] if op is sre.SUBPATTERN else av, offset, runs, fold)
            continue
        elif op is sre.BRANCH:
            widths = {_width(b) for b in av[1]}
            width = widths.pop() if len(widths) == 1 else None
        elif op in _REPEATS:
            inner = _width(av[2])
            width = av[0] * inner if inner is not None and av[0] == av[1] else None
        else:
            width = None
        offset = None if offset is None or width is None else offset + width
    if run:
        runs.append((start, run, False))
    return offset


class Lazy:
    """A regex compiled on first use, with the anchors of its alternatives (None: search the
    plain way)."""

    def __init__(self, source: str, flags: int, anchors: list[Anchor | None] | None = None):
        self.source, self.flags = source, flags
        self.anchors: list[Anchor] | None = None if anchors is None or None in anchors else anchors  # type: ignore[assignment]
        self._compiled: re.Pattern | None = None

    @property
    def compiled(self) -> re.Pattern:
        if self._compiled is None:
            self._compiled = re.compile(self.source, self.flags)
        return self._compiled

    @property
    def pattern(self) -> str:
        return self.source

    def search(self, text: str) -> re.Match | None:
        return self.compiled.search(text)

    def finditer(self, view: View) -> list[re.Match]:
        """``list(pattern.finditer(view.text))``, trying only where an anchor occurs."""
        if self.anchors is None or view.low is None:
            return list(self.compiled.finditer(view.text))
        starts: set[int] = set()
        for words, scans, offset, literal in self.anchors:
            if (words and not view.words.issuperset(words)) or not all(map(view.has, scans)):
                continue
            if offset is None:
                return list(self.compiled.finditer(view.text))
            starts.update(at - offset for at in view.places(literal) if at >= offset)
        if not starts:
            return []
        pattern, text, out, end = self.compiled, view.text, [], 0
        for at in sorted(starts):
            if at >= end and (m := pattern.match(text, at)) is not None:
                out.append(m)
                end = m.end()
        return out
