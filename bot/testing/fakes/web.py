"""A loopback fake web site and a fake resolver, for testing fetchers against hostile servers.

:class:`FakeWeb` serves, on 127.0.0.1, the pages a fetcher must survive: redirect chains,
redirects to any address, huge and endless bodies, slow headers, trickling bodies, a gzip bomb,
HTML / JSON / wrong content types and error statuses. It records every request (path and Host
header). :class:`FakeResolver` answers host names from a table (a list of answers per name
gives DNS rebinding: one answer per lookup, the last one repeating) and records every lookup::

    async with FakeWeb() as site:
        resolver = FakeResolver({"site.test": ["127.0.0.1"]})
        policy = FetchPolicy(allow_networks=("127.0.0.1/32",), allow_ports=(site.port,))
        async with SafeFetcher(policy=policy, resolver=resolver) as fetcher:
            page = await fetcher.get(site.url("/page", host="site.test"), accept=("text/html",))
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import ipaddress
import json
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from aiohttp import web

HTML_PAGE = (
    "<!doctype html><html><head><title>Fake page</title>"
    "<style>body { color: red }</style><script>var secret = 1;</script></head>"
    "<body><h1>Hello from the fake web</h1><p>First paragraph.</p>"
    "<p>Second &amp; last paragraph.</p></body></html>"
)
HUGE_DEFAULT_BYTES = 10 * 1024 * 1024
BOMB_DECODED_BYTES = 64 * 1024 * 1024
_CHUNK = b"x" * 65536
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class WebRequest:
    """A request the fake web site received."""

    path: str
    query: Mapping[str, str]
    host_header: str
    headers: Mapping[str, str]


@dataclass(frozen=True)
class FakePage:
    """A page registered with :meth:`FakeWeb.add_page`."""

    body: bytes
    content_type: str | None
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


class FakeWeb:
    """A hostile-but-scriptable web site on 127.0.0.1 (random port).

    Routes: ``/page`` (HTML), ``/json``, ``/text``, ``/gzip`` (gzip HTML), ``/redirect/{n}``
    (a chain of n redirects, n >= 1, ending at /page), ``/redirect-to?location=...&status=302``,
    ``/huge?bytes=N`` (default 10 MB), ``/endless``, ``/slow?delay=S`` (headers after S s),
    ``/trickle?interval=S`` (one byte every S s, forever), ``/gzip-bomb`` (64 MB of zeros in
    ~64 KB of gzip), ``/wrong-type`` (HTML labelled application/octet-stream), ``/bad-json``,
    ``/status/{code}``, plus pages added with :meth:`add_page`.
    """

    def __init__(self) -> None:
        self.requests: list[WebRequest] = []
        self.port = 0
        self._pages: dict[str, FakePage] = {}
        self._runner: web.AppRunner | None = None
        self._bomb: bytes | None = None

    def url(self, path: str = "/", *, host: str = "127.0.0.1", scheme: str = "http") -> str:
        """An absolute URL to ``path`` on this site, naming it ``host``."""
        return f"{scheme}://{host}:{self.port}{path}"

    def add_page(
        self,
        path: str,
        body: str | bytes,
        content_type: str | None = "text/html; charset=utf-8",
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Serve ``body`` at ``path`` (exact match; takes precedence over built-in routes)."""
        data = body.encode() if isinstance(body, str) else body
        self._pages[path] = FakePage(data, content_type, status, dict(headers or {}))

    def requests_to(self, path: str) -> list[WebRequest]:
        """The recorded requests whose path is ``path``."""
        return [request for request in self.requests if request.path == path]

    async def start(self) -> None:
        """Listen on 127.0.0.1 and a free port."""
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/{tail:.*}", self._route)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        """Stop serving."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeWeb:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @web.middleware
    async def _record(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        self.requests.append(
            WebRequest(
                path=request.path,
                query=dict(request.query),
                host_header=request.headers.get("Host", ""),
                headers=dict(request.headers),
            )
        )
        return await handler(request)

    async def _route(self, request: web.Request) -> web.StreamResponse:
        page = self._pages.get(request.path)
        if page is not None:
            return await _serve_page(request, page)
        head, _, rest = request.path.strip("/").partition("/")
        if head == "redirect":
            return _redirect_chain(rest)
        if head == "status":
            return web.Response(status=int(rest or 500), text=f"status {rest}")
        handler = self._handlers().get(head)
        if handler is None:
            return web.Response(status=404, text="not found")
        return await handler(request)

    def _handlers(self) -> dict[str, _Handler]:
        return {
            "page": _html,
            "json": _json,
            "text": _text,
            "gzip": _gzip_page,
            "redirect-to": _redirect_to,
            "huge": _huge,
            "endless": _endless,
            "slow": _slow,
            "trickle": _trickle,
            "gzip-bomb": self._gzip_bomb,
            "wrong-type": _wrong_type,
            "bad-json": _bad_json,
        }

    async def _gzip_bomb(self, request: web.Request) -> web.StreamResponse:
        if self._bomb is None:
            self._bomb = gzip.compress(b"\0" * BOMB_DECODED_BYTES, compresslevel=9)
        headers = {"Content-Type": "text/html", "Content-Encoding": "gzip"}
        return web.Response(body=self._bomb, headers=headers)


async def _serve_page(request: web.Request, page: FakePage) -> web.StreamResponse:
    response = web.StreamResponse(status=page.status, headers=dict(page.headers))
    if page.content_type is not None:
        response.headers["Content-Type"] = page.content_type
    response.content_length = len(page.body)
    await response.prepare(request)
    await response.write(page.body)
    await response.write_eof()
    return response


def _redirect_chain(rest: str) -> web.StreamResponse:
    remaining = int(rest or 0)
    location = "/page" if remaining <= 1 else f"/redirect/{remaining - 1}"
    return web.Response(status=302, headers={"Location": location})


async def _html(request: web.Request) -> web.StreamResponse:
    return web.Response(text=HTML_PAGE, content_type="text/html", charset="utf-8")


async def _json(request: web.Request) -> web.StreamResponse:
    return web.json_response({"ok": True, "items": [1, 2, 3]})


async def _text(request: web.Request) -> web.StreamResponse:
    return web.Response(text="plain text body", content_type="text/plain")


async def _gzip_page(request: web.Request) -> web.StreamResponse:
    headers = {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"}
    return web.Response(body=gzip.compress(HTML_PAGE.encode()), headers=headers)


async def _redirect_to(request: web.Request) -> web.StreamResponse:
    status = int(request.query.get("status", "302"))
    return web.Response(status=status, headers={"Location": request.query.get("location", "")})


async def _huge(request: web.Request) -> web.StreamResponse:
    size = int(request.query.get("bytes", str(HUGE_DEFAULT_BYTES)))
    response = web.StreamResponse(headers={"Content-Type": "text/html"})
    response.content_length = size
    await response.prepare(request)
    with contextlib.suppress(ConnectionError):
        sent = 0
        while sent < size:
            piece = _CHUNK[: size - sent]
            await response.write(piece)
            sent += len(piece)
        await response.write_eof()
    return response


async def _endless(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/html"})
    await response.prepare(request)
    with contextlib.suppress(ConnectionError):
        while True:
            await response.write(_CHUNK)
    return response  # pragma: no cover - the loop ends by the client going away


async def _slow(request: web.Request) -> web.StreamResponse:
    await asyncio.sleep(float(request.query.get("delay", "30")))
    return web.Response(text=HTML_PAGE, content_type="text/html")


async def _trickle(request: web.Request) -> web.StreamResponse:
    interval = float(request.query.get("interval", "0.2"))
    response = web.StreamResponse(headers={"Content-Type": "text/html"})
    await response.prepare(request)
    with contextlib.suppress(ConnectionError):
        while True:
            await response.write(b"<")
            await asyncio.sleep(interval)
    return response  # pragma: no cover - the loop ends by the client going away


async def _wrong_type(request: web.Request) -> web.StreamResponse:
    return web.Response(body=HTML_PAGE.encode(), content_type="application/octet-stream")


async def _bad_json(request: web.Request) -> web.StreamResponse:
    return web.Response(text='{"ok": tru', content_type="application/json")


def json_page(value: object) -> bytes:
    """``value`` as a JSON body (for :meth:`FakeWeb.add_page`)."""
    return json.dumps(value).encode()


class FakeResolver:
    """Answers host names from a table and records every lookup.

    Args:
        answers: Host name -> addresses, or -> a list of answers (one list of addresses per
            lookup, the last repeating) to play DNS rebinding. Unknown names fail to resolve.
    """

    def __init__(self, answers: Mapping[str, Sequence[str] | Sequence[Sequence[str]]]) -> None:
        self._answers: dict[str, list[list[str]]] = {
            host.lower(): _as_rounds(value) for host, value in answers.items()
        }
        self.lookups: list[str] = []

    async def resolve(
        self, host: str, port: int
    ) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        """The next answer for ``host``; socket.gaierror for unknown names."""
        self.lookups.append(host)
        rounds = self._answers.get(host.lower())
        if not rounds:
            raise socket.gaierror(socket.EAI_NONAME, f"fake resolver: no answer for {host}")
        answer = rounds.pop(0) if len(rounds) > 1 else rounds[0]
        return [ipaddress.ip_address(address) for address in answer]


def _as_rounds(value: Sequence[str] | Sequence[Sequence[str]]) -> list[list[str]]:
    if value and not isinstance(value[0], str):
        return [list(answer) for answer in value]
    return [[str(address) for address in value]]
