"""Approval in the dispatcher: asked before running, recorded in the ledger, never twice."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel

from tools import ToolContext, tool
from tools.approval import (
    DEFAULT_POLICY,
    ApprovalDecision,
    ApprovalPolicy,
    awaiting_message,
    refusal_message,
)
from tools.calls import ToolCall
from tools.deps import ToolDeps
from tools.dispatch import Dispatcher
from tools.ledger import InMemoryLedger
from tools.registry import ToolRegistry


class ScriptedApprover:
    """Answers each ask with the next scripted decision (or waits forever on 'hang')."""

    def __init__(self, *decisions: str) -> None:
        self.decisions = list(decisions)
        self.asked: list[tuple[str, dict[str, Any], tuple[str, ...]]] = []
        self.first_ask = asyncio.Event()

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
        self.asked.append((tool_name, params.model_dump(), permissions))
        self.first_ask.set()
        decision = self.decisions.pop(0)
        if decision == "hang":
            await asyncio.Event().wait()
        return decision  # type: ignore[return-value]


def setup(
    approver: ScriptedApprover | None, make_ctx: Any
) -> tuple[ToolRegistry, ToolContext, list[str]]:
    ran: list[str] = []

    @tool(approval=True)
    async def act(text: str) -> str:
        """Do something.

        Args:
            text: What.
        """
        ran.append(text)
        return f"did {text}"

    registry = ToolRegistry([act])
    return registry, make_ctx(deps=ToolDeps(approver=approver)), ran


CALL = ToolCall("c1", "act", '{"text": "x"}')


async def test_approval_implies_side_effects() -> None:
    @tool(approval=True)
    async def act(text: str) -> str:
        """Do it."""
        return text

    assert act.side_effects and act.approval


async def test_allowed_once_then_a_retry_replays_without_asking(make_ctx) -> None:
    approver = ScriptedApprover("allow_once")
    registry, ctx, ran = setup(approver, make_ctx)
    ledger = InMemoryLedger()
    [first] = await Dispatcher(registry, ctx, ["act"], ledger=ledger).run([CALL])
    [retry] = await Dispatcher(registry, ctx, ["act"], ledger=ledger).run([CALL])
    assert (first.status, first.content) == ("ok", "did x")
    assert (retry.status, retry.content) == ("skipped_duplicate", "did x")
    assert ran == ["x"] and len(approver.asked) == 1


async def test_denied_then_a_retry_is_denied_without_asking(make_ctx) -> None:
    approver = ScriptedApprover("deny")
    registry, ctx, ran = setup(approver, make_ctx)
    ledger = InMemoryLedger()
    [first] = await Dispatcher(registry, ctx, ["act"], ledger=ledger).run([CALL])
    [retry] = await Dispatcher(registry, ctx, ["act"], ledger=ledger).run([CALL])
    assert (first.status, first.content) == ("denied", refusal_message("act", "deny"))
    assert retry.content == refusal_message("act", "deny")
    assert ran == [] and len(approver.asked) == 1


async def test_interrupted_while_waiting_is_never_asked_again(make_ctx) -> None:
    approver = ScriptedApprover("hang")
    registry, ctx, ran = setup(approver, make_ctx)
    ledger = InMemoryLedger()
    task = asyncio.create_task(Dispatcher(registry, ctx, ["act"], ledger=ledger).run([CALL]))
    await asyncio.wait_for(approver.first_ask.wait(), 10)
    task.cancel()
    [retry] = await Dispatcher(registry, ctx, ["act"], ledger=ledger).run([CALL])
    assert (retry.status, retry.content) == ("skipped_duplicate", awaiting_message("act"))
    assert ran == [] and len(approver.asked) == 1


async def test_no_approver_means_not_run(make_ctx) -> None:
    registry, ctx, ran = setup(None, make_ctx)
    [outcome] = await Dispatcher(registry, ctx, ["act"]).run([CALL])
    assert (outcome.status, outcome.content) == ("denied", refusal_message("act", "unavailable"))
    assert ran == []
