"""Exact link rewriting at each rule's edge (see docs/mutation.md)."""

from __future__ import annotations

import re

import pytest

from bot.render.links import defang_links, guard_links, is_allowed_url, normalize_hosts

ALLOW = ["allowed.com"]
HOSTS = normalize_hosts(ALLOW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://evil.com/a.b).", "`hxxps://evil[.]com/a.b`)."),
        ("(see https://evil.com/wiki/A_(b)))", "(see `hxxps://evil[.]com/wiki/A_(b)`))"),
        ("https://evil.com/x?a=1;,:!?'\"*_~", "`hxxps://evil[.]com/x?a=1`;,:!?'\"*_~"),
        ("[x](https://user:pw@evil.com/p)", "x (evil[.]com)"),
        ("[x](https://ev il.com/p)", "[x](`hxxps://ev` il.com/p)"),
        ("[x](<https://evil.com/a b>)", "x (evil[.]com)"),
        ("[x](https://%zz/p)", "x (%zz)"),
        ("[x](https://ev'il.com/p)", "x (link removed)"),
        ("[x](https://evil.com/x(1))", "x (evil[.]com)"),
        ("[label](relative/path)", "[label](relative/path)"),
        ("[label](mailto:a@b.c)", "[label](mailto:a@b.c)"),
        ("![](https://evil.com/i.png)", "[image: ] (evil[.]com)"),
        ('![img](https://allowed.com/i.png "t")', "[image: img](<https://allowed.com/i.png>)"),
        ("[  ](https://evil.com)", "(evil[.]com)"),
        ("[x]( https://evil.com )", "x (evil[.]com)"),
        ("https://allowed.com:8443/x", "<https://allowed.com:8443/x>"),
        ("https://user@allowed.com/", "`hxxps://user@allowed[.]com/`"),
        ("https://ALLOWED.COM/", "<https://ALLOWED.COM/>"),
        ("https://allowed.com/a,https://evil.com", "`hxxps://allowed[.]com/a,hxxps://evil.com`"),
        ("`HTTPS://Evil.Com/x`", "`hxxps://Evil[.]Com/x`"),
        ("<https://allowed.com/a>.", "<https://allowed.com/a>."),
        ("http://", "`hxxp://`"),
        (
            "https://evil.com/https://x.org/http://y.net",
            "`hxxps://evil[.]com/hxxps://x.org/hxxp://y.net`",
        ),
        (
            "```\nhttps://allowed.com:80/x https://evil.com:80/y http://a.b.c/\n```",
            "```\nhttps://allowed.com:80/x hxxps://evil[.]com:80/y hxxp://a[.]b[.]c/\n```",
        ),
        ("a `b` https://evil.com `c` d", "a `b` `hxxps://evil[.]com` `c` d"),
    ],
)
def test_defang_links_exactly(text: str, expected: str) -> None:
    assert defang_links(text, ALLOW) == expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("https://evil.com", "hxxps://evil.com"),
        (
            "x https://allowed.com/y https://evil.com",
            "x https://allowed.com/y hxxps://evil.com",
        ),
        (
            "```\nhttp://evil.com https://allowed.com\n```",
            "```\nhxxp://evil.com https://allowed.com\n```",
        ),
        (
            "`https://evil.com` and `https://allowed.com`",
            "`hxxps://evil.com` and `https://allowed.com`",
        ),
        ("<https://evil.com>", "<hxxps://evil.com>"),
        ("HtTpS://allowed.com", "HtTpS://allowed.com"),
        ("HTTP://evil.com", "hxxp://evil.com"),
    ],
)
def test_guard_links_exactly(message: str, expected: str) -> None:
    assert guard_links(message, ALLOW) == expected
    assert len(guard_links(message, ALLOW)) == len(message)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://allowed.com", True),
        ("http://x.allowed.com:1/", True),
        ("https://allowed.com:/", True),
        ("https://allowed.com./", True),
        ("HTTPS://Allowed.Com/", True),
        ("ftp://allowed.com", False),
        ("https://allowed.com:123456/", False),
        ("https://a@allowed.com", False),
        ("https://allowed.com/?r=http://evil.com", False),
        ("https://", False),
        ("https://.allowed.com", False),
        ("see https://allowed.com", False),
    ],
)
def test_is_allowed_url(url: str, allowed: bool) -> None:
    assert is_allowed_url(url, HOSTS) is allowed


def test_normalize_hosts_reads_wildcards_dots_case_and_idna() -> None:
    assert normalize_hosts(["*.Example.com.", " .a.b. ", "ÄÖ.de"]) == {
        "example.com",
        "a.b",
        "xn--4ca0b.de",
    }
    assert normalize_hosts([]) == frozenset()


@pytest.mark.parametrize("entry", ["https://example.com", "a..b", "a_b.com", "é..x", ""])
def test_normalize_hosts_refuses_non_hosts_and_says_who_fixes_it(entry: str) -> None:
    message = (
        f"link allow-list entry {entry!r} is not a host name: the operator must list bare host "
        "names such as 'example.com' in the allow-hosts setting"
    )

    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        normalize_hosts([entry])
