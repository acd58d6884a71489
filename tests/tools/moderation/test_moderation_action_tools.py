"""delete_message / timeout_member: who may call them, how they are approved, what reaches the
action service (checked before asking, performed only once allowed, never twice)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import BaseModel

from tools import Permissions, ToolContext
from tools.approval import ApprovalDecision, ApprovalPolicy, refusal_message
from tools.calls import ToolCall
from tools.deps import ToolDeps
from tools.dispatch import Dispatcher
from tools.ledger import InMemoryLedger
from tools.moderation import (
    MODERATION_APPROVAL,
    ActionRefused,
    ActionRequest,
    check_moderation,
    delete_message,
    timeout_member,
)
from tools.registry import ToolRegistry
from tools.schema import assert_strict_tool

MESSAGE_ID = 112233445566778899
GUILD_ID = 300000000000000003


@dataclass
class RecordingService:
    """Stands in for the Discord executor: records checks and actions, optionally refuses."""

    refuse_check: str | None = None
    refuse_perform: str | None = None
    calls: list[tuple[str, ActionRequest]] = field(default_factory=list)

    @property
    def requests(self) -> list[ActionRequest]:
        return [request for step, request in self.calls if step == "check"]

    @property
    def performed(self) -> list[ActionRequest]:
        return [request for step, request in self.calls if step == "perform"]

    async def check(self, request: ActionRequest) -> str:
        self.calls.append(("check", request))
        if self.refuse_check is not None:
            raise ActionRefused(self.refuse_check)
        return f"{request.kind} as described"

    async def perform(self, request: ActionRequest) -> str:
        self.calls.append(("perform", request))
        if self.refuse_perform is not None:
            raise ActionRefused(self.refuse_perform)
        return "Done."


@dataclass
class Approver:
    """Answers every request with ``decision`` and records what it was asked."""

    decision: ApprovalDecision = "allow_once"
    asked: list[dict[str, Any]] = field(default_factory=list)

    async def decide(
        self,
        ctx: ToolContext,
        tool_name: str,
        params: BaseModel,
        call: ToolCall,
        permissions: tuple[str, ...],
        policy: ApprovalPolicy,
        description: str | None = None,
    ) -> ApprovalDecision:
        self.asked.append(
            {"tool": tool_name, "policy": policy, "description": description, "user": ctx.user_id}
        )
        return self.decision


def _ctx(
    service: RecordingService,
    *,
    permissions: tuple[str, ...],
    guild: bool = True,
    approver: Approver | None = None,
) -> ToolContext:
    return ToolContext(
        user_id=1001,
        user_name="mod",
        channel_id=2002,
        guild_id=GUILD_ID if guild else None,
        member_permissions=Permissions.from_names(*permissions) if guild else None,
        deps=ToolDeps(moderation_actions=service, approver=approver or Approver()),
        conversation_id="c",
        turn_id="t",
    )


async def _run(
    ctx: ToolContext,
    name: str,
    arguments: dict[str, object],
    ledger: InMemoryLedger | None = None,
) -> tuple[str, str]:
    registry = ToolRegistry([delete_message, timeout_member, check_moderation])
    dispatcher = Dispatcher(registry, ctx, registry.names(), ledger=ledger or InMemoryLedger())
    (outcome,) = await dispatcher.run([ToolCall("call_1", name, json.dumps(arguments))])
    return outcome.status, outcome.content


def test_action_tools_are_guarded_side_effects() -> None:
    assert delete_message.required_permissions == ("manage_messages",)
    assert timeout_member.required_permissions == ("moderate_members",)
    for item in (delete_message, timeout_member):
        assert item.side_effects and item.guild_only and item.family == "moderation"
        assert item.approval_policy is MODERATION_APPROVAL
        assert_strict_tool(item.openai_schema())
    assert MODERATION_APPROVAL.invoker_only and not MODERATION_APPROVAL.conversation_grants


async def test_an_allowed_action_is_checked_then_performed_with_the_invoker_from_the_context() -> (
    None
):
    service = RecordingService()
    approver = Approver()
    ctx = _ctx(service, permissions=("manage_messages",), approver=approver)

    status, content = await _run(
        ctx, "delete_message", {"message": str(MESSAGE_ID), "reason": "spam  link"}
    )

    assert (status, content) == ("ok", "Done.")
    assert [step for step, _ in service.calls] == ["check", "perform"]
    assert service.performed == service.requests
    assert approver.asked == [
        {
            "tool": "delete_message",
            "policy": MODERATION_APPROVAL,
            "description": "delete_message as described",
            "user": 1001,
        }
    ]
    (request,) = service.requests
    assert (request.kind, request.invoker_id, request.guild_id) == (
        "delete_message",
        1001,
        GUILD_ID,
    )
    assert (request.message_id, request.message_channel_id, request.reason) == (
        MESSAGE_ID,
        2002,
        "spam link",
    )


async def test_a_message_link_names_its_channel() -> None:
    service = RecordingService()
    link = f"https://discord.com/channels/{GUILD_ID}/400000000000000004/{MESSAGE_ID}"

    await _run(
        _ctx(service, permissions=("manage_messages",)),
        "delete_message",
        {"message": link, "reason": "r"},
    )

    assert service.requests[0].message_channel_id == 400000000000000004


async def test_a_link_to_another_server_is_refused() -> None:
    service = RecordingService()
    link = f"https://discord.com/channels/999999999999999999/4/{MESSAGE_ID}"

    status, content = await _run(
        _ctx(service, permissions=("manage_messages",)),
        "delete_message",
        {"message": link, "reason": "r"},
    )

    assert status == "error" and "not in this server" in content
    assert service.requests == []


@pytest.mark.parametrize(
    ("member", "expected"),
    [
        ("<@!123456789012345678>", "123456789012345678"),
        ("@bob", "bob"),
        (" Bob Smith ", "Bob Smith"),
    ],
)
async def test_member_references_are_normalised(member: str, expected: str) -> None:
    service = RecordingService()

    await _run(
        _ctx(service, permissions=("moderate_members",)),
        "timeout_member",
        {"member": member, "minutes": 10, "reason": "r"},
    )

    assert service.requests[0].member == expected
    assert service.requests[0].minutes == 10


@pytest.mark.parametrize(
    ("name", "arguments", "permissions"),
    [
        ("delete_message", {"message": str(MESSAGE_ID), "reason": "r"}, ()),
        ("delete_message", {"message": str(MESSAGE_ID), "reason": "r"}, ("moderate_members",)),
        ("timeout_member", {"member": "bob", "minutes": 5, "reason": "r"}, ("manage_messages",)),
        ("timeout_member", {"member": "bob", "minutes": 5, "reason": "r"}, ("kick_members",)),
    ],
)
async def test_members_without_the_permission_are_denied_before_the_service(
    name: str, arguments: dict[str, object], permissions: tuple[str, ...]
) -> None:
    service = RecordingService()

    status, content = await _run(_ctx(service, permissions=permissions), name, arguments)

    assert status == "denied" and "lacks the permission" in content
    assert service.requests == []


async def test_in_direct_messages_the_tools_do_not_exist() -> None:
    service = RecordingService()

    status, _ = await _run(
        _ctx(service, permissions=(), guild=False),
        "timeout_member",
        {"member": "bob", "minutes": 5, "reason": "r"},
    )

    assert status == "denied"
    assert service.requests == []


async def test_a_refusal_at_the_check_asks_nobody_and_reaches_the_model() -> None:
    service = RecordingService(refuse_check="their highest role is not below yours")
    approver = Approver()

    status, content = await _run(
        _ctx(service, permissions=("administrator",), approver=approver),
        "timeout_member",
        {"member": "123456789012345678", "minutes": 5, "reason": "r"},
    )

    assert (status, content) == (
        "error",
        "'timeout_member' was not run and nobody was asked: their highest role is not below yours",
    )
    assert approver.asked == [] and service.performed == []


async def test_a_refusal_at_execution_reaches_the_model() -> None:
    service = RecordingService(refuse_perform="the bot lacks the moderate members permission here")

    status, content = await _run(
        _ctx(service, permissions=("administrator",)),
        "timeout_member",
        {"member": "123456789012345678", "minutes": 5, "reason": "r"},
    )

    assert status == "error"
    assert content == (
        "'timeout_member' failed: Nothing was done: the bot lacks the moderate members "
        "permission here"
    )


@pytest.mark.parametrize("decision", ["deny", "timeout", "unavailable"])
async def test_without_approval_nothing_is_performed(decision: ApprovalDecision) -> None:
    service = RecordingService()
    ctx = _ctx(service, permissions=("moderate_members",), approver=Approver(decision))

    status, content = await _run(
        ctx, "timeout_member", {"member": "bob", "minutes": 5, "reason": "r"}
    )

    assert (status, content) == ("denied", refusal_message("timeout_member", decision))
    assert len(service.requests) == 1 and service.performed == []


async def test_a_retried_call_is_neither_asked_nor_performed_twice() -> None:
    service = RecordingService()
    approver = Approver()
    ctx = _ctx(service, permissions=("moderate_members",), approver=approver)
    ledger = InMemoryLedger()
    arguments: dict[str, object] = {"member": "bob", "minutes": 5, "reason": "r"}

    first = await _run(ctx, "timeout_member", arguments, ledger)
    second = await _run(ctx, "timeout_member", arguments, ledger)

    assert first == ("ok", "Done.")
    assert second == ("skipped_duplicate", "Done.")
    assert len(approver.asked) == 1 and len(service.performed) == 1


async def test_without_the_service_nothing_can_happen() -> None:
    ctx = _ctx(RecordingService(), permissions=("administrator",))

    ctx.deps = ToolDeps(approver=Approver())

    status, content = await _run(ctx, "delete_message", {"message": str(MESSAGE_ID), "reason": "r"})

    assert status == "error" and "not enabled" in content


async def test_time_outs_longer_than_configured_go_back_to_the_model() -> None:
    service = RecordingService()
    ctx = _ctx(service, permissions=("moderate_members",))
    ctx.tool_settings = {"moderation": {"max_timeout_minutes": 60}}

    status, content = await _run(
        ctx, "timeout_member", {"member": "bob", "minutes": 120, "reason": "r"}
    )

    assert status == "invalid_arguments" and "at most 60" in content
    assert service.requests == []
