"""Test-only rewiring of the moderation parts of a running bot (custom timeouts, static config)."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from bot.app import ToolcordBot
from bot.approval import DiscordApprover
from bot.moderation_actions import ModerationActions, ModerationLog
from bot.policy.moderation import ModerationPolicy, static_config
from bot.testing.discord import DiscordEmulator, RecordedRequest, StoredMessage

TOOL_MODULES = ["tools.weather", "tools.search", "tools.images", "tools.moderation"]
DELETE_MESSAGE = r"/channels/\d+/messages/(?P<message>\d+)"
PATCH_MEMBER = r"/guilds/\d+/members/\d+"


def wire_actions(bot: ToolcordBot, *, approval_timeout_s: float = 30.0) -> ModerationActions:
    """Inject the moderation action executor (``moderation_actions``) and an approver whose
    requests expire after ``approval_timeout_s``."""
    actions = ModerationActions(bot)
    approver = DiscordApprover(bot, timeout_s=approval_timeout_s)
    bot.services.moderation_actions, bot.services.approver = actions, approver
    bot.services.tool_deps = replace(
        bot.services.tool_deps, moderation_actions=actions, approver=approver
    )
    return actions


def wire_policy(bot: ToolcordBot) -> ModerationPolicy:
    """Add the moderation policy with the global settings, reporting to the log channel."""
    settings = bot.settings
    policy = ModerationPolicy(
        bot.services.client,
        model=settings.openai.moderation_model,
        rules_model=settings.moderation.rules_model or settings.openai.chat_model,
        config_source=static_config(settings.moderation),
        report=ModerationLog(bot),
        fail_closed=settings.moderation.fail_closed,
        meter=bot.services.quotas.meter,
    )
    policies = bot.services.policies
    policies[:] = [p for p in policies if not _is_moderation(p)] + [policy]
    return policy


def _is_moderation(policy: object) -> bool:
    return isinstance(getattr(policy, "inner", policy), ModerationPolicy)


def executed_actions(
    emu: DiscordEmulator, protected_message_ids: set[int] | None = None
) -> list[RecordedRequest]:
    """Every moderation action that reached Discord: member PATCHes and deletions.

    With ``protected_message_ids``, only deletions of those messages count (the bot deletes its
    own surplus streaming messages in normal operation).
    """
    patches = [r for r in emu.requests_matching("PATCH", PATCH_MEMBER) if _is_timeout(r)]
    deletes = emu.requests_matching("DELETE", DELETE_MESSAGE)
    if protected_message_ids is not None:
        deletes = [r for r in deletes if _message_id(r) in protected_message_ids]
    return [*patches, *deletes]


def _is_timeout(record: RecordedRequest) -> bool:
    body: Any = record.json or {}
    return isinstance(body, dict) and "communication_disabled_until" in body


def _message_id(record: RecordedRequest) -> int:
    found = re.search(r"/messages/(\d+)", record.path)
    return int(found.group(1)) if found else 0


def confirmation(message: StoredMessage) -> bool:
    """Is this the bot's approval request for a moderation action (with its buttons)?"""
    content = message.content
    moderation = "`delete_message`" in content or "`timeout_member`" in content
    return content.startswith("🔐 **Approval needed**") and moderation and bool(message.components)
