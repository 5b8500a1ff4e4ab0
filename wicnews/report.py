"""``wicnews report``: one self-contained HTML page (no scripts, no network at view time) over
the relevant coverage: coverage per day as an inline SVG bar chart, top outlets, the
language split, the most republished articles (most other URLs), and every article."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from html import escape

MAX_DAYS = 120  # the chart shows at most the last 120 days of the period
BAR_COLOR = "#2563eb"


@dataclass
class Report:
    rows: list[dict]
    since: datetime | None
    generated: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def day(self, row: dict) -> date:
        """The article's day: its publication date (UTC), else the day it was first seen."""
        return datetime.fromisoformat(row["published_at"] or row["first_seen_at"]).astimezone(timezone.utc).date()

    def per_day(self) -> list[tuple[date, int]]:
        counts = Counter(self.day(r) for r in self.rows)
        if not counts:
            return []
        last = max(counts)
        first = max(min(counts), last - timedelta(days=MAX_DAYS - 1))
        return [(first + timedelta(days=i), counts.get(first + timedelta(days=i), 0))
                for i in range((last - first).days + 1)]

    def outlets(self, n: int = 10) -> list[tuple[str, int]]:
        return Counter(r["site_name"] or "(unknown)" for r in self.rows).most_common(n)

    def languages(self) -> list[tuple[str, int]]:
        return Counter(r["language"] or "(unknown)" for r in self.rows).most_common()

    def republished(self, n: int = 10) -> list[dict]:
        return sorted((r for r in self.rows if r["also_at"]), key=lambda r: (-len(r["also_at"]), r["id"]))[:n]


def chart(days: list[tuple[date, int]], width: int = 1000, height: int = 260) -> str:
    """Coverage per day as an SVG bar chart (one ``rect.bar`` a day with articles)."""
    if not days:
        return '<p class="empty">No coverage in this period.</p>'
    left, bottom, top = 40, 40, 16
    plot_w, plot_h = width - left - 10, height - bottom - top
    peak = max(n for _, n in days)
    step = plot_w / len(days)
    bar_w = min(48.0, max(1.0, step * 0.8))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" id="per-day" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="Articles per day">',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" stroke="#555"/>',
             f'<text x="{left - 6}" y="{top + 10}" text-anchor="end" class="axis">{peak}</text>',
             f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" class="axis">0</text>']
    label_every = max(1, len(days) // 10)
    for i, (day, n) in enumerate(days):
        x = left + i * step + (step - bar_w) / 2
        if n:
            h = plot_h * n / peak
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" '
                         f'height="{h:.1f}" fill="{BAR_COLOR}"><title>{day.isoformat()}: {n}</title></rect>')
        if i % label_every == 0:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                         f'class="axis">{day.strftime("%m-%d")}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _table(headers: tuple[str, ...], rows: list[tuple]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _link(row: dict) -> str:
    return f'<a href="{escape(row["canonical_url"])}">{escape(row["title"] or row["canonical_url"])}</a>'


def _share(n: int, total: int) -> str:
    return f"{100 * n / total:.0f}%" if total else "-"


STYLE = """
body { font: 15px/1.45 system-ui, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 2em auto; max-width: 1040px;
       color: #111; background: #fff; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
.meta, .axis { color: #555; font-size: 12px; } table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .25em .5em; border-bottom: 1px solid #eee; vertical-align: top; }
td.n { text-align: right; white-space: nowrap; } .cols { display: flex; gap: 2em; } .cols > div { flex: 1; }
a { color: #1d4ed8; text-decoration: none; } a:hover { text-decoration: underline; }
"""


def render(report: Report) -> str:
    """The page: HTML5 with its style inline; every text escaped."""
    rows, total = report.rows, len(report.rows)
    period = f"since {report.since.isoformat()}" if report.since else "all stored coverage"
    outlets = _table(("Outlet", "Articles", "Share"), [(escape(name), n, _share(n, total))
                                                      for name, n in report.outlets()])
    languages = _table(("Language", "Articles", "Share"), [(escape(lang), n, _share(n, total))
                                                          for lang, n in report.languages()])
    republished = _table(("Article", "Outlet", "Other URLs"), [
        (_link(r), escape(r["site_name"] or ""), len(r["also_at"])) for r in report.republished()]) \
        if report.republished() else "<p>No article was found under more than one URL.</p>"
    articles = _table(("Published (UTC)", "Lang", "Outlet", "Title"), [
        (escape((r["published_at"] or "")[:16].replace("T", " ") or "unknown"), escape(r["language"] or ""),
         escape(r["site_name"] or ""), _link(r))
        for r in sorted(rows, key=lambda r: r["published_at"] or r["first_seen_at"], reverse=True)])
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>WIC coverage report</title>
<style>{STYLE}</style>
</head>
<body>
<h1>World Internet Conference: press coverage</h1>
<p class="meta">{total} relevant articles, {period}; generated {escape(report.generated.strftime("%Y-%m-%d %H:%M UTC"))}
by wicnews.</p>
<h2>Coverage per day</h2>
{chart(report.per_day())}
<div class="cols">
<div><h2>Top outlets</h2>{outlets}</div>
<div><h2>Languages</h2>{languages}</div>
</div>
<h2>Most republished</h2>
{republished}
<h2>All articles</h2>
{articles}
</body>
</html>
"""
