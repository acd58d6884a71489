"""Loopback fakes of the web search providers: SearxNG, Brave Search, Tavily, and ddgs.

:class:`FakeSearch` is one aiohttp server on 127.0.0.1 that answers like a SearxNG instance
(``GET /search?format=json``), the Brave web search API (``GET /res/v1/web/search`` with an
``X-Subscription-Token``) and the Tavily API (``POST /search`` with a bearer key). Point the
provider's base URL at :attr:`FakeSearch.base_url`. It records every request and can be
switched to fail (HTTP status, slow, not JSON, wrong shape). :class:`FakeDDGS` stands in for
``ddgs.DDGS``, whose endpoints cannot be redirected to loopback::

    async with FakeSearch() as fake:
        provider = SearxngProvider(fake.base_url, session=None, timeout_s=5)
        fake.hits = [FakeHit("Title", "https://example.org/", "Snippet")]
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

Behavior = Literal["ok", "error", "slow", "not-json", "wrong-shape"]
FAKE_BRAVE_KEY = "fake-brave-key"
FAKE_TAVILY_KEY = "tvly-fake-key"


@dataclass(frozen=True)
class FakeHit:
    """A result the fakes return."""

    title: str
    url: str
    snippet: str


DEFAULT_HITS: tuple[FakeHit, ...] = (
    FakeHit("Python (language)", "https://en.wikipedia.org/wiki/Python", "A language."),
    FakeHit("Welcome to Python.org", "https://www.python.org/", "The official home of Python."),
    FakeHit("Python tutorial", "https://docs.python.org/3/tutorial/", "An informal introduction."),
)


@dataclass(frozen=True)
class SearchRequest:
    """A request a fake provider received (``api``: "searxng", "brave" or "tavily")."""

    api: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: Any


class FakeSearch:
    """SearxNG, Brave and Tavily APIs on one loopback server.

    Args:
        hits: The results every API returns (change :attr:`hits` at any time).
        brave_key: The subscription token the Brave API accepts.
        tavily_key: The bearer key the Tavily API accepts.
        searxng_json: False makes SearxNG refuse ``format=json`` with 403, like a default
            instance.
    """

    def __init__(
        self,
        hits: Sequence[FakeHit] = DEFAULT_HITS,
        *,
        brave_key: str = FAKE_BRAVE_KEY,
        tavily_key: str = FAKE_TAVILY_KEY,
        searxng_json: bool = True,
    ) -> None:
        self.hits = list(hits)
        self.requests: list[SearchRequest] = []
        self.brave_key = brave_key
        self.tavily_key = tavily_key
        self.searxng_json = searxng_json
        self._behavior: Behavior = "ok"
        self._status = 500
        self._delay_s = 30.0
        self._runner: web.AppRunner | None = None
        self._port = 0

    @property
    def base_url(self) -> str:
        """Root URL of the fake, e.g. ``http://127.0.0.1:8123``."""
        return f"http://127.0.0.1:{self._port}"

    def set_behavior(self, behavior: Behavior, *, status: int = 500, delay_s: float = 30) -> None:
        """Make every API fail: "error" (HTTP ``status``), "slow" (answer after ``delay_s``),
        "not-json", "wrong-shape" (JSON without the results list); "ok" restores."""
        self._behavior, self._status, self._delay_s = behavior, status, delay_s

    def requests_to(self, api: str) -> list[SearchRequest]:
        """The recorded requests to one API."""
        return [request for request in self.requests if request.api == api]

    async def start(self) -> None:
        """Listen on 127.0.0.1 and a free port."""
        app = web.Application()
        app.router.add_get("/search", self._searxng)
        app.router.add_post("/search", self._tavily)
        app.router.add_get("/res/v1/web/search", self._brave)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSearch:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ APIs

    async def _searxng(self, request: web.Request) -> web.StreamResponse:
        self._record("searxng", request, None)
        if not self.searxng_json or request.query.get("format") != "json":
            return web.Response(status=403, text="403 Forbidden")
        results = [
            {"url": h.url, "title": h.title, "content": h.snippet, "engine": "fake", "score": 1.0}
            for h in self.hits
        ]
        query = request.query.get("q", "")
        payload = {"query": query, "number_of_results": len(results), "results": results}
        return await self._answer(payload, "results")

    async def _brave(self, request: web.Request) -> web.StreamResponse:
        self._record("brave", request, None)
        if request.headers.get("X-Subscription-Token") != self.brave_key:
            error = {"code": "SUBSCRIPTION_TOKEN_INVALID", "status": 422}
            return web.json_response({"type": "ErrorResponse", "error": error}, status=422)
        count = int(request.query.get("count", "20"))
        results = [
            {"type": "search_result", "title": h.title, "url": h.url, "description": h.snippet}
            for h in self.hits[:count]
        ]
        payload: dict[str, Any] = {"type": "search", "query": {"original": request.query["q"]}}
        if results:
            payload["web"] = {"type": "search", "results": results}
        return await self._answer(payload, "web")

    async def _tavily(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self._record("tavily", request, body)
        if request.headers.get("Authorization") != f"Bearer {self.tavily_key}":
            return web.json_response({"detail": {"error": "Unauthorized"}}, status=401)
        count = int(body.get("max_results", 5))
        results = [
            {"title": h.title, "url": h.url, "content": h.snippet, "score": 0.9}
            for h in self.hits[:count]
        ]
        payload = {"query": body.get("query"), "results": results, "response_time": 0.01}
        return await self._answer(payload, "results")

    def _record(self, api: str, request: web.Request, body: Any) -> None:
        self.requests.append(SearchRequest(api, dict(request.query), dict(request.headers), body))

    async def _answer(self, payload: dict[str, Any], results_key: str) -> web.StreamResponse:
        if self._behavior == "slow":
            await asyncio.sleep(self._delay_s)
        if self._behavior == "error":
            return web.Response(status=self._status, text="upstream failure")
        if self._behavior == "not-json":
            return web.Response(text="<html>maintenance</html>", content_type="application/json")
        if self._behavior == "wrong-shape":
            payload = {key: value for key, value in payload.items() if key != results_key}
            payload[results_key] = "oops"
        return web.json_response(payload)


class FakeDDGS:
    """Stands in for ``ddgs.DDGS``: ``text()`` returns :attr:`hits` as ddgs-shaped dicts.

    Args:
        hits: The results returned.
        error: Raised by ``text()`` instead of answering, if set.
        hang: ``text()`` blocks until :meth:`release` (at most 10 s), to test time-outs.
    """

    def __init__(
        self,
        hits: Sequence[FakeHit] = DEFAULT_HITS,
        *,
        error: Exception | None = None,
        hang: bool = False,
    ) -> None:
        self.hits = list(hits)
        self.error = error
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._hang = hang
        self._released = threading.Event()

    def release(self) -> None:
        """Let a hanging ``text()`` return."""
        self._released.set()

    def text(self, query: str, **kwargs: Any) -> list[dict[str, Any]]:
        """ddgs' text search, answered from :attr:`hits`."""
        self.calls.append((query, dict(kwargs)))
        if self._hang:
            self._released.wait(10)
        if self.error is not None:
            raise self.error
        limit = kwargs.get("max_results") or len(self.hits)
        return [{"title": h.title, "href": h.url, "body": h.snippet} for h in self.hits[:limit]]
