"""Exact refusals and the invoker read from an interaction (see docs/mutation.md)."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import discord
import pytest

from bot.policy.permissions import (
    ADMINISTRATOR,
    MANAGE_GUILD,
    MANAGE_MESSAGES,
    MANAGE_THREADS,
    READ_HISTORY,
    REFUSALS,
    Invoker,
    admin_refusal,
    invoker_from,
    may_read_history,
    owner_refusal,
    quota_reset_refusal,
    quota_reset_refusal_key,
    shared_reset_refusal,
)

EVERYONE = 1 << 10 | 1 << 11
NO_SETTINGS_IN_DM = "Server settings can only be changed in a server, not in direct messages."
NOT_ADDED = (
    "This server has not added the bot, so it has no bot settings here; "
    "ask a server admin to add the bot first."
)
NEEDS_MANAGE_SERVER = "You need the **Manage Server** permission to change the bot's settings here."
NO_SHARED_IN_FOREIGN = "The bot keeps no shared conversation in a server that has not added it."
NEEDS_MANAGE_MESSAGES = (
    "Clearing the conversation everyone here shares needs the **Manage Messages** "
    "permission; `/reset` without `shared` clears your own."
)


def invoker(
    permissions: int = EVERYONE, *, guild: int | None = 5, installed: bool = True
) -> Invoker:
    return Invoker(user_id=1, guild_id=guild, permissions=permissions, guild_install=installed)


def test_the_bits_are_discord_s() -> None:
    assert (ADMINISTRATOR, MANAGE_GUILD, MANAGE_MESSAGES, MANAGE_THREADS) == (
        1 << 3,
        1 << 5,
        1 << 13,
        1 << 34,
    )


@pytest.mark.parametrize(
    ("who", "refusal"),
    [
        (invoker(ADMINISTRATOR, guild=None), NO_SETTINGS_IN_DM),
        (invoker(ADMINISTRATOR, installed=False), NOT_ADDED),
        (invoker(), NEEDS_MANAGE_SERVER),
        (invoker(EVERYONE | MANAGE_MESSAGES), NEEDS_MANAGE_SERVER),
        (invoker(EVERYONE | MANAGE_GUILD), None),
        (invoker(ADMINISTRATOR), None),
    ],
)
def test_admin_refusal_reasons(who: Invoker, refusal: str | None) -> None:
    assert admin_refusal(who) == refusal


@pytest.mark.parametrize(
    ("who", "refusal"),
    [
        (invoker(ADMINISTRATOR, installed=False), NO_SHARED_IN_FOREIGN),
        (invoker(), NEEDS_MANAGE_MESSAGES),
        (invoker(EVERYONE | MANAGE_GUILD), NEEDS_MANAGE_MESSAGES),
        (invoker(EVERYONE | MANAGE_MESSAGES), None),
        (invoker(ADMINISTRATOR), None),
        (invoker(0, guild=None, installed=False), None),
    ],
)
def test_shared_reset_refusal_reasons(who: Invoker, refusal: str | None) -> None:
    assert shared_reset_refusal(who) == refusal


def test_owner_refusal_reason() -> None:
    assert owner_refusal(invoker()) == "Only the bot's owner may use this command."


def test_has_needs_every_bit_unless_administrator() -> None:
    both = MANAGE_GUILD | MANAGE_MESSAGES

    assert invoker(MANAGE_GUILD).has(both) is False
    assert invoker(both).has(both) is True
    assert invoker(ADMINISTRATOR).has(both) is True
    assert invoker(0).has(0) is True


def test_where_the_invoker_is() -> None:
    assert (invoker().in_guild, invoker().foreign_guild) == (True, False)
    assert (invoker(guild=None).in_guild, invoker(guild=None).foreign_guild) == (False, False)
    assert invoker(guild=None, installed=False).foreign_guild is False
    assert invoker(installed=False).foreign_guild is True


def _interaction(guild_id: int | None, permissions: int, guild_install: bool) -> Any:
    return SimpleNamespace(
        guild_id=guild_id,
        user=SimpleNamespace(id=42),
        permissions=discord.Permissions(permissions),
        is_guild_integration=lambda: guild_install,
    )


def test_invoker_from_reads_the_interaction() -> None:
    in_guild = invoker_from(_interaction(7, MANAGE_GUILD, True), is_owner=True)
    in_dm = invoker_from(_interaction(None, MANAGE_GUILD, False))

    assert in_guild == Invoker(
        user_id=42, guild_id=7, permissions=MANAGE_GUILD, guild_install=True, is_owner=True
    )
    assert in_dm == Invoker(
        user_id=42, guild_id=None, permissions=0, guild_install=False, is_owner=False
    )


VIEW_CHANNEL = 1 << 10
READ_MESSAGE_HISTORY = 1 << 16
RESET_IN_DM = "Server budgets can only be reset in a server, not in direct messages."


@pytest.mark.parametrize(
    ("who", "may_read"),
    [
        (invoker(0, guild=None), True),  # a DM: the history is the user's own
        (invoker(VIEW_CHANNEL | READ_MESSAGE_HISTORY), True),
        (invoker(ADMINISTRATOR), True),
        (invoker(VIEW_CHANNEL), False),  # both bits are needed, not either
        (invoker(READ_MESSAGE_HISTORY), False),
        (invoker(0), False),
    ],
)
def test_who_may_read_a_channel_s_history(who: Invoker, may_read: bool) -> None:
    assert may_read_history(who) is may_read


def test_the_history_permission_is_view_channel_and_read_message_history() -> None:
    assert READ_HISTORY == VIEW_CHANNEL | READ_MESSAGE_HISTORY


@pytest.mark.parametrize(
    ("who", "key"),
    [
        (
            replace(invoker(ADMINISTRATOR, guild=None), is_owner=True),
            "permission.quota_reset_in_dm",
        ),
        (invoker(0, guild=None), "permission.quota_reset_in_dm"),
        (replace(invoker(0), is_owner=True), None),
        (invoker(ADMINISTRATOR), "permission.quota_reset_owner"),  # a server's admin: not enough
        (invoker(EVERYONE | MANAGE_GUILD), "permission.quota_reset_owner"),
    ],
)
def test_only_the_owner_resets_a_server_s_budgets(who: Invoker, key: str | None) -> None:
    assert quota_reset_refusal_key(who) == key
    assert quota_reset_refusal(who) == (REFUSALS[key] if key is not None else None)


def test_the_quota_reset_refusals_say_why() -> None:
    assert quota_reset_refusal(invoker(0, guild=None)) == RESET_IN_DM
    refusal = quota_reset_refusal(invoker(ADMINISTRATOR))
    assert refusal is not None and refusal.startswith("Only the bot's owner may reset this server")
