"""Approval buttons in Discord: the ``"approver"`` service for tools that act (tools/approval.py).

A call that needs approval posts a message with **Allow once**, **Allow for this conversation**
and **Deny** in the channel and waits. Only the invoker, or a member holding the tool's
permission, may answer, and whoever presses must hold that permission at the moment of the press
(re-read from Discord). No answer within the timeout is a denial. "Allow for this conversation"
lets later calls of the same tool in the same conversation run without asking (until a restart).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime
import json
import logging
import secrets
from typing import Any

import discord
from pydantic import BaseModel

from bot.render import defang_links, sanitize_output
from tools import Permissions, ToolCall, ToolContext
from tools.approval import ApprovalDecision

log = logging.getLogger("toolcord.approval")

NO_MENTIONS = discord.AllowedMentions.none()
CUSTOM_ID_TEMPLATE = r"toolcord:approve:(?P<choice>once|conv|deny):(?P<token>[0-9a-f]{16})"
"""custom_id of the buttons; ``cogs/approval.py`` answers presses on ones from before a restart."""
MAX_REMEMBERED_TOKENS = 10_000
_CHOICES: dict[str, tuple[str, discord.ButtonStyle, ApprovalDecision]] = {
    "once": ("Allow once", discord.ButtonStyle.success, "allow_once"),
    "conv": ("Allow for this conversation", discord.ButtonStyle.primary, "allow_conversation"),
    "deny": ("Deny", discord.ButtonStyle.danger, "deny"),
}
_DONE_TEXT: dict[ApprovalDecision, str] = {
    "allow_once": "✅ Allowed once by <@{user}>: `{tool}` runs now.",
    "allow_conversation": "✅ Allowed for this conversation by <@{user}>: `{tool}` runs now.",
    "deny": "✖️ Denied by <@{user}>: `{tool}` was not run.",
}


class DiscordApprover:
    """Asks for approval with buttons (see the module docstring).

    Args:
        client: The running discord.py client.
        timeout_s: Seconds to wait for a press before the call is denied.
    """

    def __init__(self, client: discord.Client, *, timeout_s: float = 60.0) -> None:
        self._client = client
        self._timeout_s = timeout_s
        self._grants: set[tuple[str, str]] = set()
        self._tokens: collections.deque[str] = collections.deque(maxlen=MAX_REMEMBERED_TOKENS)
        self.asked = 0

    def knows(self, token: str) -> bool:
        """True if this process issued ``token``."""
        return token in self._tokens

    async def decide(
        self,
        ctx: ToolContext,
        tool_name: str,
        params: BaseModel,
        call: ToolCall,
        permissions: tuple[str, ...],
    ) -> ApprovalDecision:
        """Post the buttons in the invoker's channel and wait for a decision."""
        if (ctx.conversation_id, tool_name) in self._grants:
            return "allow_conversation"
        channel = self._client.get_channel(ctx.channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            return "unavailable"
        token = secrets.token_hex(8)
        self._tokens.append(token)
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[ApprovalDecision] = loop.create_future()
        view = ApprovalView(ctx, tool_name, permissions, token, answer)
        try:
            message = await channel.send(
                _ask_text(ctx, tool_name, params, self._timeout_s),
                view=view,
                allowed_mentions=NO_MENTIONS,
                suppress_embeds=True,
            )
        except discord.HTTPException as error:
            view.stop()
            log.warning("could not post an approval request: %s", error)
            return "unavailable"
        self.asked += 1
        try:
            decision = await asyncio.wait_for(asyncio.shield(answer), self._timeout_s)
        except TimeoutError:
            decision = "timeout"
            await _end(view, message, f"⌛ Not approved in time: `{tool_name}` was not run.")
        except asyncio.CancelledError:
            ended = f"⌛ The request ended before an answer: `{tool_name}` was not run."
            await asyncio.shield(_end(view, message, ended))
            raise
        if decision == "allow_conversation":
            self._grants.add((ctx.conversation_id, tool_name))
        log.info("approval of %s (call %s): %s", tool_name, call.id, decision)
        return decision


class ApprovalView(discord.ui.View):
    """The three buttons of one approval request (the request's own wait is its timeout)."""

    def __init__(
        self,
        ctx: ToolContext,
        tool_name: str,
        permissions: tuple[str, ...],
        token: str,
        answer: asyncio.Future[ApprovalDecision],
    ) -> None:
        super().__init__(timeout=None)
        self._ctx = ctx
        self._tool = tool_name
        self._permissions = permissions
        self._answer = answer
        for choice, (label, style, decision) in _CHOICES.items():
            self.add_item(_Button(label, style, f"toolcord:approve:{choice}:{token}", decision))

    def close(self) -> None:
        """No more presses count (decided or expired)."""
        if not self._answer.done():
            self._answer.cancel()
        self.stop()

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        if self._answer.done():
            await _private(interaction, "This request was already decided.")
            return False
        refusal = await self._refusal(interaction)
        if refusal is not None:
            await _private(interaction, refusal)
            return False
        return True

    async def _refusal(self, interaction: discord.Interaction) -> str | None:
        """Why this member may not answer (None when they may), read fresh from Discord."""
        invoker = self._ctx.user_id
        user_id = interaction.user.id
        if interaction.guild is None:
            return None if user_id == invoker else f"Only <@{invoker}> can answer this."
        if user_id != invoker and not self._permissions:
            return f"Only <@{invoker}>, who asked, can answer this."
        if not self._permissions:
            return None
        try:
            member = await interaction.guild.fetch_member(user_id)
        except discord.HTTPException:
            return "Discord could not confirm your permissions; try again."
        channel = interaction.channel
        if isinstance(channel, discord.abc.GuildChannel | discord.Thread):
            granted = Permissions(channel.permissions_for(member).value)
        else:
            granted = Permissions(member.guild_permissions.value)
        missing = granted.missing(*self._permissions)
        if missing:
            names = ", ".join(name.replace("_", " ") for name in missing)
            return f"You need the {names} permission here to answer this."
        return None

    async def decide(self, interaction: discord.Interaction, decision: ApprovalDecision) -> None:
        """Record the press (once) and show who decided."""
        if self._answer.done():
            return
        self._answer.set_result(decision)
        self.stop()
        text = _DONE_TEXT[decision].format(user=interaction.user.id, tool=self._tool)
        await interaction.response.edit_message(
            content=text, view=None, allowed_mentions=NO_MENTIONS
        )

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        log.error("an approval button failed", exc_info=error)


class _Button(discord.ui.Button["ApprovalView"]):
    def __init__(
        self, label: str, style: discord.ButtonStyle, custom_id: str, decision: ApprovalDecision
    ) -> None:
        super().__init__(label=label, style=style, custom_id=custom_id)
        self.decision = decision

    async def callback(self, interaction: discord.Interaction) -> None:
        if self.view is not None:
            await self.view.decide(interaction, self.decision)


async def _end(view: ApprovalView, message: discord.Message, text: str) -> None:
    """No press counts any more; the message says why and loses its buttons."""
    view.close()
    with contextlib.suppress(discord.HTTPException):
        await message.edit(content=text, view=None, allowed_mentions=NO_MENTIONS)


async def _private(interaction: discord.Interaction, text: str) -> None:
    await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


def _ask_text(ctx: ToolContext, tool_name: str, params: BaseModel, timeout_s: float) -> str:
    arguments = json.dumps(params.model_dump(mode="json"), ensure_ascii=False)
    shown = defang_links(" ".join(sanitize_output(arguments).split()).replace("`", "'"))[:300]
    expires = int(datetime.datetime.now(datetime.UTC).timestamp() + timeout_s)
    return (
        f"🔐 **Approval needed**: <@{ctx.user_id}>'s request wants to run `{tool_name}` with "
        f"`{shown}`.\nNothing runs unless it is allowed (expires <t:{expires}:R>)."
    )
