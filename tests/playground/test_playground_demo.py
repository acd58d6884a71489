"""The offline demo model: which requests call which tool, and what it says afterwards."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.playground import Playground
from bot.playground.demo import LONG_ANSWER, DemoModel, OfflineBackends, fill_arguments
from bot.settings import settings_from
from bot.testing.openai import TextReply, ToolCallsReply

from .conftest import playground_settings

WEATHER = {"type": "function", "function": {"name": "weather", "parameters": {}}}
DICE = {"type": "function", "function": {"name": "roll_dice", "parameters": {}}}


def ask(content: Any, tools: list[dict[str, Any]] | None = None) -> Any:
    request = {"messages": [{"role": "user", "content": content}], "tools": tools or []}
    return DemoModel()(request)


def test_a_weather_question_calls_the_weather_tool_with_the_place() -> None:
    reply = ask("What's the weather in Tokyo tomorrow?", [WEATHER, DICE])
    assert isinstance(reply, ToolCallsReply)
    (call,) = reply.calls
    assert call.name == "weather"
    assert call.arguments == {"place": "Tokyo", "units": "metric", "days": 2}


def test_dice_are_parsed() -> None:
    reply = ask("roll 3d20 please", [WEATHER, DICE])
    assert isinstance(reply, ToolCallsReply)
    assert reply.calls[0].arguments == {"sides": 20, "count": 3}


def test_without_the_tool_the_guide_answers() -> None:
    reply = ask("What's the weather in Paris?")
    assert isinstance(reply, TextReply)
    assert "offline demo model" in reply.content


def test_a_tool_result_is_quoted_in_the_answer() -> None:
    messages = [
        {"role": "user", "content": "weather in Oslo"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "weather"}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "Weather for Oslo\nSunny, 20 °C"},
    ]
    reply = DemoModel()({"messages": messages})
    assert isinstance(reply, TextReply)
    assert "`weather` returned" in reply.content
    assert "> Weather for Oslo\n> Sunny, 20 °C" in reply.content


def test_an_image_is_acknowledged() -> None:
    parts = [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
    ]
    reply = ask(parts)
    assert isinstance(reply, TextReply)
    assert "received an image" in reply.content


def test_the_long_answer_streams_and_needs_two_messages() -> None:
    reply = ask("show me a long answer")
    assert isinstance(reply, TextReply)
    assert reply.content == LONG_ANSWER
    assert len(LONG_ANSWER) > 2000 and "```python" in LONG_ANSWER
    assert reply.chunk_delay > 0


def test_arguments_are_filled_from_a_schema() -> None:
    schema = {
        "properties": {
            "prompt": {"type": "string"},
            "size": {"anyOf": [{"type": "string", "enum": ["a"]}, {"type": "null"}]},
            "n": {"type": "integer", "minimum": 1},
            "mode": {"type": "string", "enum": ["fast", "slow"]},
            "flag": {"type": "boolean"},
        }
    }
    assert fill_arguments(schema, "a red fox") == {
        "prompt": "a red fox",
        "size": None,
        "n": 1,
        "mode": "fast",
        "flag": False,
    }


async def test_offline_settings_point_at_the_demo_backends(tmp_path: Path) -> None:
    backends = await OfflineBackends().start()
    try:
        settings = backends.apply(settings_from({"data_dir": str(tmp_path)}))
        assert settings.openai.base_url == backends.openai.base_url
        assert settings.openai_api_key is not None
        assert {"tools.weather", "examples.dice"} <= set(settings.tools.modules)
        weather = settings.tools.config["weather"]
        assert weather["geocoding_url"] == weather["forecast_url"] == backends.open_meteo.base_url
    finally:
        await backends.stop()


GREET = {
    "type": "function",
    "function": {
        "name": "greet_guest",
        "parameters": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "maxLength": 12},
                "times": {"type": "integer", "minimum": 2, "maximum": 5},
                "tags": {"type": "array", "items": {"type": "string"}},
                "style": {"$ref": "#/$defs/Style"},
            },
            "required": ["name", "times", "tags", "style"],
            "additionalProperties": False,
            "$defs": {"Style": {"type": "string", "enum": ["warm", "formal"]}},
        },
    },
}


def test_a_message_naming_any_loaded_tool_calls_it_with_arguments_from_its_schema() -> None:
    for text in ("please use greet_guest now", "try the greet guest tool"):
        reply = ask(text, [WEATHER, DICE, GREET])
        assert isinstance(reply, ToolCallsReply), text
        (call,) = reply.calls
        assert call.name == "greet_guest"
        assert call.arguments == {"name": text[:12], "times": 2, "tags": [], "style": "warm"}


def test_the_guide_names_the_loaded_tools() -> None:
    reply = ask("hello", [WEATHER, GREET])
    assert isinstance(reply, TextReply)
    assert reply.content.endswith("Tools loaded here: `greet_guest`, `weather`.")


async def test_images_are_not_added_when_the_config_leaves_them_out(tmp_path: Path) -> None:
    backends = await OfflineBackends().start()
    try:
        owner = settings_from({"data_dir": str(tmp_path), "tools": {"modules": ["tools.weather"]}})
        assert backends.apply(owner).tools.modules == ["tools.weather", "examples.dice"]
    finally:
        await backends.stop()


async def test_an_owner_tool_runs_in_the_offline_playground(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "owner_greeter.py").write_text(
        "from tools import tool\n\n\n@tool\nasync def greet_guest(name: str, times: int) -> str:\n"
        '    """Greet a guest warmly."""\n    return f"Welcome, {name}! x{times}"\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    settings = playground_settings(
        tmp_path / "data", tools={"modules": ["tools.weather", "owner_greeter"]}
    )
    async with Playground(settings, offline=True, realistic_rate_limits=False) as running:
        emu, world = running.discord, running.world
        channel, bot_user = world.general, world.bot
        await emu.inject_message(
            channel, world.you, f"<@{bot_user.id}> use greet_guest", mentions=[bot_user]
        )
        answer = await emu.wait_for_message(
            channel, lambda m: "`greet_guest` returned" in m.content, timeout=30
        )
    assert running.backends is not None
    requests = running.backends.openai.chat.requests
    offered = [tool["function"]["name"] for tool in requests[0]["tools"]]
    assert "greet_guest" in offered and "generate_image" not in offered
    results = [m["content"] for r in requests for m in r["messages"] if m["role"] == "tool"]
    assert len(results) == 1 and re.fullmatch(r"Welcome, .*use greet_guest.*! x1", results[0])
    assert f"> {results[0]}" in answer.content
