"""Unit tests of wicnews.feeds.parse_feed and wicnews.sitemaps.parse_sitemap on fixture bytes."""

from __future__ import annotations

import gzip
from datetime import datetime, timezone

import pytest
from conftest import CHINESE_PATH, DIGEST_PATH, SEED_PATH, SITE_DIR, UNRELATED_PATH, WIRE_PATH, read_site

from wicnews.errors import PageError
from wicnews.feeds import parse_feed
from wicnews.sitemaps import parse_sitemap

BASE = "http://127.0.0.1:8000"
UTC = timezone.utc
SITEMAP_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
NEWS_NS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


def feed(path: str, content_type: str | None = None):
    return parse_feed(read_site(path, BASE), BASE + path, content_type).entries


def rss(items: str, doctype: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<rss version="2.0"><channel><title>T</title>'
            f"<link>https://news.example.com/</link>{items}</channel></rss>").encode()


@pytest.fixture
def leak_doctypes(tmp_path):
    """DOCTYPEs that would pull a local file's content in (internal subset and external DTD)."""
    secret = tmp_path / "secret.txt"
    secret.write_text("LEAKED-LOCAL-FILE-7f3a", encoding="utf-8")
    (tmp_path / "evil.dtd").write_text(f'<!ENTITY leak SYSTEM "file://{secret}">', encoding="utf-8")
    return "LEAKED-LOCAL-FILE-7f3a", [
        f'<!DOCTYPE ROOT [<!ENTITY leak SYSTEM "file://{secret}">]>',
        f'<!DOCTYPE ROOT SYSTEM "file://{tmp_path / "evil.dtd"}">',
        '<!DOCTYPE ROOT [<!ENTITY leak SYSTEM "file:///etc/passwd">]>',
    ]


# --- feeds -----------------------------------------------------------------------------------

def test_rss2_feed():
    entries = feed("/feeds/scmp-china.rss", "application/rss+xml")
    assert [e.url.split("?")[0] for e in entries] == [BASE + SEED_PATH, BASE + UNRELATED_PATH, BASE + CHINESE_PATH]
    first = entries[0]
    # tracking parameters and the fragment survive: canonicalisation happens in the pipeline
    assert first.url == BASE + SEED_PATH + "?utm_source=rss_feed&utm_medium=rss&utm_campaign=wic#comments"
    assert first.title.startswith("World Internet Conference tilts towards business")
    assert first.published_at == datetime(2022, 11, 10, 11, 30, 11, tzinfo=UTC)
    assert first.published_at.utcoffset().total_seconds() == 0
    assert any("Ben Jiang" in a for a in first.authors)
    assert first.language == "en"
    assert entries[1].authors == ["Sam Thornton"]
    assert entries[2].title.startswith("2022年世界互联网大会乌镇峰会开幕")
    assert entries[2].published_at == datetime(2022, 11, 9, 2, 15, tzinfo=UTC)


def test_rss2_author_with_long_tld_email_is_not_mangled():
    authors = feed("/feeds/scmp-china.rss")[0].authors
    assert authors and all("(" not in a and "@" not in a and not a.startswith("lid") for a in authors)


def test_atom_feed():
    entries = feed("/feeds/asiatechwire.atom", "application/atom+xml")
    assert len(entries) == 2
    assert entries[0].url == BASE + WIRE_PATH
    assert entries[0].authors == ["Ben Jiang", "Coco Feng"]
    assert entries[0].published_at == datetime(2022, 11, 11, 8, 0, tzinfo=UTC)
    assert entries[1].url.endswith("?fbclid=IwAR0abc&gclid=xyz")


def test_rss1_rdf_feed_dc_date():
    entries = feed("/feeds/digest.rdf", "application/rdf+xml")
    assert len(entries) == 1
    assert entries[0].url == BASE + DIGEST_PATH
    assert entries[0].title == "WIC 2022: business over glitz in Wuzhen"
    assert entries[0].published_at == datetime(2022, 11, 11, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("body", [read_site("/feeds/broken.rss"), b"", b" \n ", b"<html><body><p>hi</p></body></html>"],
                         ids=["broken.rss", "empty", "blank", "html"])
def test_malformed_feed(body):
    with pytest.raises(PageError) as info:
        parse_feed(body, BASE + "/feeds/x.rss")
    assert info.value.kind == "feed_malformed"


def test_broken_feed_with_recoverable_entries_reports_its_flaw():
    body = rss("<item><title>one</title><link>https://news.example.com/1</link></item>"
               "<item><title>two</title><link>https://news.example.com/2</link></item>")
    truncated = body[: body.index(b"</channel>")] + b"<item><title>three & broken</ti"
    result = parse_feed(truncated, "https://news.example.com/rss")
    assert [e.title for e in result.entries][:2] == ["one", "two"]
    assert result.flaw
    assert parse_feed(body, "https://news.example.com/rss").flaw is None


def test_links_resolved_and_non_http_dropped():
    body = rss("<item><title>rel</title><link>../news/a.html</link></item>"
               "<item><title>root</title><link>/b.html?id=3</link></item>"
               "<item><title>js</title><link>javascript:alert(1)</link></item>"
               "<item><title>mail</title><link>mailto:desk@example.com</link></item>"
               "<item><title>abs</title><link>https://other.example.org/c</link></item>")
    entries = parse_feed(body, "https://news.example.com/feeds/world/rss.xml").entries
    assert [(e.title, e.url) for e in entries] == [
        ("rel", "https://news.example.com/feeds/news/a.html"),
        ("root", "https://news.example.com/b.html?id=3"),
        ("abs", "https://other.example.org/c"),
    ]


def test_feed_external_entities_are_not_read(leak_doctypes):
    marker, doctypes = leak_doctypes
    for doctype in doctypes:
        body = rss("<item><title>A &leak; B</title><link>https://news.example.com/a</link>"
                   "<description>d &leak;</description></item>", doctype.replace("ROOT", "rss"))
        try:
            entries = parse_feed(body, "https://news.example.com/rss").entries
        except PageError as exc:  # refusing the feed is safe too
            assert exc.kind == "feed_malformed"
            continue
        seen = " ".join(f"{e.title} {e.summary} {e.url}" for e in entries)
        assert marker not in seen and "root:" not in seen


# --- sitemaps --------------------------------------------------------------------------------

def test_news_sitemap():
    result = parse_sitemap(read_site("/sitemaps/news.xml", BASE), BASE + "/sitemaps/news.xml")
    assert result.kind == "urlset" and result.sitemaps == []
    digest, scmp = result.entries
    assert digest.url == BASE + DIGEST_PATH
    assert digest.title == "WIC 2022: business over glitz in Wuzhen"
    assert digest.published_at == datetime(2022, 11, 11, 9, 0, tzinfo=UTC)
    assert digest.language == "en"
    assert scmp.url == BASE + SEED_PATH + "?utm_campaign=sitemap"
    assert scmp.published_at == datetime(2022, 11, 10, 11, 30, 11, tzinfo=UTC)  # +08:00 converted


def test_sitemap_index():
    result = parse_sitemap(read_site("/sitemaps/index.xml", BASE), BASE + "/sitemaps/index.xml")
    assert result.kind == "sitemapindex" and result.entries == []
    assert result.sitemaps == [BASE + "/sitemaps/news.xml", BASE + "/sitemaps/archive.xml.gz"]


def test_gzip_urlset_with_lastmod():
    # the file on disk holds {{BASE}} inside the gzip, so compress the substituted urlset here
    raw = gzip.decompress((SITE_DIR / "sitemaps/archive.xml.gz").read_bytes()).replace(b"{{BASE}}", BASE.encode())
    result = parse_sitemap(gzip.compress(raw), BASE + "/sitemaps/archive.xml.gz")
    assert result.kind == "urlset"
    assert [(e.url, e.published_at, e.updated_at) for e in result.entries] == [
        (BASE + UNRELATED_PATH, None, datetime(2022, 11, 10, 14, 5, tzinfo=UTC)),
        (BASE + CHINESE_PATH, None, datetime(2022, 11, 9, 2, 15, tzinfo=UTC)),
    ]
    assert all(e.title is None and e.language is None for e in result.entries)


def test_relative_and_non_http_locs():
    body = (f"<urlset {SITEMAP_NS}><url><loc>/a.html</loc></url><url><loc>ftp://x.example/b</loc></url>"
            "<url><loc></loc></url></urlset>").encode()
    assert [e.url for e in parse_sitemap(body, "https://news.example.com/sitemaps/s.xml").entries] == [
        "https://news.example.com/a.html"]


@pytest.mark.parametrize("body", [
    read_site(SEED_PATH, BASE),
    b"just some text, not xml",
    b"",
    b"<rss version='2.0'><channel/></rss>",
    b"\x1f\x8b\x08\x00truncated",
    b"\x1f\x8bnot gzip at all",
], ids=["html", "text", "empty", "rss", "truncated-gzip", "bad-gzip-header"])
def test_malformed_sitemap(body):
    with pytest.raises(PageError) as info:
        parse_sitemap(body, BASE + "/sitemaps/x.xml")
    assert info.value.kind == "sitemap_malformed"


def test_corrupt_gzip_stream_is_sitemap_malformed():
    good = gzip.compress(f"<urlset {SITEMAP_NS}><url><loc>https://e.com/a</loc></url></urlset>".encode())
    body = good[:10] + b"\xff" * 20 + good[30:]  # header intact, deflate data garbage
    with pytest.raises(PageError) as info:
        parse_sitemap(body, BASE + "/sitemaps/x.xml.gz")
    assert info.value.kind == "sitemap_malformed"


def test_sitemap_entities_are_not_resolved(leak_doctypes):
    marker, doctypes = leak_doctypes
    for doctype in doctypes:
        body = (f'<?xml version="1.0"?>{doctype.replace("ROOT", "urlset")}<urlset {SITEMAP_NS} {NEWS_NS}>'
                "<url><loc>https://news.example.com/a?q=&leak;</loc>"
                "<news:news><news:title>T &leak;</news:title></news:news></url></urlset>").encode()
        result = parse_sitemap(body, "https://news.example.com/s.xml")
        seen = " ".join(f"{e.url} {e.title}" for e in result.entries)
        assert result.entries and marker not in seen and "root:" not in seen


def test_feed_times_report_whether_they_stated_their_zone():
    body = rss("<item><title>z</title><link>https://n.example.com/1</link><pubDate>Thu, 21 Nov 2024 14:05:00 +0800</pubDate></item>"
               "<item><title>n</title><link>https://n.example.com/2</link><pubDate>2024-11-21 14:05:00</pubDate></item>"
               "<item><title>h</title><link>https://n.example.com/3</link>"
               "<description>&lt;p&gt;A &lt;b&gt;bold&lt;/b&gt; summary&lt;/p&gt;</description></item>")
    first, second, third = parse_feed(body, "https://n.example.com/rss").entries
    assert (first.published_at, first.published_zone_stated) == (datetime(2024, 11, 21, 6, 5, tzinfo=UTC), True)
    assert (second.published_at, second.published_zone_stated) == (datetime(2024, 11, 21, 14, 5, tzinfo=UTC), False)
    assert third.published_at is None and third.summary == "A bold summary"


def test_sitemap_lastmod_is_not_a_publication_time():
    body = (f'<urlset {SITEMAP_NS} {NEWS_NS}><url><loc>https://n.example.com/a</loc><lastmod>2024-11-22T10:00:00Z</lastmod>'
            "</url><url><loc>https://n.example.com/b</loc><news:news><news:publication_date>2024-11-21</news:publication_date>"
            "<news:title>b</news:title></news:news></url></urlset>").encode()
    a, b = parse_sitemap(body, "https://n.example.com/sitemap.xml").entries
    assert a.published_at is None and a.updated_at == datetime(2024, 11, 22, 10, 0, tzinfo=UTC)
    assert b.published_at == datetime(2024, 11, 21, tzinfo=UTC) and b.published_zone_stated is False


def test_unusable_links_are_counted_not_fatal():
    body = rss("<item><title>ok</title><link>https://n.example.com/ok</link></item>"
               "<item><title>ipv6</title><link>http://[broken/x</link></item>"
               "<item><title>none</title></item>"
               "<item><title>mail</title><link>mailto:desk@n.example.com</link></item>")
    result = parse_feed(body, "https://n.example.com/rss")
    assert [e.title for e in result.entries] == ["ok"] and result.bad_links == 3
    sitemap = (f"<urlset {SITEMAP_NS}><url><loc>https://n.example.com/a</loc></url><url><loc>http://[x/b</loc></url>"
               "<url><loc>ftp://n.example.com/c</loc></url></urlset>").encode()
    parsed = parse_sitemap(sitemap, "https://n.example.com/s.xml")
    assert [e.url for e in parsed.entries] == ["https://n.example.com/a"] and parsed.bad_locs == 2


def test_a_huge_feed_is_read_to_its_first_entries_quickly():
    """100,000 entries (13 MB): only the first MAX_FEED_ENTRIES are handed to feedparser."""
    from wicnews.feeds import MAX_FEED_ENTRIES

    items = "".join(f"<item><title>t{i}</title><link>https://n.example.com/{i}</link></item>" for i in range(100_000))
    feed = parse_feed(f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>{items}</channel></rss>'.encode(),
                      "https://n.example.com/feed.rss")
    assert len(feed.entries) == MAX_FEED_ENTRIES and feed.dropped == 100_000 - MAX_FEED_ENTRIES
    assert feed.entries[0].url == "https://n.example.com/0" and not feed.flaw
