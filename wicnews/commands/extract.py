"""``wicnews extract``: what the pipeline makes of one saved page or URL, without storing it."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from wicnews.commands import EXIT_FAILED
from wicnews.errors import ConfigError, PageError


def register(sub) -> None:
    p = sub.add_parser("extract", help="show what the pipeline extracts from one saved page or URL")
    p.add_argument("target", metavar="PATH_OR_URL")
    p.add_argument("--url", help="the page's URL, when extracting a saved file")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--topic", metavar="FILE", help="topic profile (TOML); default: $WICNEWS_TOPIC or the bundled WIC profile")
    p.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                   help="override a setting of the fetch (DOWNLOAD_TIMEOUT, DOWNLOAD_MAXSIZE, USER_AGENT, ...)")
    p.set_defaults(func=run)


def run(args) -> int:
    from wicnews.articles import article_from_file, article_from_url
    from wicnews.config import environment_values
    from wicnews.topic import load_topic

    topic = load_topic(args.topic or environment_values().get("WICNEWS_TOPIC") or None)
    target = args.target
    try:
        if Path(target).is_file():
            result = article_from_file(Path(target), args.url, topic)
        elif re.match(r"https?://", target):
            result = article_from_url(target, args.url, args.set, topic)
        else:
            raise ConfigError(f"no such file, and not an http(s) URL: {target}")
    except PageError as exc:
        print(f"wicnews: {target}: {exc.kind}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.format == "json":
        json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        for key, value in result.items():
            if key != "text":
                print(f"{key + ':':<15}{', '.join(map(str, value)) if isinstance(value, list) else value}")
        print("\n" + result["text"])
    return 0
