"""Built-in weather tool: current conditions and a 1-7 day forecast from Open-Meteo.

Settings (``ctx.config``, the ``weather`` tool family): ``geocoding_url`` (default
``https://geocoding-api.open-meteo.com``), ``forecast_url`` (default
``https://api.open-meteo.com``), ``http_timeout_s`` (default 6), ``language`` (default ``en``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError

from tools._weather_data import (
    Current,
    Daily,
    Forecast,
    GeocodingResponse,
    Place,
    compass,
    describe_code,
    matches_qualifier,
    split_place,
    strong_matches,
)
from tools.context import ToolContext
from tools.definition import tool
from tools.errors import ToolFailed, ToolRetry
from tools.http import get_json

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
SERVICE = "Open-Meteo"
ATTRIBUTION = "Source: Open-Meteo (https://open-meteo.com), weather data under CC BY 4.0."
Units = Literal["metric", "imperial"]
_API_UNITS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "metric": {
            "temperature_unit": "celsius",
            "wind_speed_unit": "kmh",
            "precipitation_unit": "mm",
        },
        "imperial": {
            "temperature_unit": "fahrenheit",
            "wind_speed_unit": "mph",
            "precipitation_unit": "inch",
        },
    }
)
_LABELS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "metric": {"temperature": "°C", "wind": "km/h", "precipitation": "mm"},
        "imperial": {"temperature": "°F", "wind": "mph", "precipitation": "inch"},
    }
)
_CURRENT_FIELDS = (
    "temperature_2m,apparent_temperature,relative_humidity_2m,precipitation,weather_code,"
    "wind_speed_10m,wind_direction_10m"
)
_DAILY_FIELDS = (
    "weather_code,temperature_2m_max,temperature_2m_min,precipitation_sum,"
    "precipitation_probability_max,wind_speed_10m_max"
)


class WeatherSettings(BaseModel):
    """The ``weather`` tool family's settings."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    geocoding_url: HttpUrl = HttpUrl("https://geocoding-api.open-meteo.com")
    forecast_url: HttpUrl = HttpUrl("https://api.open-meteo.com")
    http_timeout_s: float = Field(6.0, gt=0, le=60)
    language: str = "en"

    def endpoint(self, base: HttpUrl, path: str) -> str:
        """``base`` joined with an absolute API path."""
        return str(base).rstrip("/") + path


@tool(timeout=15.0, progress="Checking the weather in {place}...")
async def weather(
    ctx: ToolContext,
    place: Annotated[
        str,
        Field(
            description="City or place name as the user wrote it, optionally followed by a "
            "region or country after a comma, e.g. 'Paris' or 'Springfield, IL'",
            min_length=1,
            max_length=120,
        ),
    ],
    units: Annotated[
        Units, Field(description="metric (°C, km/h, mm) or imperial (°F, mph, inch)")
    ] = "metric",
    days: Annotated[int, Field(description="Number of forecast days, today first", ge=1, le=7)] = 1,
) -> str:
    """Get the current weather and a daily forecast (1-7 days) for a place.

    Use it whenever the user asks about weather, temperature, rain, snow or wind somewhere. If
    several places share the name, the result lists them instead: ask the user which one they
    mean, then call again with the region or country added. Cite Open-Meteo as the source.
    """
    settings = _settings(ctx)
    found = await _resolve(ctx, settings, place)
    if isinstance(found, str):
        return found
    await ctx.report_progress(f"Getting the forecast for {found.label()}...")
    forecast = await _forecast(ctx, settings, found, units, days)
    return _format(found, forecast, units)


def _settings(ctx: ToolContext) -> WeatherSettings:
    try:
        return WeatherSettings.model_validate(dict(ctx.config))
    except ValidationError as error:
        raise ValueError(f"Invalid weather tool settings; fix the configuration: {error}") from None


async def _resolve(ctx: ToolContext, settings: WeatherSettings, text: str) -> Place | str:
    """The place meant by ``text``, or a message listing candidates if it is ambiguous."""
    name, qualifiers = split_place(text)
    if not name:
        raise ToolRetry("The place name is empty; pass a city or place name.")
    body = await get_json(
        ctx,
        settings.endpoint(settings.geocoding_url, "/v1/search"),
        {
            "name": name,
            "count": 10 if qualifiers else 5,
            "language": settings.language,
            "format": "json",
        },
        service=SERVICE,
        timeout_s=settings.http_timeout_s,
    )
    places = _parse(GeocodingResponse, body).results
    places = [p for p in places if all(matches_qualifier(p, q) for q in qualifiers)]
    if not places:
        raise ToolFailed(
            f"No place called '{text}' was found by {SERVICE}. Ask the user to check the "
            "spelling or name a nearby city."
        )
    candidates = strong_matches(name, places)
    if len(candidates) == 1:
        return candidates[0]
    listed = "; ".join(p.label() for p in candidates)
    first = candidates[0]
    countries = {p.country_code for p in candidates}
    region = first.country if len(countries) > 1 else first.admin1
    example = f"{first.name}, {region or first.country}"
    return (
        f"Several places match '{text}': {listed}. Ask the user which one they mean, then "
        f"call weather again with the region or country added, e.g. '{example}'."
    )


async def _forecast(
    ctx: ToolContext, settings: WeatherSettings, place: Place, units: Units, days: int
) -> Forecast:
    query: dict[str, str | int | float] = {
        "latitude": place.latitude,
        "longitude": place.longitude,
        "current": _CURRENT_FIELDS,
        "daily": _DAILY_FIELDS,
        "timezone": "auto",
        "forecast_days": days,
        **_API_UNITS[units],
    }
    body = await get_json(
        ctx,
        settings.endpoint(settings.forecast_url, "/v1/forecast"),
        query,
        service=SERVICE,
        timeout_s=settings.http_timeout_s,
    )
    return _parse(Forecast, body)


def _parse(model: type[M], body: Any) -> M:
    try:
        return model.model_validate(body)
    except ValidationError:
        raise ToolFailed(
            f"{SERVICE} sent data in an unexpected shape. Tell the user the weather service is "
            "having problems."
        ) from None


def _format(place: Place, forecast: Forecast, units: Units) -> str:
    labels = _LABELS[units]
    zone = forecast.timezone or place.timezone or "local time"
    lines = [f"Weather for {place.label()} ({place.latitude:.2f}, {place.longitude:.2f}; {zone})"]
    if forecast.current is not None:
        lines.append(_format_current(forecast.current, labels))
    if forecast.daily is not None and forecast.daily.time:
        lines.append("Forecast:")
        lines.extend(_format_days(forecast.daily, labels))
    lines.append(ATTRIBUTION)
    return "\n".join(lines)


def _format_current(current: Current, labels: Mapping[str, str]) -> str:
    temp, wind = labels["temperature"], labels["wind"]
    parts = [describe_code(current.weather_code).capitalize()]
    if current.temperature_2m is not None:
        parts.append(f"{current.temperature_2m:g} {temp}")
    if current.apparent_temperature is not None:
        parts.append(f"feels like {current.apparent_temperature:g} {temp}")
    if current.relative_humidity_2m is not None:
        parts.append(f"humidity {current.relative_humidity_2m:g}%")
    if current.wind_speed_10m is not None:
        direction = compass(current.wind_direction_10m)
        parts.append(f"wind {current.wind_speed_10m:g} {wind} {direction}".rstrip())
    if current.precipitation is not None:
        parts.append(f"precipitation {current.precipitation:g} {labels['precipitation']}")
    return f"Now ({current.time.replace('T', ' ')} local): " + ", ".join(parts) + "."


def _format_days(daily: Daily, labels: Mapping[str, str]) -> list[str]:
    lines = []
    for index, day in enumerate(daily.time):
        parts = [describe_code(_at(daily.weather_code, index)).capitalize()]
        low, high = _at(daily.temperature_2m_min, index), _at(daily.temperature_2m_max, index)
        if low is not None and high is not None:
            parts.append(f"{low:g} to {high:g} {labels['temperature']}")
        rain = _at(daily.precipitation_sum, index)
        chance = _at(daily.precipitation_probability_max, index)
        if rain is not None:
            odds = f" ({chance:g}% chance)" if chance is not None else ""
            parts.append(f"precipitation {rain:g} {labels['precipitation']}{odds}")
        gusts = _at(daily.wind_speed_10m_max, index)
        if gusts is not None:
            parts.append(f"wind up to {gusts:g} {labels['wind']}")
        lines.append(f"- {_day_label(day)}: " + ", ".join(parts))
    return lines


def _at(values: list[T | None], index: int) -> T | None:
    return values[index] if index < len(values) else None


def _day_label(day: str) -> str:
    try:
        return f"{dt.date.fromisoformat(day):%a %Y-%m-%d}"
    except ValueError:
        return day
