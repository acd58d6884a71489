"""Fault injection: each fault kind in a fresh rig, judged by what the user sees within 30 s.

A case injects one fault (Discord, OpenAI or store), asks the bot something, and records how long
the user waited for a visible outcome (the answer, or a clear error message) plus its own checks
(no duplicate reply, no retry storm...). Afterwards the bot must still answer a plain question,
and the rig's watch must have seen no unhandled exception. The case lists live in
``faults_discord.py``, ``faults_openai.py`` and ``faults_store.py``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bot.app import ToolcordBot
from bot.engine.breaker import BreakerPolicy, ProviderBreaker
from bot.engine.client import make_openai_client
from bot.testing.discord import EmulatorTimeout, StoredMessage
from tests.reliability.rig import USER_DEADLINE_S, Rig, ask, open_rig, scratch_dir

CASE_TIMEOUT_S = 120.0
MESSAGE_POST = r"/channels/\d+/messages"


@dataclass
class CaseResult:
    """What one fault case saw."""

    name: str
    ids: str
    seconds: float | None = None
    checks: dict[str, bool] = field(default_factory=dict)
    unhandled: int = 0
    errors: list[str] = field(default_factory=list)
    failure: str | None = None

    def check(self, label: str, passed: bool) -> None:
        """Record a named check (a failed one makes the case fail)."""
        self.checks[label] = bool(passed)

    def saw(self, seconds: float | None) -> None:
        """Record the slowest time to a user-visible outcome seen so far (None: never seen)."""
        if seconds is None:
            self.check("user-visible outcome within 30 s", False)
            return
        self.seconds = max(self.seconds or 0.0, seconds)

    @property
    def survived(self) -> bool:
        within = self.seconds is not None and self.seconds <= USER_DEADLINE_S
        return self.failure is None and within and all(self.checks.values()) and not self.unhandled

    def as_dict(self) -> dict[str, Any]:
        return {
            "ids": self.ids,
            "survived": self.survived,
            "seconds_to_user": None if self.seconds is None else round(self.seconds, 2),
            "failed_checks": [label for label, passed in self.checks.items() if not passed],
            "unhandled_exceptions": self.unhandled,
            "errors": self.errors,
            "failure": self.failure,
        }


CaseBody = Callable[[Rig, CaseResult], Awaitable[None]]


@dataclass(frozen=True)
class FaultCase:
    """A named fault kind, the catalogue ids it covers, and the coroutine that runs it."""

    name: str
    ids: str
    body: CaseBody
    discord_options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    """The reply the user saw, and how long after asking."""

    message: StoredMessage
    seconds: float
    source_id: int


async def expect_reply(
    rig: Rig,
    text: str,
    wanted: str | tuple[str, ...],
    *,
    channel: str = "general",
    user: str = "alice",
    timeout: float = USER_DEADLINE_S,  # noqa: ASYNC109
) -> Reply | None:
    """Ask, then wait for the bot's reply to that message containing ``wanted`` (None: none).

    ``wanted`` may be several texts, any of which will do.
    """
    texts = (wanted,) if isinstance(wanted, str) else wanted
    target = rig.discord.channel(channel)
    started = time.monotonic()
    payload = await ask(rig.discord, target, user, text)
    source = int(payload["id"])
    try:
        message = await rig.discord.wait_for_message(
            target,
            lambda m: m.referenced_message_id == source and any(t in m.content for t in texts),
            timeout=timeout,
        )
    except EmulatorTimeout:
        return None
    return Reply(message, time.monotonic() - started, source)


async def answered(
    rig: Rig, result: CaseResult, text: str, wanted: str | tuple[str, ...], **options: Any
) -> Reply | None:
    """Ask and record the time to the wanted reply on ``result``."""
    reply = await expect_reply(rig, text, wanted, **options)
    result.saw(reply.seconds if reply else None)
    return reply


async def still_healthy(rig: Rig, result: CaseResult, channel: str = "general") -> None:
    """After the fault: a plain question gets the plain (echo) answer."""
    reply = await expect_reply(
        rig, "are you still there? health-check", "health-check", channel=channel
    )
    result.check("answers normally afterwards", reply is not None)


def replies_to(rig: Rig, source_id: int, channel: str = "general") -> list[StoredMessage]:
    """The bot's live messages that reply to ``source_id``."""
    bot_id = rig.discord.bot_user.id
    return [
        m
        for m in rig.discord.messages(rig.discord.channel(channel))
        if m.author.id == bot_id and m.referenced_message_id == source_id
    ]


async def wire_breaker(bot: ToolcordBot, policy: BreakerPolicy) -> ProviderBreaker:
    """The running bot's provider breaker, set to ``policy``.

    The composition root wires one unless the settings switch it off; then the test puts one in
    front of a new model client (the bot's own is closed here, the new one when the case ends).
    """
    wired = bot.services.provider_breaker
    if wired is not None:
        wired.policy = policy
        return wired
    breaker = ProviderBreaker(policy)
    settings = bot.settings
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    old = bot.services.client
    client = make_openai_client(settings.openai, key, breaker=breaker)
    bot.services.client = client
    bot.services.tool_deps = replace(bot.services.tool_deps, openai=client)
    await old.close()
    return breaker


async def run_case(case: FaultCase) -> CaseResult:
    """Run one case in a fresh rig; any exception it raises fails it (with the reason)."""
    result = CaseResult(case.name, case.ids)
    with scratch_dir(case.name) as scratch:
        try:
            async with open_rig(scratch, **case.discord_options) as rig:
                try:
                    await asyncio.wait_for(case.body(rig, result), CASE_TIMEOUT_S)
                finally:
                    result.unhandled = rig.watch.count
                    result.errors = rig.watch.samples()
        except Exception as exc:  # a case that blew up is a finding, not a crash of the suite
            result.failure = f"{type(exc).__name__}: {str(exc)[:300]}"
    return result


async def run_faults(cases: Sequence[FaultCase]) -> dict[str, Any]:
    """Run every case, one after the other, and sum them up."""
    results = [await run_case(case) for case in cases]
    seconds = [r.seconds for r in results if r.seconds is not None]
    return {
        "kinds": len(results),
        "survived": sum(r.survived for r in results),
        "max_seconds_to_user": round(max(seconds), 2) if seconds else None,
        "unhandled_exceptions": sum(r.unhandled for r in results),
        "cases": {r.name: r.as_dict() for r in results},
    }


def faults_ok(figures: dict[str, Any]) -> bool:
    """The gate: every kind survived, nothing unhandled."""
    return figures["survived"] == figures["kinds"] and figures["unhandled_exceptions"] == 0
