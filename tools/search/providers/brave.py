"""Brave Search API (web search endpoint), authenticated with an API key.

The key comes from the ``brave_api_key`` setting; keep it out of config files and set the
environment variable ``TOOLCORD_TOOLS__CONFIG__SEARCH__BRAVE_API_KEY`` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import aiohttp

from tools.search.providers.base import Freshness, SearchHit, SearchProviderError, hits_from_rows
from tools.search.providers.http import ApiRequest, request_json

DEFAULT_BASE_URL = "https://api.search.brave.com"
KEY_ENV = "TOOLCORD_TOOLS__CONFIG__SEARCH__BRAVE_API_KEY"
MAX_COUNT = 20
FRESHNESS_CODES: Mapping[str, str] = MappingProxyType(
    {"day": "pd", "week": "pw", "month": "pm", "year": "py"}
)
_KEY_HINT = f"the bot's API key was rejected; the bot owner must check {KEY_ENV}."
_HINTS: Mapping[int, str] = MappingProxyType({401: _KEY_HINT, 403: _KEY_HINT, 422: _KEY_HINT})


class BraveProvider:
    """Searches with the Brave Search API.

    Args:
        api_key: The subscription token.
        session: Shared aiohttp session (None: one per search).
        timeout_s: Time allowed per search.
        base_url: API root (tests point it at a loopback fake).
        safesearch: "off", "moderate" or "strict".
    """

    name = "Brave Search"

    def __init__(
        self,
        api_key: str,
        *,
        session: aiohttp.ClientSession | None,
        timeout_s: float,
        base_url: str = DEFAULT_BASE_URL,
        safesearch: str = "moderate",
    ) -> None:
        self._api_key = api_key
        self._endpoint = base_url.rstrip("/") + "/res/v1/web/search"
        self._session = session
        self._timeout_s = timeout_s
        self._safesearch = safesearch

    def __repr__(self) -> str:
        return f"BraveProvider(endpoint={self._endpoint!r}, api_key=<hidden>)"

    async def search(
        self, query: str, n: int, *, freshness: Freshness | None = None
    ) -> list[SearchHit]:
        """Up to ``n`` web results."""
        params = {
            "q": query,
            "count": str(min(n, MAX_COUNT)),
            "safesearch": self._safesearch,
            "text_decorations": "false",
        }
        if freshness is not None:
            params["freshness"] = FRESHNESS_CODES[freshness]
        headers = {"X-Subscription-Token": self._api_key, "Accept": "application/json"}
        data = await request_json(
            self._session,
            ApiRequest("GET", self._endpoint, params=params, headers=headers),
            service=self.name,
            timeout_s=self._timeout_s,
            status_hints=_HINTS,
        )
        return hits_from_rows(
            _rows(data), title_key="title", url_key="url", snippet_key="description"
        )[:n]


def _rows(data: Any) -> list[Any]:
    if not isinstance(data, dict):
        raise SearchProviderError("Brave Search sent an unexpected response.")
    web = data.get("web")
    if web is None:
        return []
    rows = web.get("results") if isinstance(web, dict) else None
    if not isinstance(rows, list):
        raise SearchProviderError("Brave Search sent an unexpected response.")
    return rows
