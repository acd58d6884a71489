"""The pure authorization rules of moderation actions, and the log line of the policy."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from bot.moderation_actions import Standing, refusal_reason, report_text
from bot.policy.moderation import ModerationEvent
from tools import Permissions

OWNER, BOT, INVOKER, TARGET = 1, 2, 3, 4
MOD = Permissions.from_names("manage_messages", "moderate_members")
NONE = Permissions()


def standing(
    user_id: int, top: int, permissions: Permissions = MOD, owner: bool = False
) -> Standing:
    return Standing(user_id, top, permissions, owner)


def reason(
    kind: str,
    invoker: Standing,
    target: Standing | None,
    *,
    bot: Standing | None = None,
    target_id: int = TARGET,
) -> str | None:
    return refusal_reason(
        kind,
        invoker,
        bot or standing(BOT, 10),
        target,
        target_id=target_id,
        bot_user_id=BOT,
        guild_owner_id=OWNER,
    )


@pytest.mark.parametrize("kind", ["delete_message", "timeout_member"])
def test_a_moderator_above_a_member_below_the_bot_may_act(kind: str) -> None:
    assert reason(kind, standing(INVOKER, 5), standing(TARGET, 2, NONE)) is None


@pytest.mark.parametrize(
    ("kind", "invoker", "target", "bot", "target_id", "expected"),
    [
        ("delete_message", standing(INVOKER, 5, NONE), None, None, TARGET, "manage messages"),
        (
            "timeout_member",
            standing(INVOKER, 5, Permissions.from_names("manage_messages")),
            standing(TARGET, 1, NONE),
            None,
            TARGET,
            "moderate members",
        ),
        (
            "timeout_member",
            standing(INVOKER, 5),
            standing(TARGET, 1, NONE),
            standing(BOT, 10, NONE),
            TARGET,
            "the bot lacks",
        ),
        (
            "timeout_member",
            standing(INVOKER, 5),
            standing(TARGET, 5),
            None,
            TARGET,
            "not below yours",
        ),
        (
            "delete_message",
            standing(INVOKER, 5),
            standing(TARGET, 7),
            None,
            TARGET,
            "not below yours",
        ),
        (
            "timeout_member",
            standing(INVOKER, 50, owner=True),
            standing(TARGET, 10),
            None,
            TARGET,
            "not below the bot's",
        ),
        ("timeout_member", standing(INVOKER, 5), standing(OWNER, 0), None, OWNER, "server owner"),
        ("delete_message", standing(INVOKER, 5), standing(BOT, 10), None, BOT, "bot itself"),
        ("timeout_member", standing(INVOKER, 5), standing(INVOKER, 5), None, INVOKER, "yourself"),
        (
            "timeout_member",
            standing(INVOKER, 5),
            standing(TARGET, 1, Permissions.from_names("administrator")),
            None,
            TARGET,
            "administrators",
        ),
        ("timeout_member", standing(INVOKER, 5), None, None, TARGET, "not a member"),
        ("ban_member", standing(INVOKER, 5), standing(TARGET, 1), None, TARGET, "not a moderation"),
    ],
)
def test_refusals_name_the_reason(
    kind: str,
    invoker: Standing,
    target: Standing | None,
    bot: Standing | None,
    target_id: int,
    expected: str,
) -> None:
    found = reason(kind, invoker, target, bot=bot, target_id=target_id)
    assert found is not None and expected in found


def test_the_owner_outranks_everyone_below_the_bot() -> None:
    owner = standing(OWNER, 0, Permissions.all(), owner=True)
    assert reason("timeout_member", owner, standing(TARGET, 9)) is None


def test_own_messages_and_departed_authors_may_be_deleted() -> None:
    invoker = standing(INVOKER, 5)
    assert reason("delete_message", invoker, invoker, target_id=INVOKER) is None
    assert reason("delete_message", invoker, None, target_id=99) is None


def test_the_log_line_hides_the_text_and_pings_nobody() -> None:
    event = ModerationEvent(
        stage="input",
        action="blocked",
        guild_id=10,
        channel_id=20,
        user_id=30,
        source_message_id=40,
        categories=("harassment",),
        scores=MappingProxyType({"harassment": 0.93}),
        rule=None,
        why=None,
        excerpt="see https://evil.example/x @everyone ||spoiler|| ```",
        log_channel_id=50,
    )

    line = report_text(event)

    assert line.startswith(
        "⛔ **Blocked** message from <@30> in <#20> (categories: harassment 0.93)"
    )
    assert "https://discord.com/channels/10/20/40" in line
    assert "https://evil.example" not in line and "@\u200beveryone" in line
    assert "```" not in line and line.count("||") == 2
