"""SafeFetcher: GET a URL chosen by a model or a user without letting it reach inside.

Each hop (the first URL and every redirect target) is checked: scheme, credentials, port,
host name; the fetcher resolves the name itself, refuses it if ANY address is in a denied
range, and connects to the checked IP literal (Host header and TLS server name keep the name),
so DNS rebinding between check and connect cannot happen. Body size, total time and content
type are capped and compressed bodies are inflated under the same size cap.
"""

from __future__ import annotations

import asyncio
import codecs
import fnmatch
import json
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from tools.net.addresses import IPAddress
from tools.net.body import ACCEPT_ENCODING, read_body
from tools.net.connections import ConnectionLog, make_session
from tools.net.errors import FetchDenied, FetchError, FetchFailed
from tools.net.policy import FetchPolicy
from tools.net.resolver import Resolver, SystemResolver, resolve_checked
from tools.net.urls import Target, check_url

logger = logging.getLogger("toolcord.tools.net")

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
JSON_TYPES = ("application/json", "application/*+json", "text/json")
MAX_ADDRESS_ATTEMPTS = 3
_NEVER_FORWARDED = frozenset(
    {"host", "accept-encoding", "content-length", "transfer-encoding", "connection", "cookie"}
)
_CROSS_ORIGIN_HEADERS = frozenset({"accept", "accept-language", "user-agent"})


@dataclass(frozen=True)
class FetchResult:
    """A fetched response.

    Attributes:
        url: The URL asked for (without fragment).
        final_url: The URL that answered, after redirects.
        status: HTTP status (2xx).
        content_type: Media type, lower case without parameters (e.g. ``text/html``).
        body: The decoded body, at most ``max_bytes`` long.
        truncated: True when the body was longer and was cut at ``max_bytes``.
        charset: The charset parameter of Content-Type, if any.
    """

    url: str
    final_url: str
    status: int
    content_type: str
    body: bytes
    truncated: bool
    charset: str | None = None

    def text(self) -> str:
        """The body as text (declared charset, else UTF-8; undecodable bytes replaced)."""
        encoding = self.charset or "utf-8"
        try:
            codecs.lookup(encoding)
        except LookupError:
            encoding = "utf-8"
        return self.body.decode(encoding, errors="replace")


class SafeFetcher:
    """GETs URLs under a deny-by-default :class:`FetchPolicy`.

    Args:
        session: An aiohttp session to send requests with. Default: the fetcher's own session,
            which also refuses every name lookup and re-checks each socket address (recorded in
            :attr:`connections`). With a shared session requests still go to checked IP
            literals, but no socket-level record is kept.
        policy: What may be reached and the default limits.
        resolver: Resolves host names (default: the system resolver); tests inject a fake.
        connections: Where the own session records its connects (default: a new log).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        policy: FetchPolicy | None = None,
        resolver: Resolver | None = None,
        connections: ConnectionLog | None = None,
    ) -> None:
        self.policy = policy or FetchPolicy()
        self.connections = connections if connections is not None else ConnectionLog()
        self._resolver: Resolver = resolver or SystemResolver()
        self._shared_session = session
        self._own_session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SafeFetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the fetcher's own session (a shared session is left open)."""
        if self._own_session is not None:
            await self._own_session.close()
            self._own_session = None

    async def get(
        self,
        url: str | URL,
        *,
        accept: Collection[str],
        max_bytes: int | None = None,
        timeout_s: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> FetchResult:
        """GET ``url``, following up to ``policy.max_redirects`` checked redirects.

        Args:
            url: An absolute http(s) URL.
            accept: Media types accepted, with ``*`` wildcards (``text/*``, ``*/*``,
                ``application/*+json``); any other type is refused before the body is read.
            max_bytes: Most decoded body bytes kept (default: the policy's); longer bodies are
                cut and flagged ``truncated``.
            timeout_s: Time allowed for everything, redirects included (default: the policy's).
            headers: Extra request headers; only Accept, Accept-Language and User-Agent follow a
                redirect to another origin.

        Raises:
            FetchDenied: The URL, a redirect target or a resolved address is not allowed.
            FetchFailed: Unreachable, HTTP error, wrong content type, too slow, bad body.
            ValueError: If ``accept`` is empty (a bug in the calling tool).
        """
        if not accept:
            raise ValueError("SafeFetcher.get needs the accepted media types, e.g. ('*/*',).")
        limit = max_bytes or self.policy.max_bytes
        seconds = timeout_s or self.policy.timeout_s
        try:
            async with asyncio.timeout(seconds):
                return await self._follow(url, tuple(accept), limit, headers or {})
        except TimeoutError:
            raise FetchFailed(f"the page did not finish loading within {seconds:g} s") from None
        except FetchError as error:
            logger.info("fetch of %s failed: %s %s", _loggable(url), error.reason, error.detail)
            raise

    async def get_json(
        self,
        url: str | URL,
        *,
        max_bytes: int | None = None,
        timeout_s: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """GET ``url`` and parse its JSON body (see :meth:`get`).

        Raises:
            FetchDenied: As :meth:`get`.
            FetchFailed: As :meth:`get`, and for a body that is too large or not JSON.
        """
        result = await self.get(
            url, accept=JSON_TYPES, max_bytes=max_bytes, timeout_s=timeout_s, headers=headers
        )
        if result.truncated:
            raise FetchFailed(f"the JSON response is larger than {len(result.body)} bytes")
        try:
            return json.loads(result.body)
        except (ValueError, UnicodeDecodeError):
            raise FetchFailed("the response is not valid JSON") from None

    # ------------------------------------------------------------------ hops

    async def _follow(
        self, url: str | URL, accept: tuple[str, ...], max_bytes: int, headers: Mapping[str, str]
    ) -> FetchResult:
        first = check_url(url, self.policy)
        target = first
        for _hop in range(self.policy.max_redirects + 1):
            addresses = await resolve_checked(self._resolver, target, self.policy)
            hop_headers = self._headers(headers, accept, first, target)
            outcome = await self._request(target, addresses, hop_headers, accept, max_bytes)
            if isinstance(outcome, FetchResult):
                return replace(outcome, url=str(first.url))
            target = check_url(outcome, self.policy)
        raise FetchFailed(f"the page redirected more than {self.policy.max_redirects} times")

    def _headers(
        self,
        caller: Mapping[str, str],
        accept: tuple[str, ...],
        first: Target,
        current: Target,
    ) -> CIMultiDict[str]:
        headers: CIMultiDict[str] = CIMultiDict()
        headers["User-Agent"] = self.policy.user_agent
        headers["Accept"] = ", ".join(accept)
        for name, value in caller.items():
            lowered = name.lower()
            if lowered in _NEVER_FORWARDED:
                continue
            if current.origin != first.origin and lowered not in _CROSS_ORIGIN_HEADERS:
                continue
            headers[name] = value
        headers["Accept-Encoding"] = ACCEPT_ENCODING
        headers["Host"] = current.host_header()
        return headers

    async def _request(
        self,
        target: Target,
        addresses: tuple[IPAddress, ...],
        headers: CIMultiDict[str],
        accept: tuple[str, ...],
        max_bytes: int,
    ) -> FetchResult | URL:
        last_error: Exception | None = None
        for address in addresses[:MAX_ADDRESS_ATTEMPTS]:
            try:
                return await self._request_address(target, address, headers, accept, max_bytes)
            except aiohttp.ClientConnectorError as error:
                last_error = error
        raise FetchFailed("the server could not be reached", detail=repr(last_error))

    async def _request_address(
        self,
        target: Target,
        address: IPAddress,
        headers: CIMultiDict[str],
        accept: tuple[str, ...],
        max_bytes: int,
    ) -> FetchResult | URL:
        server_name = target.host if target.is_https and target.ip is None else None
        try:
            async with self._session().get(
                target.url_for(address),
                headers=headers,
                allow_redirects=False,
                auto_decompress=False,
                server_hostname=server_name,
            ) as response:
                return await _handle(target, response, accept, max_bytes)
        except aiohttp.ClientConnectorError:
            raise
        except aiohttp.ClientError as error:
            raise FetchFailed(
                "the connection to the server broke or it sent a malformed response",
                detail=repr(error),
            ) from None

    def _session(self) -> aiohttp.ClientSession:
        if self._shared_session is not None:
            return self._shared_session
        if self._own_session is None or self._own_session.closed:
            self._own_session = make_session(self.policy, self.connections)
        return self._own_session


async def _handle(
    target: Target, response: aiohttp.ClientResponse, accept: tuple[str, ...], max_bytes: int
) -> FetchResult | URL:
    status = response.status
    if status in REDIRECT_STATUSES:
        return _redirect_target(target, response.headers.get("Location", ""))
    if status >= 400:
        raise FetchFailed(f"the server answered with HTTP {status}", status=status)
    if not 200 <= status < 300:
        raise FetchFailed(f"the server answered with an unexpected HTTP {status}", status=status)
    media_type, charset = parse_content_type(response.headers.get("Content-Type", ""))
    if not media_type_accepted(media_type, accept):
        raise FetchFailed(
            f"the page is {media_type or 'of an unknown type'}, not one of: {', '.join(accept)}"
        )
    encoding = response.headers.get("Content-Encoding", "")
    body = await read_body(response.content, content_encoding=encoding, max_bytes=max_bytes)
    return FetchResult(
        url="",
        final_url=str(target.url),
        status=status,
        content_type=media_type,
        body=body.data,
        truncated=body.truncated,
        charset=charset,
    )


def _redirect_target(target: Target, location: str) -> URL:
    if not location.strip():
        raise FetchFailed("the server sent a redirect without a target")
    try:
        return target.url.join(URL(location.strip()))
    except (ValueError, TypeError):
        raise FetchDenied("the server redirected to an invalid address") from None


def _loggable(url: str | URL) -> str:
    """``url`` without query or fragment (they may carry keys) for the logs."""
    try:
        return str(URL(str(url)).with_query(None).with_fragment(None))[:300]
    except (ValueError, TypeError):
        return "(unparsable URL)"


def parse_content_type(header: str) -> tuple[str, str | None]:
    """(media type in lower case, charset or None) from a Content-Type header."""
    media_type, *parameters = header.split(";")
    charset = None
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'").lower()
    return media_type.strip().lower(), charset


def media_type_accepted(media_type: str, accept: Collection[str]) -> bool:
    """True when ``media_type`` matches one of ``accept`` (``*`` wildcards allowed)."""
    if not media_type:
        return "*/*" in accept
    return any(fnmatch.fnmatchcase(media_type, pattern.lower()) for pattern in accept)
