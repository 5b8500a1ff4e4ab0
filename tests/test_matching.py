"""Anchored matching (wicnews.matching): a topic's patterns found only where a literal of each
match occurs must give exactly the matches of the plain ``pattern.finditer``."""

from __future__ import annotations

import random
import re

import pytest

from wicnews.errors import ConfigError
from wicnews.matching import Folding, alias_anchor, regex_anchor
from wicnews.relevance import find_entities, judge, normalise
from wicnews.topic import load_topic, parse_topic

# A topic whose patterns have what anchors must get right: case-sensitive aliases, script
# variants, regexes with and without a literal at a fixed offset, and one without any.
CRAFTED = """
[topic]
name = "crafted"
[match]
variants = ["联聯", "会會"]
[[term]]
label = "Strong"
aliases = ["Alpha Beta", "Gamma", "联合会", "jd.com"]
regex = ["(?-i:ABC)\\\\s?20\\\\d\\\\d(?![0-9])", "x(?:yz|ab)c", "del(?:ta){1,2}", "(?<=a)bc"]
[[term]]
label = "Cased"
strength = "weak"
case_sensitive = true
aliases = ["WIC", "Straße"]
[[term]]
label = "Loose"
strength = "weak"
regex = ["\\\\w+ing"]
[[entity]]
name = "E"
kind = "org"
aliases = ["Ma Yun", "Kelvin Co", "İstanbul Fund", "ısı"]
"""
WORDS = ["alpha", "Beta", "GAMMA", "gam", "联合会", "聯合會", "联", "jd.com", "ABC 2024", "abc2024", "ABC20245", "xyzc",
         "xabc", "deltata", "abc", "WIC", "wic", "Straße", "STRASSE", "sing", "ring", "ma", "Yun", "MA  YUN", "Kelvin",
         "\u212aelvin", "co", "İstanbul", "ISTANBUL", "istanbul", "ısı", "ISI", "ſ", "fund", "é", "the", "’", "中文"]
GLUE = [" ", "  ", "\n", "\t", "", ", ", "-", "\u00a0", "的"]


def _texts(seed: int, count: int):
    rng = random.Random(seed)
    for _ in range(count):
        yield "".join(rng.choice(WORDS) + rng.choice(GLUE) for _ in range(rng.randint(0, 40)))


@pytest.mark.parametrize("topic", [load_topic(), parse_topic(CRAFTED)], ids=["wic", "crafted"])
def test_anchored_matches_are_the_plain_matches(topic):
    compiled = topic.compiled
    patterns = [p for _, p in compiled.terms + compiled.entities]
    found = 0
    for text in _texts(1, 300):
        text = normalise(text) if topic.name == "wic" else text
        view = compiled.view(text)
        for pattern in patterns:
            spans = [m.span() for m in pattern.finditer(view)]
            assert spans == [m.span() for m in pattern.compiled.finditer(text)]
            found += len(spans)
    assert found > 300


def test_anchors_of_aliases_and_regexes():
    fold = Folding(["联聯", "会會"])
    assert alias_anchor("World Internet Conference", fold) == (("conference", "internet", "world"), 0, "world")
    assert alias_anchor("聯合會", fold) == (("联合会",), 0, "联合会")  # variants fold to the first spelling
    assert alias_anchor("Café Beta", fold) == (("beta", "caf"), 0, "caf")  # é has a case: it ends a literal
    assert regex_anchor("(?:(?-i:WIC)\\s?20\\d\\d)", re.IGNORECASE, fold) == (("wic", "20"), 0, "wic")
    assert regex_anchor("(?:\\d\\d?x)", re.IGNORECASE, fold) == (("x",), None, "x")  # not at a fixed offset
    assert regex_anchor("(?:\\w+ing)", re.IGNORECASE, fold) == (("ing",), None, "ing")
    assert regex_anchor("(?:\\w+)", re.IGNORECASE, fold) is None


def test_turkish_and_long_s_letters_still_match_case_insensitively():
    topic = load_topic()
    assert judge("WORLD İNTERNET CONFERENCE", "").level == "coverage"
    assert judge("World ınternet Conference", "").level == "coverage"
    assert [e["name"] for e in find_entities("Tencent and Alıbaba", "", topic)] == ["Alibaba", "Tencent"]


def test_the_topic_still_fails_when_read_on_a_regex_that_combines_badly(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text("[topic]\nname = 'x'\n[[term]]\nlabel = 'A'\naliases = ['a']\nregex = ['(?i)b']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="global flags not at the start"):
        load_topic(path)
    path.write_text("[topic]\nname = 'x'\n[[term]]\nlabel = 'A'\nregex = ['(?P<n>a)']\n"
                    "[[term]]\nlabel = 'B'\nregex = ['(?P<n>b)']\n[[term]]\nlabel = 'C'\naliases = ['c']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="redefinition of group name"):  # the union of A and B, C's context
        load_topic(path)


def test_patterns_compile_when_first_needed():
    topic = parse_topic(CRAFTED)
    assert all(p._compiled is None for _, p in topic.compiled.terms + topic.compiled.entities)
    judge("Quiet here", "at all", topic)
    assert all(p._compiled is None for _, p in topic.compiled.terms[:2] + topic.compiled.entities)  # "\\w+ing" is not anchored
    assert judge("Gamma", "", topic).matched_terms == ["Strong"]
