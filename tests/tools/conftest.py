"""Fixtures for the tools framework tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest

from bot.testing.fakes import FakeOpenMeteo
from tools import Permissions, ToolContext

ContextFactory = Callable[..., ToolContext]


@pytest.fixture
def make_ctx() -> ContextFactory:
    """Build a ToolContext for a guild member (override any field by keyword)."""

    def build(**overrides: Any) -> ToolContext:
        values: dict[str, Any] = {
            "user_id": 1001,
            "user_name": "alice",
            "channel_id": 2002,
            "guild_id": 3003,
            "member_permissions": Permissions.from_names("send_messages"),
            "conversation_id": "conv-1",
            "turn_id": "turn-1",
        }
        values.update(overrides)
        return ToolContext(**values)

    return build


@pytest.fixture
async def open_meteo() -> AsyncIterator[FakeOpenMeteo]:
    """A running fake Open-Meteo on 127.0.0.1."""
    async with FakeOpenMeteo() as server:
        yield server


@pytest.fixture
async def http_session() -> AsyncIterator[aiohttp.ClientSession]:
    """A shared aiohttp session, like the bot injects."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def weather_ctx(
    make_ctx: ContextFactory, open_meteo: FakeOpenMeteo, http_session: aiohttp.ClientSession
) -> ToolContext:
    """A context whose weather settings point at the fake Open-Meteo."""
    settings = {
        "geocoding_url": open_meteo.base_url,
        "forecast_url": open_meteo.base_url,
        "http_timeout_s": 5,
    }
    return make_ctx(http=http_session, tool_settings={"weather": settings}, config=settings)
