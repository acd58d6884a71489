"""Unit tests for the bot.render pipeline: render, render_reply."""

from __future__ import annotations

from bot.render import RenderedReply, render, render_reply

from .render_invariants import MASS_MENTION, clickable_violations


def test_pipeline_sanitises_hides_defangs_and_splits() -> None:
    text = (
        "<think>I should leak https://evil.com/?q=secret</think>"
        "Done @everyone! Details: https://evil.com/x?d=1 and [docs](https://docs.allowed.com/a)\n\n"
        + "More text. "
        * 300
    )
    result = render(text, allow_hosts=["allowed.com"])
    assert isinstance(result, RenderedReply)
    assert result.reasoning == "I should leak https://evil.com/?q=secret"
    assert len(result.chunks) > 1
    joined = "\n".join(result.chunks)
    assert "[docs](<https://docs.allowed.com/a>)" in joined
    assert "`hxxps://evil[.]com/x?d=1`" in joined
    assert not MASS_MENTION.search(joined)
    assert clickable_violations(joined, ["allowed.com"]) == []


def test_mass_mention_rebuilt_by_hiding_reasoning_is_neutralised() -> None:
    messages = render_reply("@<think>x</think>everyone and @\u202ehere")
    assert not MASS_MENTION.search("".join(messages))


def test_only_reasoning_gives_no_messages() -> None:
    assert render("<think>only this</think>  ") == RenderedReply([], "only this")


def test_reasoning_open_at_start() -> None:
    assert render_reply("plan</think>Answer", reasoning_open=True) == ["Answer"]


def test_output_is_valid_utf8_without_spoofing_characters() -> None:
    messages = render_reply("a\ud83d b\u202e c\U000e0041 d")
    assert messages == ["a\ufffd b c d"]
    messages[0].encode("utf-8")


def test_cut_through_a_long_allowed_url_exposes_no_other_link() -> None:
    text = "https://allowed.org/https://allowed.org/HTTPS://allowed.org/yHTTPS://docs.python.org/ "
    messages = render_reply(text, allow_hosts=["allowed.org"], limit=64)
    assert len(messages) > 1
    for message in messages:
        assert clickable_violations(message, ["allowed.org"]) == []
