"""Chat completions through the real openai client: JSON, streams, tool calls, usage."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageFunctionToolCall, ChatCompletionMessageParam

from bot.testing.openai import (
    Fault,
    OpenAIEmulator,
    RefusalReply,
    TextReply,
    ToolCall,
    ToolCallsReply,
)

PATH = "/v1/chat/completions"
USER: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "What is the weather in Paris?"}
]


async def _collect(stream: Any) -> tuple[str, str | None, list[Any]]:
    text, finish, chunks = "", None, []
    async for chunk in stream:
        chunks.append(chunk)
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
    return text, finish, chunks


async def test_default_reply_echoes_the_last_user_text(client: openai.AsyncOpenAI) -> None:
    completion = await client.chat.completions.create(model="gpt-4o", messages=USER)
    assert completion.choices[0].message.content == "echo: What is the weather in Paris?"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == "gpt-4o"
    assert completion._request_id is not None and completion._request_id.startswith("req_")


async def test_text_reply_json_has_estimated_usage(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.chat.reply_text("Hello there!")
    completion = await client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert completion.choices[0].message.content == "Hello there!"
    usage = completion.usage
    assert usage is not None
    assert usage.completion_tokens == 3  # 12 characters / 4
    assert usage.prompt_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


async def test_text_reply_streams_in_chunks_with_sse_headers(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.chat.reply_text("Hello, streaming world!", chunk_size=8)
    async with client.chat.completions.with_streaming_response.create(
        model="gpt-4o", messages=USER, stream=True
    ) as raw:
        assert raw.headers["content-type"].startswith("text/event-stream")
        assert raw.headers["x-request-id"].startswith("req_")
        text, finish, chunks = await _collect(await raw.parse())
    assert text == "Hello, streaming world!"
    assert finish == "stop"
    contents = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert contents == ["Hello, s", "treaming", " world!"]
    assert chunks[0].choices[0].delta.role == "assistant"


async def test_include_usage_sends_a_final_chunk_with_empty_choices(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.chat.reply_text("abcdefgh")
    stream = await client.chat.completions.create(
        model="gpt-4o", messages=USER, stream=True, stream_options={"include_usage": True}
    )
    _, finish, chunks = await _collect(stream)
    assert finish == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 2
    assert all(c.usage is None for c in chunks[:-1])


async def test_tool_calls_stream_by_index_and_the_sdk_assembles_them(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.chat.reply_tool_calls(
        [
            ToolCall("weather", {"place": "Paris"}, id="call_A"),
            ToolCall("weather", {"place": "Oslo"}),
        ],
        chunk_size=6,
    )
    async with client.chat.completions.stream(model="gpt-4o", messages=USER) as stream:
        async for _event in stream:
            pass
        final = await stream.get_final_completion()
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls or []
    assert calls[0].id == "call_A"
    assert calls[1].id.startswith("call_")
    assert [json.loads(c.function.arguments) for c in calls] == [
        {"place": "Paris"},
        {"place": "Oslo"},
    ]


async def test_tool_call_deltas_look_like_openai(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.chat.reply_tool_calls([ToolCall("weather", {"city": "Paris"})], chunk_size=10)
    stream = await client.chat.completions.create(model="gpt-4o", messages=USER, stream=True)
    _, finish, chunks = await _collect(stream)
    deltas = [
        c.choices[0].delta.tool_calls[0]
        for c in chunks
        if c.choices and c.choices[0].delta.tool_calls
    ]
    assert deltas[0].id and deltas[0].type == "function"
    assert deltas[0].function.name == "weather" and deltas[0].function.arguments == ""
    assert all(d.id is None and d.function.name is None for d in deltas[1:])
    assert "".join(d.function.arguments for d in deltas[1:]) == '{"city":"Paris"}'
    assert finish == "tool_calls"


async def test_malformed_arguments_are_sent_verbatim(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.chat.reply(ToolCallsReply([ToolCall("weather", '{"city": "')]))
    completion = await client.chat.completions.create(model="gpt-4o", messages=USER)
    call = (completion.choices[0].message.tool_calls or [])[0]
    assert isinstance(call, ChatCompletionMessageFunctionToolCall)
    assert call.function.arguments == '{"city": "'


async def test_refusal_content_filter_and_reasoning(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.chat.reply(RefusalReply("No."))
    emu.chat.reply_content_filter("partial")
    emu.chat.reply(TextReply("<think>hmm</think>Answer", reasoning_content="thinking"))
    refused = await client.chat.completions.create(model="gpt-4o", messages=USER)
    assert (
        refused.choices[0].message.refusal == "No." and refused.choices[0].message.content is None
    )
    filtered = await client.chat.completions.create(model="gpt-4o", messages=USER, stream=True)
    text, finish, _ = await _collect(filtered)
    assert (text, finish) == ("partial", "content_filter")
    reasoned = await client.chat.completions.create(model="gpt-4o", messages=USER)
    message = reasoned.choices[0].message
    assert message.content == "<think>hmm</think>Answer"
    assert getattr(message, "reasoning_content", None) == "thinking"


async def test_max_completion_tokens_cuts_with_finish_reason_length(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.chat.reply_text("x" * 100)
    completion = await client.chat.completions.create(
        model="gpt-4o", messages=USER, max_completion_tokens=5
    )
    assert completion.choices[0].finish_reason == "length"
    assert completion.choices[0].message.content == "x" * 20


async def test_plain_strings_are_text_replies_and_bad_replies_are_reported(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.chat.reply(lambda request: "plain")
    emu.chat.reply(lambda request: 42)
    completion = await client.chat.completions.create(model="gpt-4o", messages=USER)
    assert completion.choices[0].message.content == "plain"
    failing = client.with_options(max_retries=0)
    with pytest.raises(openai.InternalServerError, match="a chat reply must be"):
        await failing.chat.completions.create(model="gpt-4o", messages=USER)
    assert [v.kind for v in emu.take_violations()] == ["emulator"]


async def test_reply_functions_see_the_parsed_request(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.chat.reply(lambda request: TextReply(f"{len(request['messages'])} message(s)"))

    async def later(request: dict[str, Any]) -> TextReply:
        return TextReply(request["model"])

    emu.chat.set_default(later)
    first = await client.chat.completions.create(model="gpt-4o", messages=USER)
    second = await client.chat.completions.create(model="gpt-5", messages=USER)
    assert first.choices[0].message.content == "1 message(s)"
    assert second.choices[0].message.content == "gpt-5"
    assert [r["model"] for r in emu.chat.requests] == ["gpt-4o", "gpt-5"]


async def test_requests_are_recorded_and_can_be_awaited(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    mark = emu.mark()
    task = asyncio.create_task(client.chat.completions.create(model="gpt-4o", messages=USER))
    recorded = await emu.wait_request(PATH, after=mark, timeout=10)
    await asyncio.wait_for(task, 10)
    assert recorded.method == "POST" and recorded.json["messages"] == USER
    assert recorded.retry_count == 0
    assert recorded.headers["authorization"] == "Bearer sk-test"
    assert emu.attempts(PATH, after=mark) == 1


async def test_wait_request_times_out_with_a_clear_message(emu: OpenAIEmulator) -> None:
    with pytest.raises(AssertionError, match="received 0 of 1"):
        await emu.wait_request(PATH, timeout=0.05)


async def test_latency_delays_the_first_byte(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.chat.reply_text("slow", latency=0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await client.chat.completions.create(model="gpt-4o", messages=USER)
    assert loop.time() - started >= 0.2


async def test_many_concurrent_streams(emu: OpenAIEmulator, client: openai.AsyncOpenAI) -> None:
    emu.chat.latency = 0.05

    async def one(index: int) -> str:
        messages: list[ChatCompletionMessageParam] = [
            {"role": "user", "content": f"message {index}"}
        ]
        stream = await client.chat.completions.create(
            model="gpt-4o", messages=messages, stream=True
        )
        text, finish, _ = await _collect(stream)
        assert finish == "stop"
        return text

    texts = await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(200))), 60)
    assert texts == [f"echo: message {i}" for i in range(200)]
    assert emu.chat.attempts == 200


async def test_fault_attached_to_a_reply(emu: OpenAIEmulator, client: openai.AsyncOpenAI) -> None:
    emu.chat.reply(
        TextReply("one two three four", chunk_size=4, fault=Fault.cut_stream(after_chunks=2))
    )
    stream = await client.chat.completions.create(model="gpt-4o", messages=USER, stream=True)
    text, finish, _ = await _collect(stream)
    assert (text, finish) == ("one ", None)
