"""The provider protocol and what every search provider returns."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

Freshness = Literal["day", "week", "month", "year"]


@dataclass(frozen=True)
class SearchHit:
    """One search result as the provider gave it (not yet trimmed or checked).

    Attributes:
        title: The result's title.
        url: The result's URL.
        snippet: The provider's excerpt or description.
    """

    title: str
    url: str
    snippet: str


class SearchProviderError(Exception):
    """A provider failed; the message is model-safe and says who must act.

    Args:
        message: E.g. "Brave Search rejected the bot's API key (HTTP 401); the bot owner must
            check the brave_api_key setting."
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@runtime_checkable
class SearchProvider(Protocol):
    """A web search backend."""

    name: str
    """Short name used in messages, e.g. "SearxNG"."""

    async def search(
        self, query: str, n: int, *, freshness: Freshness | None = None
    ) -> list[SearchHit]:
        """Up to ``n`` results for ``query``, newest within ``freshness`` if given.

        Raises:
            SearchProviderError: With a model-safe message.
        """
        ...


def hits_from_rows(
    rows: Iterable[Any], *, title_key: str, url_key: str, snippet_key: str
) -> list[SearchHit]:
    """SearchHits from a provider's JSON rows; rows without a string URL are skipped."""
    hits: list[SearchHit] = []
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get(url_key), str):
            continue
        hits.append(
            SearchHit(
                title=_text(row.get(title_key)),
                url=row[url_key],
                snippet=_text(row.get(snippet_key)),
            )
        )
    return hits


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
