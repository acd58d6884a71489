"""Server-side permission decisions for commands, over every place a command can run."""

from __future__ import annotations

import pytest

from bot.policy.permissions import (
    ADMINISTRATOR,
    MANAGE_GUILD,
    MANAGE_MESSAGES,
    Invoker,
    admin_refusal,
    owner_refusal,
    shared_reset_refusal,
)

EVERYONE = 1 << 10 | 1 << 11  # view channel, send messages


def invoker(
    permissions: int = EVERYONE, *, guild: int | None = 5, installed: bool = True
) -> Invoker:
    return Invoker(user_id=1, guild_id=guild, permissions=permissions, guild_install=installed)


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        (invoker(), False),
        (invoker(EVERYONE | MANAGE_MESSAGES), False),
        (invoker(EVERYONE | MANAGE_GUILD), True),
        (invoker(ADMINISTRATOR), True),
        (invoker(ADMINISTRATOR, guild=None), False),  # a DM has no server settings
        (invoker(ADMINISTRATOR, installed=False), False),  # user-installed in a foreign server
    ],
)
def test_admin_commands_need_manage_server_in_a_server_that_added_the_bot(
    who: Invoker, allowed: bool
) -> None:
    assert (admin_refusal(who) is None) is allowed


def test_refusals_say_what_is_missing() -> None:
    assert "Manage Server" in (admin_refusal(invoker()) or "")
    assert "direct messages" in (admin_refusal(invoker(guild=None)) or "")
    assert "has not added the bot" in (admin_refusal(invoker(installed=False)) or "")


def test_clearing_a_shared_conversation_needs_manage_messages() -> None:
    assert shared_reset_refusal(invoker()) is not None
    assert shared_reset_refusal(invoker(EVERYONE | MANAGE_MESSAGES)) is None
    assert shared_reset_refusal(invoker(ADMINISTRATOR)) is None
    assert shared_reset_refusal(invoker(guild=None)) is None  # a DM is the user's own
    assert shared_reset_refusal(invoker(ADMINISTRATOR, installed=False)) is not None


def test_owner_only() -> None:
    assert owner_refusal(invoker()) is not None
    owner = Invoker(user_id=1, guild_id=None, permissions=0, guild_install=False, is_owner=True)
    assert owner_refusal(owner) is None
    assert owner.foreign_guild is False and invoker(installed=False).foreign_guild is True
