"""The chat reader takes the reasoning tokens of ``completion_tokens_details`` (issue 15)."""

from __future__ import annotations

from typing import Any

from bot.engine.stream import StreamReader


def _finished(usage: dict[str, Any]) -> Any:
    reader = StreamReader()
    reader.take({"id": "cc-1", "choices": [{"index": 0, "delta": {"content": "x"}}]})
    reader.take({"id": "cc-1", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    reader.take({"id": "cc-1", "choices": [], "usage": usage})
    return reader.finish()


BASE = {"prompt_tokens": 9, "completion_tokens": 70}


def test_reasoning_tokens_come_from_completion_tokens_details() -> None:
    details = {"reasoning_tokens": 64, "audio_tokens": 0}
    result = _finished({**BASE, "completion_tokens_details": details})
    assert (result.prompt_tokens, result.completion_tokens, result.reasoning_tokens) == (9, 70, 64)


def test_servers_without_details_or_with_odd_ones_report_no_reasoning_tokens() -> None:
    odd_details: list[Any] = [None, [1], {"reasoning_tokens": "5"}, {}]
    results = [_finished(BASE)]
    results += [_finished({**BASE, "completion_tokens_details": odd}) for odd in odd_details]
    assert [r.reasoning_tokens for r in results] == [0] * 5
    assert {(r.prompt_tokens, r.completion_tokens) for r in results} == {(9, 70)}
