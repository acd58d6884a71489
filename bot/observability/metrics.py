"""Prometheus metrics of one bot process, on a registry of its own (never the global one).

``BotMetrics`` holds the counters and says what each one counts; ``TurnMetrics`` feeds it from
the conversation service's hooks: as a ``TurnPolicy`` (messages handled, turn time, refusals of
the policies it watches) and as an observer of engine events and outcomes (tool calls, errors).
``model_timing_hooks`` times every request to the model server.

Metric names (all prefixed ``toolcord_``):

* ``messages_handled_total{shard,outcome}``: user turns the bot took on; outcome ``answered``,
  ``failed`` or ``refused``; shard is the Discord shard the message came in on.
* ``turn_seconds``: from accepting a turn to its outcome (model and tools together).
* ``model_request_seconds{endpoint,status}``: time until the model server's response headers
  (for streamed answers: time to the first byte).
* ``tool_calls_total{tool,status}``: tool calls by outcome status (``ok``, ``error``, ``timeout``…).
* ``errors_total{kind}``: failed answers by kind (``rate_limited``, ``timeout``…) and gateway
  disconnects (``gateway_disconnect``).
* ``refusals_total{kind}``: turns a policy refused; quota refusals are ``kind="quota"``.
* ``shard_ready{shard}``: 1 while a shard of this process is connected and ready.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx2
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.engine import Failed, Final, ToolDone
from bot.policy import Refusal, TurnPolicy
from bot.policy.gate import RoundPolicy
from bot.shims.openai_internals import EventHook, add_http_event_hooks

if TYPE_CHECKING:
    from bot.conversation import IncomingTurn
    from bot.engine import AnswerUsage, EngineEvent

log = logging.getLogger("toolcord.metrics")

MODEL_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0)
TURN_BUCKETS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0, 300.0)
UNKNOWN_TOOL = "unknown"
MODEL_ENDPOINTS = (
    "chat/completions",
    "responses",
    "images/generations",
    "images/edits",
    "audio/transcriptions",
    "audio/speech",
    "moderations",
    "embeddings",
    "models",
)
MAX_OPEN_TURNS = 10_000
_STARTED = "toolcord_started"

ShardOf = Callable[[int | None], int | None]
TurnKey = tuple[str, int]


class BotMetrics:
    """The metrics of one process (see the module doc for names and labels).

    Args:
        shard_of: the shard a guild's messages arrive on (None while unknown).
        registry: where the metrics live; default a new one for this object.
    """

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, shard_of: ShardOf | None = None, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self._shard_of = shard_of or (lambda guild_id: None)
        reg = self.registry
        self.messages_handled = Counter(
            "toolcord_messages_handled",
            "User turns the bot took on, by shard and outcome.",
            ["shard", "outcome"],
            registry=reg,
        )
        self.turn_seconds = Histogram(
            "toolcord_turn_seconds",
            "Seconds from accepting a turn to its outcome.",
            buckets=TURN_BUCKETS,
            registry=reg,
        )
        self.model_request_seconds = Histogram(
            "toolcord_model_request_seconds",
            "Seconds until the model server's response headers (first byte of a stream).",
            ["endpoint", "status"],
            buckets=MODEL_BUCKETS,
            registry=reg,
        )
        self.tool_calls = Counter(
            "toolcord_tool_calls",
            "Tool calls by tool and status.",
            ["tool", "status"],
            registry=reg,
        )
        self.errors = Counter("toolcord_errors", "Errors by kind.", ["kind"], registry=reg)
        self.refusals = Counter(
            "toolcord_refusals", "Turns a policy refused, by kind.", ["kind"], registry=reg
        )
        self.shard_ready = Gauge(
            "toolcord_shard_ready",
            "1 while the shard is connected and ready.",
            ["shard"],
            registry=reg,
        )

    def message_handled(self, guild_id: int | None, outcome: str) -> None:
        """Count one user turn: ``answered``, ``failed`` or ``refused``."""
        shard = self._shard_of(guild_id)
        label = "unknown" if shard is None else str(shard)
        self.messages_handled.labels(shard=label, outcome=outcome).inc()

    def observe_turn(self, seconds: float) -> None:
        self.turn_seconds.observe(seconds)

    def observe_model_request(self, endpoint: str, status: int | str, seconds: float) -> None:
        self.model_request_seconds.labels(endpoint=endpoint, status=str(status)).observe(seconds)

    def tool_call(self, tool: str, status: str) -> None:
        """Count one tool call (names the model invented are counted as ``unknown``)."""
        name = UNKNOWN_TOOL if status == "unknown_tool" else tool
        self.tool_calls.labels(tool=name, status=status).inc()

    def error(self, kind: str) -> None:
        self.errors.labels(kind=kind).inc()

    def refusal(self, kind: str) -> None:
        self.refusals.labels(kind=kind).inc()

    def set_shard_ready(self, shard_id: int, ready: bool) -> None:
        self.shard_ready.labels(shard=str(shard_id)).set(1 if ready else 0)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)


@dataclass
class _Turn:
    started: float
    outcome: str | None = None
    error_counted: bool = False


class TurnMetrics(TurnPolicy):
    """Feeds ``BotMetrics`` from the conversation service.

    Put it first in ``services.policies`` (it never refuses); wrap the policies whose refusals
    should be counted with :meth:`watch`. Call :meth:`on_event` with each engine event and
    :meth:`on_outcome` with each outcome where the service can (tool calls and error kinds are
    counted there; without them a failed answer counts as ``errors_total{kind="turn_failed"}``).
    """

    def __init__(self, metrics: BotMetrics, *, clock: Callable[[], float] = time.monotonic):
        self.metrics = metrics
        self._clock = clock
        self._turns: OrderedDict[TurnKey, _Turn] = OrderedDict()

    def watch(self, policy: TurnPolicy) -> WatchedPolicy:
        """``policy`` with its refusals counted (and the turn counted as refused)."""
        return WatchedPolicy(policy, self)

    # -- TurnPolicy -------------------------------------------------------------------------

    async def before_turn(self, turn: IncomingTurn) -> Refusal | None:
        self._turns[_key(turn)] = _Turn(started=self._clock())
        while len(self._turns) > MAX_OPEN_TURNS:
            self._turns.popitem(last=False)
        return None

    async def review_answer(self, turn: IncomingTurn, text: str) -> Refusal | None:
        state = self._turns.get(_key(turn))
        if state is not None and state.outcome is None:
            state.outcome = "answered"
        return None

    async def after_turn(self, turn: IncomingTurn, usage: AnswerUsage, model: str) -> None:
        state = self._turns.pop(_key(turn), None)
        if state is None:
            return
        self.metrics.observe_turn(self._clock() - state.started)
        outcome = state.outcome or "failed"
        if outcome == "failed" and not state.error_counted:
            self.metrics.error("turn_failed")
        self.metrics.message_handled(turn.guild_id, outcome)

    # -- observer ---------------------------------------------------------------------------

    def on_refused(self, turn: IncomingTurn, refusal: Refusal) -> None:
        """A policy refused the turn before any model call."""
        self.metrics.refusal(refusal.kind)
        self.metrics.message_handled(turn.guild_id, "refused")
        self._turns.pop(_key(turn), None)

    def on_answer_refused(self, turn: IncomingTurn, refusal: Refusal) -> None:
        """A policy refused the finished answer (it is not delivered)."""
        self.metrics.refusal(refusal.kind)
        state = self._turns.get(_key(turn))
        if state is not None:
            state.outcome = "refused"

    def on_event(self, event: EngineEvent) -> None:
        """An engine event of a running turn (tool calls are counted here)."""
        if isinstance(event, ToolDone):
            self.metrics.tool_call(event.outcome.name, event.outcome.status)

    def on_outcome(self, turn: IncomingTurn, outcome: Final | Failed) -> None:
        """The turn's outcome before delivery: a failed one is counted by its kind."""
        if not isinstance(outcome, Failed):
            return
        self.metrics.error(outcome.kind)
        state = self._turns.get(_key(turn))
        if state is not None:
            state.error_counted = True


class WatchedPolicy(TurnPolicy):
    """A ``TurnPolicy`` whose refusals are counted; otherwise it is the policy it wraps."""

    def __init__(self, inner: TurnPolicy, turns: TurnMetrics) -> None:
        self.inner = inner
        self._turns = turns

    async def before_turn(self, turn: IncomingTurn) -> Refusal | None:
        refusal = await self.inner.before_turn(turn)
        if refusal is not None:
            self._turns.on_refused(turn, refusal)
        return refusal

    async def review_answer(self, turn: IncomingTurn, text: str) -> Refusal | None:
        refusal = await self.inner.review_answer(turn, text)
        if refusal is not None:
            self._turns.on_answer_refused(turn, refusal)
        return refusal

    async def after_turn(self, turn: IncomingTurn, usage: AnswerUsage, model: str) -> None:
        await self.inner.after_turn(turn, usage, model)

    async def before_round(self, turn: IncomingTurn, used: int) -> Refusal | None:
        """The wrapped policy's round gate (when it has one); a stop counts as a refusal.

        The turn itself still ends through the loop (its outcome is counted there).
        """
        inner = self.inner
        refusal = await inner.before_round(turn, used) if isinstance(inner, RoundPolicy) else None
        if refusal is not None:
            self._turns.metrics.refusal(refusal.kind)
        return refusal

    async def holds_output(self, turn: IncomingTurn) -> bool:
        return await self.inner.holds_output(turn)


def _key(turn: IncomingTurn) -> TurnKey:
    return turn.key, turn.source_message_id


def model_timing_hooks(metrics: BotMetrics) -> dict[str, list[EventHook]]:
    """httpx event hooks that time each model request until its response headers.

    Pass them as ``event_hooks=`` to the model server's HTTP client.
    """

    async def on_request(request: httpx2.Request) -> None:
        request.extensions[_STARTED] = time.monotonic()

    async def on_response(response: httpx2.Response) -> None:
        started = response.request.extensions.get(_STARTED)
        if isinstance(started, float):
            endpoint = _endpoint(response.request.url.path)
            metrics.observe_model_request(
                endpoint, response.status_code, time.monotonic() - started
            )

    return {"request": [on_request], "response": [on_response]}


def _endpoint(path: str) -> str:
    """The API endpoint a request path ends with (``chat/completions``...), else ``other``."""
    trimmed = path.rstrip("/")
    for endpoint in MODEL_ENDPOINTS:
        if trimmed.endswith("/" + endpoint):
            return endpoint
    return "other"


def instrument_openai_client(client: Any, metrics: BotMetrics) -> bool:
    """Add :func:`model_timing_hooks` to an existing ``AsyncOpenAI``'s HTTP client.

    The SDK offers no public way to reach its HTTP client after construction; prefer passing
    the hooks when the client is built. Returns False (and times nothing) when it cannot.
    """
    if not add_http_event_hooks(client, model_timing_hooks(metrics)):
        log.warning("cannot time model requests: the OpenAI client has no HTTP client hooks")
        return False
    return True
