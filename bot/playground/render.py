"""Discord markdown (the subset people use) to safe HTML for the playground page.

Everything is escaped first; the only markup in the output is what this module writes: ``div``,
``br``, ``strong``, ``em``, ``u``, ``s``, ``span``, ``code``, ``pre`` and ``blockquote``, with
``class``, ``title`` and ``data-lang`` attributes whose values are escaped. Links are shown as
text, never as anchors: the page never makes model output clickable.
"""

from __future__ import annotations

import datetime
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field

Lookup = Callable[[int], str | None]

_FENCE = re.compile(r"```(?:([\w+#.-]{1,20})\n)?(.*?)(?:```|\Z)", re.DOTALL)
_INLINE_CODE = re.compile(r"``(.+?)``|`([^`\n]+)`")
_MASKED_LINK = re.compile(r"\[([^\]\n]{1,200})\]\((?:&lt;)?(https?://[^\s)]+?)(?:&gt;)?\)")
_BARE_URL = re.compile(r"(?:&lt;)?(https?://(?:(?!&lt;|&gt;|&quot;|&#x27;)[^\s\x00])+)(?:&gt;)?")
_USER = re.compile(r"&lt;@!?(\d{1,20})&gt;")
_ROLE = re.compile(r"&lt;@&amp;(\d{1,20})&gt;")
_CHANNEL = re.compile(r"&lt;#(\d{1,20})&gt;")
_TIMESTAMP = re.compile(r"&lt;t:(-?\d{1,13})(?::([tTdDfFR]))?&gt;")
_EMOJI = re.compile(r"&lt;a?:(\w{1,32}):\d{1,20}&gt;")
_EMPHASIS = (
    (re.compile(r"\*\*(.+?)\*\*"), "strong", ""),
    (re.compile(r"__(.+?)__"), "u", ""),
    (re.compile(r"\*(?!\s)(.+?)(?<!\s)\*"), "em", ""),
    (re.compile(r"(?<![\w])_(?!\s)(.+?)(?<!\s)_(?![\w])"), "em", ""),
    (re.compile(r"~~(.+?)~~"), "s", ""),
    (re.compile(r"\|\|(.+?)\|\|"), "span", "spoiler"),
)
_HEADINGS = (("### ", "md-h3"), ("## ", "md-h2"), ("# ", "md-h1"), ("-# ", "md-sub"))
_TRAILING = ".,:;!?'*_~"
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")


@dataclass(frozen=True)
class Names:
    """How to show mentions: functions from an id to a name (None when unknown)."""

    user: Lookup = lambda _id: None
    role: Lookup = lambda _id: None
    channel: Lookup = lambda _id: None


@dataclass
class _Block:
    kind: str
    lines: list[str] = field(default_factory=list)


def render_markdown(text: str, names: Names | None = None) -> str:
    """The HTML of a Discord message's ``text`` (safe to put inside an element)."""
    names = names or Names()
    text = text.replace("\x00", "").replace("\r\n", "\n")
    out: list[str] = []
    position = 0
    for fence in _FENCE.finditer(text):
        out.append(_render_prose(text[position : fence.start()], names))
        out.append(_code_block(fence.group(1), fence.group(2)))
        position = fence.end()
    out.append(_render_prose(text[position:], names))
    return "".join(out)


def _code_block(language: str | None, code: str) -> str:
    lang = f' data-lang="{html.escape(language)}"' if language else ""
    return f'<pre class="md-code"><code{lang}>{html.escape(code.strip(chr(10)))}</code></pre>'


def _render_prose(text: str, names: Names) -> str:
    if not text.strip("\n"):
        return ""
    blocks: list[_Block] = []
    lines = text.strip("\n").split("\n")
    for index, line in enumerate(lines):
        if line.startswith(">>> "):
            _add(blocks, "quote", "\n".join([line[4:], *lines[index + 1 :]]).split("\n"))
            break
        kind, body = _line_kind(line)
        _add(blocks, kind, [body])
    return "".join(_block_html(block, names) for block in blocks)


def _line_kind(line: str) -> tuple[str, str]:
    if line.startswith("> ") or line == ">":
        return "quote", line[2:]
    for prefix, kind in _HEADINGS:
        if line.startswith(prefix):
            return kind, line[len(prefix) :]
    if line.startswith(("- ", "* ")):
        return "md-li", line[2:]
    return "text", line


def _add(blocks: list[_Block], kind: str, lines: list[str]) -> None:
    mergeable = kind in ("text", "quote")
    if blocks and mergeable and blocks[-1].kind == kind:
        blocks[-1].lines.extend(lines)
    else:
        blocks.append(_Block(kind, list(lines)))


def _block_html(block: _Block, names: Names) -> str:
    inner = "<br>".join(render_inline(line, names) for line in block.lines)
    if block.kind == "quote":
        return f"<blockquote>{inner}</blockquote>"
    if block.kind == "text":
        return f'<div class="md-text">{inner}</div>'
    return f'<div class="{block.kind}">{inner}</div>'


def render_inline(text: str, names: Names | None = None) -> str:
    """One line of prose: inline code, links, mentions and emphasis."""
    names = names or Names()
    kept: list[str] = []

    def keep(fragment: str) -> str:
        kept.append(fragment)
        return f"\x00{len(kept) - 1}\x00"

    text = _INLINE_CODE.sub(
        lambda m: keep(f"<code>{html.escape(m.group(1) or m.group(2))}</code>"), text
    )
    text = html.escape(text)
    text = _MASKED_LINK.sub(lambda m: keep(_masked_link(m.group(1), m.group(2))), text)
    text = _BARE_URL.sub(lambda m: _bare_url(m, keep), text)
    text = _mentions(text, names, keep)
    for pattern, tag, css in _EMPHASIS:
        text = pattern.sub(_wrapper(tag, css), text)
    return _PLACEHOLDER.sub(lambda m: kept[int(m.group(1))], text)


def _wrapper(tag: str, css: str) -> Callable[[re.Match[str]], str]:
    opening = f'<{tag} class="{css}">' if css else f"<{tag}>"
    return lambda match: f"{opening}{match.group(1)}</{tag}>"


def _masked_link(label: str, url: str) -> str:
    return (
        f'<span class="md-link" title="{url}">{label}</span> '
        f'<span class="md-link-url">({_host_of(url)})</span>'
    )


def _bare_url(match: re.Match[str], keep: Callable[[str], str]) -> str:
    url = match.group(1)
    stripped = url.rstrip(_TRAILING)
    tail = url[len(stripped) :]
    return keep(f'<span class="md-link">{stripped}</span>') + tail


def _host_of(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return re.split(r"[/?#]", rest, maxsplit=1)[0]


def _mentions(text: str, names: Names, keep: Callable[[str], str]) -> str:
    def pill(prefix: str, name: str | None, raw: str) -> str:
        shown = f"{prefix}{name}" if name else f"{prefix}{raw}"
        return keep(f'<span class="mention">{html.escape(shown)}</span>')

    text = _ROLE.sub(lambda m: pill("@", names.role(int(m.group(1))), "unknown-role"), text)
    text = _USER.sub(lambda m: pill("@", names.user(int(m.group(1))), "unknown-user"), text)
    text = _CHANNEL.sub(lambda m: pill("#", names.channel(int(m.group(1))), "unknown"), text)
    text = _TIMESTAMP.sub(lambda m: keep(_timestamp(int(m.group(1)), m.group(2))), text)
    return _EMOJI.sub(lambda m: keep(f'<span class="emoji">:{m.group(1)}:</span>'), text)


def _timestamp(seconds: int, style: str | None, now: datetime.datetime | None = None) -> str:
    """A Discord timestamp as a reader in UTC sees it; style ``R`` is relative ("in 3 hours")."""
    try:
        moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return '<span class="md-time">(invalid time)</span>'
    if style == "R":
        shown = relative_time(moment, now or datetime.datetime.now(datetime.UTC))
    else:
        pattern = _TIME_FORMATS.get(style or "f", _TIME_FORMATS["f"])
        shown = moment.strftime(pattern.replace("%-d", str(moment.day)))
    return f'<span class="md-time">{shown}</span>'


_TIME_FORMATS = {
    "t": "%H:%M UTC",
    "T": "%H:%M:%S UTC",
    "d": "%Y-%m-%d",
    "D": "%B %-d, %Y",
    "f": "%B %-d, %Y %H:%M UTC",
    "F": "%A, %B %-d, %Y %H:%M UTC",
}
_UNITS = (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400), ("hour", 3600))
_SMALL_UNITS = (("minute", 60), ("second", 1))


def relative_time(moment: datetime.datetime, now: datetime.datetime) -> str:
    """Discord's relative form: "in 3 hours", "2 days ago", "in a few seconds"."""
    delta = (moment - now).total_seconds()
    size = abs(delta)
    if size < 45:
        amount = "a few seconds"
    else:
        name, unit = next((u for u in (*_UNITS, *_SMALL_UNITS) if size >= u[1]), _SMALL_UNITS[1])
        count = round(size / unit)
        amount = f"{'a' if name != 'hour' else 'an'} {name}" if count == 1 else f"{count} {name}s"
    return f"in {amount}" if delta > 0 else f"{amount} ago"
