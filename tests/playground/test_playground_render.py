"""Discord markdown to safe HTML: the formatting people use, and nothing injectable."""

from __future__ import annotations

import datetime
import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.playground.render import Names, relative_time, render_inline, render_markdown

ALLOWED_TAGS = {"div", "br", "strong", "em", "u", "s", "span", "code", "pre", "blockquote"}
ALLOWED_ATTRIBUTES = {"class", "title", "data-lang"}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(markup: str) -> _Collector:
    collector = _Collector()
    collector.feed(markup)
    collector.close()
    return collector


def test_emphasis_code_and_quotes() -> None:
    markup = render_markdown("**bold** *it* __under__ ~~gone~~ ||secret|| `x < y`\n> quoted")
    assert "<strong>bold</strong>" in markup
    assert "<em>it</em>" in markup
    assert "<u>under</u>" in markup
    assert "<s>gone</s>" in markup
    assert '<span class="spoiler">secret</span>' in markup
    assert "<code>x &lt; y</code>" in markup
    assert "<blockquote>quoted</blockquote>" in markup


def test_code_blocks_keep_their_text_and_language() -> None:
    markup = render_markdown("before\n```py\nprint('<b>**not bold**</b>')\n```\nafter")
    assert '<pre class="md-code"><code data-lang="py">' in markup
    assert "print(&#x27;&lt;b&gt;**not bold**&lt;/b&gt;&#x27;)" in markup
    assert "<strong>" not in markup
    assert markup.index("before") < markup.index("<pre") < markup.index("after")


def test_an_unclosed_fence_while_streaming_is_still_code() -> None:
    markup = render_markdown("Here:\n```python\nx = 1\ny = 2")
    assert '<code data-lang="python">x = 1\ny = 2</code>' in markup


def test_headings_subtext_and_lists() -> None:
    markup = render_markdown("# Title\n## Sub\n-# Checking the weather in Paris...\n- item")
    assert '<div class="md-h1">Title</div>' in markup
    assert '<div class="md-h2">Sub</div>' in markup
    assert '<div class="md-sub">Checking the weather in Paris...</div>' in markup
    assert '<div class="md-li">item</div>' in markup


def test_links_are_text_never_anchors() -> None:
    markup = render_markdown("see [the docs](https://evil.example/x?a=1&b=2) or <https://a.b/c>.")
    assert "<a " not in markup and "href" not in markup
    assert '<span class="md-link" title="https://evil.example/x?a=1&amp;b=2">the docs</span>' in (
        markup
    )
    assert "(evil.example)" in markup
    assert '<span class="md-link">https://a.b/c</span>.' in markup


def test_mentions_show_names() -> None:
    names = Names(
        user=lambda i: "Alice" if i == 1 else None,
        role=lambda i: "Moderator" if i == 2 else None,
        channel=lambda i: "general" if i == 3 else None,
    )
    markup = render_inline("<@1> <@&2> <#3> <@9> <:blob:123>", names)
    assert '<span class="mention">@Alice</span>' in markup
    assert '<span class="mention">@Moderator</span>' in markup
    assert '<span class="mention">#general</span>' in markup
    assert '<span class="mention">@unknown-user</span>' in markup
    assert '<span class="emoji">:blob:</span>' in markup


def test_raw_html_is_escaped() -> None:
    hostile = '<img src=x onerror=alert(1)><script>alert(2)</script>" onmouseover="x'
    markup = render_markdown(hostile)
    info = parsed(markup)
    assert {tag for tag, _ in info.tags} <= {"div"}
    assert "".join(info.text) == hostile


def test_a_link_cannot_break_out_of_its_attribute() -> None:
    markup = render_markdown('[x](https://a.b/"onmouseover="alert(1))')
    for tag, attributes in parsed(markup).tags:
        assert tag in ALLOWED_TAGS
        assert all(name in ALLOWED_ATTRIBUTES for name, _ in attributes)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from([*"ab <>&\"'`*_~|#->[]()/:.\n@!1", "https://", "```", "<@1>", "&amp;"]),
        max_size=60,
    ).map("".join)
)
def test_any_text_gives_only_allowed_markup(text: str) -> None:
    info = parsed(render_markdown(text))
    for tag, attributes in info.tags:
        assert tag in ALLOWED_TAGS, (text, tag)
        for name, value in attributes:
            assert name in ALLOWED_ATTRIBUTES, (text, name)
            assert "<" not in (value or ""), (text, value)


def test_timestamps_follow_their_style_and_relative_ones_are_relative() -> None:
    names = Names(user=lambda i: None, role=lambda i: None, channel=lambda i: None)
    markup = render_inline("<t:1717243200:f> (<t:1717243200:R>) <t:1717243200:d>", names)
    assert '<span class="md-time">June 1, 2024 12:00 UTC</span>' in markup
    assert '<span class="md-time">2024-06-01</span>' in markup
    assert markup.count("2024") == 2, "the relative form must not repeat the date"
    assert re.search(r'<span class="md-time">\d+ (year|month)s? ago</span>', markup)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (10, "in a few seconds"),
        (-10, "a few seconds ago"),
        (90, "in 2 minutes"),
        (3600, "in an hour"),
        (3 * 3600, "in 3 hours"),
        (-86400, "a day ago"),
        (-5 * 86400, "5 days ago"),
    ],
)
def test_relative_time(seconds: int, shown: str) -> None:
    now = datetime.datetime(2024, 6, 1, tzinfo=datetime.UTC)
    assert relative_time(now + datetime.timedelta(seconds=seconds), now) == shown
