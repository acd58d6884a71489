"""StreamReader on the tool-call shapes of OpenAI-compatible servers (profiles.py names sources)."""

from __future__ import annotations

from typing import Any

from bot.engine.stream import StreamReader


def _chunk(
    delta: dict[str, Any] | None = None, finish: str | None = None, *, cid: str | None = "cc-1"
) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    chunk: dict[str, Any] = {"object": "chat.completion.chunk", "choices": choices}
    if cid is not None:
        chunk["id"] = cid
    return chunk


def _read(*calls: dict[str, Any], finish: str = "tool_calls", cid: str | None = "cc-1") -> Any:
    reader = StreamReader()
    reader.take(_chunk({"role": "assistant", "content": ""}, cid=cid))
    for call in calls:
        assert reader.take(_chunk({"tool_calls": [call]}, cid=cid)) == []
    reader.take(_chunk({}, finish, cid=cid))
    return reader.finish()


def _pairs(result: Any) -> list[tuple[str, str, str]]:
    return [(c["id"], c["function"]["name"], c["function"]["arguments"]) for c in result.tool_calls]


def _fn(name: str | None = None, arguments: str = "") -> dict[str, Any]:
    function: dict[str, Any] = {"arguments": arguments}
    if name is not None:
        function["name"] = name
    return function


def test_ollama_two_whole_calls_both_at_index_zero_are_two_calls_in_order() -> None:
    result = _read(
        {"index": 0, "id": "call_p", "type": "function", "function": _fn("weather", '{"p":1}')},
        {"index": 0, "id": "call_t", "type": "function", "function": _fn("time", "{}")},
        finish="stop",
    )
    assert _pairs(result) == [("call_p", "weather", '{"p":1}'), ("call_t", "time", "{}")]
    assert result.finish_reason == "tool_calls"


def test_calls_without_index_are_told_apart_by_their_ids() -> None:
    result = _read(
        {"id": "call_a", "function": _fn("weather", '{"place":')},
        {"id": "call_a", "function": _fn(None, '"Oslo"}')},
        {"id": "call_b", "function": _fn("weather", '{"place":"Rome"}')},
    )
    assert _pairs(result) == [
        ("call_a", "weather", '{"place":"Oslo"}'),
        ("call_b", "weather", '{"place":"Rome"}'),
    ]


def test_calls_without_index_or_id_split_where_a_new_name_starts() -> None:
    result = _read(
        {"function": _fn("weather", '{"place":')},
        {"function": _fn(None, '"Oslo"}')},
        {"function": _fn("time", "")},
        {"function": _fn(None, "{}")},
    )
    assert _pairs(result) == [
        ("call_cc-1_0", "weather", '{"place":"Oslo"}'),
        ("call_cc-1_1", "time", "{}"),
    ]


def test_vllm_calls_without_ids_get_ids_unique_to_the_completion() -> None:
    result = _read(
        {"index": 0, "type": "function", "function": _fn("weather", "")},
        {"index": 0, "function": _fn(None, '{"place":"Oslo"}')},
        {"index": 1, "type": "function", "function": _fn("time", "")},
        {"index": 1, "function": _fn(None, "{}")},
    )
    assert _pairs(result) == [
        ("call_cc-1_0", "weather", '{"place":"Oslo"}'),
        ("call_cc-1_1", "time", "{}"),
    ]


def test_without_a_completion_id_the_made_up_ids_still_pair() -> None:
    result = _read({"index": 0, "function": _fn("time", "{}")}, cid=None)
    assert _pairs(result) == [("call_missing_0", "time", "{}")]


def test_index_reused_with_a_new_id_and_empty_ids_on_continuations() -> None:
    # vLLM's output as quoted in InternLM/lmdeploy#3412: index 0 for both calls, id "" after.
    result = _read(
        {"index": 0, "id": "chatcmpl-tool-1", "type": "function", "function": _fn("f", "")},
        {"index": 0, "id": "", "function": _fn(None, '{"a":1}')},
        {"index": 0, "id": "chatcmpl-tool-2", "type": "function", "function": _fn("g", "")},
        {"index": 0, "id": "", "function": _fn(None, '{"b":2}')},
    )
    assert _pairs(result) == [
        ("chatcmpl-tool-1", "f", '{"a":1}'),
        ("chatcmpl-tool-2", "g", '{"b":2}'),
    ]


def test_an_id_that_comes_after_the_first_delta_joins_its_call() -> None:
    result = _read(
        {"index": 0, "function": _fn("weather", "")},
        {"index": 0, "id": "call_late", "function": _fn(None, "{}")},
        {"index": 0, "id": "call_late", "function": _fn(None, "")},
    )
    assert _pairs(result) == [("call_late", "weather", "{}")]


def test_stop_is_a_tool_turn_only_when_calls_were_assembled() -> None:
    reader = StreamReader()
    reader.take(_chunk({"content": "Hello"}))
    reader.take(_chunk({}, "stop"))
    assert (reader.finish().finish_reason, reader.finish().tool_calls) == ("stop", [])
    cut = _read({"index": 0, "id": "c", "function": _fn("f", '{"a"')}, finish="length")
    assert cut.finish_reason == "length"


def test_usage_reported_says_whether_a_usage_chunk_came() -> None:
    silent = StreamReader()
    silent.take(_chunk({"content": "x"}))
    silent.take(_chunk({}, "stop"))
    reported = StreamReader()
    reported.take(_chunk({"content": "x"}))
    reported.take(_chunk({}, "stop"))
    reported.take({**_chunk(), "usage": {"prompt_tokens": 5, "completion_tokens": 1}})
    assert [
        (r.usage_reported, r.prompt_tokens, r.completion_tokens)
        for r in (silent.finish(), reported.finish())
    ] == [(False, 0, 0), (True, 5, 1)]
