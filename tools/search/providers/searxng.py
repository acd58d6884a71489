"""SearxNG: a self-hosted metasearch engine queried through its JSON API (``format=json``)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import aiohttp

from tools.search.providers.base import Freshness, SearchHit, SearchProviderError, hits_from_rows
from tools.search.providers.http import ApiRequest, request_json

SAFESEARCH_LEVELS: Mapping[str, str] = MappingProxyType(
    {"off": "0", "moderate": "1", "strict": "2"}
)
_HINTS: Mapping[int, str] = MappingProxyType(
    {
        403: "the instance does not allow its JSON API; the bot owner must add 'json' to "
        "search.formats in the instance's settings.yml.",
    }
)


class SearxngProvider:
    """Searches through a SearxNG instance.

    Args:
        base_url: The instance's root URL, e.g. ``http://searxng:8080``.
        session: Shared aiohttp session (None: one per search).
        timeout_s: Time allowed per search.
        safesearch: "off", "moderate" or "strict".
        language: A SearxNG language code (e.g. "en"), or None for the instance default.
    """

    name = "SearxNG"

    def __init__(
        self,
        base_url: str,
        *,
        session: aiohttp.ClientSession | None,
        timeout_s: float,
        safesearch: str = "moderate",
        language: str | None = None,
    ) -> None:
        self._endpoint = base_url.rstrip("/") + "/search"
        self._session = session
        self._timeout_s = timeout_s
        self._safesearch = SAFESEARCH_LEVELS.get(safesearch, "1")
        self._language = language

    async def search(
        self, query: str, n: int, *, freshness: Freshness | None = None
    ) -> list[SearchHit]:
        """Up to ``n`` results from the instance's first page."""
        params = {"q": query, "format": "json", "pageno": "1", "safesearch": self._safesearch}
        if freshness is not None:
            params["time_range"] = freshness
        if self._language:
            params["language"] = self._language
        data = await request_json(
            self._session,
            ApiRequest("GET", self._endpoint, params=params),
            service=self.name,
            timeout_s=self._timeout_s,
            status_hints=_HINTS,
        )
        hits = hits_from_rows(_rows(data), title_key="title", url_key="url", snippet_key="content")
        return hits[:n]


def _rows(data: Any) -> list[Any]:
    rows = data.get("results") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise SearchProviderError(
            "SearxNG sent a response without a results list; the bot owner should check "
            "searxng_url points at a SearxNG instance."
        )
    return rows
