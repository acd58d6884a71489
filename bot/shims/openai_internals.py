"""The OpenAI SDK's internals toolcord relies on, each with its public fallback.

- ``openai._vendor.httpx_aiohttp.AiohttpTransport``: the SDK's vendored aiohttp adapter (the one
  ``openai.DefaultAioHttpClient`` is built on), used as the model client's transport. Gain:
  aiohttp's C parser instead of httpcore2's pure-Python HTTP/1.1. Measured for issue 19 with
  ``python -m tests.bench.profile_turn --turns 300`` (sequential text turns): sending and reading
  a completion (``chat_compat.send_leaving_out_refused``) took 0.51 s of the bot's 3.67 s CPU with
  the adapter and 0.95 s of 4.65 s without it, which the chat bench showed as the bot's CPU per
  sequential turn rising from 6.4 ms (four runs: 6.52, 6.43, 6.43, 6.41) to 7.1 ms (six runs:
  6.70 to 9.34) once the adapter was dropped; a first comparison of three noisy runs each had
  not shown it, and the adapter was briefly dropped. Fallback: httpx2's own
  ``AsyncHTTPTransport`` (public), same limits.
- ``AsyncOpenAI._client.event_hooks``: the HTTP client of an already built ``AsyncOpenAI``,
  reached to add request timing hooks. Fallback: none is needed when the hooks are passed as
  ``event_hooks=`` to the HTTP client the client is built with (public); when the private
  attribute is gone, :func:`add_http_event_hooks` returns False and the caller times nothing.

``tests/bot/shims/test_openai_internals.py`` fails when the installed SDK loses either.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx2

EventHook = Callable[[Any], Awaitable[None]]


def aiohttp_transport(limits: httpx2.Limits) -> httpx2.AsyncBaseTransport | None:
    """The SDK's vendored aiohttp transport with ``limits``, or None if the SDK has none."""
    try:
        from openai._vendor.httpx_aiohttp import AiohttpTransport
    except ImportError:  # an SDK without the vendored adapter
        return None
    return AiohttpTransport(trust_env=False, limits=limits)


def http_transport(limits: httpx2.Limits) -> httpx2.AsyncBaseTransport:
    """HTTP over aiohttp where the SDK vendors its adapter, else httpx2's public transport."""
    transport = aiohttp_transport(limits)
    if transport is None:
        return httpx2.AsyncHTTPTransport(trust_env=False, limits=limits)
    return transport


def add_http_event_hooks(client: Any, hooks: Mapping[str, Sequence[EventHook]]) -> bool:
    """Append ``hooks`` to the event hooks of an existing ``AsyncOpenAI``'s HTTP client.

    The SDK offers no public way to reach its HTTP client after construction (the public path:
    pass ``event_hooks=`` when building the client). Returns False, changing nothing, when the
    client has no such HTTP client.
    """
    http_client: Any = getattr(client, "_client", None)
    current = getattr(http_client, "event_hooks", None)
    if not isinstance(current, dict):
        return False
    http_client.event_hooks = {
        "request": [*current.get("request", []), *hooks.get("request", [])],
        "response": [*current.get("response", []), *hooks.get("response", [])],
    }
    return True
