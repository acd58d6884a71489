"""The Discord side of moderation: actions that run only after the invoker confirms, and the log.

:class:`ModerationActions` is the ``"moderation_actions"`` service the ``delete_message`` and
``timeout_member`` tools call. For every proposal it:

1. re-reads the guild, the invoking member, the bot's member and the target from Discord and checks
   the invoker's real permissions in the channel (``manage_messages`` / ``moderate_members``), that
   the bot can act, and the role hierarchy (the invoker and the bot both outrank the target; never
   the guild owner, the bot itself, or an administrator's time-out);
2. posts a confirmation with Confirm / Cancel buttons that only the invoker can press;
3. on Confirm, acknowledges the click, checks everything again and only then performs the action
   (``DELETE`` the message / ``PATCH`` the member's ``communication_disabled_until``). Cancel or no
   answer within the timeout changes nothing.

So a tool call injected through a search result or any other text can at most produce a proposal.
:class:`ModerationLog` posts the moderation policy's reports to the guild's log channel.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.policy.moderation import ModerationEvent
from bot.render import defang_links, sanitize_output
from tools import Permissions
from tools.moderation import ActionRefused, ActionRequest

log = logging.getLogger("toolcord.moderation")

NO_MENTIONS = discord.AllowedMentions.none()
MAX_PENDING_PER_INVOKER = 5
MAX_REMEMBERED_TOKENS = 10_000
CUSTOM_ID_TEMPLATE = r"toolcord:mod:(?P<choice>ok|no):(?P<token>[0-9a-f]{16})"
"""custom_id of the Confirm / Cancel buttons; a cog answers clicks on ones from before a restart."""
MEMBER_QUERY_TIMEOUT_S = 10.0
_NEEDED = {"delete_message": "manage_messages", "timeout_member": "moderate_members"}


# ---------------------------------------------------------------------------- pure checks


@dataclass(frozen=True, slots=True)
class Standing:
    """What the authorization rules need to know about one member.

    Attributes:
        user_id: The member's user id.
        top_role: Position of the member's highest role (0 = @everyone only).
        permissions: The member's permissions where the action happens.
        is_owner: The member owns the guild.
    """

    user_id: int
    top_role: int
    permissions: Permissions
    is_owner: bool = False


def refusal_reason(
    kind: str,
    invoker: Standing,
    bot: Standing,
    target: Standing | None,
    *,
    target_id: int,
    bot_user_id: int,
    guild_owner_id: int,
) -> str | None:
    """Why this action may not run (a sentence for the user), or None when it may.

    ``target`` is the member whose message is deleted or who is timed out (None when the author
    of a message is no longer a member, e.g. a webhook); ``target_id`` is their user id.
    """
    needed = _NEEDED.get(kind)
    if needed is None:
        return f"'{kind}' is not a moderation action"
    if not invoker.permissions.has(needed):
        return f"you need the {needed.replace('_', ' ')} permission here"
    if not bot.permissions.has(needed):
        return f"the bot lacks the {needed.replace('_', ' ')} permission here"
    if target_id == guild_owner_id:
        return "the server owner cannot be targeted"
    if target_id == bot_user_id:
        return "the bot itself cannot be targeted"
    if target_id == invoker.user_id:
        return None if kind == "delete_message" else "you cannot time yourself out"
    if target is None:
        return None if kind == "delete_message" else "that user is not a member of this server"
    return _hierarchy_reason(kind, invoker, bot, target)


def _hierarchy_reason(kind: str, invoker: Standing, bot: Standing, target: Standing) -> str | None:
    if kind == "timeout_member" and target.permissions.has("administrator"):
        return "administrators cannot be timed out"
    if not invoker.is_owner and target.top_role >= invoker.top_role:
        return "their highest role is not below yours"
    if target.top_role >= bot.top_role:
        return "their highest role is not below the bot's"
    return None


# ---------------------------------------------------------------------------- plans


@dataclass
class _Plan:
    """A checked request with the Discord objects it acts on."""

    request: ActionRequest
    guild: discord.Guild
    channel: discord.abc.Messageable
    target_id: int
    summary: str
    message: discord.Message | None = None
    member: discord.Member | None = None

    @property
    def key(self) -> tuple[int, int, str, int, int]:
        request = self.request
        return (
            self.guild.id,
            request.invoker_id,
            request.kind,
            self.target_id,
            request.message_id or 0,
        )


@dataclass
class _Pending:
    plan: _Plan
    view: ConfirmView
    message: discord.Message | None = None


@dataclass
class ActionRecord:
    """One action that ran (kept in :attr:`ModerationActions.executed`, newest last)."""

    kind: str
    guild_id: int
    invoker_id: int
    target_id: int
    reason: str
    at: datetime.datetime = field(default_factory=lambda: datetime.datetime.now(datetime.UTC))


class ModerationActions:
    """Checks, confirms and performs moderation actions (see the module docstring).

    Args:
        client: The running discord.py client (the bot).
        confirm_timeout_s: Seconds the invoker has to press Confirm.
    """

    def __init__(self, client: discord.Client, *, confirm_timeout_s: float = 60.0) -> None:
        self._client = client
        self._timeout_s = confirm_timeout_s
        self._pending: dict[tuple[int, int, str, int, int], _Pending] = {}
        self._tokens: collections.deque[str] = collections.deque(maxlen=MAX_REMEMBERED_TOKENS)
        self.executed: list[ActionRecord] = []

    def issue_token(self) -> str:
        """A fresh token for one confirmation's buttons, remembered by this process."""
        token = secrets.token_hex(8)
        self._tokens.append(token)
        return token

    def knows(self, token: str) -> bool:
        """True if this process issued ``token`` (its buttons are, or were, handled here)."""
        return token in self._tokens

    @property
    def pending_count(self) -> int:
        """Confirmations waiting for a click."""
        return len(self._pending)

    async def propose(self, request: ActionRequest) -> str:
        """Check ``request`` and post its confirmation; a sentence for the model.

        Raises:
            ActionRefused: With the reason, when the action may not run.
        """
        plan = await self._plan(request)
        self._check_pending(plan)
        view = ConfirmView(self, plan, self._timeout_s)
        pending = _Pending(plan, view)
        self._pending[plan.key] = pending
        try:
            pending.message = await plan.channel.send(
                _confirmation_text(plan, self._timeout_s),
                view=view,
                allowed_mentions=NO_MENTIONS,
                suppress_embeds=True,
            )
        except discord.HTTPException as error:
            self._pending.pop(plan.key, None)
            view.stop()
            log.warning("could not post a moderation confirmation: %s", error)
            raise ActionRefused("the confirmation could not be posted in this channel") from None
        log.info(
            "moderation %s proposed by %s in guild %s (call %s)",
            request.kind,
            request.invoker_id,
            request.guild_id,
            request.call_id,
        )
        return (
            f"A confirmation to {plan.summary} was posted. Nothing happens unless the user who "
            f"asked presses Confirm within {self._timeout_s:g} seconds. Tell them to confirm "
            "or cancel it; do not call this tool again for the same action."
        )

    def _check_pending(self, plan: _Plan) -> None:
        if plan.key in self._pending:
            raise ActionRefused("a confirmation for this exact action is already waiting")
        invoker_id = plan.request.invoker_id
        waiting = [p for p in self._pending.values() if p.plan.request.invoker_id == invoker_id]
        if len(waiting) >= MAX_PENDING_PER_INVOKER:
            raise ActionRefused("too many confirmations are waiting; answer those first")

    # ------------------------------------------------------------------ checking

    async def _plan(self, request: ActionRequest) -> _Plan:
        guild = self._client.get_guild(request.guild_id)
        me = self._client.user
        if guild is None or me is None:
            raise ActionRefused("the bot is not in that server")
        channel = guild.get_channel_or_thread(request.channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            raise ActionRefused("this channel is not one the bot can post in")
        invoker = await _fetch_member(guild, request.invoker_id, "you are not a member here")
        bot_member = await _fetch_member(guild, me.id, "the bot is not a member here")
        if request.kind == "delete_message":
            plan = await self._plan_delete(request, guild, channel, invoker, bot_member)
        elif request.kind == "timeout_member":
            plan = await self._plan_timeout(request, guild, channel, invoker, bot_member)
        else:
            raise ActionRefused(f"'{request.kind}' is not a moderation action")
        return plan

    async def _plan_delete(
        self,
        request: ActionRequest,
        guild: discord.Guild,
        channel: discord.abc.Messageable,
        invoker: discord.Member,
        bot_member: discord.Member,
    ) -> _Plan:
        where = guild.get_channel_or_thread(request.message_channel_id or request.channel_id)
        if not isinstance(where, discord.TextChannel | discord.Thread | discord.VoiceChannel):
            raise ActionRefused("that message's channel is not in this server")
        message = await _fetch_message(where, request.message_id or 0)
        author_id = message.author.id
        target = await _member_or_none(guild, author_id) if not message.webhook_id else None
        reason = refusal_reason(
            "delete_message",
            _standing(invoker, where.permissions_for(invoker)),
            _standing(bot_member, where.permissions_for(bot_member)),
            _standing(target, target.guild_permissions) if target else None,
            target_id=author_id,
            bot_user_id=bot_member.id,
            guild_owner_id=guild.owner_id or 0,
        )
        if reason is not None:
            raise ActionRefused(reason)
        summary = f"delete a message by {_name(message.author)} in #{where.name}"
        return _Plan(request, guild, channel, author_id, summary, message=message)

    async def _plan_timeout(
        self,
        request: ActionRequest,
        guild: discord.Guild,
        channel: discord.abc.Messageable,
        invoker: discord.Member,
        bot_member: discord.Member,
    ) -> _Plan:
        target = await _find_member(guild, request.member or "")
        if not isinstance(channel, discord.abc.GuildChannel | discord.Thread):
            raise ActionRefused("time-outs can only be asked for in a server channel")
        if not channel.permissions_for(invoker).view_channel:
            raise ActionRefused("you cannot see this channel")
        reason = refusal_reason(
            "timeout_member",
            _standing(invoker, invoker.guild_permissions),
            _standing(bot_member, bot_member.guild_permissions),
            _standing(target, target.guild_permissions),
            target_id=target.id,
            bot_user_id=bot_member.id,
            guild_owner_id=guild.owner_id or 0,
        )
        if reason is not None:
            raise ActionRefused(reason)
        summary = f"time out {_name(target)} for {_duration(request.minutes or 0)}"
        return _Plan(request, guild, channel, target.id, summary, member=target)

    # ------------------------------------------------------------------ deciding

    async def confirm(self, plan: _Plan, interaction: discord.Interaction) -> None:
        """The invoker pressed Confirm: acknowledge, check again, act, and show the outcome."""
        self._pending.pop(plan.key, None)
        await interaction.response.defer()
        try:
            fresh = await self._plan(plan.request)
            outcome = await self._perform(fresh)
        except ActionRefused as refused:
            outcome = f"❌ Not done: {refused.message}."
        with contextlib.suppress(discord.HTTPException):
            await interaction.edit_original_response(
                content=outcome, view=None, allowed_mentions=NO_MENTIONS
            )

    async def cancel(self, plan: _Plan, interaction: discord.Interaction) -> None:
        """The invoker pressed Cancel."""
        self._pending.pop(plan.key, None)
        await interaction.response.edit_message(
            content=f"✖️ Cancelled: nothing was done ({plan.summary}).",
            view=None,
            allowed_mentions=NO_MENTIONS,
        )

    async def expire(self, plan: _Plan) -> None:
        """Nobody confirmed in time: nothing happens; the confirmation says so."""
        pending = self._pending.pop(plan.key, None)
        if pending is None or pending.message is None:
            return
        with contextlib.suppress(discord.HTTPException):
            await pending.message.edit(
                content=f"⌛ Not confirmed in time: nothing was done ({plan.summary}).",
                view=None,
                allowed_mentions=NO_MENTIONS,
            )

    async def _perform(self, plan: _Plan) -> str:
        request = plan.request
        audit = f"{request.reason} (asked by user {request.invoker_id} via the bot)"[:500]
        try:
            if plan.message is not None:
                await plan.message.delete()
            elif plan.member is not None:
                until = datetime.timedelta(minutes=request.minutes or 0)
                await plan.member.timeout(until, reason=audit)
            else:
                raise ActionRefused("there is nothing to act on")
        except discord.NotFound:
            return "❌ Not done: the target no longer exists."
        except discord.Forbidden:
            return (
                "❌ Not done: Discord refused (the bot lacks a permission or a high enough role)."
            )
        except discord.HTTPException as error:
            log.warning("moderation action failed: %s", error)
            return "❌ Not done: Discord had a problem; try again later."
        self.executed.append(
            ActionRecord(request.kind, plan.guild.id, request.invoker_id, plan.target_id, audit)
        )
        log.info("moderation %s executed in guild %s", request.kind, plan.guild.id)
        return f"✅ Done: {_past(plan.summary)} (confirmed by <@{request.invoker_id}>)."


CLICK_TEXTS = {
    "moderation.only_invoker": "Only {invoker}, who asked for this, can confirm or cancel it.",
    "moderation.decided": "This was already decided.",
}
"""Replies to a click by message key, in English (the bot's catalogue has the translations)."""


def _said(interaction: discord.Interaction, key: str, **values: Any) -> str:
    """``key`` in the clicker's language when the client has catalogues (``bot.i18n``)."""
    catalogue = getattr(interaction.client, "catalogue", None)
    if catalogue is None:
        return CLICK_TEXTS[key].format(**values)
    locale = interaction.locale or interaction.guild_locale
    text: str = catalogue.text(key, locale.value if locale else None, **values)
    return text


class ConfirmView(discord.ui.View):
    """Confirm / Cancel buttons that only the invoker can press; times out as a cancel."""

    def __init__(self, actions: ModerationActions, plan: _Plan, timeout_s: float) -> None:
        super().__init__(timeout=timeout_s)
        self._actions = actions
        self._plan = plan
        self._decided = False
        token = actions.issue_token()
        self.add_item(_Button("Confirm", discord.ButtonStyle.danger, f"toolcord:mod:ok:{token}"))
        self.add_item(_Button("Cancel", discord.ButtonStyle.secondary, f"toolcord:mod:no:{token}"))

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        invoker_id = self._plan.request.invoker_id
        if interaction.user.id != invoker_id:
            await interaction.response.send_message(
                _said(interaction, "moderation.only_invoker", invoker=f"<@{invoker_id}>"),
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
            return False
        if self._decided:
            await interaction.response.send_message(
                _said(interaction, "moderation.decided"),
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
            return False
        return True

    async def decide(self, interaction: discord.Interaction, confirmed: bool) -> None:
        """Run the decision once (a second click finds ``_decided`` set)."""
        if self._decided:
            return
        self._decided = True
        self.stop()
        if confirmed:
            await self._actions.confirm(self._plan, interaction)
        else:
            await self._actions.cancel(self._plan, interaction)

    async def on_timeout(self) -> None:
        if self._decided:
            return
        self._decided = True
        await self._actions.expire(self._plan)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any], /
    ) -> None:
        log.error("a moderation confirmation failed", exc_info=error)


class _Button(discord.ui.Button["ConfirmView"]):
    def __init__(self, label: str, style: discord.ButtonStyle, custom_id: str) -> None:
        super().__init__(label=label, style=style, custom_id=custom_id)

    async def callback(self, interaction: discord.Interaction) -> None:
        if self.view is not None:
            await self.view.decide(interaction, self.label == "Confirm")


# ---------------------------------------------------------------------------- Discord reads


async def _fetch_member(guild: discord.Guild, user_id: int, missing: str) -> discord.Member:
    try:
        return await guild.fetch_member(user_id)
    except discord.NotFound:
        raise ActionRefused(missing) from None
    except discord.HTTPException as error:
        log.warning("could not read member %s: %s", user_id, error)
        raise ActionRefused("Discord could not be asked about the members right now") from None


async def _member_or_none(guild: discord.Guild, user_id: int) -> discord.Member | None:
    try:
        return await guild.fetch_member(user_id)
    except discord.NotFound:
        return None
    except discord.HTTPException:
        raise ActionRefused("Discord could not be asked about the message's author") from None


async def _fetch_message(channel: discord.abc.Messageable, message_id: int) -> discord.Message:
    try:
        return await channel.fetch_message(message_id)
    except discord.NotFound:
        raise ActionRefused("there is no such message in that channel") from None
    except discord.Forbidden:
        raise ActionRefused("the bot cannot read that channel") from None
    except discord.HTTPException:
        raise ActionRefused("Discord could not be asked about that message") from None


async def _find_member(guild: discord.Guild, reference: str) -> discord.Member:
    if reference.isdigit():
        return await _fetch_member(guild, int(reference), "there is no member with that id here")
    wanted = reference.casefold()
    try:
        found = await asyncio.wait_for(
            guild.query_members(query=reference, limit=20, cache=False), MEMBER_QUERY_TIMEOUT_S
        )
    except (TimeoutError, discord.ClientException, ValueError):
        found = []
    matches = {m.id: m for m in found if wanted in _names(m)}
    matches.update({m.id: m for m in guild.members if wanted in _names(m)})
    if len(matches) == 1:
        return await _fetch_member(guild, next(iter(matches)), "that member left the server")
    if not matches:
        raise ActionRefused(f"no member here is named {reference!r}; ask for their id or mention")
    raise ActionRefused(f"several members are named {reference!r}; ask for their id or mention")


def _names(member: discord.Member) -> set[str]:
    names = {member.name, member.display_name, member.global_name or "", member.nick or ""}
    return {name.casefold() for name in names if name}


def _standing(member: discord.Member, permissions: discord.Permissions) -> Standing:
    return Standing(
        user_id=member.id,
        top_role=member.top_role.position,
        permissions=Permissions(permissions.value),
        is_owner=member.id == member.guild.owner_id,
    )


# ---------------------------------------------------------------------------- text


def _clean(text: str, limit: int) -> str:
    flat = " ".join(sanitize_output(text).split()).replace("`", "'")
    return defang_links(flat)[:limit]


def _name(user: discord.abc.User) -> str:
    return f"{_clean(user.display_name, 40)} (<@{user.id}>)"


def _duration(minutes: int) -> str:
    if minutes % 1440 == 0:
        return f"{minutes // 1440} day(s)"
    if minutes % 60 == 0:
        return f"{minutes // 60} hour(s)"
    return f"{minutes} minute(s)"


def _past(summary: str) -> str:
    for verb, done in (("delete", "deleted"), ("time out", "timed out")):
        if summary.startswith(verb):
            return done + summary[len(verb) :]
    return summary


def _confirmation_text(plan: _Plan, timeout_s: float) -> str:
    request = plan.request
    expires = int(datetime.datetime.now(datetime.UTC).timestamp() + timeout_s)
    return (
        f"🛡️ **Moderation request** from <@{request.invoker_id}>: {plan.summary}.\n"
        f"> Reason: {_clean(request.reason, 300)}\n"
        f"Only <@{request.invoker_id}> can confirm. Nothing happens unless Confirm is pressed "
        f"(expires <t:{expires}:R>)."
    )


# ---------------------------------------------------------------------------- the log


class ModerationLog:
    """Posts moderation policy reports to the guild's log channel (a policy ``report``).

    Args:
        client: The running discord.py client.
        fallback: Called with events that have no usable log channel (default: nothing).
    """

    def __init__(
        self,
        client: discord.Client,
        fallback: Callable[[ModerationEvent], None] | None = None,
    ) -> None:
        self._client = client
        self._fallback = fallback

    async def __call__(self, event: ModerationEvent) -> None:
        channel = await self._channel(event)
        if channel is None:
            if self._fallback is not None:
                self._fallback(event)
            return
        await channel.send(report_text(event), allowed_mentions=NO_MENTIONS, suppress_embeds=True)

    async def _channel(self, event: ModerationEvent) -> discord.abc.Messageable | None:
        if event.log_channel_id is None or event.guild_id is None:
            return None
        guild = self._client.get_guild(event.guild_id)
        channel = guild.get_channel_or_thread(event.log_channel_id) if guild else None
        if not isinstance(channel, discord.abc.Messageable):
            log.warning(
                "moderation log channel %s is not a channel of guild %s; set another one",
                event.log_channel_id,
                event.guild_id,
            )
            return None
        return channel


def report_text(event: ModerationEvent) -> str:
    """The log channel's line for one moderation event."""
    icon = "⛔" if event.action == "blocked" else "🚩"
    what = "message" if event.stage == "input" else "answer to a message"
    link = (
        f"https://discord.com/channels/{event.guild_id}/{event.channel_id}/"
        f"{event.source_message_id}"
    )
    if event.categories:
        scores = ", ".join(f"{c} {event.scores.get(c, 0.0):.2f}" for c in event.categories[:5])
        why = f"categories: {scores}"
    else:
        why = f"rule: {_clean(event.rule or '?', 200)}; {_clean(event.why or '', 200)}"
    excerpt = _clean(event.excerpt, 300).replace("|", "¦")
    return (
        f"{icon} **{event.action.capitalize()}** {what} from <@{event.user_id}> in "
        f"<#{event.channel_id}> ({why}). {link}\n> ||{excerpt}||"
    )
