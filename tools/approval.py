"""Approval for tools that act: the call pauses until the invoker (or a member holding the
tool's permission) allows or denies it; no answer in time is a denial the model is told about.

A tool opts in with ``@tool(..., approval=True)`` (MCP tools: from their annotations), or with
an :class:`ApprovalPolicy` for more control: a ``check`` that describes the action (the text of
the request) and refuses it when it may not run (called before asking, again at every press and
by the tool itself when it runs), answers from the invoker only, and no "for this conversation"
grant. The dispatcher asks the ``"approver"`` service of the tool context; the bot provides one
that shows Discord buttons (``bot/approval.py``). Decisions go to the tool ledger, so a retried
request never runs an approved call twice and never asks twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel

from tools.calls import ToolCall
from tools.context import ToolContext

ApprovalDecision = Literal["allow_once", "allow_conversation", "deny", "timeout", "unavailable"]
APPROVER_SERVICE = "approver"
ApprovalCheck = Callable[[ToolContext, BaseModel], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class ApprovalPolicy:
    """How the calls of one tool are approved.

    Attributes:
        check: Describes the action in a sentence for the approval request (e.g. "time out bob
            for 10 minutes"), or raises :class:`~tools.errors.ToolFailed` saying why it may not
            run. It is called before asking (a refusal means nobody is asked) and at each press
            (a refusal is shown to the presser and the press does not count); the tool should
            check again when it runs.
        invoker_only: Only the member who asked may answer (not other members holding the
            tool's permission).
        conversation_grants: Offer "Allow for this conversation"; False asks for every call.
    """

    check: ApprovalCheck | None = None
    invoker_only: bool = False
    conversation_grants: bool = True


DEFAULT_POLICY = ApprovalPolicy()


@runtime_checkable
class Approver(Protocol):
    """Asks a human whether one tool call may run."""

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
        """Wait for the decision on ``call`` (the approver applies its own timeout).

        ``description`` is what ``policy.check`` said the call would do (None without one).
        """
        ...


def refusal_message(tool_name: str, decision: ApprovalDecision) -> str:
    """What the model is told when the call did not get approval."""
    if decision == "timeout":
        why = "nobody approved it in time"
    elif decision == "unavailable":
        why = "approval could not be asked for here"
    else:
        why = "the user denied it"
    return (
        f"The tool '{tool_name}' was not run: {why}. Do not call it again for this request; "
        "tell the user it was not done."
    )


def awaiting_message(tool_name: str) -> str:
    """The ledger's text while a call waits for approval (what a retry after a restart reads)."""
    return (
        f"The call to '{tool_name}' was waiting for the user's approval when it was interrupted; "
        "it was not run. Tell the user to ask again if they still want it."
    )


def unknown_outcome_message(tool_name: str) -> str:
    """The ledger's text once an approved call started (until its outcome is known)."""
    return (
        f"This action ('{tool_name}' with these arguments) was approved and started; its outcome "
        "is unknown. Do not repeat it; tell the user to check whether it happened."
    )
