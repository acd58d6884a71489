"""The ``search`` tool family: ``web_search`` and ``fetch_page``.

Load it with ``tools.modules = ["tools.search"]``; settings live under
``[tools.config.search]`` (see :class:`tools.search.settings.SearchSettings`).
"""

from tools.search.providers import SearchHit, SearchProvider, SearchProviderError
from tools.search.settings import SearchSettings
from tools.search.tool import fetch_page, web_search

__all__ = [
    "SearchHit",
    "SearchProvider",
    "SearchProviderError",
    "SearchSettings",
    "fetch_page",
    "web_search",
]
