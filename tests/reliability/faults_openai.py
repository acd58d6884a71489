"""Model provider fault kinds (catalogue O1-O9).

Rate limits, out of credit, outages (with the breaker), stalls, broken streams, bad tool calls,
context overflow, content filter and a refused key.
"""

from __future__ import annotations

import itertools
from typing import Any

from bot.engine.breaker import BreakerPolicy, BreakerState
from bot.testing.openai import Fault, TextReply, ToolCall
from tests.reliability.faults import (
    CaseResult,
    FaultCase,
    answered,
    still_healthy,
    wire_breaker,
)
from tests.reliability.rig import Rig, poll_until

CHAT = "/v1/chat/completions"
RATE_LIMITED = "rate limited"
OUT_OF_CREDIT = "out of credit"
NOT_RESPONDING = "not responding"
TOO_LONG = "took too long"
CUT_OFF = "cut off"
FILTERED = "can't help with that"
MISCONFIGURED = "not configured correctly"
WENT_WRONG = "went wrong"


def _openai(**values: Any) -> dict[str, Any]:
    return {"openai": values}


def fault_then(
    name: str,
    ids: str,
    fault: Fault,
    wanted: str | tuple[str, ...],
    *,
    attempts: int | None = None,
    **settings: Any,
) -> FaultCase:
    """A case: queue ``fault``, ask, expect a reply containing ``wanted``; then health."""

    async def body(rig: Rig, result: CaseResult) -> None:
        rig.openai.chat.reply_fault(fault)
        async with rig.harness.run(**_openai(**settings)):
            mark = rig.openai.mark()
            await answered(rig, result, f"{name} probe", wanted)
            if attempts is not None:
                result.check(
                    f"{attempts} attempt(s)", rig.openai.attempts(CHAT, after=mark) == attempts
                )
            rig.openai.clear_faults()
            await still_healthy(rig, result)

    return FaultCase(name, ids, body)


async def rate_limit_retried(rig: Rig, result: CaseResult) -> None:
    rig.openai.chat.reply_fault(Fault.rate_limit(retry_after=0.3, times=2))
    async with rig.harness.run(**_openai(max_retries=2)):
        await answered(rig, result, "patience please", "patience please")
        times = [r.time for r in rig.openai.requests if r.path == CHAT]
        result.check("3 attempts", len(times) == 3)
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        result.check("waited Retry-After between attempts", all(gap >= 0.3 for gap in gaps))
        await still_healthy(rig, result)


async def out_of_credit_opens_the_breaker(rig: Rig, result: CaseResult) -> None:
    rig.openai.chat.reply_fault(Fault.insufficient_quota(times=None))
    async with rig.harness.run(**_openai(max_retries=2)) as bot:
        breaker = await wire_breaker(bot, BreakerPolicy(credit_cooldown_s=1.0))
        for number in range(4):
            await answered(rig, result, f"credit probe {number}", OUT_OF_CREDIT)
        result.check("1 attempt for 4 messages (no retry storm)", rig.openai.attempts(CHAT) == 1)
        result.check("breaker opened", breaker.opened >= 1)
        rig.openai.clear_faults()
        await poll_until(lambda: breaker.state is BreakerState.HALF_OPEN, 10)
        await still_healthy(rig, result)
        result.check("breaker closed after the probe", breaker.state is BreakerState.CLOSED)


async def long_outage_opens_the_breaker(rig: Rig, result: CaseResult) -> None:
    rig.openai.chat.reply_fault(Fault.outage(503, times=None))
    async with rig.harness.run(**_openai(max_retries=2)) as bot:
        breaker = await wire_breaker(bot, BreakerPolicy(failures_to_open=5, outage_cooldown_s=3.0))
        for number in range(5):
            await answered(rig, result, f"outage probe {number}", NOT_RESPONDING)
        result.check("at most 5 attempts for 5 messages", rig.openai.attempts(CHAT) <= 5)
        result.check("breaker opened", breaker.opened >= 1)
        rig.openai.clear_faults()
        await poll_until(lambda: breaker.state is BreakerState.HALF_OPEN, 10)
        await still_healthy(rig, result)
        result.check("breaker closed after the probe", breaker.state is BreakerState.CLOSED)


async def malformed_tool_call(rig: Rig, result: CaseResult) -> None:
    await _bad_tool_call(rig, result, ToolCall("weather", '{"place": "Par', id="call_bad"))


async def unknown_tool(rig: Rig, result: CaseResult) -> None:
    await _bad_tool_call(
        rig, result, ToolCall("launch_missiles", {"target": "moon"}, id="call_bad")
    )


async def hallucinated_parameter(rig: Rig, result: CaseResult) -> None:
    call = ToolCall("weather", {"place": "Paris", "as_admin": True}, id="call_bad")
    await _bad_tool_call(rig, result, call)


async def _bad_tool_call(rig: Rig, result: CaseResult, call: ToolCall) -> None:
    rig.openai.chat.reply_tool_calls([call])
    rig.openai.chat.reply_text("I could not use that tool.")
    async with rig.harness.run():
        await answered(rig, result, "use a tool", "could not use that tool")
        follow_up = (
            rig.openai.chat.requests[1]["messages"] if len(rig.openai.chat.requests) > 1 else []
        )
        answers = [
            m for m in follow_up if m.get("role") == "tool" and m.get("tool_call_id") == "call_bad"
        ]
        result.check("the call was answered with an error", len(answers) == 1)
        lookups = [r for r in rig.openai.requests if r.path != CHAT]
        result.check("no tool side request", not lookups)
        await still_healthy(rig, result)


async def context_overflow(rig: Rig, result: CaseResult) -> None:
    rig.openai.chat.reply_fault(Fault.context_length_exceeded())
    async with rig.harness.run():
        await answered(rig, result, "a long story", "a long story")
        result.check("retried once", rig.openai.attempts(CHAT) == 2)
        await still_healthy(rig, result)


async def length_cut(rig: Rig, result: CaseResult) -> None:
    rig.openai.chat.reply(TextReply("The first half of a very long", finish_reason="length"))
    async with rig.harness.run():
        await answered(rig, result, "tell me everything", "cut short")
        await still_healthy(rig, result)


async def content_filter(rig: Rig, result: CaseResult) -> None:
    rig.openai.chat.reply_content_filter("Part")
    async with rig.harness.run():
        await answered(rig, result, "something forbidden", FILTERED)
        await still_healthy(rig, result)


CASES = [
    FaultCase("openai_rate_limit_retried", "O1", rate_limit_retried),
    fault_then(
        "openai_rate_limit_exhausted",
        "O1",
        Fault.rate_limit(0.05, times=3),
        RATE_LIMITED,
        attempts=2,
        max_retries=1,
    ),
    FaultCase("openai_out_of_credit_breaker", "O2", out_of_credit_opens_the_breaker),
    fault_then(
        "openai_outage_short", "O3", Fault.outage(502), "openai_outage_short", max_retries=2
    ),
    FaultCase("openai_outage_long_breaker", "O3", long_outage_opens_the_breaker),
    fault_then(
        "openai_stall", "O4", Fault.stall(seconds=10, times=2), TOO_LONG, request_timeout_s=0.5
    ),
    fault_then(
        "openai_slow_first_token",
        "O4",
        Fault.slow_first_token(5),
        "openai_slow_first_token",
        request_timeout_s=0.5,
    ),
    fault_then(
        "openai_stall_mid_stream",
        "O4",
        Fault.stall_mid_stream(1, seconds=10),
        "openai_stall_mid_stream",
        request_timeout_s=0.5,
    ),
    fault_then("openai_cut_stream", "O5", Fault.cut_stream(1), "openai_cut_stream", attempts=2),
    fault_then("openai_cut_stream_twice", "O5", Fault.cut_stream(1, times=2), CUT_OFF, attempts=2),
    fault_then("openai_disconnect", "O6", Fault.disconnect(1), NOT_RESPONDING),
    fault_then(
        "openai_corrupt_chunk", "O6", Fault.corrupt_chunk(1), ("openai_corrupt_chunk", WENT_WRONG)
    ),
    FaultCase("openai_malformed_tool_call", "O7", malformed_tool_call),
    FaultCase("openai_unknown_tool", "O7", unknown_tool),
    FaultCase("openai_hallucinated_parameter", "O7", hallucinated_parameter),
    FaultCase("openai_context_overflow", "O9", context_overflow),
    FaultCase("openai_finish_length", "O8", length_cut),
    FaultCase("openai_content_filter", "O8", content_filter),
    fault_then("openai_invalid_key", "O8", Fault.invalid_api_key(), MISCONFIGURED, attempts=1),
]
