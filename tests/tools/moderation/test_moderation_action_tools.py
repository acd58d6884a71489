"""delete_message / timeout_member: who may call them, what reaches the action service."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from tools import (
    Dispatcher,
    InMemoryLedger,
    Permissions,
    ToolCall,
    ToolContext,
    ToolRegistry,
    assert_strict_tool,
)
from tools.moderation import (
    ActionRefused,
    ActionRequest,
    check_moderation,
    delete_message,
    timeout_member,
)

MESSAGE_ID = 112233445566778899
GUILD_ID = 300000000000000003


@dataclass
class RecordingService:
    """Stands in for the Discord executor: records proposals, optionally refuses."""

    refuse_with: str | None = None
    requests: list[ActionRequest] = field(default_factory=list)

    async def propose(self, request: ActionRequest) -> str:
        self.requests.append(request)
        if self.refuse_with is not None:
            raise ActionRefused(self.refuse_with)
        return "A confirmation was posted."


def _ctx(
    service: RecordingService, *, permissions: tuple[str, ...], guild: bool = True
) -> ToolContext:
    return ToolContext(
        user_id=1001,
        user_name="mod",
        channel_id=2002,
        guild_id=GUILD_ID if guild else None,
        member_permissions=Permissions.from_names(*permissions) if guild else None,
        services={"moderation_actions": service},
        conversation_id="c",
        turn_id="t",
    )


async def _run(ctx: ToolContext, name: str, arguments: dict[str, object]) -> tuple[str, str]:
    registry = ToolRegistry([delete_message, timeout_member, check_moderation])
    dispatcher = Dispatcher(registry, ctx, registry.names(), ledger=InMemoryLedger())
    (outcome,) = await dispatcher.run([ToolCall("call_1", name, json.dumps(arguments))])
    return outcome.status, outcome.content


def test_action_tools_are_guarded_side_effects() -> None:
    assert delete_message.required_permissions == ("manage_messages",)
    assert timeout_member.required_permissions == ("moderate_members",)
    for item in (delete_message, timeout_member):
        assert item.side_effects and item.guild_only and item.family == "moderation"
        assert_strict_tool(item.openai_schema())


async def test_the_proposal_carries_the_invoker_from_the_context() -> None:
    service = RecordingService()
    ctx = _ctx(service, permissions=("manage_messages",))

    status, content = await _run(
        ctx, "delete_message", {"message": str(MESSAGE_ID), "reason": "spam  link"}
    )

    assert (status, content) == ("ok", "A confirmation was posted.")
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


async def test_a_refusal_from_the_service_reaches_the_model() -> None:
    service = RecordingService(refuse_with="their highest role is not below yours")

    status, content = await _run(
        _ctx(service, permissions=("administrator",)),
        "timeout_member",
        {"member": "123456789012345678", "minutes": 5, "reason": "r"},
    )

    assert status == "error"
    assert "Nothing was done: their highest role is not below yours" in content


async def test_without_the_service_nothing_can_happen() -> None:
    ctx = _ctx(RecordingService(), permissions=("administrator",))
    ctx.services = {}

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
