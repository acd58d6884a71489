"""Tavily search API, authenticated with an API key (bearer token).

The key comes from the ``tavily_api_key`` setting; keep it out of config files and set the
environment variable ``TOOLCORD_TOOLS__CONFIG__SEARCH__TAVILY_API_KEY`` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import aiohttp

from tools.search.providers.base import Freshness, SearchHit, SearchProviderError, hits_from_rows
from tools.search.providers.http import ApiRequest, request_json

DEFAULT_BASE_URL = "https://api.tavily.com"
KEY_ENV = "TOOLCORD_TOOLS__CONFIG__SEARCH__TAVILY_API_KEY"
MAX_RESULTS = 20
_KEY_HINT = f"the bot's API key was rejected; the bot owner must check {KEY_ENV}."
_HINTS: Mapping[int, str] = MappingProxyType({401: _KEY_HINT, 403: _KEY_HINT})


class TavilyProvider:
    """Searches with the Tavily API.

    Args:
        api_key: The API key (``tvly-...``).
        session: Shared aiohttp session (None: one per search).
        timeout_s: Time allowed per search.
        base_url: API root (tests point it at a loopback fake).
    """

    name = "Tavily"

    def __init__(
        self,
        api_key: str,
        *,
        session: aiohttp.ClientSession | None,
        timeout_s: float,
        base_url: str = DEFAULT_BASE_URL,
    ) -> None:
        self._api_key = api_key
        self._endpoint = base_url.rstrip("/") + "/search"
        self._session = session
        self._timeout_s = timeout_s

    def __repr__(self) -> str:
        return f"TavilyProvider(endpoint={self._endpoint!r}, api_key=<hidden>)"

    async def search(
        self, query: str, n: int, *, freshness: Freshness | None = None
    ) -> list[SearchHit]:
        """Up to ``n`` results of a basic, general search."""
        body: dict[str, Any] = {
            "query": query,
            "max_results": min(n, MAX_RESULTS),
            "search_depth": "basic",
            "topic": "general",
        }
        if freshness is not None:
            body["time_range"] = freshness
        headers = {"Authorization": f"Bearer {self._api_key}"}
        data = await request_json(
            self._session,
            ApiRequest("POST", self._endpoint, json_body=body, headers=headers),
            service=self.name,
            timeout_s=self._timeout_s,
            status_hints=_HINTS,
        )
        rows = data.get("results") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise SearchProviderError("Tavily sent an unexpected response.")
        return hits_from_rows(rows, title_key="title", url_key="url", snippet_key="content")[:n]
