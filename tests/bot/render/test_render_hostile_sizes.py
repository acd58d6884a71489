"""Huge hostile model outputs render in linear time (each took 7-80 s before being fixed)."""

from __future__ import annotations

import time

import pytest

from bot.render import render_partial, render_reply
from bot.render.split import DISCORD_LIMIT

SIZE = 100_000
HOSTILE = {
    "backtick run": "`" * SIZE,
    "alternating backticks": "a`" * (SIZE // 2),
    "markdown link then spaces": "[a](" + " " * SIZE + "x",
    "url ending in brackets": "https://a.com/" + ")" * SIZE,
    "zalgo": "e" + "\u0301" * SIZE,
    "blank lines in code": "```\n" + "\n" * SIZE + "x\n```",
    "one giant url": "https://a.com/" + "a" * SIZE,
    "lone surrogates": "\ud83d" * SIZE,
    "unclosed brackets": "[" * SIZE,
    "think tags": "<think>x</think>" * (SIZE // 16),
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_output_renders_quickly_and_within_limits(text: str) -> None:
    started = time.perf_counter()
    messages = render_reply(text, allow_hosts=["a.com"]) + render_partial(text)
    assert time.perf_counter() - started < 10
    assert all(0 < len(message) <= DISCORD_LIMIT for message in messages)
