"""Issue 3 end to end: parallel weather calls through Discord and the tool messages the model sees.

(A side-effecting tool that a restart never runs twice: test_crash_mid_turn.py.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.testing.discord import DiscordEmulator
from bot.testing.fakes import FakeOpenMeteo
from bot.testing.harness import BotHarness
from bot.testing.openai import OpenAIEmulator, ToolCall

from .conftest import ask

SLOW_S = 0.4


@pytest.fixture
async def open_meteo() -> AsyncIterator[FakeOpenMeteo]:
    async with FakeOpenMeteo() as server:
        yield server


async def test_two_parallel_weather_calls_end_to_end(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    open_meteo: FakeOpenMeteo,
) -> None:
    open_meteo.set_behavior("slow", delay_s=SLOW_S)
    openai_emulator.chat.reply_tool_calls(
        [
            ToolCall("weather", {"place": "Paris", "units": "metric", "days": 1}, id="call_paris"),
            ToolCall("weather", {"place": "Oslo", "units": "metric", "days": 1}, id="call_oslo"),
        ],
        chunk_size=12,
    )
    openai_emulator.chat.reply_text("Paris and Oslo: see above.")
    weather_config = {"geocoding_url": open_meteo.base_url, "forecast_url": open_meteo.base_url}
    general = discord_emulator.channel("general")
    async with bot_harness.run(
        tools={"modules": ["tools.weather"], "config": {"weather": weather_config}}
    ):
        await ask(discord_emulator, "weather in Paris and Oslo?")
        await discord_emulator.wait_for_message(
            general, lambda m: m.content == "Paris and Oslo: see above.", timeout=30
        )
    first, second = openai_emulator.chat.requests
    assert [t["function"]["name"] for t in first["tools"]] == ["weather"]
    assistant = next(m for m in second["messages"] if m.get("tool_calls"))
    assert [c["id"] for c in assistant["tool_calls"]] == ["call_paris", "call_oslo"]
    results = {m["tool_call_id"]: m["content"] for m in second["messages"] if m["role"] == "tool"}
    assert set(results) == {"call_paris", "call_oslo"}
    assert "Paris" in results["call_paris"] and "Oslo" in results["call_oslo"]
    searches = open_meteo.requests_to("/v1/search")
    assert len(searches) == 2
    assert abs(searches[0].at - searches[1].at) < SLOW_S, "the two calls must run at the same time"
    edits = [
        m for m in discord_emulator.messages(general) if m.author.id == discord_emulator.bot_user.id
    ]
    shown = [e.content_before for m in edits for e in m.edits] + [m.content for m in edits]
    assert any("Checking the weather in" in text for text in shown), shown
