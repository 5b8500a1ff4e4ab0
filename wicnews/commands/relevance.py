"""``wicnews explain`` (why an article is, or is not, coverage) and ``wicnews rescore``
(judge stored articles again after the topic profile changed)."""

from __future__ import annotations

import json
import sys

from wicnews.commands import add_db_option, open_for_reading
from wicnews.errors import ConfigError


def register(sub) -> None:
    p = sub.add_parser("explain", help="why an article is coverage, a mention, or neither")
    p.add_argument("article", metavar="ID|URL", help="an article id (as `wicnews new` shows it) or any of its URLs")
    p.add_argument("--format", choices=("text", "json"), default="text")
    add_db_option(p)
    p.set_defaults(func=run_explain)

    p = sub.add_parser("rescore", help="judge every stored article again (after the topic profile changed)")
    p.add_argument("--topic", metavar="FILE", help="topic profile (TOML); default: $WICNEWS_TOPIC or the bundled WIC profile")
    add_db_option(p)
    p.set_defaults(func=run_rescore)


def _topic(path: str | None):
    from wicnews.config import environment_values
    from wicnews.topic import load_topic

    return load_topic(path or environment_values().get("WICNEWS_TOPIC") or None)


def run_explain(args) -> int:
    from sqlalchemy.orm import Session

    from wicnews.db.queries import find_article
    from wicnews.output.table import explain_lines, printable

    engine = open_for_reading(args.db)
    try:
        with Session(engine) as session:
            article = find_article(session, args.article)
            if article is None:
                raise ConfigError(f"no stored article is {args.article!r} (give an id from `wicnews new` or a URL)")
            verdict, title, url, article_id = article.relevance, article.title, article.canonical_url, article.id
            text = article.text
    finally:
        engine.dispose()
    if verdict is None:  # stored before verdicts were kept: judge it now
        from wicnews.relevance import judge

        verdict = judge(title, text, _topic(None)).to_json()
    if args.format == "json":
        json.dump({"id": article_id, "url": url, "title": title, "relevance": verdict}, sys.stdout,
                  ensure_ascii=False, indent=2)
        print()
    else:
        print(f"#{article_id} {printable(title or '(no title)')}\n    {printable(url)}")
        for line in explain_lines(verdict):
            print(line)
    return 0


def run_rescore(args) -> int:
    from wicnews.config import database_url
    from wicnews.db.engine import open_database
    from wicnews.rescore import rescore

    topic = _topic(args.topic)
    engine = open_database(database_url(args.db), must_exist=True, auto_upgrade=False)
    try:
        moved = rescore(engine, topic, progress=lambda n: print(f"\r{n} articles judged", end="", file=sys.stderr))
    finally:
        engine.dispose()
    print(file=sys.stderr)
    total = sum(moved.values())
    changed = {k: v for k, v in sorted(moved.items()) if k[0] != k[1]}
    print(f"{total} articles judged with topic {topic.name!r}: {sum(changed.values())} changed level"
          + "".join(f"\n  {old} -> {new}: {n}" for (old, new), n in changed.items()))
    return 0
