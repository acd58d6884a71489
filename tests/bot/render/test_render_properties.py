"""Property tests for bot.render (hypothesis): 11,500 generated examples in total.

Texts come from a grammar of words, separators, Discord tokens (mentions, channels, custom emoji,
timestamps), URLs (allowed and not, bare, ``<...>``, Markdown links and images), grapheme clusters
(astral emoji, ZWJ sequences, flags, combining marks, surrogate pairs stored as two code points),
code fences (backtick and tilde, with languages, nested, unclosed), inline code, long words,
reasoning blocks and mass mentions hidden behind control characters.
"""

from __future__ import annotations

import random
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.render import render, render_partial, render_reply
from bot.render.reasoning import strip_reasoning
from bot.render.sanitize import ZERO_WIDTH_SPACE, sanitize_output
from bot.render.split import split_chunks

from .render_invariants import (
    MASS_MENTION,
    MAX_OVERHEAD,
    check_chunks,
    check_round_trip,
    check_spans_whole,
    clickable_violations,
)


def examples(count: int) -> settings:
    """Hypothesis settings for ``count`` examples, without per-example deadlines."""
    return settings(
        max_examples=count,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


ALLOWED = ["allowed.org", "docs.python.org"]
HOSTS = ["allowed.org", "cdn.allowed.org", "docs.python.org", "evil.test", "allowed.org.evil.test"]
WORDS = [
    "the",
    "a",
    "model",
    "answer",
    "is",
    "Hello,",
    "done.",
    "why?",
    "yes!",
    "(x)",
    "a_b",
    "**b**",
]
SEPARATORS = st.sampled_from([" ", " ", " ", " ", "\n", "\n\n", "  \t ", ""])
CLUSTERS = ["😀", "\ud83d\ude00", "👩\u200d💻", "🇺🇸", "🇩🇪", "👍🏽", "1\ufe0f\u20e3", "e\u0301"]
ASTRAL = [chr(0x1F300 + 37 * k) for k in range(12)] + [chr(0x20000 + 997 * k) for k in range(8)]
HOSTILE = [
    "@everyone",
    "@HERE",
    "@\u202eeveryone",
    "@\U000e0041here",
    "@<think>x</think>everyone",
    "<think>hidden https://evil.test/?q=1</think>",
    "\u202egpj.exe",
    "<THINKING>plan",
    "</think>",
]


def build_mentions() -> list[str]:
    ids = ["123456789012345678", "10000000000000000", "9999999999999999999"]
    shapes = ["<@{}>", "<@!{}>", "<@&{}>", "<#{}>", "<:blob:{}>", "<a:wave:{}>"]
    stamps = ["<t:0>", "<t:1700000000:R>", "<t:8589934592:F>"]
    return [shape.format(i) for shape in shapes for i in ids] + stamps


def build_urls() -> list[str]:
    tails = ["", "a", "docs/x_y", "p-1/a?q=1", "a?d=secret&x=2", "#frag"]
    schemes = ["https", "http", "HTTPS"]
    return [
        f"{schemes[(h + t) % 3]}://{host}/{tail}"
        for h, host in enumerate(HOSTS)
        for t, tail in enumerate(tails)
    ]


def build_links() -> list[str]:
    shapes = ["[{l}]({u})", "![{l}]({u})", "<{u}>", "[{l}](<{u}>)", "({u})"]
    labels = ["docs", "click here", "", "allowed.org"]
    urls = build_urls()
    return [
        shape.format(l=labels[k % 4], u=urls[(7 * k) % len(urls)])
        for k, shape in enumerate(shapes * 8)
    ]


def build_fences(tildes: bool) -> list[str]:
    """Fenced blocks (closed) built from a fixed seed: backtick, tilde, nested, with languages."""
    rng = random.Random(1234 if tildes else 4321)
    code_words = WORDS + build_urls()[::5] + build_mentions()[::4] + ["x = 1", "f(y)"]
    fences = []
    for index in range(40):
        markers = ["```", "```", "~~~", "````"] if tildes else ["```"]
        marker = markers[index % len(markers)]
        language = ["", "py", "python", "js", "c++", "sh title=x"][index % 6]
        lines = [
            rng.choice(["", "    ", "\t", "        "])
            + " ".join(rng.choice(code_words) for _ in range(rng.randrange(7)))
            for _ in range(rng.randrange(26))
        ]
        if marker == "````" and index % 2:
            lines = [*lines[:3], "```py", *lines[3:6], "```", *lines[6:]]
        fences.append(f"\n{marker}{language}\n" + "\n".join(lines) + f"\n{marker}\n")
    return fences


def unclosed(fence: str) -> str:
    return fence.rstrip("\n").rsplit("\n", 1)[0] + "\n"


def build_items(tildes: bool, unclosed_inside: bool) -> list[str]:
    fences = build_fences(tildes)
    unclosed_fences = [unclosed(fence) for fence in fences[:8]] if unclosed_inside else []
    return (
        WORDS * 6
        + build_mentions()
        + build_urls()
        + CLUSTERS
        + ASTRAL
        + [f"`{word}`" for word in WORDS]
        + ["w" * n for n in (40, 63, 100, 150, 300, 2100)]
        + fences
        + unclosed_fences
    )


ITEMS = build_items(tildes=True, unclosed_inside=True)
BACKTICK_ITEMS = build_items(tildes=False, unclosed_inside=False)
HOSTILE_ITEMS = ITEMS + build_links() * 2 + HOSTILE * 3


def documents(items: list[str] = ITEMS, max_items: int = 80) -> st.SearchStrategy[str]:
    """Texts made of pool items, each followed by a separator."""
    pairs = st.lists(st.tuples(st.sampled_from(items), SEPARATORS), max_size=max_items)
    return pairs.map(lambda parts: "".join(item + separator for item, separator in parts))


def backtick_documents() -> st.SearchStrategy[str]:
    """Texts whose fences are all closed backtick fences, but for maybe one at the very end."""
    tail = st.sampled_from(["", *(unclosed(f) for f in build_fences(tildes=False)[:5])])
    return st.tuples(documents(BACKTICK_ITEMS), tail).map("".join)


def hostile_documents() -> st.SearchStrategy[str]:
    return documents(HOSTILE_ITEMS, max_items=60)


LIMITS = st.sampled_from([64, 80, 100, 150, 300, 700, 2000])


def whole_tokens(text: str, limit: int) -> list[tuple[int, int]]:
    """Spans the splitter must keep whole: tokens that fit a chunk with fence overhead."""
    pattern = re.compile(
        r"<[@#:at][^<>\s]*>|https?://[^\s<>`]*|" + "|".join(map(re.escape, CLUSTERS)),
        re.IGNORECASE,
    )
    budget = limit - MAX_OVERHEAD
    return [m.span() for m in pattern.finditer(text) if len(m.group(0)) <= budget]


@examples(2500)
@given(text=documents(), limit=LIMITS)
def test_split_invariants(text: str, limit: int) -> None:
    chunks = split_chunks(text, limit)
    check_chunks(text, limit, chunks)
    check_spans_whole(whole_tokens(text, limit), chunks)


@examples(1500)
@given(text=backtick_documents(), limit=LIMITS)
def test_split_backtick_fences_pair_up_like_discord(text: str, limit: int) -> None:
    for chunk in split_chunks(text, limit):
        assert chunk.text.count("```") % 2 == 0, chunk.text


@examples(500)
@given(text=documents(max_items=400), limit=st.sampled_from([1500, 2000]))
def test_split_long_documents(text: str, limit: int) -> None:
    chunks = split_chunks(text, limit)
    check_chunks(text, limit, chunks)
    check_spans_whole(whole_tokens(text, limit), chunks)


@examples(500)
@given(
    text=st.text(
        alphabet=st.sampled_from("ab `~\n\t<>@#:[]()\u0301\u200d\ud83d\ude00😀"),
        max_size=600,
    ),
    limit=st.sampled_from([64, 65, 70, 90]),
)
def test_split_survives_arbitrary_symbol_soup(text: str, limit: int) -> None:
    check_chunks(text, limit, split_chunks(text, limit))


@examples(2500)
@given(
    text=hostile_documents(),
    limit=LIMITS,
    allow=st.sampled_from([[], ALLOWED, ["allowed.org"]]),
)
def test_render_reply_is_safe(text: str, limit: int, allow: list[str]) -> None:
    result = render(text, allow_hosts=allow, limit=limit)
    for message in result.chunks:
        assert len(message) <= limit and message.strip()
        assert clickable_violations(message, allow) == [], message
        assert not MASS_MENTION.search(message), message
        assert not re.search("[\U000e0000-\U000e007f\u202a-\u202e\u2066-\u2069]", message)
        assert not re.search(r"</?think", message, re.IGNORECASE), message
        message.encode("utf-8")


@examples(1000)
@given(text=hostile_documents(), allow=st.sampled_from([ALLOWED, ["allowed.org"]]))
def test_allowed_prose_links_are_wrapped_against_previews(text: str, allow: list[str]) -> None:
    text = text.replace("`", "").replace("~", "")
    for message in render_reply(text, allow_hosts=allow):
        for match in re.finditer(r"https?://[^\s<>`]*", message, re.IGNORECASE):
            assert message[match.start() - 1] == "<", message


@examples(1500)
@given(
    text=hostile_documents(),
    limit=st.sampled_from([64, 100, 300]),
    cuts=st.lists(st.floats(0, 1), min_size=1, max_size=5),
)
def test_render_partial_is_stable_while_text_grows(
    text: str, limit: int, cuts: list[float]
) -> None:
    final = render_reply(text, allow_hosts=ALLOWED, limit=limit)
    earlier: list[str] = []
    for end in sorted(int(fraction * len(text)) for fraction in cuts):
        shown = render_partial(text[:end], limit, allow_hosts=ALLOWED)
        for message in shown:
            assert len(message) <= limit and message.strip()
            assert clickable_violations(message, ALLOWED) == []
        assert shown[:-1] == final[: max(len(shown) - 1, 0)]
        assert shown[: max(len(earlier) - 1, 0)] == earlier[:-1]
        earlier = shown


@examples(500)
@given(parts=st.lists(st.tuples(documents(max_items=8), st.booleans()), max_size=6))
def test_strip_reasoning_removes_exactly_the_blocks(parts: list[tuple[str, bool]]) -> None:
    clean = [(re.sub(r"(?i)</?think", "", part), hidden) for part, hidden in parts]
    text = "".join(f"<think>{part}</think>" if hidden else part for part, hidden in clean)
    visible, reasoning = strip_reasoning(text)
    assert visible == "".join(part for part, hidden in clean if not hidden)
    for part, hidden in clean:
        if hidden and part.strip():
            assert part.strip() in reasoning


@examples(500)
@given(text=hostile_documents())
def test_sanitize_only_removes_controls_and_adds_zero_width_spaces(text: str) -> None:
    out = sanitize_output(text)
    assert sanitize_output(out) == out
    assert not MASS_MENTION.search(out)
    expected = re.sub("[\U000e0000-\U000e007f\u202a-\u202e\u2066-\u2069]", "", text)
    expected = expected.replace("\ud83d\ude00", "😀")
    assert out.replace(ZERO_WIDTH_SPACE, "") == expected.replace(ZERO_WIDTH_SPACE, "")


@examples(500)
@given(text=documents(max_items=30), limit=LIMITS)
def test_round_trip_without_whitespace(text: str, limit: int) -> None:
    chunks = split_chunks(text, limit)
    check_round_trip(text, chunks)
    bodies = "".join(chunk.body for chunk in chunks)
    assert re.sub(r"\s", "", bodies) == re.sub(r"\s", "", text)
