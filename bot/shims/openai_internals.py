"""The OpenAI SDK's internals toolcord relies on, each with its public fallback.

- ``AsyncOpenAI._client.event_hooks``: the HTTP client of an already built ``AsyncOpenAI``,
  reached to add request timing hooks. Public path: pass the hooks as ``event_hooks=`` to the HTTP
  client the client is built with; when the private attribute is gone,
  :func:`add_http_event_hooks` returns False and the caller times nothing (and says so).

Dropped (issue 19): the SDK's vendored aiohttp transport (``openai._vendor.httpx_aiohttp``). The
chat bench could not show its gain: bot CPU per turn with it 9.16, 7.71, 7.76 ms (sequential) and
10.73, 8.95, 9.89 ms (pipelined); with httpx2's public transport 9.12, 6.79, 9.48 and 9.34, 9.04,
11.43 ms (``python -m tests.bench --quick --only chat``, three runs each, shared 2-core machine).
The model client uses httpx2's ``AsyncHTTPTransport``.

``tests/bot/shims/test_openai_internals.py`` fails when the installed SDK loses it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

EventHook = Callable[[Any], Awaitable[None]]


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
