"""DuckDuckGo (and other engines) through the ``ddgs`` library; no API key needed.

``ddgs`` is synchronous and opens its own connections (the Rust ``primp`` client), so searches
run in a worker thread under a time limit. Its endpoints cannot be pointed at a loopback fake,
so tests inject a fake client through ``client_factory``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Protocol

from tools.search.providers.base import Freshness, SearchHit, SearchProviderError, hits_from_rows

logger = logging.getLogger("toolcord.tools.search")


class DdgsClient(Protocol):
    """The part of ``ddgs.DDGS`` the adapter uses."""

    def text(self, query: str, **kwargs: Any) -> list[dict[str, Any]]:
        """Text search results: dicts with ``title``, ``href`` and ``body``."""
        ...


DdgsFactory = Callable[[], DdgsClient]


def default_factory(*, timeout_s: float, proxy: str | None) -> DdgsFactory:
    """Makes real ``ddgs.DDGS`` clients (imported on first use)."""

    def make() -> DdgsClient:
        from ddgs import DDGS

        return DDGS(proxy=proxy, timeout=max(1, round(timeout_s)))

    return make


class DdgsProvider:
    """Searches with the ``ddgs`` metasearch library.

    Args:
        timeout_s: Time allowed per search (the worker thread also gets it as its own limit).
        region: ddgs region, e.g. "us-en" or "wt-wt" (no region).
        safesearch: "off", "moderate" or "strict".
        backend: ddgs backend(s), e.g. "duckduckgo" or "auto".
        proxy: Optional proxy URL for ddgs.
        client_factory: Makes the client; tests inject a fake.
    """

    name = "DuckDuckGo"

    def __init__(
        self,
        *,
        timeout_s: float,
        region: str = "wt-wt",
        safesearch: str = "moderate",
        backend: str = "duckduckgo",
        proxy: str | None = None,
        client_factory: DdgsFactory | None = None,
    ) -> None:
        self._timeout_s = timeout_s
        self._options = {"region": region, "safesearch": safesearch, "backend": backend}
        self._factory = client_factory or default_factory(timeout_s=timeout_s, proxy=proxy)

    async def search(
        self, query: str, n: int, *, freshness: Freshness | None = None
    ) -> list[SearchHit]:
        """Up to ``n`` text results; an empty list when ddgs finds nothing."""
        options: dict[str, Any] = {**self._options, "max_results": n}
        if freshness is not None:
            options["timelimit"] = freshness[0]

        def run() -> list[dict[str, Any]]:
            return self._factory().text(query, **options)

        try:
            rows = await asyncio.wait_for(asyncio.to_thread(run), self._timeout_s)
        except TimeoutError:
            raise SearchProviderError(
                f"{self.name} did not answer within {self._timeout_s:g} s; tell the user web "
                "search is slow right now and to try again later."
            ) from None
        except Exception as error:
            return _empty_or_raise(error, self.name)
        if not isinstance(rows, list):
            raise SearchProviderError(f"{self.name} search returned something unexpected.")
        return hits_from_rows(rows, title_key="title", url_key="href", snippet_key="body")[:n]


def _empty_or_raise(error: Exception, name: str) -> list[SearchHit]:
    kinds = {cls.__name__ for cls in type(error).__mro__}
    if "No results found" in str(error) and "DDGSException" in kinds:
        return []
    logger.warning("ddgs search failed: %s: %s", type(error).__name__, error)
    if "TimeoutException" in kinds:
        raise SearchProviderError(
            f"{name} did not answer in time; tell the user web search is slow right now."
        ) from None
    if "RatelimitException" in kinds:
        raise SearchProviderError(
            f"{name} is limiting how often the bot may search; tell the user to try again in "
            "a while."
        ) from None
    raise SearchProviderError(
        f"{name} search failed; tell the user web search is unavailable right now."
    ) from None
