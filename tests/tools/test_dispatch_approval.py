"""The dispatcher's approval path pinned exactly: the policy's check before asking (each way it
can refuse), what the approver is handed, what the ledger keeps (docs/mutation.md)."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import pytest
from pydantic import BaseModel

from tools import Permissions, ToolContext, ToolFailed, ToolRetry, tool
from tools.approval import (
    DEFAULT_POLICY,
    ApprovalDecision,
    ApprovalPolicy,
    awaiting_message,
    refusal_message,
    unknown_outcome_message,
)
from tools.calls import ToolCall
from tools.deps import ToolDeps
from tools.dispatch import Dispatcher
from tools.ledger import InMemoryLedger
from tools.registry import ToolRegistry

CALL = ToolCall("c1", "act", '{"text": "x"}')


class Approver:
    """Answers every request with ``decision`` (or raises ``fails``) and records each ask."""

    def __init__(self, decision: ApprovalDecision = "allow_once") -> None:
        self.decision = decision
        self.fails: Exception | None = None
        self.asked: list[dict[str, Any]] = []

    async def decide(
        self,
        ctx: ToolContext,
        tool_name: str,
        params: BaseModel,
        call: ToolCall,
        permissions: tuple[str, ...],
        policy: ApprovalPolicy = DEFAULT_POLICY,
        description: str | None = None,
    ) -> ApprovalDecision:
        self.asked.append(
            {
                "ctx": (ctx.call_id, ctx.tool_name, dict(ctx.config), ctx.on_progress),
                "tool": tool_name,
                "params": params.model_dump(),
                "call": call.id,
                "permissions": permissions,
                "policy": policy,
                "description": description,
            }
        )
        if self.fails is not None:
            raise self.fails
        return self.decision


class Check:
    """A policy check that describes the call, or raises ``raises``, or hangs."""

    def __init__(self, raises: Exception | None = None, *, hang: bool = False) -> None:
        self.raises = raises
        self.hang = hang
        self.seen: list[tuple[str, str, dict[str, Any], Any, dict[str, Any]]] = []

    async def __call__(self, ctx: ToolContext, params: BaseModel) -> str:
        self.seen.append(
            (ctx.call_id, ctx.tool_name, dict(ctx.config), ctx.on_progress, params.model_dump())
        )
        if self.hang:
            await asyncio.Event().wait()
        if self.raises is not None:
            raise self.raises
        return "act on x"


def build(
    make_ctx: Any, check: Check | None, approver: Approver | None, *, max_retries: int = 2
) -> tuple[ToolRegistry, ToolContext, list[str], ApprovalPolicy | bool]:
    ran: list[str] = []
    policy: ApprovalPolicy | bool = (
        True if check is None else ApprovalPolicy(check=check, invoker_only=True)
    )

    @tool(
        approval=policy,
        timeout=0.2,
        family="acting",
        required_permissions=["manage_messages"],
        max_retries=max_retries,
    )
    async def act(text: str) -> str:
        """Do something.

        Args:
            text: What.
        """
        ran.append(text)
        return f"did {text}"

    ctx = make_ctx(
        deps=ToolDeps(approver=approver),
        tool_settings={"acting": {"level": 3}},
        member_permissions=Permissions.from_names("manage_messages"),
    )
    return ToolRegistry([act]), ctx, ran, policy


async def run(registry: ToolRegistry, ctx: ToolContext, ledger: Any = None) -> Any:
    [outcome] = await Dispatcher(registry, ctx, ["act"], ledger=ledger).run([CALL])
    return outcome


async def test_a_passing_check_describes_the_request(make_ctx: Any) -> None:
    check, approver = Check(), Approver()
    registry, ctx, ran, policy = build(make_ctx, check, approver)
    outcome = await run(registry, ctx)
    assert (outcome.status, outcome.content, ran) == ("ok", "did x", ["x"])
    assert check.seen == [("c1", "act", {"level": 3}, None, {"text": "x"})]
    assert approver.asked == [
        {
            "ctx": ("c1", "act", {"level": 3}, None),
            "tool": "act",
            "params": {"text": "x"},
            "call": "c1",
            "permissions": ("manage_messages",),
            "policy": policy,
            "description": "act on x",
        }
    ]


async def test_without_a_check_the_default_policy_asks_with_no_description(
    make_ctx: Any,
) -> None:
    approver = Approver("allow_conversation")
    registry, ctx, ran, _ = build(make_ctx, None, approver)
    outcome = await run(registry, ctx)
    assert (outcome.status, ran) == ("ok", ["x"])
    [asked] = approver.asked
    assert (asked["policy"], asked["description"]) == (DEFAULT_POLICY, None)


async def test_a_refusing_check_asks_nobody(make_ctx: Any) -> None:
    approver = Approver()
    registry, ctx, ran, _ = build(make_ctx, Check(ToolFailed("they left.")), approver)
    ledger = InMemoryLedger()
    outcome = await run(registry, ctx, ledger)
    assert (outcome.status, outcome.content) == (
        "error",
        "'act' was not run and nobody was asked: they left.",
    )
    assert (ran, approver.asked) == ([], [])
    replay = await run(registry, ctx, ledger)  # the ledger keeps the refusal
    assert (replay.status, replay.content) == ("skipped_duplicate", outcome.content)


async def test_a_check_asking_for_other_arguments_counts_as_a_retry(make_ctx: Any) -> None:
    check = Check(ToolRetry("No such message."))
    registry, ctx, ran, _ = build(make_ctx, check, Approver(), max_retries=1)
    dispatcher = Dispatcher(registry, ctx, ["act"])
    [first] = await dispatcher.run([CALL])
    assert (first.status, first.content) == (
        "invalid_arguments",
        "No such message. Fix the call and try 'act' again.",
    )
    [second] = await dispatcher.run([ToolCall("c2", "act", '{"text": "x"}')])
    assert second.status == "budget_exhausted"
    assert ran == []


async def test_a_check_that_takes_too_long_is_refused(make_ctx: Any) -> None:
    approver = Approver()
    registry, ctx, ran, _ = build(make_ctx, Check(hang=True), approver)
    outcome = await asyncio.wait_for(run(registry, ctx), 10)
    assert (outcome.status, outcome.content) == (
        "error",
        "'act' was not run: checking it took too long. Try again later.",
    )
    assert (ran, approver.asked) == ([], [])


async def test_a_crashing_check_is_an_internal_error(
    make_ctx: Any, caplog: pytest.LogCaptureFixture
) -> None:
    approver = Approver()
    registry, ctx, ran, _ = build(make_ctx, Check(RuntimeError("secret")), approver)
    with caplog.at_level(logging.INFO, logger="toolcord.tools"):
        outcome = await run(registry, ctx)
    assert outcome.status == "error"
    assert re.fullmatch(
        r"The tool 'act' failed with an internal error \(reference [0-9a-f]{8}\)\. "
        r"Tell the user it did not work; do not call it again for this request\.",
        outcome.content,
    )
    assert "secret" not in outcome.content
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0] == "approval check of tool act call c1 failed"
    assert (ran, approver.asked) == ([], [])


async def test_an_approver_that_fails_means_not_run(
    make_ctx: Any, caplog: pytest.LogCaptureFixture
) -> None:
    approver = Approver()
    approver.fails = RuntimeError("discord down")
    registry, ctx, ran, _ = build(make_ctx, None, approver)
    with caplog.at_level(logging.INFO, logger="toolcord.tools"):
        outcome = await run(registry, ctx)
    assert (outcome.status, outcome.content) == (
        "denied",
        refusal_message("act", "unavailable"),
    )
    assert [r.getMessage() for r in caplog.records] == ["approval of tool act call c1 failed"]
    assert ran == []


@pytest.mark.parametrize("decision", ["deny", "timeout", "unavailable"])
async def test_every_other_answer_is_a_denial(make_ctx: Any, decision: ApprovalDecision) -> None:
    registry, ctx, ran, _ = build(make_ctx, Check(), Approver(decision))
    outcome = await run(registry, ctx)
    assert (outcome.status, outcome.content) == ("denied", refusal_message("act", decision))
    assert ran == []


# ------------------------------------------------------------------------ ledger and events


class RecordingLedger(InMemoryLedger):
    """Records every completion; ``fails_on`` makes completions with that status raise."""

    def __init__(self, fails_on: str | None = None) -> None:
        super().__init__()
        self.fails_on = fails_on
        self.completions: list[tuple[str, str, str]] = []

    async def complete(self, key: str, result: str, status: str) -> None:
        self.completions.append((key, result, status))
        if status == self.fails_on:
            raise RuntimeError("disk full")
        await super().complete(key, result, status)


async def run_recorded(
    registry: ToolRegistry, ctx: ToolContext, ledger: RecordingLedger
) -> tuple[Any, list[Any]]:
    events: list[Any] = []
    dispatcher = Dispatcher(registry, ctx, ["act"], ledger=ledger, on_event=events.append)
    [outcome] = await dispatcher.run([CALL])
    return outcome, events


def finished(events: list[Any]) -> list[Any]:
    return [event.outcome for event in events if type(event).__name__ == "ToolFinished"]


async def test_an_allowed_call_is_recorded_waiting_attempted_then_done(make_ctx: Any) -> None:
    registry, ctx, _, _ = build(make_ctx, Check(), Approver())
    ledger = RecordingLedger()
    outcome, events = await run_recorded(registry, ctx, ledger)
    [key] = {key for key, _, _ in ledger.completions}
    assert key
    assert [(text, status) for _, text, status in ledger.completions] == [
        (awaiting_message("act"), "awaiting_approval"),
        (unknown_outcome_message("act"), "attempted"),
        ("did x", "ok"),
    ]
    assert finished(events) == [outcome]
    replay, replayed = await run_recorded(registry, ctx, ledger)
    assert finished(replayed) == [replay] and replay.status == "skipped_duplicate"


async def test_a_denied_call_is_recorded_and_reported(make_ctx: Any) -> None:
    registry, ctx, _, _ = build(make_ctx, Check(), Approver("deny"))
    ledger = RecordingLedger()
    outcome, events = await run_recorded(registry, ctx, ledger)
    assert [(text, status) for _, text, status in ledger.completions] == [
        (awaiting_message("act"), "awaiting_approval"),
        (refusal_message("act", "deny"), "denied"),
    ]
    assert finished(events) == [outcome]


async def test_a_refused_check_is_recorded_and_reported(make_ctx: Any) -> None:
    registry, ctx, _, _ = build(make_ctx, Check(ToolFailed("gone.")), Approver())
    ledger = RecordingLedger()
    outcome, events = await run_recorded(registry, ctx, ledger)
    assert [(text, status) for _, text, status in ledger.completions] == [
        (awaiting_message("act"), "awaiting_approval"),
        ("'act' was not run and nobody was asked: gone.", "error"),
    ]
    assert finished(events) == [outcome]


async def test_a_failing_ledger_update_is_logged_and_the_call_goes_on(
    make_ctx: Any, caplog: pytest.LogCaptureFixture
) -> None:
    registry, ctx, ran, _ = build(make_ctx, Check(), Approver())
    ledger = RecordingLedger(fails_on="awaiting_approval")
    with caplog.at_level(logging.INFO, logger="toolcord.tools"):
        outcome, _ = await run_recorded(registry, ctx, ledger)
    assert (outcome.status, ran) == ("ok", ["x"])
    key = ledger.completions[0][0]
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [f"ledger update failed for key {key}"]


async def test_a_check_asking_for_other_arguments_shares_the_tools_retry_budget(
    make_ctx: Any,
) -> None:
    registry, ctx, _, _ = build(
        make_ctx, Check(ToolRetry("No such message.")), Approver(), max_retries=1
    )
    dispatcher = Dispatcher(registry, ctx, ["act"])
    [bad] = await dispatcher.run([ToolCall("c0", "act", "{not json")])
    assert bad.status == "invalid_json"  # counted against 'act'
    [second] = await dispatcher.run([CALL])
    assert second.status == "budget_exhausted"
