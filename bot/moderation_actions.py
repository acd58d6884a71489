"""The Discord side of moderation: actions that run only after the invoker allows them, and the log.

:class:`ModerationActions` is the ``"moderation_actions"`` service the ``delete_message`` and
``timeout_member`` tools call. Both tools go through the approval mechanism
(``tools/approval.py``, buttons in ``bot/approval.py``) with a policy whose check is
:meth:`ModerationActions.check`, so every action is checked three times against Discord as it is
then: before the approval request is posted, at the invoker's press (only the invoker may answer;
there is no "for this conversation" grant), and in :meth:`ModerationActions.perform` right before
it acts. Each check re-reads the guild, the invoking member, the bot's member and the target and
checks the invoker's real permissions (``manage_messages`` / ``moderate_members``), that the bot
can act, and the role hierarchy (the invoker and the bot both outrank the target; never the guild
owner, the bot itself, or an administrator's time-out). Deny or no answer changes nothing.

So a tool call injected through a search result or any other text can at most produce a request.
:class:`ModerationLog` posts the moderation policy's reports to the guild's log channel.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import discord

from bot.discord_safety import NO_MENTIONS
from bot.policy.moderation import ModerationEvent
from bot.render import defang_links, sanitize_output
from tools import Permissions
from tools.moderation import ActionRefused, ActionRequest

log = logging.getLogger("toolcord.moderation")

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
    """Checks and performs moderation actions (see the module docstring).

    Args:
        client: The running discord.py client (the bot).
    """

    def __init__(self, client: discord.Client) -> None:
        self._client = client
        self.executed: list[ActionRecord] = []

    async def check(self, request: ActionRequest) -> str:
        """Check ``request`` against Discord as it is now; the text of its approval request.

        Raises:
            ActionRefused: With the reason, when the action may not run.
        """
        plan = await self._plan(request)
        return (
            f"{plan.summary}.\n> Reason: {_clean(request.reason, 300)}\n"
            "It is checked again when allowed and when it runs."
        )

    async def perform(self, request: ActionRequest) -> str:
        """Check ``request`` again and perform it (the invoker allowed it); a sentence.

        Raises:
            ActionRefused: When it may not run any more, or Discord refused it.
        """
        plan = await self._plan(request)
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
            raise ActionRefused("the target no longer exists") from None
        except discord.Forbidden:
            raise ActionRefused(
                "Discord refused (the bot lacks a permission or a high enough role)"
            ) from None
        except discord.HTTPException as error:
            log.warning("moderation action failed: %s", error)
            raise ActionRefused("Discord had a problem; try again later") from None
        self.executed.append(
            ActionRecord(request.kind, plan.guild.id, request.invoker_id, plan.target_id, audit)
        )
        log.info(
            "moderation %s executed in guild %s for %s (call %s)",
            request.kind,
            plan.guild.id,
            request.invoker_id,
            request.call_id,
        )
        return f"Done: {_past(plan.summary)} (allowed by <@{request.invoker_id}>)."

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
