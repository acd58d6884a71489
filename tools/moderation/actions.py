"""Moderation action tools: ``delete_message`` and ``timeout_member``.

Both are approval tools (``tools/approval.py``) with :data:`MODERATION_APPROVAL`: before anyone is
asked, the ``ctx.deps.moderation_actions`` the bot provides (``bot/moderation_actions.py`` in
toolcord) checks the invoking member's real permissions, the role hierarchy and the bot's own
rights on Discord and describes the action; only the invoker may answer, the same check runs at
the press, and the tool, once allowed, hands the :class:`ActionRequest` to the service, which
checks everything a third time and acts. So text injected into the conversation (a search
result, a transcript) can at most produce a request that the invoker must allow. Who asked comes
from the tool context, never from the model's arguments.

The registry offers the tools only in guilds and only to members holding ``manage_messages``
(``delete_message``) or ``moderate_members`` (``timeout_member``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from tools.approval import ApprovalPolicy
from tools.context import ToolContext
from tools.definition import tool
from tools.errors import ToolFailed, ToolRetry
from tools.moderation.settings import load_settings

ActionKind = Literal["delete_message", "timeout_member"]
MAX_REASON_CHARS = 300
_SNOWFLAKE = re.compile(r"^\d{15,21}$")
_MENTION = re.compile(r"^<@!?(\d{15,21})>$")
_MESSAGE_LINK = re.compile(
    r"^https?://(?:(?:ptb|canary)\.)?discord(?:app)?\.com/channels/(\d+|@me)/(\d+)/(\d+)/?$"
)


@dataclass(frozen=True, slots=True)
class ActionRequest:
    """A moderation action the model proposed, with who asked and where (from the context).

    Attributes:
        kind: ``delete_message`` or ``timeout_member``.
        invoker_id: The member whose turn this is; only they may confirm.
        guild_id: The guild of the turn.
        channel_id: The channel of the turn (the confirmation is posted there).
        reason: Why, as the model wrote it (shown to the invoker and in the audit log).
        message_id: The message to delete.
        message_channel_id: The channel of that message (default: the turn's channel).
        member: The member to time out: an id, a mention or a name, as the model gave it.
        minutes: Length of the time-out.
        call_id: The tool call that proposed it (for logs).
    """

    kind: ActionKind
    invoker_id: int
    guild_id: int
    channel_id: int
    reason: str
    message_id: int | None = None
    message_channel_id: int | None = None
    member: str | None = None
    minutes: int | None = None
    call_id: str = ""


class ActionRefused(Exception):
    """The action service refused a request; ``message`` is safe to show the model and user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@runtime_checkable
class ModerationActionService(Protocol):
    """What the tools need from the bot's moderation action executor."""

    async def check(self, request: ActionRequest) -> str:
        """Check the request against Discord as it is now; describe it for the approval request.

        Raises:
            ActionRefused: When the invoker, the bot or the target rules the action out.
        """
        ...

    async def perform(self, request: ActionRequest) -> str:
        """Check the request again and perform it; return a sentence for the model.

        Raises:
            ActionRefused: When it may not run (any more) or Discord refused it.
        """
        ...


async def _check(ctx: ToolContext, params: BaseModel) -> str:
    """The approval check: the action as it would run now, or why it may not."""
    request = _request(ctx, params.model_dump())
    try:
        return await _service(ctx).check(request)
    except ActionRefused as refused:
        raise ToolFailed(refused.message) from None


MODERATION_APPROVAL = ApprovalPolicy(check=_check, invoker_only=True, conversation_grants=False)
"""Every action waits for the invoker's own "Allow once"; the check runs before asking, at the
press and (by the tool) at execution."""


@tool(
    family="moderation",
    approval=MODERATION_APPROVAL,
    guild_only=True,
    required_permissions=("manage_messages",),
    timeout=20.0,
    progress="Deleting the message...",
)
async def delete_message(
    ctx: ToolContext,
    message: Annotated[str, Field(min_length=1, max_length=200)],
    reason: Annotated[str, Field(min_length=1, max_length=MAX_REASON_CHARS)],
) -> str:
    """Delete a message in this server, after the user who asked approves it.

    An approval request with buttons is posted for the user who asked you; the message is
    deleted only if they press "Allow once". Use it only when that user asks for it.

    Args:
        message: The message's id, or its link (https://discord.com/channels/...).
        reason: Why the message should be deleted, in a few words (shown in the audit log).
    """
    return await _perform(ctx, {"message": message, "reason": reason})


@tool(
    family="moderation",
    approval=MODERATION_APPROVAL,
    guild_only=True,
    required_permissions=("moderate_members",),
    timeout=20.0,
    progress="Timing the member out...",
)
async def timeout_member(
    ctx: ToolContext,
    member: Annotated[str, Field(min_length=1, max_length=100)],
    minutes: Annotated[int, Field(ge=1, le=40_320)],
    reason: Annotated[str, Field(min_length=1, max_length=MAX_REASON_CHARS)],
) -> str:
    """Time out a member of this server, after the user who asked approves it.

    A timed-out member cannot chat or react until the time-out ends. An approval request with
    buttons is posted for the user who asked you; nothing happens unless they press "Allow
    once". Use it only when that user asks for it.

    Args:
        member: The member's user id, mention, or exact user/display name.
        minutes: Length of the time-out in minutes (at most 40320, i.e. 28 days).
        reason: Why, in a few words (shown in the audit log).
    """
    return await _perform(ctx, {"member": member, "minutes": minutes, "reason": reason})


async def _perform(ctx: ToolContext, arguments: dict[str, Any]) -> str:
    request = _request(ctx, arguments)
    try:
        return await _service(ctx).perform(request)
    except ActionRefused as refused:
        raise ToolFailed(f"Nothing was done: {refused.message}") from None


def _request(ctx: ToolContext, arguments: dict[str, Any]) -> ActionRequest:
    """The action the arguments ask for, with who asked and where taken from the context."""
    guild_id = _guild(ctx)
    reason = _reason(str(arguments["reason"]))
    if "message" in arguments:
        channel_id, message_id = _message_target(
            str(arguments["message"]).strip(), guild_id, ctx.channel_id
        )
        return ActionRequest(
            kind="delete_message",
            invoker_id=ctx.user_id,
            guild_id=guild_id,
            channel_id=ctx.channel_id,
            reason=reason,
            message_id=message_id,
            message_channel_id=channel_id,
            call_id=ctx.call_id,
        )
    minutes = int(arguments["minutes"])
    limit = load_settings(ctx.config).max_timeout_minutes
    if minutes > limit:
        raise ToolRetry(f"minutes must be at most {limit} here.")
    return ActionRequest(
        kind="timeout_member",
        invoker_id=ctx.user_id,
        guild_id=guild_id,
        channel_id=ctx.channel_id,
        reason=reason,
        member=_member_ref(str(arguments["member"])),
        minutes=minutes,
        call_id=ctx.call_id,
    )


def _service(ctx: ToolContext) -> ModerationActionService:
    service = ctx.deps.moderation_actions
    if not isinstance(service, ModerationActionService):
        raise ToolFailed(
            "Moderation actions are not enabled on this bot (the bot owner must inject the "
            "'moderation_actions' service). Nothing was done."
        )
    return service


def _guild(ctx: ToolContext) -> int:
    if ctx.guild_id is None:
        raise ToolFailed("Moderation actions only exist in servers, not in direct messages.")
    return ctx.guild_id


def _message_target(text: str, guild_id: int, channel_id: int) -> tuple[int, int]:
    if _SNOWFLAKE.match(text):
        return channel_id, int(text)
    link = _MESSAGE_LINK.match(text)
    if link is None:
        raise ToolRetry(
            "message must be a message id (digits) or a message link like "
            "https://discord.com/channels/<server>/<channel>/<message>."
        )
    if link.group(1) != str(guild_id):
        raise ToolFailed("That message is not in this server; only messages here can be deleted.")
    return int(link.group(2)), int(link.group(3))


def _member_ref(text: str) -> str:
    value = text.strip()
    mention = _MENTION.match(value)
    if mention is not None:
        return mention.group(1)
    value = value.removeprefix("@").strip()
    if not value:
        raise ToolRetry("member must be a user id, a mention or a user name.")
    return value


def _reason(text: str) -> str:
    cleaned = " ".join(text.split())
    return cleaned[:MAX_REASON_CHARS] or "no reason given"
