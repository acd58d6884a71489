"""Scripted faults: error responses, stalls and broken streams, as OpenAI and networks produce them.

A :class:`Fault` is queued on a route (``emu.chat.reply_fault(Fault.rate_limit(times=2))``) or
attached to one reply (``TextReply("hi", fault=Fault.cut_stream(after_chunks=2))``). ``times`` is
how many requests it answers before the next queued reply is used; ``times=None`` keeps it until
``clear_faults()``.

Two families:

* **error faults** answer the request with an HTTP error and leave the queued replies alone:
  ``rate_limit``, ``insufficient_quota``, ``outage``, ``http_error``, ``invalid_api_key``,
  ``context_length_exceeded``, ``content_policy_violation``;
* **delivery faults** change how the next reply is delivered: ``stall`` (before headers),
  ``slow_first_token``, ``stall_mid_stream``, ``cut_stream`` (clean end without ``finish_reason``
  or ``[DONE]``), ``disconnect`` (transport aborted) and ``corrupt_chunk`` (a line that is not
  JSON). On a non-streaming request ``cut_stream``/``disconnect`` drop the connection before the
  response, ``corrupt_chunk`` sends a body that is not JSON and the stalls delay the response.

A queued ``stall`` happens *before* the route takes a reply, so a client that times out and
retries gets the reply that was queued. To model "the server did the work, then the client timed
out" (double billing), give the reply a ``latency`` longer than the client's timeout instead: the
reply is used up by the first attempt.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from .errors import ApiError

FaultKind = Literal[
    "rate_limit",
    "insufficient_quota",
    "outage",
    "http_error",
    "context_length_exceeded",
    "content_policy_violation",
    "stall",
    "slow_first_token",
    "stall_mid_stream",
    "cut_stream",
    "disconnect",
    "corrupt_chunk",
]

DELIVERY_KINDS = frozenset(
    {"stall", "slow_first_token", "stall_mid_stream", "cut_stream", "disconnect", "corrupt_chunk"}
)
DEFAULT_STALL_SECONDS = 3600.0
OUTAGE_ERRORS: Mapping[int, tuple[str, str | None]] = MappingProxyType(
    {
        500: ("The server had an error while processing your request. Sorry about that!", None),
        502: ("Bad gateway.", "bad_gateway"),
        503: (
            "The engine is currently overloaded, please try again later.",
            "server_is_overloaded",
        ),
        504: ("Gateway timeout.", "gateway_timeout"),
    }
)


@dataclass(frozen=True)
class Fault:
    """One scripted fault; build it with the class methods, not directly."""

    kind: FaultKind
    times: int | None = 1
    status: int = 0
    retry_after: float | None = None
    seconds: float = 0.0
    after_chunks: int = 0
    message: str | None = None
    code: str | None = None
    error_type: str | None = None
    param: str | None = None
    headers: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        if self.times is not None and self.times < 1:
            raise ValueError("Fault.times must be >= 1, or None for 'until clear_faults()'")

    @property
    def is_delivery(self) -> bool:
        """True for faults that change how a reply is delivered rather than replacing it."""
        return self.kind in DELIVERY_KINDS

    # ---- error faults -------------------------------------------------------------------

    @classmethod
    def rate_limit(cls, retry_after: float | None = 1.0, *, times: int | None = 1) -> Fault:
        """429 ``rate_limit_exceeded`` with ``retry-after-ms`` and ``retry-after`` headers."""
        return cls("rate_limit", times=times, status=429, retry_after=retry_after)

    @classmethod
    def insufficient_quota(cls, *, times: int | None = 1) -> Fault:
        """429 ``insufficient_quota``: billing, not load; clients must not retry it."""
        return cls("insufficient_quota", times=times, status=429)

    @classmethod
    def outage(cls, status: int = 503, *, times: int | None = 1) -> Fault:
        """A 5xx server error (500, 502, 503 or 504); ``times=None`` lasts until cleared."""
        if status < 500:
            raise ValueError("an outage is a 5xx status; use Fault.http_error for others")
        return cls("outage", times=times, status=status)

    @classmethod
    def http_error(
        cls,
        status: int,
        message: str,
        *,
        code: str | None = None,
        error_type: str = "invalid_request_error",
        param: str | None = None,
        headers: dict[str, str] | None = None,
        times: int | None = 1,
    ) -> Fault:
        """Any OpenAI-shaped error response."""
        return cls(
            "http_error",
            times=times,
            status=status,
            message=message,
            code=code,
            error_type=error_type,
            param=param,
            headers=tuple((headers or {}).items()),
        )

    @classmethod
    def invalid_api_key(cls, *, times: int | None = 1) -> Fault:
        """401 ``invalid_api_key``."""
        return cls.http_error(
            401,
            "Incorrect API key provided: sk-emu***. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            code="invalid_api_key",
            times=times,
        )

    @classmethod
    def context_length_exceeded(cls, *, times: int | None = 1) -> Fault:
        """400 ``context_length_exceeded`` (see also ``emu.chat.context_window``)."""
        return cls("context_length_exceeded", times=times, status=400)

    @classmethod
    def content_policy_violation(cls, *, times: int | None = 1) -> Fault:
        """400 ``content_policy_violation`` (images: "rejected by our safety system")."""
        return cls("content_policy_violation", times=times, status=400)

    # ---- delivery faults ----------------------------------------------------------------

    @classmethod
    def stall(cls, seconds: float = DEFAULT_STALL_SECONDS, *, times: int | None = 1) -> Fault:
        """Send nothing for ``seconds`` before the response headers (client read timeout)."""
        return cls("stall", times=times, seconds=seconds)

    @classmethod
    def slow_first_token(cls, seconds: float, *, times: int | None = 1) -> Fault:
        """Send the headers at once, then wait ``seconds`` before the first chunk."""
        return cls("slow_first_token", times=times, seconds=seconds)

    @classmethod
    def stall_mid_stream(
        cls, after_chunks: int = 1, seconds: float = DEFAULT_STALL_SECONDS, *, times: int | None = 1
    ) -> Fault:
        """Send ``after_chunks`` chunks, then hold the connection open for ``seconds``."""
        return cls("stall_mid_stream", times=times, seconds=seconds, after_chunks=after_chunks)

    @classmethod
    def cut_stream(cls, after_chunks: int = 1, *, times: int | None = 1) -> Fault:
        """End the stream cleanly after ``after_chunks`` chunks: no finish_reason, no ``[DONE]``."""
        return cls("cut_stream", times=times, after_chunks=after_chunks)

    @classmethod
    def disconnect(cls, after_chunks: int = 0, *, times: int | None = 1) -> Fault:
        """Abort the TCP connection after ``after_chunks`` chunks (0: before any response)."""
        return cls("disconnect", times=times, after_chunks=after_chunks)

    @classmethod
    def corrupt_chunk(cls, after_chunks: int = 1, *, times: int | None = 1) -> Fault:
        """After ``after_chunks`` chunks send a ``data:`` line that is not valid JSON."""
        return cls("corrupt_chunk", times=times, after_chunks=after_chunks)

    # ---- rendering ----------------------------------------------------------------------

    def to_error(self, model: str = "gpt-4o") -> ApiError:
        """Return the :class:`ApiError` an error fault answers with."""
        if self.kind == "rate_limit":
            return _rate_limit_error(model, self.retry_after)
        if self.kind == "insufficient_quota":
            return ApiError(
                429,
                "You exceeded your current quota, please check your plan and billing details. "
                "For more information on this error, read the docs: "
                "https://platform.openai.com/docs/guides/error-codes/api-errors.",
                error_type="insufficient_quota",
                code="insufficient_quota",
            )
        if self.kind == "outage":
            message, code = OUTAGE_ERRORS.get(self.status, OUTAGE_ERRORS[500])
            return ApiError(self.status, message, error_type="server_error", code=code)
        if self.kind == "context_length_exceeded":
            return context_length_error(model, limit=128_000, requested=130_000)
        if self.kind == "content_policy_violation":
            return ApiError(
                400,
                "Your request was rejected as a result of our safety system. Your prompt may "
                "contain text that is not allowed by our safety system.",
                param=None,
                code="content_policy_violation",
            )
        if self.kind == "http_error":
            return ApiError(
                self.status,
                self.message or "Scripted error.",
                error_type=self.error_type or "invalid_request_error",
                param=self.param,
                code=self.code,
                headers=dict(self.headers),
            )
        raise ValueError(f"{self.kind} is a delivery fault, not an error response")


def _rate_limit_error(model: str, retry_after: float | None) -> ApiError:
    headers = {
        "x-ratelimit-limit-requests": "3",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": f"{retry_after or 1.0:.3f}s",
    }
    wait = ""
    if retry_after is not None:
        headers["retry-after-ms"] = str(round(retry_after * 1000))
        headers["retry-after"] = str(math.ceil(retry_after))
        wait = f" Please try again in {round(retry_after * 1000)}ms."
    return ApiError(
        429,
        f"Rate limit reached for {model} in organization org-emulator on requests per min (RPM): "
        f"Limit 3, Used 3, Requested 1.{wait} Visit "
        "https://platform.openai.com/account/rate-limits to learn more.",
        error_type="requests",
        code="rate_limit_exceeded",
        headers=headers,
    )


def context_length_error(model: str, *, limit: int, requested: int) -> ApiError:
    """Return OpenAI's 400 for a prompt longer than the model's context window."""
    return ApiError(
        400,
        f"This model's maximum context length is {limit} tokens. However, your messages "
        f"resulted in {requested} tokens. Please reduce the length of the messages.",
        param="messages",
        code="context_length_exceeded",
    )
