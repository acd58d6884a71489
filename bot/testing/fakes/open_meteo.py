"""A loopback fake of Open-Meteo's geocoding and forecast APIs.

One aiohttp server answers both ``/v1/search`` and ``/v1/forecast``; point both base URLs of the
weather tool at :attr:`FakeOpenMeteo.base_url`. It knows a few places (Paris FR and TX, Oslo,
several Springfields, Córdoba AR and ES, ...), returns deterministic canned forecasts in the units
asked for, records every request, and can be switched to answer slowly, with HTTP 500 or with
HTML::

    async with FakeOpenMeteo() as server:
        ctx = ToolContext(..., config={"geocoding_url": server.base_url,
                                       "forecast_url": server.base_url})
        server.set_behavior("error")
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from aiohttp import web

Behavior = Literal["ok", "slow", "error", "html"]
_COUNTRIES: Mapping[str, str] = MappingProxyType(
    {
        "FR": "France",
        "US": "United States",
        "NO": "Norway",
        "AR": "Argentina",
        "ES": "Spain",
        "GB": "United Kingdom",
        "CA": "Canada",
        "JP": "Japan",
    }
)
FORECAST_START = "2025-06-01"


@dataclass(frozen=True)
class FakePlace:
    """A geocoding entry the fake knows."""

    id: int
    name: str
    latitude: float
    longitude: float
    country_code: str
    admin1: str
    population: int
    timezone: str

    @property
    def country(self) -> str:
        """Country name in English."""
        return _COUNTRIES.get(self.country_code, self.country_code)

    def as_json(self) -> dict[str, Any]:
        """The place as Open-Meteo's geocoding API returns it."""
        return {
            "id": self.id,
            "name": self.name,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "elevation": 100.0,
            "feature_code": "PPLA",
            "country_code": self.country_code,
            "country": self.country,
            "admin1": self.admin1,
            "timezone": self.timezone,
            "population": self.population,
        }


DEFAULT_PLACES: tuple[FakePlace, ...] = (
    FakePlace(2988507, "Paris", 48.85341, 2.3488, "FR", "Île-de-France", 2138551, "Europe/Paris"),
    FakePlace(4717560, "Paris", 33.66094, -95.55551, "US", "Texas", 24782, "America/Chicago"),
    FakePlace(3143244, "Oslo", 59.91273, 10.74609, "NO", "Oslo", 580000, "Europe/Oslo"),
    FakePlace(
        4409896, "Springfield", 37.21533, -93.29824, "US", "Missouri", 166810, "America/Chicago"
    ),
    FakePlace(
        4951788,
        "Springfield",
        42.10148,
        -72.58981,
        "US",
        "Massachusetts",
        153060,
        "America/New_York",
    ),
    FakePlace(
        4250542, "Springfield", 39.80172, -89.64371, "US", "Illinois", 116250, "America/Chicago"
    ),
    FakePlace(
        5754005, "Springfield", 44.04624, -123.02203, "US", "Oregon", 59403, "America/Los_Angeles"
    ),
    FakePlace(4525353, "Springfield", 39.92423, -83.80882, "US", "Ohio", 58662, "America/New_York"),
    FakePlace(
        3860259,
        "Córdoba",
        -31.4135,
        -64.18105,
        "AR",
        "Cordoba",
        1428214,
        "America/Argentina/Cordoba",
    ),
    FakePlace(2519240, "Córdoba", 37.89155, -4.77275, "ES", "Andalusia", 325708, "Europe/Madrid"),
    FakePlace(2643743, "London", 51.50853, -0.12574, "GB", "England", 8961989, "Europe/London"),
    FakePlace(6058560, "London", 42.98339, -81.23304, "CA", "Ontario", 346765, "America/Toronto"),
    FakePlace(1850147, "Tokyo", 35.6895, 139.69171, "JP", "Tokyo", 9733276, "Asia/Tokyo"),
)

_CODES = (0, 1, 2, 3, 61, 80, 95)
_CURRENT_VARIABLES = frozenset(
    {
        "temperature_2m",
        "apparent_temperature",
        "relative_humidity_2m",
        "precipitation",
        "weather_code",
        "wind_speed_10m",
        "wind_direction_10m",
        "is_day",
    }
)
_DAILY_VARIABLES = frozenset(
    {
        "weather_code",
        "temperature_2m_max",
        "temperature_2m_min",
        "precipitation_sum",
        "precipitation_probability_max",
        "wind_speed_10m_max",
    }
)
_UNIT_LABELS: Mapping[str, str] = MappingProxyType(
    {"celsius": "°C", "fahrenheit": "°F", "kmh": "km/h", "mph": "mp/h", "mm": "mm", "inch": "inch"}
)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received."""

    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)


class _BadRequest(Exception):
    pass


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


class FakeOpenMeteo:
    """Loopback Open-Meteo (geocoding + forecast) on 127.0.0.1 with a random port.

    Attributes:
        requests: Every request received, in order.
        behavior: ``ok``, ``slow`` (wait ``slow_delay_s`` first), ``error`` (HTTP
            ``error_status``) or ``html`` (200 with an HTML page).
    """

    def __init__(self, places: Sequence[FakePlace] = DEFAULT_PLACES) -> None:
        self.places = tuple(places)
        self.requests: list[RecordedRequest] = []
        self.behavior: Behavior = "ok"
        self.slow_delay_s = 30.0
        self.error_status = 500
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._release = asyncio.Event()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``; both APIs live under it."""
        if self._base_url is None:
            raise RuntimeError("FakeOpenMeteo is not started; use 'async with' or start().")
        return self._base_url

    def set_behavior(
        self, behavior: Behavior, *, delay_s: float | None = None, status: int | None = None
    ) -> None:
        """Switch how the fake answers from now on."""
        self.behavior = behavior
        if delay_s is not None:
            self.slow_delay_s = delay_s
        if status is not None:
            self.error_status = status

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """The recorded requests whose path is ``path``."""
        return [r for r in self.requests if r.path == path]

    async def start(self) -> None:
        """Start listening on 127.0.0.1."""
        app = web.Application()
        app.router.add_get("/v1/search", self._search)
        app.router.add_get("/v1/forecast", self._forecast)
        self._release.clear()
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self._base_url = f"http://{host}:{port}"

    async def close(self) -> None:
        """Release slow handlers and stop the server."""
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOpenMeteo:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ handlers

    async def _misbehave(self, request: web.Request) -> web.Response | None:
        self.requests.append(RecordedRequest(request.path, dict(request.query)))
        if self.behavior == "slow":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._release.wait(), self.slow_delay_s)
        elif self.behavior == "error":
            return web.Response(status=self.error_status, text="Internal Server Error")
        elif self.behavior == "html":
            page = "<html><body><h1>Maintenance</h1></body></html>"
            return web.Response(text=page, content_type="text/html")
        return None

    async def _search(self, request: web.Request) -> web.Response:
        failure = await self._misbehave(request)
        if failure is not None:
            return failure
        name = _fold(request.query.get("name", ""))
        count = int(request.query.get("count", "10"))
        matches = [
            p
            for p in self.places
            if _fold(p.name) == name or (len(name) >= 3 and _fold(p.name).startswith(name))
        ]
        matches.sort(key=lambda p: p.population, reverse=True)
        body: dict[str, Any] = {"generationtime_ms": 0.4}
        if matches:
            body["results"] = [p.as_json() for p in matches[:count]]
        return web.json_response(body)

    async def _forecast(self, request: web.Request) -> web.Response:
        failure = await self._misbehave(request)
        if failure is not None:
            return failure
        try:
            body = self._forecast_body(request.query)
        except _BadRequest as error:
            return web.json_response({"error": True, "reason": str(error)}, status=400)
        return web.json_response(body)

    # ------------------------------------------------------------------ canned data

    def _forecast_body(self, query: Mapping[str, str]) -> dict[str, Any]:
        latitude = _number(query, "latitude")
        longitude = _number(query, "longitude")
        days = int(query.get("forecast_days", "7"))
        if not 0 <= days <= 16:
            raise _BadRequest("Forecast days is invalid. Allowed range 0 to 16.")
        units = {
            "temperature": query.get("temperature_unit", "celsius"),
            "wind": query.get("wind_speed_unit", "kmh"),
            "precipitation": query.get("precipitation_unit", "mm"),
        }
        seed = round(abs(latitude * 7 + longitude * 3))
        base = 28.0 - abs(latitude) * 0.35
        body: dict[str, Any] = {
            "latitude": latitude,
            "longitude": longitude,
            "timezone": self._timezone(latitude, longitude),
            "utc_offset_seconds": 0,
        }
        current = _variables(query, "current", _CURRENT_VARIABLES)
        if current:
            body["current_units"] = {v: _unit(v, units) for v in current}
            body["current"] = {"time": f"{FORECAST_START}T12:00", "interval": 900}
            body["current"].update({v: _current_value(v, base, seed, units) for v in current})
        daily = _variables(query, "daily", _DAILY_VARIABLES)
        if daily:
            body["daily_units"] = {v: _unit(v, units) for v in daily}
            body["daily"] = {"time": [_date(i) for i in range(days)]}
            body["daily"].update(
                {v: [_daily_value(v, base, seed + i, units) for i in range(days)] for v in daily}
            )
        return body

    def _timezone(self, latitude: float, longitude: float) -> str:
        for place in self.places:
            if abs(place.latitude - latitude) < 0.01 and abs(place.longitude - longitude) < 0.01:
                return place.timezone
        return "GMT"


def _number(query: Mapping[str, str], name: str) -> float:
    try:
        return float(query[name])
    except (KeyError, ValueError):
        raise _BadRequest(f"Parameter '{name}' is required and must be a number.") from None


def _variables(query: Mapping[str, str], key: str, known: frozenset[str]) -> list[str]:
    names = [v for v in query.get(key, "").split(",") if v]
    for name in names:
        if name not in known:
            raise _BadRequest(f"Cannot initialize WeatherVariable from invalid String value {name}")
    return names


def _date(offset: int) -> str:
    year, month, day = (int(part) for part in FORECAST_START.split("-"))
    return f"{year:04d}-{month:02d}-{day + offset:02d}"


def _unit(variable: str, units: Mapping[str, str]) -> str:
    if "temperature" in variable:
        return _UNIT_LABELS[units["temperature"]]
    if "wind_speed" in variable:
        return _UNIT_LABELS[units["wind"]]
    if "precipitation" in variable and "probability" not in variable:
        return _UNIT_LABELS[units["precipitation"]]
    if variable == "wind_direction_10m":
        return "°"
    return "%" if "humidity" in variable or "probability" in variable else "wmo code"


def _temperature(celsius: float, units: Mapping[str, str]) -> float:
    value = celsius * 9 / 5 + 32 if units["temperature"] == "fahrenheit" else celsius
    return round(value, 1)


def _wind(kmh: float, units: Mapping[str, str]) -> float:
    return round(kmh / 1.609344 if units["wind"] == "mph" else kmh, 1)


def _rain(mm: float, units: Mapping[str, str]) -> float:
    return round(mm / 25.4 if units["precipitation"] == "inch" else mm, 3)


def _current_value(variable: str, base: float, seed: int, units: Mapping[str, str]) -> Any:
    values: dict[str, Any] = {
        "temperature_2m": _temperature(base, units),
        "apparent_temperature": _temperature(base - 2, units),
        "relative_humidity_2m": 40 + seed % 50,
        "precipitation": _rain(0.0 if seed % 3 else 0.4, units),
        "weather_code": _CODES[seed % len(_CODES)],
        "wind_speed_10m": _wind(5.0 + seed % 20, units),
        "wind_direction_10m": (seed * 37) % 360,
        "is_day": 1,
    }
    return values[variable]


def _daily_value(variable: str, base: float, seed: int, units: Mapping[str, str]) -> Any:
    values: dict[str, Any] = {
        "weather_code": _CODES[seed % len(_CODES)],
        "temperature_2m_max": _temperature(base + 4 + seed % 3, units),
        "temperature_2m_min": _temperature(base - 5 - seed % 2, units),
        "precipitation_sum": _rain(float(seed % 4) * 1.5, units),
        "precipitation_probability_max": (seed * 13) % 100,
        "wind_speed_10m_max": _wind(12.0 + seed % 15, units),
    }
    return values[variable]
