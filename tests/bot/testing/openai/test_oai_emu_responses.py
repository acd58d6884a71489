"""The Responses API and OpenAI's model rules, through the real openai client."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from bot.testing.openai import (
    Citation,
    FailedReply,
    Fault,
    OpenAIEmulator,
    StreamErrorReply,
    TextReply,
    ToolCall,
)

PATH = "/v1/responses"
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "name": "weather",
    "description": "The weather at a place.",
    "parameters": {
        "type": "object",
        "properties": {"place": {"type": "string"}},
        "required": ["place"],
        "additionalProperties": False,
    },
    "strict": True,
}
CHAT_TOOL = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "The weather at a place.",
        "parameters": WEATHER_TOOL["parameters"],
    },
}
TERRA_MESSAGE = (
    "Function tools with reasoning_effort are not supported for gpt-5.6-terra in "
    "/v1/chat/completions. To use function tools, use /v1/responses or set reasoning_effort to "
    "'none'."
)


async def _events(stream: Any) -> list[Any]:
    return [event async for event in stream]


async def test_text_streams_as_named_events_with_usage(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.responses.reply_text("Hello there, Paris!", chunk_size=5)
    stream = await client.responses.create(
        model="gpt-4.1", instructions="Be brief.", input="Hi", stream=True
    )
    events = await _events(stream)
    kinds = [event.type for event in events]
    assert kinds[:3] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
    ]
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert deltas == ["Hello", " ther", "e, Pa", "ris!"]
    assert kinds[-1] == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    final = events[-1].response
    assert final.output_text == "Hello there, Paris!"
    assert final.usage.output_tokens == 5  # 19 characters / 4
    assert final.usage.output_tokens_details.reasoning_tokens == 0
    assert final.instructions == "Be brief."
    raw = await emu.wait_request(PATH)
    assert raw.json is not None and raw.json["stream"] is True


async def test_parallel_calls_with_reasoning_and_encrypted_content(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.responses.reply_tool_calls(
        [
            ToolCall("weather", {"place": "Paris"}, id="call_a"),
            ToolCall("weather", {"place": "Oslo"}),
        ]
    )
    stream = await client.responses.create(
        model="gpt-5.6-terra",
        input=[{"role": "user", "content": [{"type": "input_text", "text": "Paris and Oslo?"}]}],
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        store=False,
        include=["reasoning.encrypted_content"],
        reasoning={"effort": "low", "summary": "auto"},
        stream=True,
    )
    events = await _events(stream)
    done = [e.item for e in events if e.type == "response.output_item.done"]
    assert [item.type for item in done] == ["reasoning", "function_call", "function_call"]
    reasoning, first, second = done
    assert reasoning.encrypted_content
    assert reasoning.summary[0].text == "The user's question needs weather, weather; calling it."
    assert (first.call_id, first.arguments) == ("call_a", '{"place":"Paris"}')
    assert second.arguments == '{"place":"Oslo"}'
    args_done = [e for e in events if e.type == "response.function_call_arguments.done"]
    assert [e.name for e in args_done] == ["weather", "weather"]
    summary = [e.delta for e in events if e.type == "response.reasoning_summary_text.delta"]
    assert "".join(summary) == reasoning.summary[0].text
    usage = events[-1].response.usage
    assert usage.output_tokens_details.reasoning_tokens == 14  # the summary's 54 characters

    # The next round sends the reasoning back before its calls, and the outputs by call_id.
    emu.responses.reply_text("Sunny in both.")
    follow = await client.responses.create(
        model="gpt-5.6-terra",
        input=[
            {"role": "user", "content": "Paris and Oslo?"},
            {
                "type": "reasoning",
                "id": reasoning.id,
                "summary": [],
                "encrypted_content": reasoning.encrypted_content,
            },
            {"type": "function_call", "call_id": "call_a", "name": "weather", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "call_a", "output": "sunny"},
        ],
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        store=False,
    )
    assert follow.output_text == "Sunny in both."
    assert follow.status == "completed"


async def test_no_reasoning_item_at_effort_none_or_on_a_non_reasoning_model(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    none = await client.responses.create(
        model="gpt-5.6-terra", input="Hi", reasoning={"effort": "none"}
    )
    assert [item.type for item in none.output] == ["message"]
    old = await client.responses.create(model="gpt-4.1", input="Hi")
    assert [item.type for item in old.output] == ["message"]
    with pytest.raises(openai.BadRequestError) as caught:
        await client.responses.create(model="gpt-4.1", input="Hi", reasoning={"effort": "low"})
    assert caught.value.body["message"] == (  # type: ignore[index]
        "Unsupported parameter: 'reasoning.effort' is not supported with this model."
    )
    with pytest.raises(openai.BadRequestError) as encrypted:
        await client.responses.create(
            model="gpt-4.1", input="Hi", include=["reasoning.encrypted_content"]
        )
    assert encrypted.value.body == {  # type: ignore[comparison-overlap]
        "message": "Encrypted content is not supported with this model.",
        "type": "invalid_request_error",
        "param": "include",
        "code": None,
    }


async def test_max_output_tokens_ends_incomplete(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.responses.reply_text("x" * 400)
    stream = await client.responses.create(
        model="gpt-4.1", input="Hi", max_output_tokens=16, stream=True
    )
    events = await _events(stream)
    assert events[-1].type == "response.incomplete"
    assert events[-1].response.incomplete_details.reason == "max_output_tokens"
    assert events[-1].response.output_text == "x" * 64


async def test_failed_and_error_events(emu: OpenAIEmulator, client: openai.AsyncOpenAI) -> None:
    emu.responses.reply(FailedReply(partial_text="Half an ans"))
    events = await _events(await client.responses.create(model="gpt-4.1", input="Hi", stream=True))
    assert events[-1].type == "response.failed"
    assert events[-1].response.error.code == "server_error"
    emu.responses.reply(StreamErrorReply(message="Overloaded.", code="server_is_overloaded"))
    events = await _events(await client.responses.create(model="gpt-4.1", input="Hi", stream=True))
    assert (events[-1].type, events[-1].message) == ("error", "Overloaded.")


async def test_http_faults_apply_as_on_chat(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.responses.reply_fault(Fault.outage(500, times=3))
    with pytest.raises(openai.InternalServerError):
        await client.responses.create(model="gpt-4.1", input="Hi")
    assert emu.attempts(PATH) == 3  # the client's two retries


async def test_refusals_of_bad_input_items(emu: OpenAIEmulator, client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as orphan:
        await client.responses.create(
            model="gpt-4.1",
            input=[{"type": "function_call_output", "call_id": "call_x", "output": "1"}],
        )
    assert orphan.value.body["message"] == (  # type: ignore[index]
        "No tool call found for function call output with call_id call_x."
    )
    with pytest.raises(openai.BadRequestError) as unanswered:
        await client.responses.create(
            model="gpt-4.1",
            input=[
                {"role": "user", "content": "Hi"},
                {"type": "function_call", "call_id": "call_y", "name": "f", "arguments": "{}"},
            ],
        )
    assert unanswered.value.body["message"] == (  # type: ignore[index]
        "No tool output found for function call call_y."
    )
    with pytest.raises(openai.NotFoundError) as forgotten:
        await client.responses.create(
            model="gpt-5.6-terra",
            input=[
                {"type": "reasoning", "id": "rs_1", "summary": []},
                {"role": "user", "content": "Hi"},
            ],
            store=False,
        )
    assert "Items are not persisted when `store` is set to false" in str(forgotten.value)
    with pytest.raises(openai.BadRequestError) as forged:
        await client.responses.create(
            model="gpt-5.6-terra",
            input=[
                {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "made-up"},
                {"role": "user", "content": "Hi"},
            ],
            store=False,
        )
    assert forged.value.body["message"] == (  # type: ignore[index]
        "The encrypted content for item rs_1 could not be verified. Reason: Encrypted content "
        "could not be decrypted or parsed."
    )
    with pytest.raises(openai.BadRequestError) as unknown:
        await client.post(
            "/responses",
            body={"model": "gpt-4.1", "messages": [{"role": "user", "content": "Hi"}]},
            cast_to=object,
        )
    assert unknown.value.body["param"] == "messages"  # type: ignore[index]
    assert unknown.value.body["code"] == "unknown_parameter"  # type: ignore[index]
    assert len(emu.take_violations()) == 5


@pytest.mark.parametrize(
    ("model", "effort", "message"),
    [
        ("gpt-5.6-terra", None, TERRA_MESSAGE),
        ("gpt-5.6-terra", "low", TERRA_MESSAGE),
        (
            "gpt-5.5",
            "medium",
            "Function tools with reasoning_effort are not supported for gpt-5.5 in "
            "/v1/chat/completions. Please use /v1/responses instead.",
        ),
    ],
)
async def test_chat_completions_refuses_tools_with_reasoning(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI, model: str, effort: str | None, message: str
) -> None:
    extra = {} if effort is None else {"reasoning_effort": effort}
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "Weather in Paris?"}],
            tools=[CHAT_TOOL],  # type: ignore[list-item]
            **extra,  # type: ignore[arg-type]
        )
    assert caught.value.status_code == 400
    assert caught.value.body == {  # the SDK unwraps "error"
        "message": message,
        "type": "invalid_request_error",
        "param": "reasoning_effort",
        "code": None,
    }
    assert emu.chat.attempts == 0  # refused before the script was asked


@pytest.mark.parametrize(
    ("model", "effort"),
    [("gpt-5.6-terra", "none"), ("gpt-5.5", None), ("gpt-5.4-mini", "none"), ("gpt-4.1", None)],
)
async def test_chat_completions_accepts_what_openai_accepts(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI, model: str, effort: str | None
) -> None:
    emu.chat.reply(TextReply("ok"))
    extra = {} if effort is None else {"reasoning_effort": effort}
    completion = await client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=[CHAT_TOOL],  # type: ignore[list-item]
        **extra,  # type: ignore[arg-type]
    )
    assert completion.choices[0].message.content == "ok"


async def test_hosted_web_search_streams_its_call_and_url_citations(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.responses.reply_web_search(
        "Paris hosts the 2024 Olympics.",
        query="paris olympics",
        citations=[Citation("https://example.org/olympics", "Olympics", quote="2024 Olympics")],
    )
    stream = await client.responses.create(
        model="gpt-5.4-mini", input="Olympics?", tools=[{"type": "web_search"}], stream=True
    )
    events = await _events(stream)
    kinds = [event.type for event in events]
    assert [k for k in kinds if k.startswith("response.web_search_call.")] == [
        "response.web_search_call.in_progress",
        "response.web_search_call.searching",
        "response.web_search_call.completed",
    ]
    (added,) = [e for e in events if e.type == "response.output_text.annotation.added"]
    assert added.annotation.model_dump() == {
        "type": "url_citation",
        "url": "https://example.org/olympics",
        "title": "Olympics",
        "start_index": 16,
        "end_index": 29,
    }
    final = events[-1].response
    assert [item.type for item in final.output] == ["web_search_call", "message"]
    assert final.output[0].action.queries == ["paris olympics"]


async def test_a_web_search_reply_needs_the_hosted_tool_offered(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.responses.reply_web_search("x", query="q", citations=[])
    with pytest.raises(openai.InternalServerError):
        await client.with_options(max_retries=0).responses.create(model="gpt-4.1", input="Hi")
    (violation,) = emu.take_violations()
    assert "offers the hosted web_search tool" in str(violation)
