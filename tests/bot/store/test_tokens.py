"""Token counting: exact and offline, framing estimates, calibration, the fallback."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from bot.store.tokens import (
    DEFAULT_IMAGE_TOKENS,
    LOW_DETAIL_IMAGE_TOKENS,
    MESSAGE_OVERHEAD,
    REPLY_PRIMING,
    TokenCounter,
    encoding_for_model,
)

ENGLISH = "The quick brown fox jumps over the lazy dog while the weather in Paris stays mild. "


def test_counts_match_the_published_tiktoken_examples() -> None:
    counter = TokenCounter()
    assert counter.is_exact()
    assert counter.count_text("tiktoken is great!", "gpt-4") == 6
    assert counter.count_text("tiktoken is great!", "gpt-4o") == 6
    assert counter.count_text("hello world", "gpt-4o-mini") == 2
    assert counter.count_text("") == 0


def test_models_pick_their_encoding() -> None:
    assert encoding_for_model("gpt-4o-mini") == "o200k_base"
    assert encoding_for_model("gpt-4.1") == "o200k_base"
    assert encoding_for_model("o3-mini") == "o200k_base"
    assert encoding_for_model("gpt-4-turbo") == "cl100k_base"
    assert encoding_for_model("gpt-3.5-turbo") == "cl100k_base"
    assert encoding_for_model("some-local-model") == "o200k_base"


def test_counting_needs_no_network() -> None:
    """A fresh interpreter with sockets disabled still counts exactly."""
    script = textwrap.dedent(
        """
        import socket
        def refuse(*args, **kwargs):
            raise OSError("network disabled by the test")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse
        from bot.store.tokens import TokenCounter
        counter = TokenCounter()
        print(counter.is_exact(), counter.count_text("tiktoken is great!", "gpt-4o"))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["True", "6"]


def test_counting_is_fast() -> None:
    counter = TokenCounter()
    counter.count_text("warm up")
    text = ENGLISH * 2000
    started = time.perf_counter()
    for _ in range(5):
        counter.count_text(text)
    per_call = (time.perf_counter() - started) / 5
    assert per_call < 0.2, f"{per_call * 1000:.1f} ms for {len(text)} characters"


def test_unencodable_text_is_still_counted() -> None:
    assert TokenCounter().count_text("broken \ud800 surrogate") > 0


def test_message_framing_names_images_and_tool_calls() -> None:
    counter = TokenCounter()
    plain = counter.count_message({"role": "user", "content": "hi"})
    assert plain == MESSAGE_OVERHEAD + counter.count_text("user") + counter.count_text("hi")
    named = counter.count_message({"role": "user", "content": "hi", "name": "alice"})
    assert named > plain
    image = {"type": "image_url", "image_url": {"url": "https://x"}}
    low = {"type": "image_url", "image_url": {"url": "https://x", "detail": "low"}}
    with_image = counter.count_message({"role": "user", "content": [image]})
    with_low = counter.count_message({"role": "user", "content": [low]})
    assert with_image - with_low == DEFAULT_IMAGE_TOKENS - LOW_DETAIL_IMAGE_TOKENS
    call = {"id": "c", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
    assert counter.count_message({"role": "assistant", "content": None, "tool_calls": [call]}) > 5
    assert counter.count_messages([]) == REPLY_PRIMING


def test_tool_definitions_cost_tokens() -> None:
    counter = TokenCounter()
    schema = {"type": "function", "function": {"name": "weather", "parameters": {}}}
    assert counter.count_tools([]) == 0
    assert counter.count_tools([schema]) > counter.count_text("weather")


def test_truncate_keeps_a_prefix_within_the_limit() -> None:
    counter = TokenCounter()
    text = ENGLISH * 50
    cut = counter.truncate(text, 40)
    assert text.startswith(cut) and 35 <= counter.count_text(cut) <= 40
    assert counter.truncate("short", 40) == "short"


def test_observe_moves_the_factor_within_bounds() -> None:
    counter = TokenCounter("gpt-4o-mini", factor_bounds=(0.8, 1.5), smoothing=0.5)
    assert counter.factor() == 1.0
    assert counter.observe(1000, 1100) == pytest.approx(1.05)
    for _ in range(50):
        counter.observe(1000, 5000)
    assert counter.factor() == 1.5
    for _ in range(50):
        counter.observe(1000, 10)
    assert counter.factor() == 0.8
    assert counter.factor("gpt-4o") == 1.0
    assert counter.scale(100) == 80
    assert counter.raw_budget(80) == 100


def test_observe_ignores_tiny_or_missing_reports() -> None:
    counter = TokenCounter()
    counter.observe(5, 500)
    counter.observe(1000, 0)
    assert counter.factor() == 1.0


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        TokenCounter(smoothing=0)
    with pytest.raises(ValueError):
        TokenCounter(factor_bounds=(1.2, 2.0))


def test_fallback_estimate_over_counts_ordinary_text() -> None:
    fallback = TokenCounter(exact=False)
    exact = TokenCounter()
    assert not fallback.is_exact()
    samples = (
        ENGLISH * 10,
        "def f(x):\n    return x * 2\n" * 20,
        '{"place": "Paris", "days": 3}' * 10,
        "1234567890" * 30,
        "日本語のテキストを数えます。" * 20,
        "🎉🔥👍 " * 30,
        "Привет, как дела? " * 10,
        "a    b     c\n\n\n" * 20,
    )
    for text in samples:
        assert fallback.count_text(text) >= exact.count_text(text)


def test_remembered_counts_stay_per_encoding() -> None:
    counter = TokenCounter("gpt-4o")
    text = "Привет, как дела? 你好世界 こんにちは"
    if not (counter.is_exact("gpt-4") and counter.is_exact("gpt-4o")):
        pytest.skip("the BPE tables are not installed")
    older, newer = counter.count_text(text, "gpt-4"), counter.count_text(text, "gpt-4o")
    assert older != newer  # cl100k and o200k split this differently
    assert [counter.count_text(text, "gpt-4"), counter.count_text(text, "gpt-4o")] == [older, newer]
    long_text = text * 200  # past what is remembered: counted afresh, the same answer
    assert counter.count_text(long_text, "gpt-4o") == counter.count_text(long_text, "gpt-4o") > 0


def test_estimate_answer_counts_each_round_for_a_server_without_usage() -> None:
    counter = TokenCounter("gpt-4o")
    call = {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
    asked = {"role": "assistant", "content": None, "tool_calls": [call]}
    result = {"role": "tool", "tool_call_id": "c1", "content": "Paris: 21 C"}
    answer = {"role": "assistant", "content": "It is 21 C in Paris."}
    a1, t1, a2 = (counter.count_message(m, "gpt-4o") for m in (asked, result, answer))
    thinking = counter.count_text("check the tool", "gpt-4o")
    # Round 1 sends the 100-token request; round 2 sends it plus the call and its result.
    assert counter.estimate_answer(100, [asked, result, answer], "check the tool", "gpt-4o") == (
        100 + (100 + a1 + t1),
        a1 + a2 + thinking,
    )
    assert (a1, t1, a2, thinking) == (9, 11, 12, 3)
    counter.observe(100, 150, "gpt-4o")  # factor 1.0 -> 1.1: estimates follow the calibration
    # 220 and 21 raw tokens times 1.1, rounded up (never under-charged)
    assert counter.estimate_answer(100, [asked, result, answer], "", "gpt-4o") == (243, 24)
