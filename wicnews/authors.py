"""Authors as people: names from structured data, meta tags, trafilatura and bylines in the text.

Rules, in order:

1. Sources, most trusted first: JSON-LD ``author`` (a ``Person``; organisations are skipped),
   ``<meta name=author>``/``article:author`` (``dc.creator``/``citation_author`` "Last, First"
   read as "First Last"), trafilatura's byline, the page's author markup (``itemprop=author``,
   ``rel=author``, ``.byline``: last, as related-story teasers carry it too); on Chinese pages the
   bylines written in the text (``作者：``, ``记者``, ``文/``). The first source that yields a
   person wins; the others are not mixed in.
2. A value is split into names at ``;``, ``、``, ``|``, ``/``, ``&`` and the conjunctions of
   many languages (and, und, og, och, et, y, en, ja, és, 和, 与); ``A, B`` splits only when
   both parts are full names (``Jiang, Ben`` stays one).
3. Role words are dropped where a byline starts ("By", "Von", "Autor", "Por", "Par", "Di",
   "Door", "Av", "Tekst", "记者", "作者" ...), and where a capitalised role word sits inside
   ("Capital Von Jemima Kelly" -> "Jemima Kelly"), as is a short handle in brackets after a
   name ("Elena Oberholzer (obe)"); lower-case particles stay ("Ursula von der
   Leyen"), as do dots ("J.R.R. Tolkien", "María R. Sahuquillo").
4. Not people, dropped: e-mail addresses, URLs, handles, anything with digits (IDs), job
   titles alone ("Journalist", "Redaktion"), values longer than six words, the site's and the
   publisher's own names, and names carrying an organisation word (GmbH, Ltd, Inc, Verlag,
   News, Nachrichten, Zeitung, Redaktion, 日报, 新闻网 ...), news agencies and staff credits
   (Reuters, AP, AFP, Xinhua/新华社, dpa, Bloomberg, "Reuters staff", "Staff writer",
   "correspondent", "editorial board" ...).
5. Duplicates that differ only in case or punctuation ("Sophie Foster", "Sophie-Foster") are one.

Chinese credit lines keep their roles apart (``credits``): ``编辑``/``责编``/``责任编辑`` name
editors, ``来源`` the outlet a story comes from; neither is an author.
"""

from __future__ import annotations

import re
import unicodedata

_CJK_NAMES = re.compile(r"[\u3400-\u9fff·]{2,5}(?:\s+[\u3400-\u9fff·]{2,5})+")
_ROLE_WORDS = (r"by|written by|reported by|reporting by|von|vom|autor|autorin|autoren|por|par|di|door|av|af|fra|"
               r"tekst|text|texte|przez|od|napsal|kirjoittanut|yazan|oleh|bởi|durch")
_CN_ROLES = r"本报记者|记者|编辑|责编|责任编辑|作者|通讯员|实习生|撰文|文"
_ROLE = re.compile(rf"^(?:(?:{_ROLE_WORDS})\b\s*[:：]?|(?:{_CN_ROLES})\s*[:：/]?)\s*", re.IGNORECASE)
# A capitalised role word inside a value: what follows it is the name ("Capital Von Jemima Kelly").
_INNER_ROLE = re.compile(r"^.+?\s(?:By|Von|Por|Par|Door|Av)\s+(?=\S)")
# Role words after a name: "신현주 기자", "王喆 报道", "Max Muster (Text)".
_ROLE_SUFFIX = re.compile(r"\s*(?:기자|특파원|记者|报道|\((?:text|foto|fotos|red)\))$", re.IGNORECASE)
# A short lower-case handle after a name: "Elena Oberholzer (obe)", "Max Muster (mm.)".
_HANDLE_SUFFIX = re.compile(r"\s*\([a-zäöüß.]{1,5}\)$")
_CONJUNCTIONS = r"\s+(?:and|und|og|och|et|y|en|ja|és|e|și)\s+|\s*[和与及]\s*"
_NOT_NAME = re.compile(
    r"@|://|www\.|\d|^(?:journalist(?:in)?|reporter(?:in)?|redakteur(?:in)?|redaktion|correspondent|editor|"
    r"staff|admin|administrator|agenturen|agencies|red|redaction|rédaction|redazione|redacción|desk|"
    r"photographer|fotograf|autor|author|anonymous|unknown|nachrichten|news|online|team|frankfurt|germany)$",
    re.IGNORECASE)
_ORG_WORDS = re.compile(
    r"\b(?:gmbh|ag|ltd|llc|inc|corp|plc|s\.?a\.?|verlag|media|medien|group|news|nachrichten|zeitung|times|"
    r"post|press|tribune|herald|journal|gazette|daily|online|magazin|magazine|redaktion|newsroom|developer|"
    r"nast|agency|agentur|tv|radio|broadcasting|network|\.com|\.de|\.at|\.be)\b|日报|晚报|新闻|网$|社$|报$|電視|电视",
    re.IGNORECASE)
# News agencies, wires and staff credits: organisations, never people ("By Reuters staff").
_WIRES = re.compile(
    r"\b(?:reuters|associated\s+press|agence\s+france[-\s]presse|afp|xinhua|bloomberg|dpa|kyodo|yonhap|"
    r"ansa|tass|interfax|ria\s+novosti|(?-i:AP|ANI|APA|SDA|ATS|CNA|EFE|PTI|IANS|UPI)|"
    r"staff\s+writers?|staff\s+reporters?|staff|wire\s+services?|wires|correspondents?|editorial\s+board|"
    r"editors|the\s+editors|newsdesk|news\s+desk|agencies)\b|新华社|新華社|中新社|中新网|路透社|美联社|法新社|彭博社|"
    r"本报评论员|评论员|特约评论员|\b(?:our|the|from|and|with)\b", re.IGNORECASE)
_ORG_TYPES = ("organization", "newsmediaorganization", "corporation")
_SPLIT = re.compile(rf"[;；、，|/&]|{_CONJUNCTIONS}")


def _key(name: str) -> str:
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKD", name).casefold())


def split_names(value: str | None, *, split_cjk: bool = True) -> list[str]:
    """Author names from a byline or metadata value: "A; B", "A and B", "A, B" (full names),
    "王喆、李堃", "记者 王喆 李堃"; role words such as "By" and "记者" dropped. ``split_cjk``
    splits space-separated Chinese names (not for Japanese: "大渡 美咲" is one name)."""
    if not value:
        return []
    names: list[str] = []
    value = re.sub(r"\S+://\S*|\S+@\S+", " ", value)
    for part in _SPLIT.split(value):
        part = _ROLE.sub("", (part or "").strip(" \t\n-–—:：,")).strip()
        part = _INNER_ROLE.sub("", part).strip()
        part = _ROLE_SUFFIX.sub("", part).strip()
        part = _HANDLE_SUFFIX.sub("", part).strip()
        if not part:
            continue
        if "," in part and all(len(p.split()) >= 2 for p in part.split(",")):
            names.extend(p.strip() for p in part.split(","))  # "Ben Jiang, Coco Feng", not "Jiang, Ben"
        elif split_cjk and _CJK_NAMES.fullmatch(part):
            names.extend(part.split())
        else:
            names.append(part)
    return list(dict.fromkeys(re.sub(r"\s+", " ", n) for n in names if n))


def is_person(name: str, org_names: set[str] = frozenset()) -> bool:  # type: ignore[assignment]
    """True when ``name`` may be a person: not an ID, address, job title, organisation or the site itself."""
    if re.fullmatch(r"[a-z]+(?:-[a-z]+)+", name):  # a URL slug ("chuck-ross"), not a written name
        return False
    if not name or _NOT_NAME.search(name) or len(name.split()) > 6 or len(name) > 60:
        return False
    if _key(name) in org_names or any(k and k in _key(name) and len(k) > 3 for k in org_names):
        return False
    if _ORG_WORDS.search(name) or not re.search(r"\w\w", _WIRES.sub(" ", name)):  # "Reuters staff", not "Jane Doe, AP"
        return False
    return any(c.isalpha() for c in name)


def people(values: list[str | None], org_names: set[str], *, split_cjk: bool = True) -> list[str]:
    """The first value (most trusted first) that names people, as a list of distinct names."""
    orgs = {_key(o) for o in org_names if o and _key(o)}
    for value in values:
        found: dict[str, str] = {}
        for name in split_names(value, split_cjk=split_cjk):
            if is_person(name, orgs):
                found.setdefault(_key(name), name)
        if found:
            return list(found.values())
    return []


def inverted(name: str) -> str:
    """"Last, First" as written in library metadata (``dc.creator``, ``citation_author``) ->
    "First Last"; other values unchanged."""
    match = re.fullmatch(r"\s*([^,]+?)\s*,\s*([^,]+?)\s*", name)
    return f"{match.group(2)} {match.group(1)}" if match else name.strip()


def page_bylines(tree) -> str | None:
    """Names the page marks up as its authors: ``[itemprop=author] [itemprop=name]`` (or the
    ``itemprop=author`` element itself), ``<a rel=author>``, short ``.byline`` elements."""
    values: list[str] = []
    for element in tree.xpath('//*[@itemprop="author"]'):
        named = element.xpath('.//*[@itemprop="name"]')
        values += [n.get("content") or n.text_content() for n in named] or [element.get("content") or element.text_content()]
    if not values:
        values = [a.text_content() for a in tree.xpath('//a[@rel="author"]')]
    if not values:
        values = [e.text_content() for e in tree.xpath('//*[contains(concat(" ", normalize-space(@class), " "), " byline ")]')]
    values = [re.sub(r"\s+", " ", v).strip() for v in values]
    values = [v for v in values if 2 <= len(v) <= 80]
    return "; ".join(dict.fromkeys(values)) or None


def jsonld_people(objects: list[dict]) -> str | None:
    """``author`` names of the page's JSON-LD articles that are people (not organisations)."""
    for obj in objects:
        author = obj.get("author") or obj.get("creator")
        entries = author if isinstance(author, list) else [author]
        names = []
        for entry in entries:
            if isinstance(entry, dict):
                kind = entry.get("@type")
                if (kind if isinstance(kind, str) else " ".join(kind or [])).lower() == "organization":
                    continue
                entry = entry.get("name")
            if isinstance(entry, str) and entry.strip():
                names.append(entry.strip())
        if names:
            return "; ".join(names)
    return None


def jsonld_publishers(objects: list[dict]) -> set[str]:
    """Names of the organisations the JSON-LD declares (publisher, organisation authors)."""
    names: set[str] = set()
    for obj in objects:
        for key in ("publisher", "author", "sourceOrganization"):
            value = obj.get(key)
            for entry in value if isinstance(value, list) else [value]:
                if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                    kind = entry.get("@type")
                    if key == "publisher" or (isinstance(kind, str) and kind.lower() in _ORG_TYPES):
                        names.add(entry["name"])
        if str(obj.get("@type", "")).lower() in _ORG_TYPES and isinstance(obj.get("name"), str):
            names.add(obj["name"])
    return names


# --- Chinese credit lines ----------------------------------------------------------------

_NAME_RUN = r"([\u3400-\u9fff·]{2,4}(?:[\s、，,]+[\u3400-\u9fff·]{2,4}){0,5})"
_CN_AUTHOR = re.compile(rf"(?:作者|本报记者|记者|撰文|文)\s*[:：/｜|]?\s*{_NAME_RUN}")
_CN_EDITOR = re.compile(rf"(?:责任编辑|责编|编辑|校对|审核)\s*[:：]\s*{_NAME_RUN}")
_CN_ORIGIN = re.compile(r"来源\s*[:：]\s*([\u3400-\u9fffA-Za-z0-9·（）()]{2,20})")
# Words that follow a byline's names and are not names ("记者王喆报道", "记者 王喆 摄").
_CN_TAIL = re.compile(r"(?:报道|摄影?|综合|编译|整理|发自.*|通讯员.*)$")


def _cn_names(run: str) -> list[str]:
    names = []
    for part in re.split(r"[\s、，,]+", run):
        part = _CN_TAIL.sub("", part)
        if 2 <= len(part) <= 4 and not _ORG_WORDS.search(part):
            names.append(part)
    return names


def chinese_credits(text: str) -> tuple[list[str], list[str], str | None]:
    """``(authors, editors, origin)`` from the credit lines of a Chinese article's text (its
    first and last lines): "作者：王喆", "本报记者 王喆 李堃", "（责任编辑：赵喆）", "来源：人民网"."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    near = lines[:6] + lines[-6:]
    authors: list[str] = []
    editors: list[str] = []
    origin = None
    for line in near:
        if len(line) > 120 and not line.startswith(("作者", "记者", "本报记者", "（", "(")):
            continue
        for match in _CN_EDITOR.finditer(line):
            editors.extend(_cn_names(match.group(1)))
        cleaned = _CN_EDITOR.sub("", line)
        for match in _CN_AUTHOR.finditer(cleaned):
            authors.extend(_cn_names(match.group(1)))
        credited = _CN_ORIGIN.search(line)
        if credited and origin is None:
            origin = credited.group(1)
    return list(dict.fromkeys(authors)), list(dict.fromkeys(editors)), origin
