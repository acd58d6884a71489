"""Leave out the request parameters an OpenAI-compatible server refuses, and remember them.

Some servers answer HTTP 400 to parameters OpenAI accepts: Groq (in 2024) to ``stream_options``
and ``max_completion_tokens``, relays without Structured Outputs to ``strict`` in tool schemas,
Azure (in 2024) to ``parallel_tool_calls``. The request is then sent again without the parameter
(``max_completion_tokens`` becomes ``max_tokens``), every later request to that server leaves it
out, and the owner log says once which parameter was refused and what that costs.

Only a 400 that names one of these parameters *and* says it is not supported counts: a 400 about a
parameter's value (``max_completion_tokens must be less than ...``) is a real error and is raised.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

log = logging.getLogger("toolcord.engine")

T = TypeVar("T")
# In the order they are looked for; ``max_tokens`` only ever replaces ``max_completion_tokens``.
DROPPABLE = (
    "stream_options",
    "max_completion_tokens",
    "parallel_tool_calls",
    "strict",
    "max_tokens",
)
REFUSAL_WORDS = (
    "unsupported",
    "not supported",
    "isn't supported",
    "unrecognized",
    "unknown",
    "not permitted",
    "not allowed",
    "extra inputs",
    "extra_forbidden",
    "does not support",
)
WHAT_IT_COSTS = {
    "stream_options": "token usage is estimated locally instead of reported by the server",
    "max_completion_tokens": "the output cap is sent as max_tokens instead",
    "parallel_tool_calls": "the server decides whether the model calls tools in parallel",
    "strict": "tool arguments are checked only by toolcord, not constrained by the server",
    "max_tokens": "answers are not capped by the server",
}


def refused_param(body: Mapping[str, Any], error: object) -> str | None:
    """The parameter of ``body`` that ``error`` (an HTTP 400) says the server does not support.

    Args:
        body: The request body that was sent.
        error: The exception raised for it; read through ``status_code`` and ``body`` (the
            SDK's ``APIStatusError`` keeps the ``error`` object of the JSON there).

    Returns:
        One of :data:`DROPPABLE` that ``body`` carries, or None when ``error`` is anything else.
    """
    if getattr(error, "status_code", None) != 400:
        return None
    details = getattr(error, "body", None)
    details = details if isinstance(details, Mapping) else {}
    message = str(details.get("message") or error)
    if not any(word in message.lower() for word in REFUSAL_WORDS):
        return None
    present = [param for param in DROPPABLE if _carries(body, param)]
    for named in _segments(details.get("param")):
        if named in present:
            return named
    mentions = [(match.start(), param) for param in present if (match := _word(param, message))]
    return min(mentions)[1] if mentions else None


def without_param(body: Mapping[str, Any], param: str) -> dict[str, Any]:
    """A copy of ``body`` without ``param`` (``max_completion_tokens`` moves to ``max_tokens``)."""
    smaller = dict(body)
    if param == "strict":
        smaller["tools"] = [_without_strict(tool) for tool in body.get("tools") or []]
        return smaller
    value = smaller.pop(param, None)
    if param == "max_completion_tokens" and value is not None:
        smaller.setdefault("max_tokens", value)
    return smaller


def drop_refused_params(body: Mapping[str, Any], error: object) -> dict[str, Any] | None:
    """``body`` without the parameter ``error`` refuses, or None when it refuses none."""
    param = refused_param(body, error)
    return None if param is None else without_param(body, param)


class RefusedParams:
    """What one server refused so far; requests to it leave those parameters out."""

    def __init__(self) -> None:
        self._refused: list[str] = []

    @property
    def refused(self) -> tuple[str, ...]:
        """The refused parameters, in the order the server refused them."""
        return tuple(self._refused)

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` without every parameter refused before (the same dict when none applies)."""
        for param in self._refused:
            if _carries(body, param):
                body = without_param(body, param)
        return body

    def remember(self, param: str, error: object) -> None:
        """Note that the server refused ``param``; the owner log says so once."""
        if param in self._refused:
            return
        self._refused.append(param)
        details = getattr(error, "body", None)
        message = details.get("message") if isinstance(details, Mapping) else None
        log.warning(
            "the model server refused the %r parameter (%s); toolcord leaves it out of every "
            "further request to this server: %s",
            param,
            message or error,
            WHAT_IT_COSTS[param],
        )


async def send_leaving_out_refused(
    memory: RefusedParams, body: dict[str, Any], send: Callable[[dict[str, Any]], Awaitable[T]]
) -> T:
    """``send(body)``, again without each parameter the server refuses (see the module doc).

    ``memory`` holds what this server refused before (one per bot: ``ServerMemory.refused``).
    """
    body = memory.apply(body)
    for _ in DROPPABLE:
        try:
            return await send(body)
        except Exception as exc:
            param = refused_param(body, exc)
            if param is None:
                raise
            memory.remember(param, exc)
            body = without_param(body, param)
    return await send(body)


def _carries(body: Mapping[str, Any], param: str) -> bool:
    if param != "strict":
        return param in body
    return any(
        isinstance(tool, Mapping)
        and isinstance(tool.get("function"), Mapping)
        and "strict" in tool["function"]
        for tool in body.get("tools") or []
    )


def _without_strict(tool: Any) -> Any:
    function = tool.get("function") if isinstance(tool, Mapping) else None
    if not isinstance(function, Mapping) or "strict" not in function:
        return tool
    return {**tool, "function": {k: v for k, v in function.items() if k != "strict"}}


def _segments(param: Any) -> list[str]:
    """``tools[0].function.strict`` -> ``["tools", "0", "function", "strict"]``."""
    if not isinstance(param, str):
        return []
    return [part for part in re.split(r"[.\[\]]+", param) if part]


def _word(param: str, message: str) -> re.Match[str] | None:
    return re.search(rf"(?<![\w]){re.escape(param)}(?![\w])", message)
