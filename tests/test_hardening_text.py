"""Text that is text, canonical trust, control characters kept out of terminals and logs:
the hostile-input matrix's page cases, on the pure functions."""

from __future__ import annotations

import io
import logging

import pytest

from wicnews.errors import PageError
from wicnews.extract import extract_article
from wicnews.logformatter import EscapeControls
from wicnews.output.table import articles as article_table
from wicnews.output.table import printable
from wicnews.urls import registrable_domain, same_publisher

BODY = "".join(f"<p>世界互联网大会乌镇峰会第{i}天，与会代表讨论了数据跨境流动、数字经济和网络空间治理等议题，喆堃昇镕珺彧。</p>"
               for i in range(1, 8))
ENGLISH = "".join(f"<p>The World Internet Conference in Wuzhen held forum {i} on data rules, the digital economy "
                  f"and cross-border flows, with delegates from many countries.</p>" for i in range(1, 8))


def page(title: str, body: str = ENGLISH, head: str = "", charset: str = "utf-8") -> str:
    return (f"<!DOCTYPE html><html><head><meta charset='{charset}'><title>{title}</title>{head}</head>"
            f"<body><article><h1>{title}</h1>{body}</article></body></html>")


def _cp1252_clean(text: str) -> str:
    """``text`` without the characters whose GB18030 bytes cp1252 cannot decode, so that the
    page decodes cleanly (as mojibake) in the single-byte charset its header declares."""
    return "".join(ch for ch in text if not set(ch.encode("gb18030")) & {0x81, 0x8D, 0x8F, 0x90, 0x9D})


def test_the_bytes_decide_when_the_declarations_disagree():
    """GB18030 bytes, an HTTP header saying iso-8859-1 and a <meta> saying gb2312: no mojibake."""
    body = _cp1252_clean(page("世界互联网大会乌镇峰会开幕", BODY, charset="gb2312")).encode("gb18030")
    body.decode("cp1252")  # the trap: the declared single-byte charset decodes it without an error
    result = extract_article(body, "http://news.example.cn/a.html", {"content-type": "text/html; charset=iso-8859-1"})
    assert result.encoding == "gb18030"
    assert "世界互联网大会" in result.text and "乌镇" in result.title


def test_a_single_byte_page_still_decodes_as_declared():
    body = page("Café society in Wuzhen", ENGLISH.replace("delegates", "délégués"), charset="iso-8859-1").encode("latin-1")
    result = extract_article(body, "http://news.example.fr/a.html", {"content-type": "text/html; charset=iso-8859-1"})
    assert "délégués" in result.text


def test_a_body_of_nul_bytes_is_not_text():
    with pytest.raises(PageError) as info:
        extract_article(b"\x00" * 100_000, "http://news.example.com/nul.html", {"content-type": "text/html"})
    assert info.value.kind == "encoding"


def test_control_characters_are_stripped_without_losing_the_article():
    body = page("Wuzhen\x0bsummit \x1b[31mopens\x1b[0m", ENGLISH.replace("forum", "forum\x07")).encode()
    result = extract_article(body, "http://news.example.com/vt.html")
    assert result.title == "Wuzhen summit [31mopens[0m"
    assert "\x07" not in result.text and "\x1b" not in result.text and "World Internet Conference" in result.text


@pytest.mark.parametrize("host, domain", [
    ("www.scmp.com", "scmp.com"), ("news.bbc.co.uk", "bbc.co.uk"), ("a.b.github.io", "b.github.io"),
    ("127.0.0.1", "127.0.0.1"), ("localhost", "localhost"),
])
def test_registrable_domain_offline(host, domain):
    assert registrable_domain(host) == domain


def test_a_canonical_on_another_site_is_not_trusted():
    body = page("Copied story", head="<link rel='canonical' href='https://www.reuters.com/world/original'>").encode()
    result = extract_article(body, "https://outlet.example.net/story.html")
    assert result.canonical_url is None and result.canonical_claim == "https://www.reuters.com/world/original"


def test_a_canonical_on_the_same_site_or_a_declared_origin_is_trusted():
    same = page("Amp", head="<link rel='canonical' href='https://www.scmp.com/news/a'>").encode()
    assert extract_article(same, "https://amp.scmp.com/news/a").canonical_url == "https://www.scmp.com/news/a"
    declared = page("Syndicated", head="<link rel='canonical' href='https://www.reuters.com/world/a'>"
                                       "<meta name='syndication-source' content='https://www.reuters.com/world/a'>").encode()
    assert extract_article(declared, "https://outlet.example.net/a").canonical_url == "https://www.reuters.com/world/a"
    known = page("Known", head="<link rel='canonical' href='https://apnews.com/a'>").encode()
    result = extract_article(known, "https://news.yahoo.com/a", syndication={"yahoo.com": ["apnews.com"]})
    assert result.canonical_url == "https://apnews.com/a"
    assert same_publisher("https://news.yahoo.com/a", "https://apnews.com/a", ["apnews.com"])


def test_terminal_escapes_never_reach_the_table():
    row = {"id": 1, "published_at": None, "language": "en\x1b", "site_name": "Evil\x1b]0;pwned\x07", "relevant": True,
           "title": "Title \x1b[2J\x1b[31mred", "matched_terms": ["wic\x1b"], "also_at": [],
           "canonical_url": "http://x.example/\x1b[0m"}
    out = io.StringIO()
    article_table([row], out)
    assert "\x1b" not in out.getvalue() and "\x07" not in out.getvalue()
    assert "\\x1b[2J" in out.getvalue()
    assert printable("a\nb\x9b") == "a\\nb\\x9b"


def test_terminal_escapes_and_bidi_overrides_never_reach_show_or_explain(wicnews, tmp_path):
    """Whatever a database holds (written by another tool, or a page's U+202E), ``show`` and
    ``explain`` print it escaped, as the tables do."""
    from datetime import datetime, timezone

    from sqlalchemy.orm import Session

    from wicnews.db import engine as db
    from wicnews.db.articles import StorePolicy, store_article
    from wicnews.pipelines.dedupe import text_key
    from wicnews.urls import url_key

    url = f"sqlite:///{tmp_path / 'hostile.db'}"
    engine = db.open_database(url)
    text = "The World Internet Conference opened in Wuzhen. " * 20
    values = dict(url="http://x.example/a", canonical_url="http://x.example/a", url_key=url_key("http://x.example/a"),
                  text_key=text_key(text), title="Wuzhen \x1b[31mred\x1b[0m \u202eevil\u202c \x07bell",
                  authors=[], published_at=None, site_name="Site\x1b]0;hijack\x07", language="en\x1b[2J",
                  description=None, image=None, tags=[], text=text + "\u202e", relevant=True,
                  relevance_level="coverage", matched_terms=["World Internet Conference"], source="src",
                  first_seen_at=datetime.now(timezone.utc), run_id=None)
    with Session(engine) as session, session.begin():
        article_id, _ = store_article(session, values, {values["url_key"]: values["url"]}, bands=[],
                                      score=lambda _text: 0.0, policy=StorePolicy())
    engine.dispose()
    for command in ("show", "explain"):
        result = wicnews(command, str(article_id), "--db", url, check=True)
        assert not set(result.stdout) & {"\x1b", "\x07", "\u202e", "\u202c"}, (command, result.stdout)
        assert "\\x1b[31mred" in result.stdout and "\\u202eevil" in result.stdout, (command, result.stdout)


def test_terminal_escapes_never_reach_the_log():
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "title %s <%s>", ("\x1b[31mred", "http://a/\x1b"), None)
    assert EscapeControls().filter(record)
    assert record.getMessage() == "title \\x1b[31mred <http://a/\\x1b>"
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "title %s", ("evil \u202eetirw",), None)
    assert EscapeControls().filter(record) and record.getMessage() == "title evil \\u202eetirw"


# --- cases of the matrix that already held, kept as tests ------------------------------------

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
"""


def test_billion_laughs_in_a_feed_is_not_expanded():
    from wicnews.feeds import parse_feed

    body = LAUGHS + b'<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title>' \
                    b"<link>http://news.example.com/a</link></item></channel></rss>"
    try:
        feed = parse_feed(body, "http://news.example.com/feed")
    except PageError as exc:
        assert exc.kind == "feed_malformed"
    else:
        assert all(len(e.title or "") < 10_000 for e in feed.entries)


def test_billion_laughs_and_quadratic_blowup_in_a_sitemap_are_not_expanded():
    from wicnews.sitemaps import parse_sitemap

    for doctype, ref in ((LAUGHS, b"&lol9;"), (b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a "' + b"x" * 100_000 + b'">]>',
                                              b"&a;" * 10_000)):
        body = doctype + b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>http://e.com/' + ref \
            + b"</loc></url></urlset>"
        try:
            sitemap = parse_sitemap(body, "http://e.com/sitemap.xml")
        except PageError as exc:
            assert exc.kind == "sitemap_malformed"
        else:
            assert all(len(e.url) < 10_000 for e in sitemap.entries)


def test_a_gzip_bomb_sitemap_is_refused():
    import gzip

    from wicnews.sitemaps import parse_sitemap

    bomb = gzip.compress(b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + b" " * 60_000_000)
    with pytest.raises(PageError) as info:
        parse_sitemap(bomb, "http://e.com/sitemap.xml.gz")
    assert info.value.kind in ("sitemap_malformed", "too_large")
