"""A topic's patterns, compiled when first needed and tried only where a match can start.

A topic's names are unions of alternatives (``alias|alias|(?:regex)``), case-insensitive, with
word-boundary lookarounds: ``pattern.finditer(text)`` tries every alternative at every
character, and most articles name none of them. Here each alternative gets an *anchor*: the
literal runs that all of its matches hold (``"world"``, ``"internet"``, ``"conference"``), one
of them at a known distance from the match's start (``"world"`` at 0). The text is lowered once
(and the topic's script variants folded to one spelling); an alternative is tried only where
its start literal occurs, and only when all its literals are there, by
``pattern.match(text, start)``. A position where none can start a match is no start of one, so
``Lazy.finditer`` returns exactly the matches of ``pattern.finditer(text)``.

Lowering agrees with the regex engine's case-insensitive comparison for every character an
anchor may hold (ASCII, or without case) but for ``İ`` (lowered to two characters), ``ı`` and
``ſ`` (which ``IGNORECASE`` matches to ``i`` and ``s``): those are made ``i`` and ``s`` first.
A pattern with an alternative without an anchor (a regex that starts with ``\\w+``, say) is
searched the plain way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from re import _constants as sre  # type: ignore[attr-defined]  # the parser's opcodes (Python >= 3.11)
from re import _parser as sre_parse  # type: ignore[attr-defined]

# What IGNORECASE matches to "i" and "s" but lower() does not lower to it (İ even to two characters)
_UNALIGNED = (("\u0130", "i"), ("\u0131", "i"), ("\u017f", "s"))
try:  # ... the only case pairs IGNORECASE adds to lower() for ASCII letters (so far): else no anchors
    from re._casefix import _EXTRA_CASES

    _ANCHORED = {chr(k): v for k, v in _EXTRA_CASES.items() if k < 128} == {"i": (0x131,), "s": (0x17F,)}
except ImportError:
    _ANCHORED = False
_UNIT = (sre.LITERAL, sre.NOT_LITERAL, sre.IN, sre.ANY)
_EMPTY = (sre.AT, sre.ASSERT, sre.ASSERT_NOT)
_REPEATS = tuple(getattr(sre, name) for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") if hasattr(sre, name))
_GROUPS = tuple(getattr(sre, name) for name in ("SUBPATTERN", "ATOMIC_GROUP") if hasattr(sre, name))
_NOTHING = re.compile("(?!)")

# An alternative's anchor: (literals that must all be in the text, longest first; offset of the
# start literal from the match's start, None when not fixed; start literal). None: it has none.
Anchor = tuple[tuple[str, ...], "int | None", str]


def _uncased(char: str) -> bool:
    return char == char.lower() == char.upper()


class Folding:
    """How a topic lowers text for its anchors: ``lower()``, then each script variant to the
    first spelling of its group (only when every variant is a non-ASCII character without
    case, each in one group: otherwise variants end an anchor). Knows the first literal of
    every anchor, that a view of a whole article looks for at once (``View.prime``)."""

    def __init__(self, variants: Iterable[str]):
        groups = list(variants)
        chars = [c for g in groups for c in g]
        self.variants = set(chars)
        foldable = len(chars) == len(set(chars)) and all(not c.isascii() and _uncased(c) for c in chars)
        self.table = {ord(c): g[0] for g in groups for c in g} if foldable else {}
        self.wide: set[str] = {c for c in chars if not c.isascii()} if foldable else set()
        self._firsts: set[str] = set()
        self._split: tuple[list[str], list[str]] | None = None
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

    def note(self, literals: tuple[str, ...]) -> None:
        """Remembers an anchor's literals: their non-ASCII characters (a text without any
        needs no folding and holds none of them) and the first."""
        self.wide.update(c for literal in literals for c in literal if not c.isascii())
        self._firsts.add(literals[0])
        self._wide = self._split = None

    def firsts(self) -> tuple[list[str], list[str]]:
        """The first literals of all anchors: the ASCII ones, the others."""
        if self._split is None:
            self._split = ([f for f in sorted(self._firsts) if f.isascii()], [f for f in sorted(self._firsts) if not f.isascii()])
        return self._split

    def view(self, text: str, within: View | None = None) -> View:
        if self._wide is None:
            self._wide = re.compile("[" + "".join(map(re.escape, sorted(self.wide))) + "]") if self.wide else _NOTHING
        return View(text, self.table, self._wide, within)


class View:
    """A text and its lowered, folded copy (``low``, character for character: ``aligned``),
    with the literals found in it and where. ``within``: a view of a text holding this one (a
    literal not there is not here)."""

    def __init__(self, text: str, table: dict, wide: re.Pattern, within: View | None = None):
        self.text, self.within = text, within
        self.wide, self.aligned = False, True
        if text.isascii():
            self.low = text.lower()
        else:
            low = text
            for char, plain in _UNALIGNED:
                if char in low:
                    low = low.replace(char, plain)
            low = low.lower()
            self.aligned = len(low) == len(text)  # no other character lowered to two (so far)
            self.wide = wide.search(low) is not None
            self.low = low.translate(table) if self.wide and table else low
        self.present: set[str] | None = None
        self._has: dict[str, bool] = {}
        self._places: dict[str, list[int]] = {}

    def prime(self, narrow: Iterable[str], wide: Iterable[str]) -> None:
        """Looks for all of the ASCII literals ``narrow`` and the others ``wide`` at once:
        ``present`` is those found."""
        low = self.low
        found = {literal: literal in low for literal in narrow}
        found.update({literal: self.wide and literal in low for literal in wide})
        self._has.update(found)
        self.present = {literal for literal, there in found.items() if there}

    def has(self, literal: str) -> bool:
        found = self._has.get(literal)
        if found is None:
            if self.within is not None and not self.within.has(literal):
                found = False
            else:
                found = (self.wide or literal.isascii()) and literal in self.low
            self._has[literal] = found
        return found

    def places(self, literal: str) -> list[int]:
        found = self._places.get(literal)
        if found is None:
            found, low, at = [], self.low, -1
            if self.has(literal):
                while (at := low.find(literal, at + 1)) >= 0:
                    found.append(at)
            self._places[literal] = found
        return found


def alias_anchor(alias: str, fold: Folding) -> Anchor | None:
    """The anchor of ``wicnews.topic.alias_regex(alias)``: whitespace there matches any run of
    whitespace (so offsets after it are not fixed), a variant any spelling of its group."""
    runs: list[tuple[int | None, str]] = []
    for index, word in enumerate(alias.split()):
        run, start = "", 0
        for at, char in enumerate(word):
            low = fold.char(char, literal=char not in fold.variants)
            if low is None:
                if run:
                    runs.append((start if index == 0 else None, run))
                run = ""
                continue
            if not run:
                start = at
            run += low
        if run:
            runs.append((start if index == 0 else None, run))
    return _best(runs, fold)


def regex_anchor(source: str, flags: int, fold: Folding) -> Anchor | None:
    """The anchor of a regex (None when it has none or its parse is not understood)."""
    try:
        parsed = sre_parse.parse(source, flags)
    except (re.error, RecursionError):
        return None
    runs: list[tuple[int | None, str]] = []
    try:
        _walk(parsed, 0, runs, fold)
    except (TypeError, ValueError, AttributeError, IndexError):
        return None
    return _best(runs, fold)


def _best(runs: list[tuple[int | None, str]], fold: Folding) -> Anchor | None:
    """Every run must be in the text (the longest is looked for first); the longest run at a
    fixed offset says where a match can start."""
    if not runs:
        return None
    literals = tuple(sorted({r for _, r in runs}, key=lambda r: (-len(r), r)))
    fold.note(literals)
    fixed = [(len(r), -i, o, r) for i, (o, r) in enumerate(runs) if o is not None]
    if not fixed:
        return (literals, None, literals[0])
    *_, offset, literal = max(fixed)
    return (literals, offset, literal)


def _width(sub) -> int | None:
    lo, hi = sub.getwidth()
    return lo if lo == hi and hi < sre.MAXREPEAT else None


def _walk(items, offset: int | None, runs: list, fold: Folding) -> int | None:
    """Appends the literal runs of a parsed sequence to ``runs`` as ``(offset or None, text)``
    (inside groups too, not inside alternations, repeats or lookarounds); returns the offset
    after it (None when not fixed)."""
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
            runs.append((start, run))
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
        runs.append((start, run))
    return offset


class Lazy:
    """A regex compiled on first use, with the anchors of its alternatives (None: searched
    the plain way)."""

    def __init__(self, source: str, flags: int, anchors: list[Anchor | None] | None = None):
        self.source, self.flags = source, flags
        self.anchors: list[Anchor] | None = None
        self.firsts: frozenset[str] = frozenset()
        if _ANCHORED and anchors is not None and None not in anchors:
            self.anchors = [a for a in anchors if a is not None]
            self.firsts = frozenset(literals[0] for literals, _, _ in self.anchors)
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

    def may_match(self, view: View) -> bool:
        """False when no match can be in ``view``: each alternative misses a literal there."""
        if self.anchors is None:
            return True
        if view.present is not None and view.present.isdisjoint(self.firsts):
            return False
        has = view.has
        return any(all(map(has, literals)) for literals, _, _ in self.anchors)

    def finditer(self, view: View) -> list[re.Match]:
        """``list(pattern.finditer(view.text))``, trying only where an anchor occurs."""
        if self.anchors is None or not view.aligned:
            return list(self.compiled.finditer(view.text))
        starts: set[int] = set()
        has, places = view.has, view.places
        for literals, offset, literal in self.anchors:
            if not all(map(has, literals)):
                continue
            if offset is None:
                return list(self.compiled.finditer(view.text))
            starts.update(at - offset for at in places(literal) if at >= offset)
        if not starts:
            return []
        pattern, text, out, end = self.compiled, view.text, [], 0
        for at in sorted(starts):
            if at >= end and (m := pattern.match(text, at)) is not None:
                out.append(m)
                end = m.end()
        return out


class Pair:
    """An article's title and text, looked at together first: a pattern missing a literal of
    each of its alternatives in the two is in neither (most patterns, in most articles)."""

    def __init__(self, fold: Folding, title: str, text: str):
        self.fold, self.title, self.text = fold, title, text
        self.both = fold.view(f"{title}\n{text}")
        self.both.prime(*fold.firsts())
        self._views: tuple[View, View] | None = None

    def finditer(self, pattern: Lazy) -> tuple[list[re.Match], list[re.Match]]:
        """The matches of ``pattern`` in the title and in the text."""
        if not pattern.may_match(self.both):
            return [], []
        if self._views is None:
            self._views = (self.fold.view(self.title, self.both), self.fold.view(self.text, self.both))
        return pattern.finditer(self._views[0]), pattern.finditer(self._views[1])
