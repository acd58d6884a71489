"""Issue 15: one weather tool round answered under every OpenAI-compatible server profile.

Each profile (``bot/testing/openai/profiles.py``) streams tool calls, reasoning, the finish reason
and usage the way that server does, or refuses a parameter with its own HTTP 400. The real bot
answers through the real tool every time; these tests pin what reached the emulator and Discord.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.testing.discord import DiscordEmulator
from bot.testing.fakes import FakeOpenMeteo
from bot.testing.harness import BotHarness
from bot.testing.openai import PROFILES, OpenAIEmulator, TextReply, ToolCall, tokens

from .conftest import ask

CHAT = "/v1/chat/completions"
ANSWER = "Paris is mild today; details above."
REASONING = "The tool said Paris; keep it short."
MAX_OUTPUT = 700
# What each profile refuses, in the order the bot meets the refusals on its first request.
REFUSED = {"groq-2024": ["stream_options", "max_completion_tokens"], "strict-refusing": ["strict"]}
NO_USAGE = {"lmstudio", "groq-2024"}


@pytest.fixture
async def open_meteo() -> AsyncIterator[FakeOpenMeteo]:
    async with FakeOpenMeteo() as server:
        yield server


async def _ledger(bot: Any) -> Any:
    """The usage ledger once the answer's row is in (written just after delivery)."""
    async with asyncio.timeout(10):
        while True:
            totals = await bot.services.store.usage_totals()
            if totals.requests:
                return totals
            await asyncio.sleep(0.02)


def _carries(body: dict[str, Any], param: str) -> bool:
    return True in _strict_flags(body) if param == "strict" else param in body


def _reported_prompt(body: dict[str, Any]) -> int:
    return tokens.prompt_tokens(body)


def _strict_flags(body: dict[str, Any]) -> list[Any]:
    return [tool["function"].get("strict", "absent") for tool in body["tools"]]


@pytest.mark.parametrize("profile", sorted(PROFILES))
async def test_one_weather_round_under_every_server_profile(
    profile: str,
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    open_meteo: FakeOpenMeteo,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="toolcord.engine")
    openai_emulator.chat.use_profile(profile)
    openai_emulator.chat.reply_tool_calls(
        [ToolCall("weather", {"place": "Paris", "units": "metric", "days": 1})], chunk_size=7
    )
    # 4 characters a chunk: "<thi" + "nk>T" splits the tag of the llamacpp-think profile.
    openai_emulator.chat.reply(TextReply(ANSWER, reasoning_content=REASONING, chunk_size=4))
    weather = {"geocoding_url": open_meteo.base_url, "forecast_url": open_meteo.base_url}
    general = discord_emulator.channel("general")
    async with bot_harness.run(
        tools={"modules": ["tools.weather"], "config": {"weather": weather}},
        openai={"max_output_tokens": MAX_OUTPUT},
    ) as bot:
        await ask(discord_emulator, "weather in Paris?")
        message = await discord_emulator.wait_for_message(
            general, lambda m: ANSWER in m.content, timeout=30
        )
        ledger = await _ledger(bot)

    # Discord shows the answer alone: no <think> block, no reasoning, in no edit either.
    assert message.content == ANSWER
    shown = [
        text
        for m in discord_emulator.messages(general)
        if m.author.id == discord_emulator.bot_user.id
        for text in (m.content, *(e.content_before for e in m.edits))
    ]
    assert not [text for text in shown if "<th" in text or "tool said" in text], shown
    assert any("Checking the weather in Paris" in text for text in shown), shown
    # The model saw the tool call it made and the weather tool's result, paired by one id.
    first, second = openai_emulator.chat.requests
    assistant = next(m for m in second["messages"] if m.get("tool_calls"))
    (call,) = assistant["tool_calls"]
    assert call["function"] == {
        "name": "weather",
        "arguments": '{"place":"Paris","units":"metric","days":1}',
    }
    (result,) = [m for m in second["messages"] if m["role"] == "tool"]
    assert result["tool_call_id"] == call["id"]
    assert "Paris" in result["content"]
    assert len(open_meteo.requests_to("/v1/search")) == 1
    if not PROFILES[profile].call_ids:
        assert call["id"].startswith("call_chatcmpl-") and call["id"].endswith("_0")

    # Refused parameters: the first request met each 400 in turn, then it went through
    # without them, and the next round never sent them again.
    refused = REFUSED.get(profile, [])
    bodies = [r.json for r in openai_emulator.requests if r.path == CHAT]
    assert bodies[len(refused) :] == [first, second]
    for body, param in zip(bodies, refused, strict=False):
        assert _carries(body, param), (param, body)
    for body in (first, second):
        assert ("stream_options" in body) == ("stream_options" not in refused)
        if "max_completion_tokens" in refused:
            assert (body.get("max_tokens"), "max_completion_tokens" in body) == (MAX_OUTPUT, False)
        else:
            assert (body.get("max_completion_tokens"), "max_tokens" in body) == (MAX_OUTPUT, False)
        assert _strict_flags(body) == (["absent"] if "strict" in refused else [True])
    said = [r.getMessage() for r in caplog.records if "model server refused" in r.getMessage()]
    assert [line.split("'")[1] for line in said] == refused

    # Usage: reported by the server, or estimated when it sent none; never 0.
    assert ledger.requests == 1
    if profile in NO_USAGE:
        assert 0 < ledger.prompt_tokens < 3000 and 0 < ledger.completion_tokens < 200
    else:
        assert ledger.prompt_tokens == sum(_reported_prompt(b) for b in (first, second))


@pytest.mark.parametrize("profile", ["ollama", "ollama-legacy", "vllm", "lmstudio"])
async def test_two_parallel_calls_stay_two_under_servers_without_index_or_id(
    profile: str,
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    open_meteo: FakeOpenMeteo,
) -> None:
    openai_emulator.chat.use_profile(profile)
    openai_emulator.chat.reply_tool_calls(
        [
            ToolCall("weather", {"place": "Paris", "units": "metric", "days": 1}),
            ToolCall("weather", {"place": "Oslo", "units": "metric", "days": 1}),
        ],
        chunk_size=5,
    )
    openai_emulator.chat.reply_text("Paris and Oslo: see above.")
    weather = {"geocoding_url": open_meteo.base_url, "forecast_url": open_meteo.base_url}
    async with bot_harness.run(
        tools={"modules": ["tools.weather"], "config": {"weather": weather}}
    ):
        await ask(discord_emulator, "weather in Paris and Oslo?")
        await discord_emulator.wait_for_message(
            discord_emulator.channel("general"),
            lambda m: m.content == "Paris and Oslo: see above.",
            timeout=30,
        )
    _, second = openai_emulator.chat.requests
    assistant = next(m for m in second["messages"] if m.get("tool_calls"))
    places = [c["function"]["arguments"].split('"')[3] for c in assistant["tool_calls"]]
    assert places == ["Paris", "Oslo"]
    ids = [c["id"] for c in assistant["tool_calls"]]
    results = {m["tool_call_id"]: m["content"] for m in second["messages"] if m["role"] == "tool"}
    assert len(set(ids)) == 2 and set(results) == set(ids)
    assert "Paris" in results[ids[0]] and "Oslo" in results[ids[1]]
