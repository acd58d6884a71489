"""HTML to readable text with the standard library's html.parser (no scripts, styles, forms)."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

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


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title_parts: list[str] = []
        self._skip_depth = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in SKIPPED_TAGS and tag not in VOID_TAGS:
            self._skip_depth += 1
        elif tag in BLOCK_TAGS and not self._skip_depth:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in SKIPPED_TAGS and self._skip_depth:
            self._skip_depth -= 1
        elif tag in BLOCK_TAGS and not self._skip_depth:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_parts.append(data)
        elif not self._skip_depth:
            self.parts.append(data)


def html_to_text(markup: str, *, max_chars: int) -> PageText:
    """The title and visible text of ``markup``, cut to ``max_chars``."""
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    title = " ".join("".join(collector.title_parts).split())
    text = _tidy("".join(collector.parts))
    return _cut(title, text, max_chars)


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
