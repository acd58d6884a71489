"""``DiscordEmulator``: the loopback Discord (gateway + REST + CDN) of toolcord's test kit."""

from __future__ import annotations

import base64
import dataclasses
import re
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Literal, TypeVar

from bot.testing.discord import components
from bot.testing.discord.commands import CommandRegistry
from bot.testing.discord.config import EmulatorConfig
from bot.testing.discord.faults import FaultInjector
from bot.testing.discord.gateway_session import DispatchRecord, GatewayLogEntry, GatewaySession
from bot.testing.discord.interaction_payloads import InteractionRequest
from bot.testing.discord.interactions import InteractionHandle
from bot.testing.discord.messages import InjectedMessage, channel_topic
from bot.testing.discord.models import (
    Channel,
    Guild,
    JsonDict,
    Member,
    Overwrite,
    Role,
    StoredAttachment,
    StoredMessage,
    User,
)
from bot.testing.discord.ratelimit import RateLimitConfig
from bot.testing.discord.recorder import Mark, RecordedRequest
from bot.testing.discord.server import EmulatorServer, build_parts
from bot.testing.discord.snowflake import SnowflakeFactory
from bot.testing.discord.world import ChannelRef, GuildRef, UserRef, build_default_world

T = TypeVar("T")
After = Mark | int | None
MessageAfter = Mark | StoredMessage | JsonDict | int | None


class DiscordEmulator:
    """A Discord server on 127.0.0.1 that the real discord.py client connects to.

    It does not patch discord.py: point ``discord.http.Route.BASE`` at :attr:`api_base_url`,
    ``DiscordWebSocket.DEFAULT_GATEWAY`` at :attr:`gateway_url` and ``Asset.BASE`` at
    :attr:`cdn_base_url` before starting the client.

    Args:
        token: the bot token to accept.
        world: ``"default"`` builds Test Guild (#general, #random; owner, alice (Moderator),
            bob, the bot); None starts with only the bot and owner users.
        realistic_rate_limits: real per-channel message buckets and a global limit.
        **options: any field of :class:`EmulatorConfig`.
    """

    def __init__(
        self,
        *,
        token: str = "test-token",
        world: Literal["default"] | None = "default",
        realistic_rate_limits: bool = False,
        **options: Any,
    ) -> None:
        self.config = EmulatorConfig(token=token, **options)
        if realistic_rate_limits:
            self.config.rate_limits.realistic = True
        self._parts = build_parts(self.config)
        ctx = self._parts.ctx
        self._ctx = ctx
        self.world = ctx.world
        self._default_guild = build_default_world(self.world) if world == "default" else None
        self._server = EmulatorServer(self.config, self._parts)

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> DiscordEmulator:
        """Binds the server on the running loop."""
        await self._server.start()
        return self

    async def stop(self) -> None:
        """Closes gateway connections and the server."""
        await self._server.stop()

    async def __aenter__(self) -> DiscordEmulator:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return self._require_running()

    @property
    def api_base_url(self) -> str:
        """What ``discord.http.Route.BASE`` must be."""
        return self._require_running() + "/api/v10"

    @property
    def gateway_url(self) -> str:
        """What ``DiscordWebSocket.DEFAULT_GATEWAY`` must be (as a ``yarl.URL``)."""
        self._require_running()
        return self._ctx.hub.gateway_url

    @property
    def cdn_base_url(self) -> str:
        """What ``discord.asset.Asset.BASE`` must be."""
        return self._require_running() + "/cdn"

    def _require_running(self) -> str:
        if not self._server.base_url:
            raise RuntimeError("the emulator has no address yet: await emu.start() first")
        return self._server.base_url

    # ---- world -----------------------------------------------------------------------------

    @property
    def snowflakes(self) -> SnowflakeFactory:
        return self.world.snowflakes

    @property
    def bot_user(self) -> User:
        return self.world.bot_user

    @property
    def owner(self) -> User:
        return self.world.owner

    @property
    def application_id(self) -> int:
        return self.world.application_id

    @property
    def guild(self) -> Guild:
        """The default guild (else the first guild)."""
        guild = self._default_guild or next(iter(self.world.guilds.values()), None)
        if guild is None:
            raise LookupError("the emulator has no guild; create one with emu.add_guild()")
        return guild

    def channel(self, ref: ChannelRef, guild: GuildRef | None = None) -> Channel:
        """A channel by name (default guild first), id or object."""
        if isinstance(ref, str) and guild is None and self._default_guild is not None:
            try:
                return self.world.channel(ref, self._default_guild)
            except KeyError:
                pass
        return self.world.channel(ref, guild)

    def user(self, ref: UserRef) -> User:
        return self.world.user(ref)

    def member(self, guild: GuildRef, user: UserRef) -> Member | None:
        return self.world.member(guild, user)

    def add_user(self, name: str, bot: bool = False, *, id: int | None = None) -> User:
        return self.world.add_user(name, bot, id=id)

    def add_guild(
        self,
        name: str,
        channels: Iterable[str] = ("general",),
        *,
        owner: UserRef | None = None,
        members: Iterable[UserRef] = (),
        id: int | None = None,
    ) -> Guild:
        """Creates a guild (the bot joins: GUILD_CREATE goes to connected sessions)."""
        return self.world.add_guild(name, channels, owner=owner, members=members, id=id)

    def add_member(
        self,
        guild: GuildRef,
        user: UserRef,
        roles: Iterable[Role | int] = (),
        *,
        nick: str | None = None,
    ) -> Member:
        return self.world.add_member(guild, user, roles, nick=nick)

    def add_channel(
        self, guild: GuildRef, name: str, type: int = 0, *, topic: str | None = None
    ) -> Channel:
        return self.world.add_channel(guild, name, type, topic=topic)

    def add_role(
        self, guild: GuildRef, name: str, permissions: int = 0, position: int | None = None
    ) -> Role:
        return self.world.add_role(guild, name, permissions, position)

    def add_thread(
        self, parent: ChannelRef, name: str, owner: UserRef | None = None, *, type: int = 11
    ) -> Channel:
        return self.world.add_thread(self.channel(parent), name, owner, type=type)

    def dm_channel(self, user: UserRef) -> Channel:
        return self.world.dm_channel(user)

    def set_overwrite(
        self, channel: ChannelRef, target: Role | UserRef, *, allow: int = 0, deny: int = 0
    ) -> Overwrite:
        return self.world.set_overwrite(self.channel(channel), target, allow=allow, deny=deny)

    def deny_bot(self, channel: ChannelRef, permission: int) -> Overwrite:
        """Removes a permission (e.g. ``Perm.SEND_MESSAGES``) from the bot in one channel."""
        return self.set_overwrite(channel, self.bot_user, deny=int(permission))

    def allow_bot(self, channel: ChannelRef, permission: int) -> Overwrite:
        return self.set_overwrite(channel, self.bot_user, allow=int(permission))

    # ---- messages --------------------------------------------------------------------------

    def messages(self, channel: ChannelRef) -> list[StoredMessage]:
        """Current messages of a channel in order (edits applied, deleted ones gone).

        Ephemeral interaction responses are included (``message.ephemeral``); they are never
        dispatched on the gateway nor listed by the history route.
        """
        return self._ctx.messages.store.in_channel(self.channel(channel).id)

    def message(self, message_id: int, *, include_deleted: bool = False) -> StoredMessage | None:
        return self._ctx.messages.store.get(message_id, include_deleted=include_deleted)

    def attachment(
        self,
        filename: str,
        data: bytes,
        content_type: str | None = None,
        *,
        duration_secs: float | None = None,
        waveform: bytes | str | None = None,
        description: str | None = None,
    ) -> StoredAttachment:
        """Registers bytes on the CDN; the returned attachment's ``url`` serves them."""
        if isinstance(waveform, bytes):
            waveform = base64.b64encode(waveform).decode()
        meta = {"duration_secs": duration_secs, "waveform": waveform, "description": description}
        return self._ctx.messages.new_attachment(filename, data, content_type, meta=meta)

    async def inject_message(
        self,
        channel: ChannelRef,
        author: UserRef,
        content: str = "",
        *,
        mentions: Iterable[UserRef] = (),
        mention_roles: Iterable[Role | int] = (),
        mention_everyone: bool = False,
        attachments: Iterable[StoredAttachment] = (),
        embeds: Iterable[JsonDict] = (),
        reference: StoredMessage | JsonDict | int | None = None,
        flags: int = 0,
        message_id: int | None = None,
        tts: bool = False,
    ) -> JsonDict:
        """Stores a user's message and dispatches MESSAGE_CREATE; returns its full payload.

        ``<@id>`` and ``<@&id>`` in ``content`` count as mentions too; ``reference`` makes a
        reply (type 19 with ``referenced_message``); ``message_id`` replays an existing id.
        """
        spec = InjectedMessage(
            content=content,
            mentions=tuple(self.user(u).id for u in mentions),
            mention_roles=tuple(r.id if isinstance(r, Role) else int(r) for r in mention_roles),
            mention_everyone=mention_everyone,
            attachments=tuple(attachments),
            embeds=tuple(embeds),
            reference=_message_id(reference),
            flags=flags,
            message_id=message_id,
            tts=tts,
        )
        message = self._ctx.messages.inject(self.channel(channel), self.user(author), spec)
        return self._ctx.messages.payload(message)

    def delete_message(self, message: StoredMessage | JsonDict | int) -> None:
        """Someone deletes a message in Discord's client: MESSAGE_DELETE reaches the bot."""
        found = self.message(_message_id(message) or 0)
        if found is None:
            raise KeyError(f"{message!r} names no message the emulator holds")
        self._ctx.messages.delete(found)

    def bulk_delete(
        self, channel: ChannelRef, messages: Iterable[StoredMessage | JsonDict | int]
    ) -> None:
        """A moderator purges messages of one channel: one MESSAGE_DELETE_BULK."""
        found = [self.message(_message_id(m) or 0) for m in messages]
        if any(m is None for m in found):
            raise KeyError("a message to bulk-delete is not held by the emulator")
        self._ctx.messages.delete_bulk(self.channel(channel), [m for m in found if m])

    async def inject_voice_message(
        self,
        channel: ChannelRef,
        author: UserRef,
        data: bytes = b"OggS" + bytes(1020),
        *,
        duration_secs: float = 2.5,
        waveform: bytes | None = None,
        content: str = "",
    ) -> JsonDict:
        """A voice message: flags 8192, one ``voice-message.ogg`` (audio/ogg) with waveform."""
        wave = waveform if waveform is not None else bytes((i * 37) % 256 for i in range(64))
        voice = self.attachment(
            "voice-message.ogg", data, "audio/ogg", duration_secs=duration_secs, waveform=wave
        )
        return await self.inject_message(channel, author, content, attachments=[voice], flags=8192)

    async def wait_for_message(
        self,
        channel: ChannelRef,
        predicate: Callable[[StoredMessage], bool] | None = None,
        *,
        author: UserRef | None = None,
        any_author: bool = False,
        after: MessageAfter = None,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> StoredMessage:
        """Waits for a message in ``channel`` by the bot (or ``author``; ``any_author``).

        Messages already there count unless ``after`` (a mark, message, payload or id) says
        otherwise; ``predicate`` sees the current state, so edits can satisfy it later.
        """
        target = self.channel(channel)
        author_id = None if any_author else self.user(author or self.bot_user).id
        store = self._ctx.messages.store
        find = store.finder(target.id, self._message_seq(after), author_id, predicate)
        describe = f"a message in #{target.name or target.id}"
        return await self._ctx.signal.wait_until(find, timeout, describe, channel_topic(target.id))

    def _message_seq(self, after: MessageAfter) -> int:
        if after is None:
            return 0
        if isinstance(after, Mark):
            return after.message_seq
        if isinstance(after, StoredMessage):
            return after.seq
        found = self.message(_message_id(after) or 0, include_deleted=True)
        if found is None:
            raise KeyError(f"after={after!r} names no message the emulator knows")
        return found.seq

    # ---- interactions ----------------------------------------------------------------------

    async def inject_interaction(
        self,
        name: str,
        *,
        user: UserRef,
        channel: ChannelRef,
        options: dict[str, Any] | list[JsonDict] | None = None,
        guild: GuildRef | None = None,
        target_message: StoredMessage | JsonDict | int | None = None,
        target_user: UserRef | None = None,
        command_type: int = 1,
        permissions: int | None = None,
        locale: str = "en-US",
    ) -> InteractionHandle:
        """Dispatches INTERACTION_CREATE for a synced command; returns a handle on the answers.

        ``name`` may name a subcommand ("group sub"). ``options`` maps option names to values
        (users, channels, roles and attachments are resolved); ``command_type`` 3 with
        ``target_message`` is a message context menu, 2 with ``target_user`` a user one.
        """
        target_channel = self.channel(channel, guild)
        command = self._ctx.interactions.find_command(name, command_type, target_channel.guild_id)
        target = None
        if target_message is not None:
            target = self.message(_message_id(target_message) or 0)
            if target is None:
                raise KeyError(
                    f"target_message {target_message!r} is not a message the emulator holds"
                )
        request = InteractionRequest(
            name=name,
            user=self.user(user),
            channel=target_channel,
            command=command,
            command_type=command_type,
            options=options,
            target_message=target,
            target_user=self.user(target_user) if target_user is not None else None,
            permissions=permissions,
            locale=locale,
        )
        return self._ctx.interactions.inject(request)

    def click(
        self,
        message: StoredMessage | JsonDict | int,
        *,
        user: UserRef,
        custom_id: str | None = None,
        label: str | None = None,
        values: Iterable[str] = (),
        permissions: int | None = None,
        locale: str = "en-US",
    ) -> InteractionHandle:
        """A user clicks a button (or picks ``values`` from a select) on a stored message.

        Name the component by ``custom_id`` or ``label``; the returned handle records the bot's
        answers (callback type 6/7 and ``@original`` edits change the clicked message).
        """
        target = self.message(_message_id(message) or 0)
        if target is None:
            raise KeyError(f"message {message!r} is not a message the emulator holds")
        component = components.find_component(target, custom_id=custom_id, label=label)
        return components.click(
            self._ctx,
            target,
            self.user(user),
            component,
            values=tuple(values),
            permissions=permissions,
            locale=locale,
        )

    @property
    def commands(self) -> CommandRegistry:
        return self._ctx.commands

    def synced_commands(self, guild: GuildRef | None = None) -> list[JsonDict]:
        """Commands as synced globally (``guild=None``) or for one guild."""
        guild_id = None if guild is None else self.world.guild(guild).id
        return self._ctx.commands.listed(guild_id)

    @property
    def interaction_ack_deadline(self) -> float | None:
        return self._ctx.interactions.ack_deadline

    @interaction_ack_deadline.setter
    def interaction_ack_deadline(self, seconds: float | None) -> None:
        self._ctx.interactions.ack_deadline = seconds

    # ---- gateway ---------------------------------------------------------------------------

    @property
    def gateway_log(self) -> list[GatewayLogEntry]:
        """Every frame clients sent (op, data), in order."""
        return self._ctx.hub.log

    @property
    def dispatches(self) -> list[DispatchRecord]:
        return list(self._ctx.hub.dispatches)

    @property
    def sessions(self) -> list[GatewaySession]:
        return list(self._ctx.hub.sessions.values())

    @property
    def identifies(self) -> list[JsonDict]:
        """The ``d`` of every accepted IDENTIFY."""
        return self._ctx.hub.identifies

    @property
    def intents(self) -> int | None:
        """The intents of the latest accepted IDENTIFY."""
        return self._ctx.hub.identifies[-1].get("intents") if self._ctx.hub.identifies else None

    def replay_dispatch(self, record: DispatchRecord) -> DispatchRecord:
        """Sends a recorded dispatch again with the same payload (a duplicate event)."""
        return self._ctx.hub.redeliver(record)

    async def resend_last(
        self,
        event: str = "MESSAGE_CREATE",
        predicate: Callable[[DispatchRecord], bool] | None = None,
    ) -> DispatchRecord:
        """Re-sends the latest dispatch of ``event`` (matching ``predicate``)."""
        for record in reversed(self._ctx.hub.dispatches):
            if record.event == event and (predicate is None or predicate(record)):
                resent = self._ctx.hub.redeliver(record)
                await self._ctx.hub.flush()
                return resent
        raise LookupError(f"no {event} has been dispatched yet")

    async def drop_gateway(self, code: int = 4000, shard_id: int | None = None) -> int:
        """Closes gateway sockets with ``code``; sessions stay resumable. Returns how many."""
        return await self._ctx.hub.drop(code, shard_id)

    async def send_reconnect(self, shard_id: int | None = None) -> int:
        """Sends op 7 RECONNECT (the client resumes)."""
        return await self._ctx.hub.send_op_to_sessions(7, None, shard_id, lambda session: None)

    async def invalidate_session(self, resumable: bool, shard_id: int | None = None) -> int:
        """Sends op 9 INVALID_SESSION; ``resumable=False`` also forgets the session."""
        sessions = self._ctx.hub.sessions

        def forget(session: GatewaySession) -> None:
            if not resumable:
                sessions.pop(session.session_id, None)

        return await self._ctx.hub.send_op_to_sessions(9, resumable, shard_id, forget)

    # ---- requests, waiting, faults, rate limits --------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        return self._parts.recorder.requests

    @property
    def unhandled(self) -> list[RecordedRequest]:
        """Requests no route knew (answered 404 code 0)."""
        return self._parts.recorder.unhandled

    @property
    def failed_requests(self) -> list[RecordedRequest]:
        """Requests answered with an error status (400 validation, 403, 404, 429...)."""
        return [record for record in self.requests if (record.status or 0) >= 400]

    def requests_matching(
        self, method: str | None, path_regex: str | re.Pattern[str], *, after: After = 0
    ) -> list[RecordedRequest]:
        """Recorded requests whose path (no ``/api/v10``) fully matches ``path_regex``."""
        return self._parts.recorder.matching(
            method, path_regex, after=self._request_index(after, 0)
        )

    def mark(self) -> Mark:
        """Now, as a point to wait from.

        ``mark = emu.mark(); ...; await emu.wait_request(..., after=mark)``.
        """
        return Mark(
            request_index=self._parts.recorder.next_index,
            message_seq=self._ctx.messages.store.last_seq,
            dispatch_index=self._ctx.hub.dispatches[-1].index if self._ctx.hub.dispatches else 0,
        )

    async def wait_request(
        self,
        method: str | None,
        path_regex: str | re.Pattern[str],
        predicate: Callable[[RecordedRequest], bool] | None = None,
        *,
        after: After = None,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> RecordedRequest:
        """Waits for a matching request answered after ``after`` (default: after this call)."""
        start = self._request_index(after, self._parts.recorder.next_index)
        return await self._parts.recorder.wait(
            method, path_regex, after=start, predicate=predicate, timeout=timeout
        )

    def _request_index(self, after: After, default: int) -> int:
        if after is None:
            return default
        return after.request_index if isinstance(after, Mark) else int(after)

    async def wait_until(self, predicate: Callable[[], T | None], timeout: float = 10.0) -> T:  # noqa: ASYNC109
        """Waits until ``predicate()`` is truthy, re-checked on every emulator state change.

        Only emulator state wakes it (requests, messages, gateway frames): to wait for the
        bot's own cache, wait for the discord.py event instead.
        """
        return await self._ctx.signal.wait_until(predicate, timeout, "emu.wait_until(predicate)")

    @property
    def faults(self) -> FaultInjector:
        return self._parts.faults

    @property
    def rate_limited(self) -> int:
        """429s caused by the realistic rate limits (injected faults are not counted)."""
        return self._parts.limiter.rate_limited

    def set_rate_limits(self, *, realistic: bool = True, **overrides: Any) -> RateLimitConfig:
        """Switches realistic limits on/off and overrides limits/windows (fresh windows)."""
        config = dataclasses.replace(self.config.rate_limits, realistic=realistic, **overrides)
        self.config.rate_limits = config
        self._parts.limiter.config = config
        self._parts.limiter.reset()
        return config


def _message_id(ref: StoredMessage | JsonDict | int | None) -> int | None:
    if ref is None:
        return None
    if isinstance(ref, StoredMessage):
        return ref.id
    if isinstance(ref, dict):
        return int(ref["id"])
    return int(ref)
