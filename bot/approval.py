"""Approval buttons in Discord: the ``"approver"`` service for tools that act (tools/approval.py).

A call that needs approval posts a message with **Allow once**, **Allow for this conversation**
and **Deny** in the channel and waits. Only the invoker, or a member holding the tool's
permission, may answer, and whoever presses must hold that permission at the moment of the press
(re-read from Discord). No answer within the timeout is a denial. "Allow for this conversation"
lets later calls of the same tool in the same conversation run without asking (until a restart).

A tool's :class:`~tools.approval.ApprovalPolicy` can restrict the answer to the invoker, leave
out "Allow for this conversation", and add a check run at every press: the press is first
acknowledged, then the check runs, and a refusal is told privately to the presser (the press
does not count). Its description of the action is the text of the request.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

import discord
from pydantic import BaseModel

from bot.discord_safety import NO_MENTIONS
from bot.render import defang_links, sanitize_output
from tools import Permissions, ToolContext, ToolFailed
from tools.approval import DEFAULT_POLICY, ApprovalDecision, ApprovalPolicy
from tools.calls import ToolCall

log = logging.getLogger("toolcord.approval")

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
        policy: ApprovalPolicy = DEFAULT_POLICY,
        description: str | None = None,
    ) -> ApprovalDecision:
        """Post the buttons in the invoker's channel and wait for a decision."""
        granted = (ctx.conversation_id, tool_name) in self._grants
        if granted and policy.conversation_grants:
            return "allow_conversation"
        channel = self._client.get_channel(ctx.channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            return "unavailable"
        token = secrets.token_hex(8)
        self._tokens.append(token)
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[ApprovalDecision] = loop.create_future()
        request = _Request(ctx, tool_name, params, permissions, policy)
        view = ApprovalView(request, token, answer)
        try:
            message = await channel.send(
                _ask_text(request, description, self._timeout_s),
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


@dataclass(frozen=True, slots=True)
class _Request:
    """One call waiting for approval."""

    ctx: ToolContext
    tool: str
    params: BaseModel
    permissions: tuple[str, ...]
    policy: ApprovalPolicy


class ApprovalView(discord.ui.View):
    """The buttons of one approval request (the request's own wait is its timeout)."""

    def __init__(
        self, request: _Request, token: str, answer: asyncio.Future[ApprovalDecision]
    ) -> None:
        super().__init__(timeout=None)
        self._request = request
        self._ctx = request.ctx
        self._tool = request.tool
        self._permissions = request.permissions
        self._answer = answer
        for choice, (label, style, decision) in _CHOICES.items():
            if choice == "conv" and not request.policy.conversation_grants:
                continue
            self.add_item(_Button(label, style, f"toolcord:approve:{choice}:{token}", decision))

    def close(self) -> None:
        """No more presses count (decided or expired)."""
        if not self._answer.done():
            self._answer.cancel()
        self.stop()

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        if self._answer.done():
            await _private(interaction, _said(interaction, "approval.decided"))
            return False
        refusal = await self._refusal(interaction)
        if refusal is not None:
            await _private(interaction, refusal)
            return False
        return await self._passes_check(interaction)

    async def _passes_check(self, interaction: discord.Interaction) -> bool:
        """The policy's check at the press (acknowledged first: it may read from Discord)."""
        check = self._request.policy.check
        if check is None:
            return True
        await interaction.response.defer()
        try:
            await check(self._ctx, self._request.params)
        except ToolFailed as refused:
            text = _said(interaction, "approval.refused", reason=refused.message)
        except Exception:
            log.exception("the approval check of %s failed at a press", self._tool)
            text = _said(interaction, "approval.unchecked")
        else:
            return True
        with contextlib.suppress(discord.HTTPException):
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        return False

    async def _refusal(self, interaction: discord.Interaction) -> str | None:
        """Why this member may not answer (None when they may), read fresh from Discord."""
        invoker = self._ctx.user_id
        user_id = interaction.user.id
        if interaction.guild is None:
            if user_id == invoker:
                return None
            return _said(interaction, "approval.only_invoker", invoker=f"<@{invoker}>")
        if user_id != invoker and (self._request.policy.invoker_only or not self._permissions):
            return _said(interaction, "approval.only_asker", invoker=f"<@{invoker}>")
        if not self._permissions:
            return None
        try:
            member = await interaction.guild.fetch_member(user_id)
        except discord.HTTPException:
            return _said(interaction, "approval.no_permissions_read")
        channel = interaction.channel
        if isinstance(channel, discord.abc.GuildChannel | discord.Thread):
            granted = Permissions(channel.permissions_for(member).value)
        else:
            granted = Permissions(member.guild_permissions.value)
        missing = granted.missing(*self._permissions)
        if missing:
            names = ", ".join(name.replace("_", " ") for name in missing)
            return _said(interaction, "approval.missing_permission", names=names)
        return None

    async def decide(self, interaction: discord.Interaction, decision: ApprovalDecision) -> None:
        """Record the press (once) and show who decided."""
        if self._answer.done():
            return
        self._answer.set_result(decision)
        self.stop()
        text = _DONE_TEXT[decision].format(user=interaction.user.id, tool=self._tool)
        if interaction.response.is_done():
            with contextlib.suppress(discord.HTTPException):
                await interaction.edit_original_response(
                    content=text, view=None, allowed_mentions=NO_MENTIONS
                )
            return
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


PRESS_TEXTS = {
    "approval.decided": "This request was already decided.",
    "approval.refused": "This cannot run now: {reason}",
    "approval.unchecked": "This could not be checked; try again.",
    "approval.only_invoker": "Only {invoker} can answer this.",
    "approval.only_asker": "Only {invoker}, who asked, can answer this.",
    "approval.no_permissions_read": "Discord could not confirm your permissions; try again.",
    "approval.missing_permission": "You need the {names} permission here to answer this.",
}
"""Private replies to a press, by message key, in English (the catalogue has translations)."""


def _said(interaction: discord.Interaction, key: str, **values: Any) -> str:
    """``key`` in the presser's language when the client has catalogues (``bot.i18n``)."""
    catalogue = getattr(interaction.client, "catalogue", None)
    if catalogue is None:
        return PRESS_TEXTS[key].format(**values)
    locale = interaction.locale or interaction.guild_locale
    text: str = catalogue.text(key, locale.value if locale else None, **values)
    return text


async def _private(interaction: discord.Interaction, text: str) -> None:
    await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


def _ask_text(request: _Request, description: str | None, timeout_s: float) -> str:
    user = request.ctx.user_id
    if description is None:
        arguments = json.dumps(request.params.model_dump(mode="json"), ensure_ascii=False)
        shown = defang_links(" ".join(sanitize_output(arguments).split()).replace("`", "'"))
        what = f"run `{request.tool}` with `{shown[:300]}`."
    else:
        what = f"run `{request.tool}`: {description.strip()[:600]}"
    who = f"Only <@{user}> can answer. " if request.policy.invoker_only else ""
    expires = int(datetime.datetime.now(datetime.UTC).timestamp() + timeout_s)
    return (
        f"🔐 **Approval needed**: <@{user}>'s request wants to {what}\n"
        f"{who}Nothing runs unless it is allowed (expires <t:{expires}:R>)."
    )
