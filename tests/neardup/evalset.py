"""A labelled set for near-duplicate detection: which pairs of texts are "the same article".

Groups of texts that are one article (an original and its syndicated variants: a new
headline, a dropped paragraph, a credit line, normalised quotes, another site template, and
combinations of these), in English and Chinese, with hard negatives between groups: two
reports of one event, a follow-up and an update of a story that reuse its paragraphs,
different stories sharing a long boilerplate paragraph, mixed English/Chinese texts. The
stories are written for this set (``stories_*.txt``); when ``$WICNEWS_EVAL_DIR`` (default
``../shared/eval``) holds the AEB bodies, real article texts are added at test time (never
copied into the repository).

``evaluate(items, same)`` counts pairs: a pair is predicted "same" when ``same(a, b)``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from itertools import combinations
from pathlib import Path

HERE = Path(__file__).parent
REPO = HERE.parent.parent

TEMPLATE_EN = (["Share this article", "Facebook Twitter LinkedIn Email"],
               ["Advertisement", "Related: Hangzhou unveils AI plan | Chip curbs bite | Inside Alibaba's new campus",
                "Sign up for our free newsletter to get the day's top technology stories in your inbox.",
                "© 2023 Tech Daily Ltd. All rights reserved."])
TEMPLATE_ZH = (["分享到：微信 微博 QQ空间", "字号：大 中 小"],
               ["【打印】【关闭窗口】【纠错】", "相关新闻：杭州发布人工智能产业规划 浙江数字经济再上新台阶",
                "版权声明：凡注明来源本网的作品，未经授权不得转载。"])


def load_stories(path: Path) -> dict[str, list[str]]:
    """``=== name`` headers followed by paragraphs separated by blank lines."""
    stories: dict[str, list[str]] = {}
    for block in re.split(r"^=== ", path.read_text(encoding="utf-8"), flags=re.MULTILINE)[1:]:
        name, _, body = block.partition("\n")
        stories[name.strip()] = [p.strip() for p in body.split("\n\n") if p.strip()]
    return stories


def _zh(paragraphs: list[str]) -> bool:
    return sum(len(re.findall(r"[\u4e00-\u9fff]", p)) for p in paragraphs) > 50


def _quotes(text: str) -> str:
    """Curly quotes straightened, dashes and ellipses plain (or the other way for text that has none)."""
    table = {"“": '"', "”": '"', "‘": "'", "’": "'", "—": "--", "…": "..."}
    if any(c in text for c in table):
        return "".join(table.get(c, c) for c in text)
    return re.sub(r"'", "’", re.sub(r'"([^"]*)"', r"“\1”", text))


def _zh_punct(text: str) -> str:
    """Chinese quotes to corner brackets, full-width digits and commas to half-width."""
    text = text.replace("“", "「").replace("”", "」").replace("，", ", ").replace("：", ": ")
    return text.translate({ord("0") + 0xFEE0 + i: ord("0") + i for i in range(10)})


def variants(name: str, paragraphs: list[str]) -> dict[str, str]:
    """The syndicated variants of one story, by name; the original is ``original``."""
    zh = _zh(paragraphs)
    n = len(paragraphs)
    drop_a = [p for i, p in enumerate(paragraphs) if i != n // 2]
    drop_b = [p for i, p in enumerate(paragraphs) if i != max(1, n - 2)]
    first = paragraphs[0]
    headline = (first[:18] + "——转载") if zh else " ".join(first.split()[:9]).rstrip(",.;:") + " (republished)"
    credit_top = "本报记者 王晓 通讯员 李明" if zh else "By Staff Reporter | Updated 3 hours ago"
    credit_end = "（来源：浙江日报 责任编辑：张伟）" if zh else \
        "This article was first published by the South China Morning Post and is republished with permission."
    top, end = TEMPLATE_ZH if zh else TEMPLATE_EN
    punct = _zh_punct if zh else _quotes

    def join(parts: list[str]) -> str:
        return "\n\n".join(parts)

    return {
        "original": join(paragraphs),
        "headline": join([headline, *paragraphs]),
        "drop": join(drop_a),
        "credit": join([credit_top, *paragraphs, credit_end]),
        "quotes": punct(join(paragraphs)),
        "template": join([*top, *paragraphs[:2], end[0], *paragraphs[2:], *end[1:]]),
        "rewrapped": "\n".join(re.split(r"(?<=[.!?。！？])\s*", join(paragraphs))),
        "headline+drop+credit": join([headline, credit_top, *drop_b, credit_end]),
        "template+quotes+drop": punct(join([*top, *drop_a, *end])),
        "all": punct(join([headline, *top, credit_top, *drop_b, credit_end, *end])),
    }


def eval_dir() -> Path:
    return Path(os.environ.get("WICNEWS_EVAL_DIR") or REPO.parent / "shared" / "eval")


def aeb_stories(limit: int = 60) -> dict[str, list[str]]:
    """Real article bodies from the AEB set (when present): 150 to 1,500 words, at least
    four paragraphs; at most ``limit``, in the file's order."""
    path = eval_dir() / "aeb" / "ground-truth.json"
    if not path.exists():
        return {}
    stories = {}
    for key, gold in json.loads(path.read_text(encoding="utf-8")).items():
        paragraphs = [p.strip() for p in gold["articleBody"].split("\n") if p.strip()]
        words = sum(len(p.split()) for p in paragraphs)
        if len(paragraphs) >= 4 and 150 <= words <= 1500:
            stories[f"aeb-{key}"] = paragraphs
        if len(stories) >= limit:
            break
    return stories


def fundus_stories(limit: int = 60) -> dict[str, list[str]]:
    """Real news bodies from the fundus set (when present; 43 countries, Chinese and Japanese
    included): every story with at least 200 CJK characters, then others, at least four
    paragraphs each, at most ``limit``, in file order. Not used to tune the detector."""
    cjk, other = {}, {}
    for path in sorted((eval_dir() / "fundus" / "test_data").glob("*/*.json")):
        for version, gold in json.loads(path.read_text(encoding="utf-8")).items():
            paragraphs = [p.strip() for section in (gold.get("body") or {}).get("sections", [])
                          for p in section.get("paragraphs", []) if p.strip()]
            if len(paragraphs) >= 4:
                many = sum(len(re.findall(r"[\u3040-\u30ff\u4e00-\u9fff]", p)) for p in paragraphs) >= 200
                (cjk if many else other)[f"fundus-{path.parent.name}-{path.stem}-{version}"] = paragraphs
    return dict(list({**cjk, **other}.items())[:limit])


def build(stories: dict[str, list[str]]) -> list[tuple[str, str, str]]:
    """``(group, variant, text)`` for every story and variant: one group is one article."""
    return [(name, kind, text) for name, paragraphs in stories.items()
            for kind, text in variants(name, paragraphs).items()]


def evaluate(items: list[tuple[str, str, str]], same: Callable[[str, str], bool]) -> dict:
    """Pairs of texts, counted: true/false positives, false negatives, precision, recall,
    and the pairs that went wrong (``missed``, ``wrong``)."""
    tp = fp = fn = 0
    missed, wrong = [], []
    for (g1, k1, t1), (g2, k2, t2) in combinations(items, 2):
        predicted, actual = same(t1, t2), g1 == g2
        if predicted and actual:
            tp += 1
        elif predicted:
            fp += 1
            wrong.append((f"{g1}/{k1}", f"{g2}/{k2}"))
        elif actual:
            fn += 1
            missed.append((f"{g1}/{k1}", f"{g2}/{k2}"))
    return {"pairs": len(items) * (len(items) - 1) // 2, "positives": tp + fn, "tp": tp, "fp": fp, "fn": fn,
            "precision": tp / (tp + fp) if tp + fp else 1.0, "recall": tp / (tp + fn) if tp + fn else 1.0,
            "missed": missed, "wrong": wrong}
