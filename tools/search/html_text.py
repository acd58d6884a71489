"""HTML to readable text with libxml2's HTML parser through lxml (no scripts, styles, forms).

Hostile markup cannot make extraction slow or large: at most :data:`MAX_PARSE_CHARS`
characters reach the parser, libxml2 parses in linear time (html.parser is quadratic on
input like ``"<a " * n``), and the parser feeds events to a collector instead of building
a tree, so memory grows only with the text kept, which stops at a bound too.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

MAX_PARSE_CHARS = 2_000_000
"""Most characters of markup handed to the parser; the rest of a page is never read."""

SKIPPED_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "math",
        "iframe",
        "object",
        "canvas",
        "select",
        "button",
    }
)
BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
        "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
    }
)  # fmt: skip
MAX_TITLE_CHARS = 500
VOID_TAGS = frozenset({"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "wbr"})


@dataclass(frozen=True)
class PageText:
    """Text extracted from a page.

    Attributes:
        title: The ``<title>``, if any.
        text: Visible text with paragraph breaks, at most ``max_chars`` long.
        truncated: True when the text was cut at ``max_chars``.
    """

    title: str
    text: str
    truncated: bool


class _EnoughText(Exception):
    """Raised from the collector to stop the parser once enough text is kept."""


class _TextCollector:
    """lxml parser target: keeps visible text and the title, never builds a tree."""

    def __init__(self, keep_chars: int) -> None:
        self.parts: list[str] = []
        self.title_parts: list[str] = []
        self._kept = 0
        self._keep_chars = keep_chars
        self._skip_depth = 0
        self._in_title = False

    def start(self, tag: str, attrib: object) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in SKIPPED_TAGS and tag not in VOID_TAGS:
            self._skip_depth += 1
        elif tag in BLOCK_TAGS and not self._skip_depth:
            self.parts.append("\n")

    def end(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in SKIPPED_TAGS and self._skip_depth:
            self._skip_depth -= 1
        elif tag in BLOCK_TAGS and not self._skip_depth:
            self.parts.append("\n")

    def data(self, data: str) -> None:
        if self._in_title:
            if sum(map(len, self.title_parts)) < MAX_TITLE_CHARS:
                self.title_parts.append(data)
        elif not self._skip_depth:
            self.parts.append(data)
            self._kept += len(data)
            if self._kept > self._keep_chars:
                raise _EnoughText

    def close(self) -> None:
        return None


def html_to_text(markup: str, *, max_chars: int) -> PageText:
    """The title and visible text of ``markup``, cut to ``max_chars``.

    Only the first :data:`MAX_PARSE_CHARS` characters are parsed; a longer page counts as
    truncated.
    """
    collector = _TextCollector(keep_chars=max(4 * max_chars, 64_000))
    parser = etree.HTMLParser(target=collector, recover=True, no_network=True)
    cut_markup = len(markup) > MAX_PARSE_CHARS
    try:
        parser.feed(markup[:MAX_PARSE_CHARS])
        parser.close()
    except _EnoughText:
        cut_markup = True
    except etree.LxmlError:
        pass  # libxml2 gave up on the markup; keep the text collected so far
    title = " ".join("".join(collector.title_parts).split())[:MAX_TITLE_CHARS]
    text = _tidy("".join(collector.parts))
    page = _cut(title, text, max_chars)
    return PageText(page.title, page.text, page.truncated or cut_markup)


def plain_to_text(body: str, *, max_chars: int) -> PageText:
    """A plain-text body tidied and cut to ``max_chars``."""
    return _cut("", _tidy(body), max_chars)


def _tidy(text: str) -> str:
    lines = (" ".join(line.split()) for line in text.split("\n"))
    paragraphs: list[str] = []
    for line in lines:
        if line:
            paragraphs.append(line)
        elif paragraphs and paragraphs[-1] != "":
            paragraphs.append("")
    return "\n".join(paragraphs).strip()


def _cut(title: str, text: str, max_chars: int) -> PageText:
    if len(text) <= max_chars:
        return PageText(title, text, False)
    return PageText(title, text[:max_chars].rstrip() + "…", True)
