"""Make URLs in model output safe to show in Discord.

A model can be steered into writing a link that leaks data (``https://evil/x?d=<secret>``), and
Discord fetches a preview of every link it sees, so a link can leak without a click. Hence:

- A URL whose host is on the allow-list (or a subdomain of an allowed host) stays clickable but is
  wrapped ``<...>`` so that Discord shows no preview: bare ``<url>``, masked ``[label](<url>)``.
- Any other ``http``/``https`` URL is shown but not clickable: the scheme becomes ``hxxp(s)`` and
  the dots of the host become ``[.]``. In prose it is wrapped in inline code
  (`` `hxxps://evil[.]com/x?d=1` ``); a masked link becomes ``label (evil[.]com)`` (the real host,
  not the path); a Markdown image (which Discord does not render) becomes
  ``[image: alt] (evil[.]com)``.
- Code blocks and inline code are defanged too (Discord may still preview links there), but only
  the scheme and the host change, so code stays readable; allowed URLs in code are left as they
  are.
- A URL counts as allowed only if its host is plain ASCII letters, digits, dots and hyphens, with
  no user part (``https://allowed.com@evil.com`` is not allowed; ``\\`` ends the host, as in
  browsers), and every URL embedded in it (``https://allowed.com/go?to=https://evil.com``, an open
  redirect) is allowed as well. The default allow-list is empty: nothing is clickable.
- ``guard_links`` is the last step after splitting: it defangs, without changing the length, any
  scheme a cut may have exposed.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator

from bot.render.fences import code_block_spans, inline_code_spans

_HOST = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*")
_HOST_PORT = re.compile(r"([^:]*)(?::\d{0,5})?")
_SHOWN_HOST = re.compile(r"[A-Za-z0-9.\-:_~%\[\]]+")
_SCHEME = re.compile(r"https?://", re.IGNORECASE)
_URL_AUTHORITY = re.compile(r"https?://([^/?#\\\s]*)", re.IGNORECASE)
_CODE_URL = re.compile(r"https?://([^\s/?#\\<>`'\"]*)", re.IGNORECASE)
_TRAILING_PUNCTUATION = ".,:;!?'\"*_~"
_BARE = r"<(?P<angle>https?://[^\s<>]*)>|(?P<bare>https?://[^\s<>`]*)"
_BARE_URL = re.compile(_BARE, re.IGNORECASE)
_PROSE_URL = re.compile(  # possessive quantifiers keep it linear on hostile input
    r"(?P<image>!)?\[(?P<label>[^\[\]\n]{0,512}+)\]\(\s*+"
    r"(?P<target><[^<>\n]*+>|[^\s()<>]*+(?:\([^\s()<>]*+\)[^\s()<>]*+)*+)"
    r"(?:\s++\"[^\"\n]*+\")?+\s*+\)|" + _BARE,
    re.IGNORECASE,
)


def normalize_hosts(allow_hosts: Collection[str]) -> frozenset[str]:
    """Lower-case host names from settings; ``*.example.com`` means the same as ``example.com``.

    Raises:
        ValueError: An entry is not a host name; the operator must fix the allow-list setting.
    """
    hosts = set()
    for entry in allow_hosts:
        host = entry.strip().lower().removeprefix("*.").strip(".")
        try:
            host = host.encode("idna").decode("ascii") if not host.isascii() else host
        except UnicodeError:
            host = ""
        if not _HOST.fullmatch(host):
            raise ValueError(
                f"link allow-list entry {entry!r} is not a host name: the operator must list bare "
                "host names such as 'example.com' in the allow-hosts setting"
            )
        hosts.add(host)
    return frozenset(hosts)


def is_allowed_url(url: str, allowed: frozenset[str]) -> bool:
    """Whether ``url`` (``http(s)://...``) and every URL embedded in it have allowed hosts."""
    authorities = [match.group(1) for match in _URL_AUTHORITY.finditer(url)]
    return _URL_AUTHORITY.match(url) is not None and all(
        _authority_allowed(authority, allowed) for authority in authorities
    )


def guard_links(message: str, allow_hosts: Collection[str] = ()) -> str:
    """Turn ``http(s)`` into ``hxxp(s)`` in every URL whose host is not allowed.

    The safety net after splitting: a URL longer than a message is cut, and a cut could leave the
    tail of an allowed URL starting with a URL of another host, or a shortened host. URLs are found
    as ``defang_links`` finds them, so allowed ones are left alone. The result has exactly the
    length of ``message``.
    """
    allowed = normalize_hosts(allow_hosts)
    parts = []
    for segment, is_code in _segments(message):
        if is_code:
            parts.append(_CODE_URL.sub(lambda match: _guard_code_url(match, allowed), segment))
        else:
            parts.append(_BARE_URL.sub(lambda match: _guard_prose_url(match, allowed), segment))
    return "".join(parts)


def _same_length_defang(text: str) -> str:
    return _SCHEME.sub(lambda scheme: _defang_scheme(scheme.group(0)), text)


def _guard_code_url(match: re.Match[str], allowed: frozenset[str]) -> str:
    if _authority_allowed(match.group(1), allowed):
        return match.group(0)
    return _same_length_defang(match.group(0))


def _guard_prose_url(match: re.Match[str], allowed: frozenset[str]) -> str:
    url = match.group("angle") if match.group("angle") is not None else match.group("bare")
    if is_allowed_url(url, allowed):
        return match.group(0)
    return _same_length_defang(match.group(0))


def defang_links(text: str, allow_hosts: Collection[str] = ()) -> str:
    """Wrap allowed URLs in ``<...>`` and make every other URL unclickable (module docstring)."""
    allowed = normalize_hosts(allow_hosts)
    parts = []
    for segment, is_code in _segments(text):
        if is_code:
            parts.append(_CODE_URL.sub(lambda match: _code_url(match, allowed), segment))
        else:
            parts.append(_PROSE_URL.sub(lambda match: _prose_url(match, allowed), segment))
    return "".join(parts)


def _authority_allowed(authority: str, allowed: frozenset[str]) -> bool:
    if "@" in authority:
        return False
    host_port = _HOST_PORT.fullmatch(authority)
    if host_port is None:
        return False
    host = host_port.group(1).lower().rstrip(".")
    if not _HOST.fullmatch(host):
        return False
    return any(host == entry or host.endswith("." + entry) for entry in allowed)


def _segments(text: str) -> Iterator[tuple[str, bool]]:
    """``(segment, is_code)`` pairs that together make up ``text``."""
    pos = 0
    for start, end in code_block_spans(text):
        yield from _prose_segments(text[pos:start])
        yield text[start:end], True
        pos = end
    yield from _prose_segments(text[pos:])


def _prose_segments(text: str) -> Iterator[tuple[str, bool]]:
    pos = 0
    for start, end in inline_code_spans(text):
        yield text[pos:start], False
        yield text[start:end], True
        pos = end
    yield text[pos:], False


def _defang_scheme(scheme: str) -> str:
    return "hxxp" + scheme[4:].lower()


def _code_url(match: re.Match[str], allowed: frozenset[str]) -> str:
    authority = match.group(1)
    if _authority_allowed(authority, allowed):
        return match.group(0)
    return _defang_scheme(match.group(0)[: match.start(1) - match.start()]) + authority.replace(
        ".", "[.]"
    )


def _defanged(url: str) -> str:
    """``url`` with every scheme defanged and the first host's dots bracketed."""
    match = _URL_AUTHORITY.match(url)
    if match is None:
        return _SCHEME.sub(lambda scheme: _defang_scheme(scheme.group(0)), url)
    head = _defang_scheme(url[: match.start(1)]) + match.group(1).replace(".", "[.]")
    rest = _SCHEME.sub(lambda scheme: _defang_scheme(scheme.group(0)), url[match.end() :])
    return head + rest


def _shown_host(url: str) -> str:
    match = _URL_AUTHORITY.match(url)
    host = match.group(1).rpartition("@")[2] if match else ""
    if not _SHOWN_HOST.fullmatch(host):
        return "link removed"
    return host.replace(".", "[.]")


def _split_trailing(url: str) -> tuple[str, str]:
    """Split trailing punctuation (and unbalanced closing brackets) off a bare URL."""
    end = len(url)
    unbalanced = url.count(")") - url.count("(")
    while end > 0:
        char = url[end - 1]
        if char in _TRAILING_PUNCTUATION:
            end -= 1
        elif char == ")" and unbalanced > 0:
            end -= 1
            unbalanced -= 1
        else:
            break
    return url[:end], url[end:]


def _unclickable(url: str) -> str:
    return f"`{_defanged(url)}`"


def _bare_url(match: re.Match[str], allowed: frozenset[str]) -> str:
    angle = match.group("angle")
    if angle is not None:
        return match.group(0) if is_allowed_url(angle, allowed) else _unclickable(angle)
    url, tail = _split_trailing(match.group("bare"))
    return (f"<{url}>" if is_allowed_url(url, allowed) else _unclickable(url)) + tail


def _defang_plain(text: str, allowed: frozenset[str]) -> str:
    return _BARE_URL.sub(lambda match: _bare_url(match, allowed), text)


def _prose_url(match: re.Match[str], allowed: frozenset[str]) -> str:
    if match.group("label") is None:
        return _bare_url(match, allowed)
    target = match.group("target").removeprefix("<").removesuffix(">").strip()
    if not _SCHEME.match(target):
        return _defang_plain(match.group(0), allowed)
    label = _defang_plain(match.group("label"), allowed)
    image = match.group("image") is not None
    if is_allowed_url(target, allowed):
        return f"[image: {label}](<{target}>)" if image else f"[{label}](<{target}>)"
    host = f"({_shown_host(target)})"
    if image:
        return f"[image: {label}] {host}"
    return f"{label} {host}" if label.strip() else host
