"""Search providers behind the :class:`SearchProvider` protocol, and the factory choosing one."""

from __future__ import annotations

import aiohttp

from tools.search.providers.base import (
    Freshness,
    SearchHit,
    SearchProvider,
    SearchProviderError,
)
from tools.search.providers.brave import BraveProvider
from tools.search.providers.ddgs import DdgsProvider
from tools.search.providers.searxng import SearxngProvider
from tools.search.providers.tavily import TavilyProvider
from tools.search.settings import SearchSettings

__all__ = [
    "BraveProvider",
    "DdgsProvider",
    "Freshness",
    "SearchHit",
    "SearchProvider",
    "SearchProviderError",
    "SearxngProvider",
    "TavilyProvider",
    "build_provider",
]


def build_provider(
    settings: SearchSettings, session: aiohttp.ClientSession | None
) -> SearchProvider:
    """The provider ``settings.provider`` names.

    Raises:
        SearchProviderError: When the chosen provider lacks its URL or key, naming the setting.
    """
    if settings.provider == "searxng":
        if settings.searxng_url is None:
            raise _missing("searxng_url", "TOOLCORD_TOOLS__CONFIG__SEARCH__SEARXNG_URL")
        return SearxngProvider(
            str(settings.searxng_url),
            session=session,
            timeout_s=settings.timeout_s,
            safesearch=settings.safesearch,
            language=settings.searxng_language,
        )
    if settings.provider == "brave":
        if settings.brave_api_key is None:
            raise _missing("brave_api_key", "TOOLCORD_TOOLS__CONFIG__SEARCH__BRAVE_API_KEY")
        return BraveProvider(
            settings.brave_api_key.get_secret_value(),
            session=session,
            timeout_s=settings.timeout_s,
            base_url=str(settings.brave_url),
            safesearch=settings.safesearch,
        )
    if settings.provider == "tavily":
        if settings.tavily_api_key is None:
            raise _missing("tavily_api_key", "TOOLCORD_TOOLS__CONFIG__SEARCH__TAVILY_API_KEY")
        return TavilyProvider(
            settings.tavily_api_key.get_secret_value(),
            session=session,
            timeout_s=settings.timeout_s,
            base_url=str(settings.tavily_url),
        )
    return DdgsProvider(
        timeout_s=settings.timeout_s,
        region=settings.ddgs_region,
        safesearch=settings.safesearch,
        backend=settings.ddgs_backend,
        proxy=settings.ddgs_proxy,
    )


def _missing(setting: str, env: str) -> SearchProviderError:
    return SearchProviderError(
        f"Web search is not set up: the bot owner must set tools.config.search.{setting} "
        f"(environment variable {env}). Tell the user web search is unavailable."
    )
