"""A circuit breaker for the model provider, so an empty account or an outage causes no retry storm.

It sits in the OpenAI client's HTTP transport, so it sees every attempt of every endpoint (chat,
images, audio, moderation), retries included, and needs nothing from the loop:

* **closed**: requests go through. A 429 ``insufficient_quota`` opens it at once (the account
  stays empty until the owner adds credit); ``failures_to_open`` failed attempts in a row (5xx,
  connection errors, timeouts, streams that break) open it too.
* **open**: requests are answered at once, without the network, with the provider-shaped error
  the failure would have given (429 ``insufficient_quota`` or 503) and ``x-should-retry: false``,
  so the SDK does not retry and the user gets the usual message without waiting.
* **half-open**: after the cool-down one request goes through as a probe; its success closes
  the breaker, its failure opens it again for another cool-down.

Rate limits (429 ``rate_limit_exceeded``) and client errors (400, 401) are neither: the SDK and
the loop already handle them without storms, and they say nothing about an outage.
"""

from __future__ import annotations

import enum
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import httpx2

from bot.settings import BreakerSettings

log = logging.getLogger("toolcord.engine.breaker")

# The 429 error codes that mean "out of credit": retrying cannot help, the owner must act.
NO_RETRY_CODES = (b"insufficient_quota", b"billing_hard_limit_reached")
OWNER_ACTION_CREDIT = (
    "add credit or raise the spending limit in the provider's billing settings; the bot "
    "tries the provider again every {cooldown:.0f} s"
)
OWNER_ACTION_OUTAGE = (
    "the model server at {host} failed {failures} times in a row; the bot answers users with "
    "'not responding' without calling it and tries again every {cooldown:.0f} s"
)


class BreakerState(enum.Enum):
    """Where the breaker is."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class Trip(enum.Enum):
    """Why the breaker opened."""

    OUT_OF_CREDIT = "out_of_credit"
    OUTAGE = "outage"


FAIL_FAST_ERRORS: Mapping[Trip, tuple[int, Mapping[str, str]]] = MappingProxyType(
    {
        Trip.OUT_OF_CREDIT: (
            429,
            {
                "message": "The model provider reported the account out of credit; not calling it "
                "until the breaker's cool-down ends.",
                "type": "insufficient_quota",
                "code": "insufficient_quota",
            },
        ),
        Trip.OUTAGE: (
            503,
            {
                "message": "The model provider failed repeatedly; not calling it until the "
                "breaker's cool-down ends.",
                "type": "server_error",
                "code": "circuit_open",
            },
        ),
    }
)


@dataclass(frozen=True)
class BreakerPolicy:
    """When the breaker opens and for how long.

    Attributes:
        failures_to_open: failed attempts in a row (5xx, connection errors, timeouts) that open
            it; 0 never opens it for outages.
        outage_cooldown_s: seconds it stays open after an outage before a probe.
        credit_cooldown_s: seconds it stays open after "out of credit" before a probe.
    """

    failures_to_open: int = 5
    outage_cooldown_s: float = 30.0
    credit_cooldown_s: float = 300.0


class ProviderBreaker:
    """The breaker's state machine; :class:`BreakerTransport` feeds it and asks it."""

    def __init__(
        self, policy: BreakerPolicy | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.policy = policy or BreakerPolicy()
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._trip: Trip | None = None
        self._failures = 0
        self._open_until = 0.0
        self._probing = False
        self.refused = 0
        self.opened = 0

    @property
    def state(self) -> BreakerState:
        """The current state (an open breaker past its cool-down reads as half-open)."""
        if self._state is BreakerState.OPEN and self._clock() >= self._open_until:
            return BreakerState.HALF_OPEN
        return self._state

    @property
    def trip(self) -> Trip | None:
        """Why it is open (or was last opened)."""
        return self._trip

    def snapshot(self) -> dict[str, object]:
        """The state for logs and status commands."""
        return {
            "state": self.state.value,
            "trip": self._trip.value if self._trip else None,
            "failures_in_a_row": self._failures,
            "opened": self.opened,
            "refused": self.refused,
        }

    def admit(self) -> Trip | None:
        """None if a request may go out now; else why it must fail fast (counted)."""
        state = self.state
        if state is BreakerState.CLOSED:
            return None
        if state is BreakerState.HALF_OPEN and not self._probing:
            self._state = BreakerState.HALF_OPEN
            self._probing = True
            log.info("model provider breaker half-open: sending one probe request")
            return None
        self.refused += 1
        return self._trip or Trip.OUTAGE

    def record_success(self) -> None:
        """An attempt reached a working provider."""
        if self._state is not BreakerState.CLOSED:
            log.warning("model provider breaker closed: the provider answers again")
        self._state, self._trip, self._failures, self._probing = BreakerState.CLOSED, None, 0, False

    def record_neutral(self) -> None:
        """An attempt that says nothing about the provider's health (rate limit, cancel)."""
        self._probing = False

    def record_failure(self, trip: Trip, where: str = "") -> None:
        """An attempt failed: out of credit opens at once; outages after enough in a row."""
        self._failures += 1
        probing, self._probing = self._probing, False
        if trip is Trip.OUT_OF_CREDIT or probing or self._too_many_failures():
            self._open(trip, where)

    def _too_many_failures(self) -> bool:
        threshold = self.policy.failures_to_open
        closed = self._state is BreakerState.CLOSED
        return closed and bool(threshold) and self._failures >= threshold

    def _open(self, trip: Trip, where: str) -> None:
        if self._state is BreakerState.OPEN and self._trip is trip:
            return  # a request that was in flight when it opened: already said
        credit = trip is Trip.OUT_OF_CREDIT
        cooldown = self.policy.credit_cooldown_s if credit else self.policy.outage_cooldown_s
        self._state, self._trip = BreakerState.OPEN, trip
        self._open_until = self._clock() + cooldown
        self.opened += 1
        template = OWNER_ACTION_CREDIT if credit else OWNER_ACTION_OUTAGE
        action = template.format(cooldown=cooldown, host=where, failures=self._failures)
        log.warning("model provider breaker open (%s): %s", trip.value, action)


class BreakerTransport(httpx2.AsyncBaseTransport):
    """An httpx2 transport that puts a :class:`ProviderBreaker` in front of ``inner``."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, breaker: ProviderBreaker) -> None:
        self._inner = inner
        self.breaker = breaker

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        refused = self.breaker.admit()
        if refused is not None:
            return _fail_fast(request, refused)
        host = request.url.host
        try:
            response = await self._inner.handle_async_request(request)
        except httpx2.TransportError:
            self.breaker.record_failure(Trip.OUTAGE, host)
            raise
        except BaseException:
            self.breaker.record_neutral()
            raise
        return await self._judge(request, response, host)

    async def _judge(
        self, request: httpx2.Request, response: httpx2.Response, host: str
    ) -> httpx2.Response:
        status = response.status_code
        if status == 429:
            body = await response.aread()
            if any(code in body for code in NO_RETRY_CODES):
                self.breaker.record_failure(Trip.OUT_OF_CREDIT, host)
            else:
                self.breaker.record_neutral()
            return response
        if status >= 500:
            self.breaker.record_failure(Trip.OUTAGE, host)
            return response
        if status >= 400:
            self.breaker.record_success()
            return response
        stream = _WatchedStream(response.stream, self.breaker, host)  # type: ignore[arg-type]
        return httpx2.Response(
            status,
            headers=response.headers,
            stream=stream,
            request=request,
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


class _WatchedStream(httpx2.AsyncByteStream):
    """A successful response's body: the verdict comes when it was read to the end, or broke."""

    def __init__(self, inner: httpx2.AsyncByteStream, breaker: ProviderBreaker, host: str) -> None:
        self._inner = inner
        self._breaker = breaker
        self._host = host
        self._judged = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                yield chunk
        except httpx2.TransportError:
            self._verdict(lambda: self._breaker.record_failure(Trip.OUTAGE, self._host))
            raise
        self._verdict(self._breaker.record_success)

    def _verdict(self, record: Callable[[], None]) -> None:
        if not self._judged:
            self._judged = True
            record()

    async def aclose(self) -> None:
        self._verdict(self._breaker.record_neutral)
        await self._inner.aclose()


def _fail_fast(request: httpx2.Request, trip: Trip) -> httpx2.Response:
    """The provider-shaped error an open breaker answers with, marked not retryable."""
    status, error = FAIL_FAST_ERRORS[trip]
    body = json.dumps({"error": {**error, "param": None}}).encode()
    headers = {"content-type": "application/json", "x-should-retry": "false"}
    return httpx2.Response(status, headers=headers, content=body, request=request)


def breaker_from(settings: BreakerSettings) -> ProviderBreaker | None:
    """The provider breaker the settings ask for, or None when it is switched off."""
    if not settings.provider_enabled:
        return None
    policy = BreakerPolicy(
        failures_to_open=settings.provider_failures_to_open,
        outage_cooldown_s=settings.provider_cooldown_s,
        credit_cooldown_s=settings.credit_cooldown_s,
    )
    return ProviderBreaker(policy)
