"""Open-Meteo response models, place matching and wording for :mod:`tools.weather`."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, Field

STRONG_MATCH_RATIO = 0.2
"""A match is "strong" if its population is at least this share of the largest match."""

WEATHER_CODES: Mapping[int, str] = MappingProxyType(
    {
        0: "clear sky",
        1: "mainly clear",
        2: "partly cloudy",
        3: "overcast",
        45: "fog",
        48: "depositing rime fog",
        51: "light drizzle",
        53: "moderate drizzle",
        55: "dense drizzle",
        56: "light freezing drizzle",
        57: "dense freezing drizzle",
        61: "slight rain",
        63: "moderate rain",
        65: "heavy rain",
        66: "light freezing rain",
        67: "heavy freezing rain",
        71: "slight snowfall",
        73: "moderate snowfall",
        75: "heavy snowfall",
        77: "snow grains",
        80: "slight rain showers",
        81: "moderate rain showers",
        82: "violent rain showers",
        85: "slight snow showers",
        86: "heavy snow showers",
        95: "thunderstorm",
        96: "thunderstorm with slight hail",
        99: "thunderstorm with heavy hail",
    }
)

US_STATES: Mapping[str, str] = MappingProxyType(
    {
        "AL": "Alabama",
        "AK": "Alaska",
        "AZ": "Arizona",
        "AR": "Arkansas",
        "CA": "California",
        "CO": "Colorado",
        "CT": "Connecticut",
        "DE": "Delaware",
        "FL": "Florida",
        "GA": "Georgia",
        "HI": "Hawaii",
        "ID": "Idaho",
        "IL": "Illinois",
        "IN": "Indiana",
        "IA": "Iowa",
        "KS": "Kansas",
        "KY": "Kentucky",
        "LA": "Louisiana",
        "ME": "Maine",
        "MD": "Maryland",
        "MA": "Massachusetts",
        "MI": "Michigan",
        "MN": "Minnesota",
        "MS": "Mississippi",
        "MO": "Missouri",
        "MT": "Montana",
        "NE": "Nebraska",
        "NV": "Nevada",
        "NH": "New Hampshire",
        "NJ": "New Jersey",
        "NM": "New Mexico",
        "NY": "New York",
        "NC": "North Carolina",
        "ND": "North Dakota",
        "OH": "Ohio",
        "OK": "Oklahoma",
        "OR": "Oregon",
        "PA": "Pennsylvania",
        "RI": "Rhode Island",
        "SC": "South Carolina",
        "SD": "South Dakota",
        "TN": "Tennessee",
        "TX": "Texas",
        "UT": "Utah",
        "VT": "Vermont",
        "VA": "Virginia",
        "WA": "Washington",
        "WV": "West Virginia",
        "WI": "Wisconsin",
        "WY": "Wyoming",
        "DC": "District of Columbia",
    }
)

COUNTRY_ALIASES: Mapping[str, str] = MappingProxyType(
    {"usa": "us", "united states of america": "us", "america": "us", "uk": "gb", "england": "gb"}
)

COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


class Place(BaseModel):
    """One geocoding result."""

    model_config = ConfigDict(extra="ignore")

    name: str
    latitude: float
    longitude: float
    country: str | None = None
    country_code: str | None = None
    admin1: str | None = None
    admin2: str | None = None
    population: int | None = None
    timezone: str | None = None

    def label(self) -> str:
        """e.g. "Springfield, Illinois, United States"."""
        parts = [self.name, self.admin1, self.country or self.country_code]
        unique: list[str] = []
        for part in parts:
            if part and fold(part) not in {fold(seen) for seen in unique}:
                unique.append(part)
        return ", ".join(unique)


class GeocodingResponse(BaseModel):
    """Body of ``/v1/search`` (``results`` is absent when nothing matches)."""

    model_config = ConfigDict(extra="ignore")

    results: list[Place] = Field(default_factory=list)


class Current(BaseModel):
    """The ``current`` block of a forecast."""

    model_config = ConfigDict(extra="ignore")

    time: str
    temperature_2m: float | None = None
    apparent_temperature: float | None = None
    relative_humidity_2m: float | None = None
    precipitation: float | None = None
    weather_code: int | None = None
    wind_speed_10m: float | None = None
    wind_direction_10m: float | None = None


class Daily(BaseModel):
    """The ``daily`` block of a forecast: parallel lists, one entry per day."""

    model_config = ConfigDict(extra="ignore")

    time: list[str]
    weather_code: list[int | None] = Field(default_factory=list)
    temperature_2m_max: list[float | None] = Field(default_factory=list)
    temperature_2m_min: list[float | None] = Field(default_factory=list)
    precipitation_sum: list[float | None] = Field(default_factory=list)
    precipitation_probability_max: list[float | None] = Field(default_factory=list)
    wind_speed_10m_max: list[float | None] = Field(default_factory=list)


class Forecast(BaseModel):
    """Body of ``/v1/forecast``."""

    model_config = ConfigDict(extra="ignore")

    timezone: str | None = None
    current: Current | None = None
    current_units: dict[str, str] = Field(default_factory=dict)
    daily: Daily | None = None
    daily_units: dict[str, str] = Field(default_factory=dict)


def fold(text: str | None) -> str:
    """Case- and accent-insensitive form for comparisons."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def split_place(text: str) -> tuple[str, list[str]]:
    """ "Springfield, IL, US" -> ("Springfield", ["IL", "US"])."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    return (parts[0] if parts else text.strip()), parts[1:]


def matches_qualifier(place: Place, qualifier: str) -> bool:
    """Whether a region/country qualifier such as "IL", "Illinois" or "France" fits."""
    wanted = fold(qualifier)
    wanted = COUNTRY_ALIASES.get(wanted, wanted)
    known = {fold(place.country), fold(place.country_code), fold(place.admin1), fold(place.admin2)}
    if wanted and wanted in known:
        return True
    state = US_STATES.get(qualifier.strip().upper())
    in_us = fold(place.country_code) == "us"
    return in_us and state is not None and fold(state) == fold(place.admin1)


def strong_matches(name: str, places: Sequence[Place]) -> list[Place]:
    """The candidates a user could plausibly mean, most populous first."""
    exact = [p for p in places if fold(p.name) == fold(name)] or list(places)
    ranked = sorted(exact, key=lambda p: p.population or 0, reverse=True)
    top = ranked[0].population or 0
    strong = [p for p in ranked if (p.population or 0) >= STRONG_MATCH_RATIO * top]
    seen: set[tuple[str, str]] = set()
    distinct: list[Place] = []
    for place in strong:
        region = (fold(place.country_code), fold(place.admin1))
        if region not in seen:
            seen.add(region)
            distinct.append(place)
    return distinct


def describe_code(code: int | None) -> str:
    """WMO weather code -> words."""
    if code is None:
        return "conditions unknown"
    return WEATHER_CODES.get(code, f"weather code {code}")


def compass(degrees: float | None) -> str:
    """Wind direction in degrees -> an 8-point compass word."""
    if degrees is None:
        return ""
    return COMPASS[round((degrees % 360) / 45) % 8]
