"""Unit tests of wicnews.sources: the bundled file, validation with the line at fault, ad-hoc sources."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from wicnews.errors import ConfigError
from wicnews.sources import KINDS, adhoc_sources, load_sources, parse_sources

GOOD = '''# sources for the tests
[[source]]
name = "scmp-china"
kind = "feed"
url = "https://www.scmp.com/rss/4/feed"
timezone = "Asia/Hong_Kong"

[[source]]
name = "zjol"
kind = "page"
url = "https://zjnews.zjol.com.cn/"
language = "zh"
link_pattern = "/\\\\d{6}/t\\\\d{8}_\\\\d+\\\\.shtml"
'''


def line_of(text: str, needle: str) -> int:
    """1-based line of the last line containing ``needle`` (the edited one)."""
    return [i for i, line in enumerate(text.splitlines(), 1) if needle in line][-1]


def config_error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_sources(text, "my/sources.toml")
    return str(info.value)


def test_bundled_default_file():
    sources = load_sources()
    assert {s.language for s in sources} >= {"en", "zh"}
    assert {s.kind for s in sources} == set(KINDS)
    names = [s.name for s in sources]
    assert len(names) == len(set(names))
    assert all(s.enabled for s in sources)
    for s in sources:
        parts = urlsplit(s.url)
        assert parts.scheme in ("http", "https") and parts.hostname, s
        assert s.link_pattern is None or s.kind == "page"


def test_parse_good_file():
    scmp, zjol = parse_sources(GOOD)
    assert (scmp.name, scmp.kind, scmp.timezone, scmp.enabled, scmp.link_pattern) == (
        "scmp-china", "feed", "Asia/Hong_Kong", True, None)
    assert zjol.language == "zh"
    assert re.search(zjol.link_pattern, "https://zjnews.zjol.com.cn/202211/t20221109_25070331.shtml")


def _second(**fields: str) -> str:
    """GOOD plus a third source whose fields are given as raw TOML values."""
    body = {"name": '"third"', "kind": '"feed"', "url": '"https://third.example/rss"', **fields}
    return GOOD + "\n[[source]]\n" + "".join(f"{k} = {v}\n" for k, v in body.items() if v is not None)


@pytest.mark.parametrize("text, needle, message", [
    (_second(kind='"newsletter"'), 'kind = "newsletter"', "kind must be one of"),
    (_second(url=None, urll='"https://third.example/rss"'), "urll =", "unknown field 'urll'"),
    (_second(url='"ftp://third.example/rss"'), 'url = "ftp://', "not an http(s) URL"),
    (_second(url='"third.example/rss"'), 'url = "third.example', "not an http(s) URL"),
    (_second(timezone='"Asia/Wuzhen"'), "Asia/Wuzhen", "unknown timezone"),
    (_second(kind='"page"', link_pattern='"/article/(\\\\d+"'), "link_pattern", "bad link_pattern regex"),
    (_second(link_pattern='"/article/"'), "link_pattern", "only applies to kind"),
    (_second(name='"zjol"'), 'name = "zjol"', "duplicate source name 'zjol'"),
    (_second(url=None), "[[source]]", "'url' is required"),
    (_second(enabled='"yes"'), "enabled =", "'enabled' must be true or false"),
    (_second(max_age_days="-1"), "max_age_days", "'max_age_days'"),
], ids=["unknown-kind", "typo-urll", "ftp-url", "no-scheme", "bad-timezone", "bad-regex", "pattern-on-feed",
        "duplicate-name", "missing-url", "enabled-not-bool", "negative-age"])
def test_validation_errors_point_at_the_line(text, needle, message):
    error = config_error(text)
    assert error.startswith(f"my/sources.toml:{line_of(text, needle)}: "), error
    assert message in error


def test_error_in_first_table_does_not_point_at_a_later_one():
    text = GOOD.replace('timezone = "Asia/Hong_Kong"', 'timezone = "Mars/Olympus"')
    assert config_error(text).startswith(f"my/sources.toml:{line_of(text, 'Mars/Olympus')}: ")


def test_toml_syntax_error_names_the_line():
    text = GOOD + '\n[[source]]\nname = "third"\nkind = feed\n'
    error = config_error(text)
    assert error.startswith("my/sources.toml")
    assert f"line {line_of(text, 'kind = feed')}" in error


def test_toml_syntax_error_uses_file_line_prefix():
    text = GOOD + '\n[[source]]\nname = "third"\nkind = feed\n'
    assert config_error(text).startswith(f"my/sources.toml:{line_of(text, 'kind = feed')}:")


def test_disabled_sources_are_filtered(tmp_path):
    path = tmp_path / "sources.toml"
    path.write_text(GOOD + '\n[[source]]\nname = "off"\nkind = "sitemap"\nurl = "https://x.example/s.xml"\n'
                    "enabled = false\n", encoding="utf-8")
    assert [s.name for s in parse_sources(path.read_text(encoding="utf-8"))] == ["scmp-china", "zjol", "off"]
    assert [s.name for s in load_sources(path)] == ["scmp-china", "zjol"]
    assert [s.name for s in load_sources(str(path))] == ["scmp-china", "zjol"]


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read sources file"):
        load_sources(tmp_path / "nope.toml")


def test_adhoc_sources():
    sources = adhoc_sources(feeds=["https://www.scmp.com/rss/4/feed"], sitemaps=["http://news.cgtn.com/sitemap.xml"],
                            pages=["https://zjnews.zjol.com.cn/"])
    assert [(s.name, s.kind, s.url) for s in sources] == [
        ("feed:www.scmp.com/rss/4/feed", "feed", "https://www.scmp.com/rss/4/feed"),
        ("sitemap:news.cgtn.com/sitemap.xml", "sitemap", "http://news.cgtn.com/sitemap.xml"),
        ("page:zjnews.zjol.com.cn/", "page", "https://zjnews.zjol.com.cn/"),
    ]
    with pytest.raises(ConfigError, match="not an http"):
        adhoc_sources(feeds=["ftp://ftp.example.com/feed.xml"])
