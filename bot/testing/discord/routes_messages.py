"""REST routes for messages: send, edit, delete, history, typing, threads, reactions."""

from __future__ import annotations

import contextlib

from bot.testing.discord.context import EmulatorContext
from bot.testing.discord.messages import InjectedMessage
from bot.testing.discord.models import PRIVATE_THREAD, PUBLIC_THREAD, Channel, StoredMessage
from bot.testing.discord.permissions import Perm
from bot.testing.discord.ratelimit import MESSAGE_BUCKET
from bot.testing.discord.rest import RouteSpec, route
from bot.testing.discord.rest_common import (
    RestError,
    RestRequest,
    RestResponse,
    error,
    field_error,
    form_error,
    no_content,
    ok,
    unknown,
)

_C = r"/channels/(?P<channel_id>\d+)"
_M = _C + r"/messages/(?P<message_id>\d+)"
_REACTION = _M + r"/reactions/(?P<emoji>[^/]+)/@me"
HAS_THREAD = 1 << 5
THREAD_CREATED = 18
REACTION_INTENTS = (1 << 10, 1 << 13)


class MessageRoutes:
    """Handlers for channel messages and what hangs off them."""

    def __init__(self, ctx: EmulatorContext) -> None:
        self._ctx = ctx

    def specs(self) -> list[RouteSpec]:
        return [
            route("POST", _C + r"/messages", self.send, bucket=MESSAGE_BUCKET),
            route("GET", _C + r"/messages", self.history),
            route("GET", _M, self.get),
            route("PATCH", _M, self.edit, bucket=MESSAGE_BUCKET),
            route("DELETE", _M, self.delete),
            route("POST", _C + r"/typing", self.typing),
            route("POST", _M + r"/threads", self.thread_from_message),
            route("POST", _C + r"/threads", self.thread_without_message),
            route("PUT", _REACTION, self.add_reaction),
            route("DELETE", _REACTION, self.remove_reaction),
        ]

    async def send(self, request: RestRequest) -> RestResponse:
        channel = self._ctx.channel(request.param_int("channel_id"))
        send = Perm.SEND_MESSAGES_IN_THREADS if channel.is_thread else Perm.SEND_MESSAGES
        needed = [send, Perm.ATTACH_FILES] if request.files else [send]
        self._ctx.require(channel, *needed)
        bot = self._ctx.world.bot_user
        message = self._ctx.messages.create_from_body(channel, bot, request.body(), request.files)
        return ok(self._ctx.messages.payload(message))

    async def history(self, request: RestRequest) -> RestResponse:
        channel = self._ctx.channel(request.param_int("channel_id"))
        permissions = self._ctx.require_access(channel)
        limit = _limit(request.query.get("limit"))
        if not permissions & Perm.READ_MESSAGE_HISTORY:
            return ok([])
        found = self._ctx.messages.store.history(
            channel.id,
            limit=limit,
            before=_optional_int(request.query.get("before")),
            after=_optional_int(request.query.get("after")),
            around=_optional_int(request.query.get("around")),
        )
        return ok([self._ctx.messages.payload(message) for message in found])

    async def get(self, request: RestRequest) -> RestResponse:
        channel, message = self._message(request)
        self._ctx.require(channel, Perm.READ_MESSAGE_HISTORY)
        return ok(self._ctx.messages.payload(message))

    async def edit(self, request: RestRequest) -> RestResponse:
        _, message = self._message(request)
        bot = self._ctx.world.bot_user
        edited = self._ctx.messages.edit(message, request.body(), request.files, editor=bot)
        return ok(self._ctx.messages.payload(edited))

    async def delete(self, request: RestRequest) -> RestResponse:
        channel, message = self._message(request)
        if message.author.id != self._ctx.world.bot_user.id:
            self._ctx.require(channel, Perm.MANAGE_MESSAGES)
        self._ctx.messages.delete(message)
        return no_content()

    async def typing(self, request: RestRequest) -> RestResponse:
        channel = self._ctx.channel(request.param_int("channel_id"))
        self._ctx.require(
            channel, Perm.SEND_MESSAGES_IN_THREADS if channel.is_thread else Perm.SEND_MESSAGES
        )
        return no_content()

    async def thread_from_message(self, request: RestRequest) -> RestResponse:
        channel, message = self._message(request)
        self._ctx.require(channel, Perm.CREATE_PUBLIC_THREADS)
        if message.thread_id is not None:
            raise RestError(
                error(400, 160004, "A thread has already been created for this message")
            )
        thread = self._new_thread(channel, request, PUBLIC_THREAD, thread_id=message.id)
        message.thread_id = thread.id
        message.flags |= HAS_THREAD
        self._ctx.messages.publish("MESSAGE_UPDATE", message)
        return ok(thread.to_payload(), status=201)

    async def thread_without_message(self, request: RestRequest) -> RestResponse:
        channel = self._ctx.channel(request.param_int("channel_id"))
        kind = int(request.body().get("type") or PRIVATE_THREAD)
        needed = (
            Perm.CREATE_PUBLIC_THREADS if kind == PUBLIC_THREAD else Perm.CREATE_PRIVATE_THREADS
        )
        self._ctx.require(channel, needed)
        thread = self._new_thread(channel, request, kind)
        if kind == PUBLIC_THREAD:
            self._announce_thread(channel, thread)
        return ok(thread.to_payload(), status=201)

    async def add_reaction(self, request: RestRequest) -> RestResponse:
        channel, message = self._message(request)
        self._ctx.require(channel, Perm.READ_MESSAGE_HISTORY, Perm.ADD_REACTIONS)
        emoji = request.params["emoji"]
        message.reactions.setdefault(emoji, set()).add(self._ctx.world.bot_user.id)
        self._reaction_event("MESSAGE_REACTION_ADD", message, emoji)
        return no_content()

    async def remove_reaction(self, request: RestRequest) -> RestResponse:
        _, message = self._message(request)
        emoji = request.params["emoji"]
        users = message.reactions.get(emoji, set())
        users.discard(self._ctx.world.bot_user.id)
        if not users:
            message.reactions.pop(emoji, None)
        self._reaction_event("MESSAGE_REACTION_REMOVE", message, emoji)
        return no_content()

    def _message(self, request: RestRequest) -> tuple[Channel, StoredMessage]:
        channel = self._ctx.channel(request.param_int("channel_id"))
        message = self._ctx.messages.store.get(request.param_int("message_id"))
        if message is None or message.channel_id != channel.id:
            raise unknown("Message", 10008)
        return channel, message

    def _new_thread(
        self, channel: Channel, request: RestRequest, kind: int, thread_id: int | None = None
    ) -> Channel:
        if channel.is_thread or channel.guild_id is None:
            raise RestError(error(400, 50024, "Cannot execute action on this channel type"))
        body = request.body()
        name = str(body.get("name") or "")
        if not 1 <= len(name) <= 100:
            raise RestError(
                form_error(
                    {
                        "name": field_error(
                            "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
                        )
                    }
                )
            )
        thread = self._ctx.world.add_thread(channel, name, type=kind, id=thread_id)
        thread.auto_archive_duration = int(body.get("auto_archive_duration") or 1440)
        thread.rate_limit_per_user = int(body.get("rate_limit_per_user") or 0)
        self._ctx.signal.notify()
        return thread

    def _announce_thread(self, channel: Channel, thread: Channel) -> None:
        reference = {"channel_id": str(thread.id), "guild_id": str(channel.guild_id)}
        spec = InjectedMessage(
            content=thread.name or "", type=THREAD_CREATED, raw_reference=reference
        )
        self._ctx.messages.inject(channel, self._ctx.world.bot_user, spec)

    def _reaction_event(self, event: str, message: StoredMessage, emoji: str) -> None:
        bot = self._ctx.world.bot_user
        name, _, emoji_id = emoji.partition(":")
        payload = {
            "user_id": str(bot.id),
            "channel_id": str(message.channel_id),
            "message_id": str(message.id),
            "emoji": {"id": emoji_id or None, "name": name},
            "burst": False,
            "type": 0,
            "message_author_id": str(message.author.id),
        }
        intent = REACTION_INTENTS[0] if message.guild_id is not None else REACTION_INTENTS[1]
        if message.guild_id is not None:
            payload["guild_id"] = str(message.guild_id)
            member = self._ctx.world.guild(message.guild_id).members.get(bot.id)
            if member is not None and event.endswith("ADD"):
                payload["member"] = member.to_payload()
        self._ctx.hub.dispatch(event, payload, guild_id=message.guild_id, intent=intent)
        self._ctx.signal.notify()


def _limit(raw: str | None) -> int:
    if raw is None:
        return 50
    with contextlib.suppress(ValueError):
        value = int(raw)
        if 1 <= value <= 100:
            return value
    raise RestError(
        form_error(
            {"limit": field_error("NUMBER_TYPE_MAX", "int value should be <= 100 and >= 1.")}
        )
    )


def _optional_int(raw: str | None) -> int | None:
    return int(raw) if raw else None
