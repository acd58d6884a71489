"""Server profiles: the exact chunks and refusals each OpenAI-compatible server profile sends."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import openai
import pytest

from bot.testing.openai import (
    PROFILES,
    OpenAIEmulator,
    ServerProfile,
    TextReply,
    ToolCall,
    profile_named,
)

PATH = "/v1/chat/completions"
TOOL = {
    "type": "function",
    "function": {
        "name": "weather",
        "parameters": {"type": "object", "properties": {}},
        "strict": True,
    },
}
BODY: dict[str, Any] = {
    "model": "gpt-4o",
    "messages": [{"role": "user", "content": "weather?"}],
    "stream": True,
    "stream_options": {"include_usage": True},
    "tools": [TOOL],
}
NO_STREAM_OPTIONS = {k: v for k, v in BODY.items() if k != "stream_options"}
CALLS = [ToolCall("weather", {"place": "Paris"}, id="call_p"), ToolCall("time", {}, id="call_t")]


async def _post(emu: OpenAIEmulator, body: dict[str, Any]) -> tuple[int, Any]:
    """POST ``body``; return the status and the JSON body or the list of streamed chunks."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(emu.base_url + "/chat/completions", json=body) as response,
    ):
        text = await response.text()
    if not response.content_type.startswith("text/event-stream"):
        return response.status, json.loads(text)
    events = [line[6:] for line in text.split("\n\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    return response.status, [json.loads(event) for event in events[:-1]]


def _tool_deltas(chunks: list[dict[str, Any]]) -> list[Any]:
    return [
        call
        for chunk in chunks
        for choice in chunk["choices"]
        for call in choice["delta"].get("tool_calls") or []
    ]


def _finish(chunks: list[dict[str, Any]]) -> list[str]:
    return [c["finish_reason"] for chunk in chunks for c in chunk["choices"] if c["finish_reason"]]


async def test_ollama_sends_whole_calls_all_at_index_zero_and_finishes_with_stop() -> None:
    async with OpenAIEmulator(profile="ollama") as emu:
        emu.chat.reply_tool_calls(CALLS, chunk_size=4)
        status, chunks = await _post(emu, BODY)
    assert status == 200
    assert _tool_deltas(chunks) == [
        {
            "index": 0,
            "type": "function",
            "id": "call_p",
            "function": {"name": "weather", "arguments": '{"place":"Paris"}'},
        },
        {
            "index": 0,
            "type": "function",
            "id": "call_t",
            "function": {"name": "time", "arguments": "{}"},
        },
    ]
    assert _finish(chunks) == ["stop"]
    assert chunks[-1]["usage"]["prompt_tokens"] > 0


async def test_ollama_legacy_sends_calls_without_index() -> None:
    async with OpenAIEmulator(profile="ollama-legacy") as emu:
        emu.chat.reply_tool_calls(CALLS[:1])
        _, chunks = await _post(emu, BODY)
    assert _tool_deltas(chunks) == [
        {
            "type": "function",
            "id": "call_p",
            "function": {"name": "weather", "arguments": '{"place":"Paris"}'},
        }
    ]
    assert _finish(chunks) == ["stop"]


async def test_vllm_streams_arguments_with_index_and_no_id() -> None:
    async with OpenAIEmulator(profile="vllm") as emu:
        emu.chat.reply_tool_calls(CALLS[:1], chunk_size=8)
        _, chunks = await _post(emu, BODY)
    assert _tool_deltas(chunks) == [
        {"index": 0, "type": "function", "function": {"name": "weather", "arguments": ""}},
        {"index": 0, "function": {"arguments": '{"place"'}},
        {"index": 0, "function": {"arguments": ':"Paris"'}},
        {"index": 0, "function": {"arguments": "}"}},
    ]
    assert _finish(chunks) == ["tool_calls"]


@pytest.mark.parametrize(
    ("profile", "field"),
    [("openai", "reasoning_content"), ("vllm", "reasoning"), ("ollama", "reasoning")],
)
async def test_reasoning_goes_in_the_profiles_field(profile: str, field: str) -> None:
    async with OpenAIEmulator(profile=profile) as emu:
        emu.chat.reply(TextReply("Hi", reasoning_content="hmm", chunk_size=10))
        _, chunks = await _post(emu, BODY)
    deltas = [c["delta"] for chunk in chunks for c in chunk["choices"]]
    assert [d for d in deltas if field in d] == [{field: "hmm"}]
    assert "".join(d.get("content") or "" for d in deltas) == "Hi"


async def test_llamacpp_think_leaves_reasoning_in_content_between_tags() -> None:
    async with OpenAIEmulator(profile="llamacpp-think") as emu:
        emu.chat.reply(TextReply("Hi", reasoning_content="hmm", chunk_size=100))
        _, chunks = await _post(emu, BODY)
        emu.chat.reply(TextReply("Hi", reasoning_content="hmm"))
        _, completion = await _post(emu, {**BODY, "stream": False, "stream_options": None})
    deltas = [c["delta"] for chunk in chunks for c in chunk["choices"]]
    assert "".join(d.get("content") or "" for d in deltas) == "<think>hmm</think>Hi"
    assert not any("reasoning_content" in d or "reasoning" in d for d in deltas)
    message = completion["choices"][0]["message"]
    assert (message["content"], "reasoning_content" in message) == ("<think>hmm</think>Hi", False)


async def test_lmstudio_sends_no_usage_chunk_even_when_asked() -> None:
    async with OpenAIEmulator(profile="lmstudio") as emu:
        emu.chat.reply_text("Hello")
        _, chunks = await _post(emu, BODY)
    assert all(chunk["choices"] for chunk in chunks)
    assert not any("usage" in chunk for chunk in chunks)


@pytest.mark.parametrize(
    ("profile", "sent", "error"),
    [
        (
            "groq-2024",
            BODY,
            {
                "message": "property 'stream_options' is unsupported, did you mean 'stream'?",
                "type": "invalid_request_error",
            },
        ),
        (
            "groq-2024",
            {**NO_STREAM_OPTIONS, "max_completion_tokens": 9},
            {
                "message": "property 'max_completion_tokens' is unsupported, did you mean "
                "'max_tokens'?",
                "type": "invalid_request_error",
            },
        ),
        (
            "strict-refusing",
            BODY,
            {
                "message": "Invalid value: 'true'. The value 'true' isn't supported yet. For now, "
                "please use 'false' for this setting.",
                "type": "invalid_request_error",
                "param": "tools[0].function.strict",
                "code": "invalid_value",
            },
        ),
        (
            "azure-2024",
            {**BODY, "parallel_tool_calls": True},
            {
                "message": "Unrecognized request argument supplied: parallel_tool_calls. Please "
                "contact us through an Azure support request at: "
                "https://go.microsoft.com/fwlink/?linkid=2213926 for further questions.",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            },
        ),
    ],
    ids=["groq-stream-options", "groq-max-completion-tokens", "strict", "azure-parallel"],
)
async def test_a_refused_parameter_gets_the_servers_own_400(
    profile: str, sent: dict[str, Any], error: dict[str, Any]
) -> None:
    async with OpenAIEmulator(profile=profile) as emu:
        emu.chat.reply_text("queued for the next accepted request")
        status, body = await _post(emu, sent)
        assert (status, body) == (400, {"error": error})
        assert (emu.chat.attempts, emu.chat.pending) == (0, 1)  # the reply is still queued
        emu.assert_no_violations()


async def test_the_real_client_sees_the_refusal_as_a_bad_request() -> None:
    async with OpenAIEmulator(profile="groq-2024") as emu:
        client = openai.AsyncOpenAI(api_key="sk-test", base_url=emu.base_url, max_retries=0)
        with pytest.raises(openai.BadRequestError) as raised:
            await client.chat.completions.create(
                model="llama3-70b-8192",
                messages=[{"role": "user", "content": "hi"}],
                stream=True,
                stream_options={"include_usage": True},
            )
        await client.close()
    assert raised.value.status_code == 400
    assert raised.value.body == {
        "message": "property 'stream_options' is unsupported, did you mean 'stream'?",
        "type": "invalid_request_error",
    }


def test_every_profile_names_its_sources_and_unknown_names_are_refused() -> None:
    assert sorted(PROFILES) == [
        "azure-2024",
        "groq-2024",
        "llamacpp",
        "llamacpp-think",
        "lmstudio",
        "ollama",
        "ollama-legacy",
        "openai",
        "openrouter",
        "strict-refusing",
        "vllm",
    ]
    assert all(p.sources for name, p in PROFILES.items() if name != "openai")
    assert all(s.startswith("https://github.com/") for p in PROFILES.values() for s in p.sources)
    custom = ServerProfile("mine", usage=False)
    assert profile_named(custom) is custom
    with pytest.raises(ValueError, match=r"unknown OpenAI emulator profile 'olama'; use one of"):
        profile_named("olama")
