"""The weather tool against the loopback fake Open-Meteo."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from bot.testing.fakes import FakeOpenMeteo
from tools import ToolContext, ToolFailed
from tools.calls import ToolCall, ToolStarted
from tools.dispatch import Dispatcher
from tools.registry import ToolRegistry
from tools.weather import weather

ContextFactory = Callable[..., ToolContext]


async def ask(ctx: ToolContext, **arguments: Any) -> str:
    params = weather.parse_arguments(json.dumps(arguments))
    result = await weather.invoke(ctx, params)
    assert isinstance(result, str)
    return result


async def test_current_weather_in_paris(
    weather_ctx: ToolContext, open_meteo: FakeOpenMeteo
) -> None:
    text = await ask(weather_ctx, place="Paris", units=None, days=None)
    assert text.startswith("Weather for Paris, Île-de-France, France")
    assert "Now (2025-06-01 12:00 local):" in text and "°C" in text and "km/h" in text
    assert text.count("\n- ") == 1
    assert "Open-Meteo" in text.splitlines()[-1]
    search, forecast = open_meteo.requests
    assert search.path == "/v1/search"
    assert (search.query["name"], search.query["count"]) == ("Paris", "5")
    assert forecast.path == "/v1/forecast"
    assert (forecast.query["latitude"], forecast.query["longitude"]) == ("48.85341", "2.3488")
    assert forecast.query["timezone"] == "auto" and forecast.query["forecast_days"] == "1"
    assert forecast.query["temperature_unit"] == "celsius"
    assert forecast.query["wind_speed_unit"] == "kmh"
    assert "weather_code" in forecast.query["current"].split(",")
    assert "temperature_2m_max" in forecast.query["daily"].split(",")


async def test_imperial_multi_day_forecast(
    weather_ctx: ToolContext, open_meteo: FakeOpenMeteo
) -> None:
    text = await ask(weather_ctx, place="Oslo", units="imperial", days=3)
    assert "Oslo, Norway" in text and "°F" in text and "mph" in text and "°C" not in text
    assert text.count("\n- ") == 3
    assert "Sun 2025-06-01" in text and "Tue 2025-06-03" in text
    forecast = open_meteo.requests_to("/v1/forecast")[0]
    assert forecast.query["temperature_unit"] == "fahrenheit"
    assert forecast.query["wind_speed_unit"] == "mph"
    assert forecast.query["forecast_days"] == "3"


async def test_weather_codes_become_words(weather_ctx: ToolContext) -> None:
    text = await ask(weather_ctx, place="Tokyo", units="metric", days=7)
    words = ("clear sky", "mainly clear", "partly cloudy", "overcast", "rain", "thunderstorm")
    assert any(word in text.lower() for word in words)
    assert "weather code" not in text


@pytest.mark.parametrize(
    ("place", "expected"),
    [
        ("Springfield, IL", "Springfield, Illinois, United States"),
        ("springfield, oregon", "Springfield, Oregon, United States"),
        ("Cordoba, Spain", "Córdoba, Andalusia, Spain"),
        ("Paris, TX", "Paris, Texas, United States"),
        ("London", "London, England, United Kingdom"),
        ("Paris", "Paris, Île-de-France, France"),
    ],
)
async def test_qualifiers_and_dominant_matches_pick_one_place(
    weather_ctx: ToolContext, place: str, expected: str
) -> None:
    text = await ask(weather_ctx, place=place, units="metric", days=1)
    assert text.startswith(f"Weather for {expected} (")


@pytest.mark.parametrize(
    ("place", "candidates"),
    [
        ("Springfield", ["Missouri", "Massachusetts", "Illinois", "Oregon", "Ohio"]),
        ("Córdoba", ["Argentina", "Spain"]),
    ],
)
async def test_ambiguous_places_return_candidates(
    weather_ctx: ToolContext, open_meteo: FakeOpenMeteo, place: str, candidates: list[str]
) -> None:
    text = await ask(weather_ctx, place=place, units="metric", days=1)
    assert text.startswith(f"Several places match '{place}'")
    for candidate in candidates:
        assert candidate in text
    assert "Ask the user which one they mean" in text
    assert open_meteo.requests_to("/v1/forecast") == []


@pytest.mark.parametrize("place", ["Atlantis", "Paris, Japan"])
async def test_unknown_places_fail_clearly(weather_ctx: ToolContext, place: str) -> None:
    with pytest.raises(ToolFailed, match=f"No place called '{place}' was found"):
        await ask(weather_ctx, place=place, units="metric", days=1)


@pytest.mark.parametrize(
    ("behavior", "message"),
    [
        ("error", "answered with an error (HTTP 500)"),
        ("html", "sent an unexpected response"),
        ("slow", "did not answer within 0.3 s"),
    ],
)
async def test_service_failures_become_model_safe_tool_failures(
    make_ctx: ContextFactory, open_meteo: FakeOpenMeteo, behavior: str, message: str
) -> None:
    settings = {
        "geocoding_url": open_meteo.base_url,
        "forecast_url": open_meteo.base_url,
        "http_timeout_s": 0.3,
    }
    ctx = make_ctx(config=settings)  # no shared session: the tool opens its own
    open_meteo.set_behavior(behavior, delay_s=5)  # type: ignore[arg-type]
    with pytest.raises(ToolFailed) as caught:
        await ask(ctx, place="Paris", units="metric", days=1)
    assert message in caught.value.message and "Open-Meteo" in caught.value.message
    assert "127.0.0.1" not in caught.value.message


async def test_forecast_failure_after_geocoding(
    weather_ctx: ToolContext, open_meteo: FakeOpenMeteo
) -> None:
    bad_forecast = FakeOpenMeteo()
    await bad_forecast.start()
    try:
        bad_forecast.set_behavior("error", status=503)
        ctx = ToolContext(
            user_id=1,
            user_name="u",
            channel_id=2,
            http=weather_ctx.http,
            config={"geocoding_url": open_meteo.base_url, "forecast_url": bad_forecast.base_url},
        )
        with pytest.raises(ToolFailed, match=r"HTTP 503"):
            await ask(ctx, place="Oslo", units="metric", days=1)
    finally:
        await bad_forecast.close()


async def test_through_the_dispatcher_with_progress(
    weather_ctx: ToolContext, open_meteo: FakeOpenMeteo
) -> None:
    registry = ToolRegistry()
    registry.load_module("tools.weather")
    events: list[Any] = []
    ctx = weather_ctx
    dispatcher = Dispatcher(registry, ctx, ["weather"], on_event=events.append)
    calls = [
        ToolCall("a", "weather", '{"place": "Paris", "units": "metric", "days": 2}'),
        ToolCall("b", "weather", '{"place": "Atlantis", "units": null, "days": null}'),
        ToolCall("c", "weather", '{"place": "Oslo", "units": "metric", "days": 9}'),
    ]
    paris, atlantis, too_long = await dispatcher.run(calls)
    assert paris.status == "ok" and "Paris" in paris.content
    assert atlantis.status == "error" and "No place called 'Atlantis'" in atlantis.content
    assert too_long.status == "invalid_arguments" and "less than or equal to 7" in too_long.content
    started = [e.progress_text for e in events if isinstance(e, ToolStarted)]
    assert started == ["Checking the weather in Paris...", "Checking the weather in Atlantis..."]


async def test_fake_rejects_unknown_forecast_variables(
    open_meteo: FakeOpenMeteo, http_session: Any
) -> None:
    url = f"{open_meteo.base_url}/v1/forecast"
    params = {"latitude": "1", "longitude": "2", "current": "sunshine"}
    async with http_session.get(url, params=params) as response:
        assert response.status == 400
        assert (await response.json())["error"] is True
    async with http_session.get(
        f"{open_meteo.base_url}/v1/search", params={"name": "Zz"}
    ) as response:
        assert "results" not in await response.json()


def test_weather_schema_for_the_model() -> None:
    schema = weather.openai_schema()["function"]
    props = schema["parameters"]["properties"]
    assert schema["name"] == "weather" and "Open-Meteo" in schema["description"]
    assert props["units"]["anyOf"][0]["enum"] == ["metric", "imperial"]
    assert props["days"]["anyOf"][0] == {"type": "integer", "minimum": 1, "maximum": 7}
    assert "Springfield, IL" in props["place"]["description"]
    assert weather.progress == "Checking the weather in {place}..."
