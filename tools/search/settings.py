"""The ``search`` tool family's settings (``[tools.config.search]``).

Secrets only from the environment: ``TOOLCORD_TOOLS__CONFIG__SEARCH__BRAVE_API_KEY`` and
``TOOLCORD_TOOLS__CONFIG__SEARCH__TAVILY_API_KEY``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, ValidationError

from tools.errors import ToolFailed

ProviderName = Literal["duckduckgo", "searxng", "brave", "tavily"]


class SearchSettings(BaseModel):
    """Settings of ``web_search`` and ``fetch_page``.

    Attributes:
        provider: "duckduckgo" (default, via ddgs, no key), "searxng", "brave" or "tavily".
        max_results: Most results per search; caps the max_results the model asks for.
        timeout_s: Time allowed per search.
        safesearch: "off", "moderate" or "strict".
        searxng_url: Root URL of the SearxNG instance (provider "searxng").
        searxng_language: SearxNG language code, or None for the instance default.
        brave_api_key: Brave Search subscription token (provider "brave"; env only).
        brave_url: Brave API root.
        tavily_api_key: Tavily API key (provider "tavily"; env only).
        tavily_url: Tavily API root.
        ddgs_region: ddgs region ("wt-wt" = none).
        ddgs_backend: ddgs backend(s), e.g. "duckduckgo" or "auto".
        ddgs_proxy: Optional proxy URL for ddgs.
        fetch_max_bytes: Most bytes ``fetch_page`` downloads.
        fetch_timeout_s: Time allowed per page fetch.
        fetch_max_chars: Most characters of page text given to the model.
        fetch_allow_networks: Networks ``fetch_page`` may reach although private (CIDR).
        fetch_allow_ports: Ports ``fetch_page`` may use besides 80 and 443.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    provider: ProviderName = "duckduckgo"
    max_results: int = Field(10, ge=1, le=10)
    timeout_s: float = Field(10.0, gt=0, le=25)
    safesearch: Literal["off", "moderate", "strict"] = "moderate"
    searxng_url: HttpUrl | None = None
    searxng_language: str | None = None
    brave_api_key: SecretStr | None = None
    brave_url: HttpUrl = HttpUrl("https://api.search.brave.com")
    tavily_api_key: SecretStr | None = None
    tavily_url: HttpUrl = HttpUrl("https://api.tavily.com")
    ddgs_region: str = "wt-wt"
    ddgs_backend: str = "duckduckgo"
    ddgs_proxy: str | None = None
    fetch_max_bytes: int = Field(1_000_000, ge=1_000, le=10_000_000)
    fetch_timeout_s: float = Field(10.0, gt=0, le=25)
    fetch_max_chars: int = Field(8_000, ge=500, le=15_000)
    fetch_allow_networks: tuple[str, ...] = ()
    fetch_allow_ports: tuple[int, ...] = ()


def load_settings(config: Mapping[str, Any]) -> SearchSettings:
    """The family's settings from ``ctx.config``.

    Raises:
        ToolFailed: Naming the bad setting, for the bot owner to fix.
    """
    try:
        return SearchSettings.model_validate(dict(config))
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
            for item in error.errors()
        )
        raise ToolFailed(
            f"Web search is misconfigured ({problems}); the bot owner must fix "
            "[tools.config.search]. Tell the user web search is unavailable."
        ) from None
