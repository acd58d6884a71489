"""The Responses stream reader event by event: exact deltas, results, refusals and their reasons.

Written against the mutants mutmut made of bot/engine/responses_stream.py (docs/mutation.md).
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.engine.events import ReasoningDelta, TextDelta
from bot.engine.failures import CorruptStream, IncompleteStream, ResponseFailed
from bot.engine.responses_stream import (
    INCOMPLETE_FINISH,
    KEPT_REASONING_KEYS,
    MAX_SOURCE_TITLE,
    ResponsesEventStream,
    ResponsesReader,
)


def _feed(reader: ResponsesReader, *events: dict[str, Any]) -> list[Any]:
    return [delta for event in events for delta in reader.take(event)]


def _done(**response: Any) -> dict[str, Any]:
    return {"type": "response.completed", "response": response}


def _citation(url: Any, title: Any = None, kind: str = "url_citation") -> dict[str, Any]:
    annotation = {"type": kind, "url": url}
    if title is not None:
        annotation["title"] = title
    return {"type": "response.output_text.annotation.added", "annotation": annotation}


def test_the_tables_row_by_row() -> None:
    assert INCOMPLETE_FINISH == {"max_output_tokens": "length", "content_filter": "content_filter"}
    assert KEPT_REASONING_KEYS == ("type", "id", "summary", "encrypted_content")
    assert MAX_SOURCE_TITLE == 120
    assert ResponsesEventStream.wanted == frozenset(
        {
            "response.output_text.delta",
            "response.refusal.delta",
            "response.reasoning_summary_text.delta",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.output_item.done",
            "response.output_text.annotation.added",
            "response.completed",
            "response.incomplete",
            "response.failed",
            "error",
        }
    )


def test_a_plain_answer_gives_exact_text_and_stop() -> None:
    reader = ResponsesReader()
    assert reader.finish_reason is None
    deltas = _feed(
        reader,
        {"type": "response.created", "response": {}},
        {"type": "response.output_text.delta", "delta": "Hel"},
        {"type": "response.refusal.delta", "delta": "lo"},
        _done(usage={"input_tokens": 7, "output_tokens": 3}),
    )
    assert deltas == [TextDelta("Hel"), TextDelta("lo")]
    result = reader.finish()
    assert (result.text, result.reasoning, result.tool_calls) == ("Hello", "", [])
    assert result.finish_reason == "stop"
    assert (result.prompt_tokens, result.completion_tokens, result.reasoning_tokens) == (7, 3, 0)
    assert result.reasoning_items == []
    assert result.usage_reported is False


def test_empty_deltas_are_dropped_and_deliver_nothing() -> None:
    reader = ResponsesReader()
    assert _feed(reader, {"type": "response.output_text.delta", "delta": ""}) == []
    assert _feed(reader, {"type": "response.reasoning_summary_text.delta", "delta": ""}) == []
    assert reader.delivered is False
    assert _feed(reader, {"type": "response.reasoning_summary_text.delta", "delta": "Hm"}) == [
        ReasoningDelta("Hm")
    ]
    assert reader.delivered is True
    _feed(reader, {"type": "response.reasoning_summary_text.delta", "delta": "m."}, _done())
    assert reader.finish().reasoning == "Hmm."
    assert reader.finish().text == ""


def test_text_delivers() -> None:
    reader = ResponsesReader()
    _feed(reader, {"type": "response.output_text.delta", "delta": "x"})
    assert reader.delivered is True


def test_unknown_events_are_ignored() -> None:
    reader = ResponsesReader()
    assert _feed(reader, {"type": "response.in_progress"}, {"type": "x"}) == []
    assert reader.delivered is False
    assert reader.finish_reason is None


def test_a_call_added_delivers_and_keeps_its_name_and_id() -> None:
    reader = ResponsesReader()
    item = {"type": "function_call", "call_id": "call_1", "name": "weather"}
    _feed(reader, {"type": "response.output_item.added", "output_index": 1, "item": item})
    assert reader.delivered is True
    _feed(
        reader,
        {"type": "response.function_call_arguments.delta", "output_index": 1, "delta": '{"a"'},
        {"type": "response.function_call_arguments.delta", "output_index": 1, "delta": ":2}"},
        _done(),
    )
    assert reader.finish_reason == "tool_calls"
    assert reader.finish().tool_calls == [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "weather", "arguments": '{"a":2}'},
        }
    ]
    assert reader.finish().finish_reason == "tool_calls"


def test_non_call_items_added_deliver_nothing() -> None:
    reader = ResponsesReader()
    _feed(reader, {"type": "response.output_item.added", "output_index": 0, "item": {"type": "x"}})
    assert reader.delivered is False
    _feed(reader, _done())
    assert reader.finish().tool_calls == []
    assert reader.finish_reason == "stop"


def test_a_call_without_an_id_or_a_start_gets_a_placeholder_id() -> None:
    reader = ResponsesReader()
    item = {"type": "function_call", "name": "a"}
    _feed(
        reader,
        {"type": "response.output_item.added", "output_index": 4, "item": item},
        {"type": "response.function_call_arguments.delta", "output_index": 2, "delta": "{}"},
    )
    # Argument deltas alone are not content: the call's start or end is.
    assert [c["id"] for c in _calls_after(reader)] == ["call_missing_2", "call_missing_4"]


def test_argument_deltas_alone_deliver_nothing() -> None:
    reader = ResponsesReader()
    _feed(
        reader, {"type": "response.function_call_arguments.delta", "output_index": 0, "delta": "{"}
    )
    assert reader.delivered is False
    _feed(reader, _done())
    assert reader.finish().tool_calls == [
        {"id": "call_missing_0", "type": "function", "function": {"name": "", "arguments": "{"}}
    ]


def _calls_after(reader: ResponsesReader) -> list[dict[str, Any]]:
    _feed(reader, _done())
    return reader.finish().tool_calls


def test_a_call_done_replaces_what_was_streamed() -> None:
    reader = ResponsesReader()
    _feed(
        reader,
        {"type": "response.function_call_arguments.delta", "output_index": 0, "delta": "{bro"},
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": {"type": "function_call", "call_id": "c9", "name": "n", "arguments": None},
        },
    )
    assert reader.delivered is True
    assert _calls_after(reader) == [
        {"id": "c9", "type": "function", "function": {"name": "n", "arguments": ""}}
    ]


def test_calls_come_out_in_output_order() -> None:
    reader = ResponsesReader()
    for index, name in ((5, "late"), (1, "early")):
        item = {"type": "function_call", "call_id": f"c{index}", "name": name, "arguments": "{}"}
        _feed(reader, {"type": "response.output_item.done", "output_index": index, "item": item})
    assert [c["function"]["name"] for c in _calls_after(reader)] == ["early", "late"]


def test_reasoning_items_keep_only_the_keys_sent_back_and_deliver_nothing() -> None:
    reader = ResponsesReader()
    item = {"type": "reasoning", "id": "rs", "summary": [], "encrypted_content": None, "x": 1}
    _feed(
        reader,
        {"type": "response.output_item.done", "output_index": 0, "item": item},
        {"type": "response.output_item.done", "output_index": 1, "item": {"type": "message"}},
    )
    assert reader.delivered is False
    _feed(reader, _done())
    assert reader.finish().reasoning_items == [{"type": "reasoning", "id": "rs", "summary": []}]
    assert reader.finish().tool_calls == []


@pytest.mark.parametrize(
    ("kind", "details", "finish"),
    [
        ("response.completed", None, "stop"),
        ("response.completed", {"reason": "max_output_tokens"}, "stop"),
        ("response.incomplete", {"reason": "max_output_tokens"}, "length"),
        ("response.incomplete", {"reason": "content_filter"}, "content_filter"),
        ("response.incomplete", {"reason": "something_new"}, "length"),
        ("response.incomplete", {"reason": ""}, "stop"),
        ("response.incomplete", None, "stop"),
    ],
)
def test_terminal_events_map_to_finish_reasons(
    kind: str, details: dict[str, Any] | None, finish: str
) -> None:
    reader = ResponsesReader()
    _feed(reader, {"type": kind, "response": {"incomplete_details": details}})
    assert reader.finish_reason == finish
    assert reader.finish().finish_reason == finish


def test_an_incomplete_response_with_calls_stays_length() -> None:
    reader = ResponsesReader()
    item = {"type": "function_call", "call_id": "c", "name": "n"}
    _feed(
        reader,
        {"type": "response.output_item.added", "output_index": 0, "item": item},
        {
            "type": "response.incomplete",
            "response": {"incomplete_details": {"reason": "max_output_tokens"}},
        },
    )
    assert reader.finish_reason == "length"
    assert reader.finish().finish_reason == "length"


@pytest.mark.parametrize(
    ("usage", "counts"),
    [
        (None, (0, 0, 0)),
        ({}, (0, 0, 0)),
        (
            {"input_tokens": 5, "output_tokens": 9, "output_tokens_details": None},
            (5, 9, 0),
        ),
        (
            {
                "input_tokens": "5",
                "output_tokens": 9.0,
                "output_tokens_details": {"reasoning_tokens": 4},
            },
            (0, 0, 4),
        ),
    ],
)
def test_usage_counts_only_integers(usage: dict[str, Any] | None, counts: tuple[int, ...]) -> None:
    reader = ResponsesReader()
    _feed(reader, _done(usage=usage))
    result = reader.finish()
    assert (result.prompt_tokens, result.completion_tokens, result.reasoning_tokens) == counts


def test_no_terminal_event_is_incomplete_with_the_reason() -> None:
    reader = ResponsesReader()
    with pytest.raises(IncompleteStream) as caught:
        reader.finish()
    assert str(caught.value) == "the stream ended without response.completed"


@pytest.mark.parametrize(
    ("event", "detail"),
    [
        ({}, "malformed event (KeyError: 'type')"),
        (None, "malformed event (TypeError: 'NoneType' object is not subscriptable)"),
        (
            {"type": "response.output_text.delta"},
            "malformed event (KeyError: 'delta')",
        ),
        (
            {"type": "response.output_item.added", "output_index": 0},
            "malformed event (KeyError: 'item')",
        ),
        (
            {"type": "response.output_text.annotation.added", "annotation": "x"},
            "malformed event (AttributeError: 'str' object has no attribute 'get')",
        ),
    ],
)
def test_malformed_events_are_corrupt_with_the_reason(event: Any, detail: str) -> None:
    reader = ResponsesReader()
    with pytest.raises(CorruptStream) as caught:
        reader.take(event)
    assert str(caught.value) == detail
    assert caught.value.after_content is False
    assert isinstance(caught.value.__cause__, (KeyError, TypeError, AttributeError))


def test_corrupt_knows_whether_content_was_delivered() -> None:
    reader = ResponsesReader()
    assert reader.corrupt("x").after_content is False
    _feed(reader, {"type": "response.output_text.delta", "delta": "a"})
    with pytest.raises(CorruptStream) as caught:
        reader.take({"type": "response.output_text.delta"})
    assert caught.value.after_content is True
    assert str(reader.corrupt("why")) == "why"


@pytest.mark.parametrize(
    ("event", "code", "message"),
    [
        (
            {"type": "response.failed", "response": {"error": {"code": "c1", "message": "m1"}}},
            "c1",
            "m1",
        ),
        (
            {"type": "response.failed", "response": {"error": None}},
            "server_error",
            "response.failed without a message",
        ),
        (
            {"type": "response.failed", "response": {"error": {"code": "", "message": ""}}},
            "server_error",
            "response.failed without a message",
        ),
        ({"type": "error", "code": "c2", "message": "m2"}, "c2", "m2"),
        ({"type": "error"}, "server_error", "an error event without a message"),
        (
            {"type": "error", "code": None, "message": None},
            "server_error",
            "an error event without a message",
        ),
    ],
)
def test_failures_carry_the_servers_code_and_message(
    event: dict[str, Any], code: str, message: str
) -> None:
    for delivered in (False, True):
        reader = ResponsesReader()
        if delivered:
            _feed(reader, {"type": "response.output_text.delta", "delta": "a"})
        with pytest.raises(ResponseFailed) as caught:
            reader.take(event)
        assert (caught.value.code, caught.value.message) == (code, message)
        assert caught.value.after_content is delivered


def test_sources_list_the_cited_pages_in_order_with_their_first_title() -> None:
    reader = ResponsesReader()
    long_title = "T" * (MAX_SOURCE_TITLE + 5)
    deltas = _feed(
        reader,
        {"type": "response.output_text.delta", "delta": "A."},
        _citation("https://b.example/", " Bee \n title "),
        _citation("https://a.example/", long_title),
        _citation("https://b.example/", "Other"),
        _citation("https://c.example/"),
        _done(),
    )
    footer = (
        "\n\nSources:\n- Bee title: https://b.example/\n"
        f"- {'T' * MAX_SOURCE_TITLE}: https://a.example/\n"
        "- https://c.example/: https://c.example/"
    )
    assert deltas == [TextDelta("A."), TextDelta(footer)]
    assert reader.finish().text == "A." + footer


@pytest.mark.parametrize(
    "event",
    [
        {"type": "response.output_text.annotation.added"},
        {"type": "response.output_text.annotation.added", "annotation": None},
        _citation("https://a.example/", kind="file_citation"),
        _citation(""),
        _citation(None),
        _citation(7),
    ],
)
def test_annotations_that_are_not_web_citations_add_no_sources(event: dict[str, Any]) -> None:
    reader = ResponsesReader()
    assert _feed(reader, event, _done()) == []
    assert reader.finish().text == ""
