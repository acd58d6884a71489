"""/usage shows what a turn's tokens held: reasoning (issue 15) and tool definitions (issue 17).

Both come from one real turn through the bot: the Responses emulator reports the reasoning
tokens of its summary, and the conversation service records the tokens of the tool definitions
every model request carried. Budgets count the reported totals alone (nothing twice).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.testing.discord import DiscordEmulator
from bot.testing.fakes import FakeOpenMeteo
from bot.testing.openai import OpenAIEmulator, TextReply, ToolCall
from bot.testing.openai.tokens import text_tokens

from .test_commands_user import ask, command, ledger_has

SUMMARY = "Compare the two options, then answer it."  # 40 characters: 10 tokens in the emulator


@pytest.fixture
async def open_meteo() -> AsyncIterator[FakeOpenMeteo]:
    async with FakeOpenMeteo() as server:
        yield server


async def test_a_reasoning_turn_stores_its_reasoning_tokens_and_usage_shows_them(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    usage = {"input_tokens": 1000, "output_tokens": 234}
    openai_emulator.responses.set_default(TextReply("echo", reasoning_content=SUMMARY, usage=usage))
    settings = {
        "openai": {"api_dialect": "responses", "reasoning_effort": "low"},
        "tools": {"modules": []},
        "quotas": {"user_daily_tokens": 50_000},
    }
    async with commands_bot(**settings) as bot:
        await ask(discord_emulator, "which one?")
        await ledger_has(bot, tokens=1234)
        totals = await bot.services.store.usage_totals(user_id=discord_emulator.user("bob").id)
        mine = await command(discord_emulator, "usage")
    reported = openai_emulator.responses.requests[0]
    assert reported["reasoning"]["effort"] == "low" and "tools" not in reported
    assert text_tokens(SUMMARY) == 10
    assert (totals.total_tokens, totals.reasoning_tokens, totals.tool_schema_tokens) == (
        1234,
        10,
        0,
    )
    text = mine.final_content() or ""
    assert "1,234 tokens today (of which 10 reasoning) of 50,000: 48,766 left" in text


async def test_a_tool_turn_records_the_tool_definitions_of_every_request(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
    open_meteo: FakeOpenMeteo,
) -> None:
    script = openai_emulator.responses
    script.reply_tool_calls([ToolCall("weather", {"place": "Paris"}, id="call_one")])
    script.reply_text("echo: Paris is sunny.")
    weather = {"geocoding_url": open_meteo.base_url, "forecast_url": open_meteo.base_url}
    settings = {
        "openai": {"api_dialect": "responses"},
        "tools": {"modules": ["tools.weather"], "config": {"weather": weather}},
    }
    async with commands_bot(**settings) as bot:
        await ask(discord_emulator, "weather in Paris?")
        await ledger_has(bot)
        services = bot.services
        totals = await services.store.usage_totals()
        per_request = services.counter.count_tools(
            services.registry.openai_tools(), bot.settings.openai.chat_model
        )
        mine = await command(discord_emulator, "usage")
    assert [[tool["name"] for tool in r["tools"]] for r in script.requests] == [["weather"]] * 2
    assert services.registry.names() == ["weather"] and per_request > 50
    assert (totals.requests, totals.tool_schema_tokens) == (1, 2 * per_request)
    assert f"({2 * per_request:,} tokens of tool definitions)" in (mine.final_content() or "")


async def test_a_chat_dialect_turn_stores_the_reasoning_tokens_of_its_details(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    openai_emulator.chat.set_default(TextReply("echo", reasoning_content=SUMMARY))
    async with commands_bot(openai={"api_dialect": "chat"}, tools={"modules": []}) as bot:
        await ask(discord_emulator, "which one?")
        await ledger_has(bot)
        totals = await bot.services.store.usage_totals()
    assert (totals.requests, totals.reasoning_tokens) == (1, 10)
    assert totals.completion_tokens == 10 + text_tokens("echo")  # reasoning counted once
