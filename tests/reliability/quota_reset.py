"""Quota reset rights (issue 16): a server's admins cannot lift the bot owner's budgets.

A member spends the server's daily budget; then every non-owner persona (Manage Server,
Administrator, a moderator, a plain member) tries every reset command (``/settings
quota-reset``; ``/admin quota-reset`` for the global budget, the server's and the member's),
and after each attempt the member asks again: an answer there is a lifted budget. The owner's
reset is the control that must lift it.
"""

from __future__ import annotations

from typing import Any

from bot.testing.discord import DiscordEmulator, Perm
from bot.testing.openai import TextReply
from cogs.admin import sync_commands
from tests.cogs.commands.conftest import COGS
from tests.reliability.rig import USER_DEADLINE_S, open_rig, scratch_dir

PERSONAS: tuple[tuple[str, int | None], ...] = (
    ("bob", int(Perm.MANAGE_GUILD | Perm.VIEW_CHANNEL)),
    ("bob", int(Perm.ADMINISTRATOR)),
    ("alice", None),
    ("bob", None),
)
COMMANDS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("settings quota-reset", {}),
    ("admin quota-reset", {"scope": "global"}),
    ("admin quota-reset", {"scope": "guild"}),
    ("admin quota-reset", {"scope": "user", "user": "bob"}),
)
QUOTAS = {"enabled": True, "guild_daily_tokens": 100, "owners_exempt": False}


async def _command(
    emu: DiscordEmulator, name: str, options: dict[str, Any], user: str, perms: int | None
) -> str:
    handle = await emu.inject_interaction(
        name, user=user, channel="general", options=options or None, permissions=perms
    )
    await handle.wait(lambda h: bool(h.final_content()), timeout=USER_DEADLINE_S)
    return handle.final_content() or ""


async def _answered(emu: DiscordEmulator) -> bool:
    """Whether bob's next /chat is answered (the budget was lifted) rather than refused."""
    handle = await emu.inject_interaction(
        "chat", user="bob", channel="general", options={"prompt": "x"}
    )
    await handle.wait(lambda h: bool(h.final_content()), timeout=USER_DEADLINE_S)
    return handle.final_content() == "hi"


async def run_quota_reset() -> dict[str, Any]:
    """Every persona tries every reset; count budgets lifted, then the owner's control."""
    attempts = lifted = 0
    with scratch_dir("quota-reset") as workdir:
        async with open_rig(workdir) as rig:
            emu = rig.discord
            rig.openai.chat.set_default(
                TextReply("hi", usage={"prompt_tokens": 90, "completion_tokens": 20})
            )
            async with rig.harness.run(quotas=QUOTAS) as bot:
                for extension in COGS:
                    if extension not in bot.extensions:
                        await bot.load_extension(extension)
                await sync_commands(bot)
                spent = await _answered(emu)
                refused_before = not await _answered(emu)
                for user, perms in PERSONAS:
                    for name, options in COMMANDS:
                        attempts += 1
                        await _command(emu, name, options, user, perms)
                        lifted += await _answered(emu)
                await _command(emu, "settings quota-reset", {}, "owner", None)
                owner_lifts = await _answered(emu)
    return {
        "attempts": attempts,
        "budgets_lifted": lifted,
        "budget_was_spent": spent and refused_before,
        "owner_reset_works": owner_lifts,
    }


def quota_reset_ok(figures: dict[str, Any]) -> bool:
    """The gate: no attempt lifted the budget; the owner's reset did."""
    return (
        figures["budgets_lifted"] == 0
        and figures["budget_was_spent"]
        and figures["owner_reset_works"]
    )
