"""The offline demo model: which requests call which tool, and what it says afterwards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.playground.demo import LONG_ANSWER, DemoModel, OfflineBackends, fill_arguments
from bot.settings import settings_from
from bot.testing.openai import TextReply, ToolCallsReply

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
