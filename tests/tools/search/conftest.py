"""Fixtures for the search tool tests: fake providers, a fake web site, tool contexts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.testing.fakes.search import FakeSearch
from bot.testing.fakes.web import FakeWeb
from tools import ToolContext
from tools.deps import ToolDeps

SearchContextFactory = Callable[..., ToolContext]


@pytest.fixture
async def fake_search() -> AsyncIterator[FakeSearch]:
    """Running fake SearxNG / Brave / Tavily APIs on 127.0.0.1."""
    async with FakeSearch() as server:
        yield server


@pytest.fixture
async def page_site() -> AsyncIterator[FakeWeb]:
    """A running fake web site for fetch_page."""
    async with FakeWeb() as site:
        yield site


@pytest.fixture
def search_ctx() -> SearchContextFactory:
    """A ToolContext whose ``search`` family settings are the given keywords."""

    def build(services: dict[str, Any] | None = None, **config: Any) -> ToolContext:
        return ToolContext(
            user_id=1001,
            user_name="alice",
            channel_id=2002,
            guild_id=3003,
            config=config,
            tool_settings={"search": config},
            deps=ToolDeps(**(services or {})),
        )

    return build
