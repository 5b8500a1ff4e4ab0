"""The body check: the page's own structure completes trafilatura's text; furniture lines go."""

from __future__ import annotations

import json

from wicnews.body import PageParts, settle_body
from wicnews.boilerplate import clean_body
from wicnews.extract import extract_article

PARA = ("The delegates met in the old town on Tuesday to discuss the rules for data that crosses borders, "
        "and several of them said the talks had gone further than they expected this year. ")


def _page(body_html: str, head: str = "") -> bytes:
    return (f"<html><head><title>Talks</title>{head}</head><body><nav><a href='/'>Home</a></nav>"
            f"{body_html}<footer>About us</footer></body></html>").encode()


def test_jsonld_article_body_completes_a_page_that_shows_part_of_the_text():
    shown = f"<article><h1>Talks</h1><p>{PARA}</p><p>{PARA.replace('Tuesday', 'Monday')}</p></article>"
    rest = "The second half of the story says what the ministers agreed on, item by item, at length. " * 4
    full = PARA + "\n" + PARA.replace("Tuesday", "Monday") + "\n" + rest
    ld = json.dumps({"@type": "NewsArticle", "headline": "Talks", "articleBody": full})
    page = extract_article(_page(shown, f'<script type="application/ld+json">{ld}</script>'), "https://x.test/a")
    assert "what the ministers agreed on" in page.text


def test_jsonld_body_about_something_else_is_not_taken():
    shown = f"<article><h1>Talks</h1><p>{PARA}</p><p>{PARA.replace('Tuesday', 'Monday')}</p></article>"
    other = "An entirely different text about the weather in the mountains, which is long and unrelated. " * 8
    ld = json.dumps({"@type": "NewsArticle", "articleBody": other})
    page = extract_article(_page(shown, f'<script type="application/ld+json">{ld}</script>'), "https://x.test/a")
    assert "weather in the mountains" not in page.text
    assert "old town on Tuesday" in page.text


def test_recall_pass_when_the_precise_pass_finds_almost_nothing():
    html = _page("".join(f"<p>{PARA} Part {i}.</p>" for i in range(6))).decode()
    notice = "This copy is for your personal, non-commercial use only."
    assert "Part 5" in settle_body(notice, PageParts(html=html, url="https://x.test/b"))
    # a precise text of normal length is not second-guessed by the recall pass
    assert settle_body(PARA * 3, PageParts(html=html, url="https://x.test/b")) == PARA * 3


def test_cross_links_inside_and_prompts_at_the_tail_are_dropped():
    text = "\n".join([
        "By Jane Roe", "First paragraph of the story.", "Related: Another story about something else",
        "READ MORE: A third story", "Second paragraph of the story.",
        "Tariff fears: markets fall after the summit [VIDEO]", "Last paragraph.",
        "Like this story? Share it with a friend!", "Get the latest updates right in your inbox.", "12 comments"])
    assert clean_body(text) == "First paragraph of the story.\nSecond paragraph of the story.\nLast paragraph."


def test_long_lines_and_lone_tags_are_kept():
    long_line = "Related: " + "a real sentence of the article that happens to start with that word " * 4
    text = f"{long_line}\n[CNET]\nBody."
    assert clean_body(text) == text
