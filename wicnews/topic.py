"""Topic profiles as data: what a topic is called, what cancels a false match, how to score.

A profile is a TOML file; the World Internet Conference profile ships as
``wicnews/topics/wic.toml`` and documents every key. ``load_topic(path)`` reads and checks
one, raising ``ConfigError("file: ...")`` (one line) for any mistake. Matching rules:

* English aliases match case-insensitively (unless ``case_sensitive``) on word boundaries;
  Chinese ones match as substrings. Text is NFKC-normalised first (full-width ``ＷＩＣ`` is
  ``WIC``), and each character listed in ``[match] variants`` (e.g. ``"联聯"``) matches
  either script, so a simplified alias also finds its traditional spelling.
* ``aliases`` are literal (spaces match any run of whitespace); ``regex`` entries are raw
  regular expressions (``(?-i:...)`` makes one case-sensitive).

Regexes are compiled once per ``Topic`` (``Topic.compiled``, each on first use), never per article.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from wicnews.errors import ConfigError
from wicnews.matching import Folding, Lazy, Pair, View, alias_anchor, regex_anchor

DEFAULT_FILE = Path(__file__).parent / "topics" / "wic.toml"
STRENGTHS = ("strong", "weak")
ENTITY_KINDS = ("org", "person")
SCOPES = ("window", "document")
_LATIN = r"0-9A-Za-z\u00C0-\u024F"


@dataclass(frozen=True)
class Term:
    """One name of the topic. ``kind`` is ``strong`` (counts anywhere), ``weak`` (counts only
    near a context term and when no negative rule cancels it) or ``edition`` (a strong name
    of one year's conference)."""
    label: str
    kind: str
    aliases: tuple[str, ...] = ()
    regex: tuple[str, ...] = ()
    case_sensitive: bool = False


@dataclass(frozen=True)
class Negative:
    """Cancels the weak matches (of ``cancels`` labels, or all when empty) that have one of
    ``aliases``/``regex`` in their window (or anywhere, for ``scope = "document"``), unless
    one of ``unless`` is there too."""
    name: str
    aliases: tuple[str, ...] = ()
    regex: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    cancels: tuple[str, ...] = ()
    scope: str = "window"


@dataclass(frozen=True)
class Entity:
    """An organisation (``org``) or person (``person``) of the gazetteer."""
    name: str
    kind: str
    aliases: tuple[str, ...] = ()
    regex: tuple[str, ...] = ()
    case_sensitive: bool = False


@dataclass(frozen=True)
class Topic:
    name: str
    terms: tuple[Term, ...]
    context: tuple[str, ...] = ()
    context_regex: tuple[str, ...] = ()
    negatives: tuple[Negative, ...] = ()
    entities: tuple[Entity, ...] = ()
    variants: tuple[str, ...] = ()
    description: str = ""
    context_window: int = 120
    lead_paragraphs: int = 2
    lead_chars: int = 300
    reference_words: int = 600
    weights: dict = field(default_factory=lambda: {"title": 4.0, "lead": 3.0, "body": 1.0,
                                                   "strong": 1.0, "weak": 0.5}, hash=False, compare=False)
    coverage: float = 3.0
    mention: float = 0.25

    @cached_property
    def compiled(self) -> Compiled:
        """The topic's regexes, compiled on first use and kept with the topic."""
        return Compiled(self)


def _variant_map(variants: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for group in variants:
        cls = "[" + "".join(re.escape(c) for c in group) + "]"
        for char in group:
            out[char] = cls
    return out


def alias_regex(alias: str, variants: dict[str, str]) -> str:
    """The regex of one literal alias: whitespace runs match any whitespace, script variants
    match either form, Latin ends get word boundaries (a CJK neighbour is a boundary)."""
    parts: list[str] = []
    for char in alias.strip():
        if char.isspace():
            if not parts or parts[-1] != r"\s+":
                parts.append(r"\s+")
        else:
            parts.append(variants.get(char, re.escape(char)))
    body = "".join(parts)
    if re.match(f"[{_LATIN}]", alias.strip()[:1]):
        body = f"(?<![{_LATIN}])" + body
    if re.match(f"[{_LATIN}]", alias.strip()[-1:]):
        body += f"(?![{_LATIN}])"
    return body


def _union_source(aliases, regexes, variants: dict[str, str], case_sensitive: bool = False) -> str | None:
    """One pattern for a list of aliases (longest first, so a long name wins over its prefix),
    compiled case-insensitively."""
    flag = "(?-i:{})" if case_sensitive else "{}"
    parts = [flag.format(alias_regex(a, variants)) for a in sorted(aliases, key=len, reverse=True)]
    parts += [f"(?:{r})" for r in regexes]
    return "|".join(parts) if parts else None


class _AnyOf:
    """Searches like the union of group-free patterns: a match of any of them (or None)."""

    def __init__(self, patterns: list[Lazy]):
        self.patterns = patterns

    def search(self, text: str) -> re.Match | None:
        return next((m for p in self.patterns if (m := p.search(text)) is not None), None)


class Compiled:
    """The patterns of a topic: one per term, entity, negative rule, and context. Each is
    compiled on first use (``wicnews.matching.Lazy``); terms and entities are looked for only
    where their anchors occur (``view`` a text, then ``finditer``). The regex entries are
    compiled now, so that a bad one fails when the topic is read, as a compiled union would."""

    def __init__(self, topic: Topic):
        v = _variant_map(topic.variants)
        self.fold = Folding(topic.variants)
        self._groups = 0  # capturing groups of the terms' regex entries
        # a term or entity without any alias or regex matches nothing: it is left out
        self.terms: list[tuple[Term, Lazy]] = [
            (t, p) for t in topic.terms if (p := self._lazy(t.aliases, t.regex, v, t.case_sensitive)) is not None]
        term_groups = self._groups
        self.entities: list[tuple[Entity, Lazy]] = [
            (e, p) for e in topic.entities if (p := self._lazy(e.aliases, e.regex, v, e.case_sensitive)) is not None]
        self.negatives = [(n, self._lazy(n.aliases, n.regex, v, anchored=False), self._lazy(n.unless, (), v, anchored=False))
                          for n in topic.negatives]
        self.context = self._lazy(topic.context, topic.context_regex, v, anchored=False)
        # each term's own pattern must not be its own context: the other terms' patterns are
        # (searching each is searching their union, as long as none has a group to renumber)
        others = {t.label: [p for u, p in self.terms if u.label != t.label] for t in topic.terms}
        self.others: dict[str, _AnyOf | Lazy | None] = {
            label: (_AnyOf(ps) if ps else None) for label, ps in others.items()}
        if term_groups:
            self.others = {label: self._lazy((), [p.pattern for p in ps], v, anchored=False) for label, ps in others.items()}
            for union in self.others.values():
                if isinstance(union, Lazy):
                    union.compiled  # noqa: B018 - fails now, as the union did

    def _lazy(self, aliases, regexes, variants: dict[str, str], case_sensitive: bool = False,
              anchored: bool = True) -> Lazy | None:
        source = _union_source(aliases, regexes, variants, case_sensitive)
        if source is None:
            return None
        if regexes:  # the union fails to compile exactly when its regex entries do (aliases are escaped)
            try:
                self._groups += re.compile("|".join(f"(?:{r})" for r in regexes), re.IGNORECASE).groups
            except re.error:
                re.compile(source, re.IGNORECASE)
                raise
        if not anchored:
            return Lazy(source, re.IGNORECASE)
        anchors = [alias_anchor(a, self.fold) for a in aliases]
        anchors += [regex_anchor(f"(?:{r})", re.IGNORECASE, self.fold) for r in regexes]
        return Lazy(source, re.IGNORECASE, anchors)

    def view(self, text: str) -> View:
        """``text`` ready for ``finditer`` of the terms' and entities' patterns."""
        return self.fold.view(text)

    def pair(self, title: str, text: str) -> Pair:
        """An article's title and text, ready for ``Pair.finditer`` of those patterns."""
        return Pair(self.fold, title, text)


# --- loading and checking -------------------------------------------------------------------

_TOP = {"topic", "match", "weights", "levels", "context", "term", "edition", "negative", "entity"}
_TABLE_FIELDS = {
    "topic": {"name", "description"},
    "match": {"context_window", "lead_paragraphs", "lead_chars", "reference_words", "variants"},
    "weights": {"title", "lead", "body", "strong", "weak"},
    "levels": {"coverage", "mention"},
    "context": {"aliases", "regex"},
    "term": {"label", "strength", "aliases", "regex", "case_sensitive"},
    "edition": {"label", "aliases", "regex"},
    "negative": {"name", "aliases", "regex", "unless", "cancels", "scope"},
    "entity": {"name", "kind", "aliases", "regex", "case_sensitive"},
}


def _check_fields(where: str, table, kind: str) -> dict:
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = sorted(set(table) - _TABLE_FIELDS[kind])
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (keys: {', '.join(sorted(_TABLE_FIELDS[kind]))})")
    return table


def _strings(where: str, table: dict, key: str, regex: bool = False) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(s, str) and s.strip() for s in value):
        raise ConfigError(f"{where}: {key!r} must be a list of non-empty strings")
    for s in value if regex else ():
        try:
            re.compile(s)
        except re.error as exc:
            raise ConfigError(f"{where}: bad regex {s!r} in {key!r}: {exc}") from None
    return tuple(value)


def _name(where: str, table: dict, key: str) -> str:
    if not isinstance(table.get(key), str) or not table[key].strip():
        raise ConfigError(f"{where}: {key!r} is required and must be a non-empty string")
    return table[key].strip()


def _choice(where: str, table: dict, key: str, choices: tuple[str, ...], default: str | None = None) -> str:
    value = table.get(key, default)
    if value not in choices:
        raise ConfigError(f"{where}: {key!r} must be one of {', '.join(choices)} (got {value!r})")
    return value


def _flag(where: str, table: dict, key: str) -> bool:
    if not isinstance(table.get(key, False), bool):
        raise ConfigError(f"{where}: {key!r} must be true or false")
    return table.get(key, False)


def _number(where: str, table: dict, key: str, default, integer: bool = False):
    value = table.get(key, default)
    ok = type(value) is int if integer else type(value) in (int, float)
    if not ok or value < 0:
        raise ConfigError(f"{where}: {key!r} must be a {'whole ' if integer else ''}number >= 0 (got {value!r})")
    return value


def _named(where: str, table: dict, kind: str, label_key: str) -> tuple[str, dict]:
    """``where`` refined with the table's name, once its fields are known to be valid keys."""
    _check_fields(where, table, kind)
    return f"{where} ({_name(where, table, label_key)!r})", table


def _aliases(where: str, table: dict) -> tuple[tuple[str, ...], tuple[str, ...]]:
    aliases, regex = _strings(where, table, "aliases"), _strings(where, table, "regex", regex=True)
    if not aliases and not regex:
        raise ConfigError(f"{where}: needs at least one of 'aliases' or 'regex'")
    return aliases, regex


def _list(data: dict, key: str) -> list:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ConfigError(f"{key!r} must be an array of tables ([[{key}]])")
    return value


def _parse(data: dict) -> Topic:
    unknown = sorted(set(data) - _TOP)
    if unknown:
        raise ConfigError(f"unknown top-level key {unknown[0]!r} (keys: {', '.join(sorted(_TOP))})")
    head = _check_fields("[topic]", data.get("topic", {}), "topic")
    match = _check_fields("[match]", data.get("match", {}), "match")
    weights = _check_fields("[weights]", data.get("weights", {}), "weights")
    levels = _check_fields("[levels]", data.get("levels", {}), "levels")
    context = _check_fields("[context]", data.get("context", {}), "context")
    defaults = Topic(name="", terms=())
    terms: list[Term] = []
    for i, raw in enumerate(_list(data, "term")):
        where, raw = _named(f"term #{i + 1}", raw, "term", "label")
        terms.append(Term(_name(where, raw, "label"), _choice(where, raw, "strength", STRENGTHS, "strong"),
                          *_aliases(where, raw), case_sensitive=_flag(where, raw, "case_sensitive")))
    for i, raw in enumerate(_list(data, "edition")):
        where, raw = _named(f"edition #{i + 1}", raw, "edition", "label")
        terms.append(Term(_name(where, raw, "label"), "edition", *_aliases(where, raw)))
    if not terms:
        raise ConfigError("a topic needs at least one [[term]]")
    labels = [t.label for t in terms]
    dup = next((x for x in labels if labels.count(x) > 1), None)
    if dup:
        raise ConfigError(f"duplicate term label {dup!r}")
    negatives = []
    for i, raw in enumerate(_list(data, "negative")):
        where, raw = _named(f"negative #{i + 1}", raw, "negative", "name")
        cancels = _strings(where, raw, "cancels")
        bad = next((c for c in cancels if c not in labels), None)
        if bad:
            raise ConfigError(f"{where}: 'cancels' names unknown term {bad!r}")
        negatives.append(Negative(_name(where, raw, "name"), *_aliases(where, raw), unless=_strings(where, raw, "unless"),
                                  cancels=cancels, scope=_choice(where, raw, "scope", SCOPES, "window")))
    entities = []
    for i, raw in enumerate(_list(data, "entity")):
        where, raw = _named(f"entity #{i + 1}", raw, "entity", "name")
        entities.append(Entity(_name(where, raw, "name"), _choice(where, raw, "kind", ENTITY_KINDS),
                               *_aliases(where, raw), case_sensitive=_flag(where, raw, "case_sensitive")))
    variants = _strings("[match]", match, "variants")
    if any(len(v) < 2 for v in variants):
        raise ConfigError("[match]: each of 'variants' lists two or more spellings of one character, e.g. \"联聯\"")
    w = {k: float(_number("[weights]", weights, k, v)) for k, v in defaults.weights.items()}
    coverage = float(_number("[levels]", levels, "coverage", defaults.coverage))
    mention = float(_number("[levels]", levels, "mention", defaults.mention))
    if not 0 < mention <= coverage:
        raise ConfigError(f"[levels]: need 0 < mention <= coverage (got mention={mention}, coverage={coverage})")
    ints = {k: _number("[match]", match, k, getattr(defaults, k), integer=True)
            for k in ("context_window", "lead_paragraphs", "lead_chars", "reference_words")}
    if ints["reference_words"] == 0:
        raise ConfigError("[match]: 'reference_words' must be > 0")
    return Topic(name=_name("[topic]", head, "name"), description=str(head.get("description", "")),
                 terms=tuple(terms), context=_strings("[context]", context, "aliases"),
                 context_regex=_strings("[context]", context, "regex", regex=True), negatives=tuple(negatives),
                 entities=tuple(entities), variants=variants, weights=w, coverage=coverage, mention=mention, **ints)


def parse_topic(text: str, filename: str = "<topic>") -> Topic:
    """The topic declared in TOML ``text``; ``ConfigError("filename: ...")`` on any mistake."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{filename}: invalid TOML: {exc}") from None
    try:
        topic = _parse(data)
        topic.compiled  # noqa: B018 - compile now: a regex that combines badly fails here, not mid-crawl
    except ConfigError as exc:
        raise ConfigError(f"{filename}: {exc}") from None
    except re.error as exc:
        raise ConfigError(f"{filename}: bad pattern: {exc}") from None
    return topic


@functools.cache
def _default() -> Topic:
    return _read(DEFAULT_FILE)


def _read(path: Path) -> Topic:
    from wicnews.config import read_config_file

    return parse_topic(read_config_file(path, "topic file"), str(path))


def load_topic(path: str | Path | None = None) -> Topic:
    """The topic profile at ``path``, or the bundled WIC profile when ``path`` is empty
    (read once per process). ``ConfigError("file: ...")`` for every mistake."""
    return _read(Path(path)) if path else _default()
