"""Injected interactions and what the bot answers: callbacks, follow-ups, original edits."""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Callable

from bot.testing.discord.commands import CommandRegistry
from bot.testing.discord.gateway import GatewayHub
from bot.testing.discord.interaction_payloads import (
    InteractionRequest,
    Resolver,
    command_data,
    interaction_payload,
)
from bot.testing.discord.messages import LOADING_FLAG, MessageOrigin, MessageService
from bot.testing.discord.models import Channel, JsonDict, StoredMessage
from bot.testing.discord.recorder import RecordedRequest
from bot.testing.discord.rest_common import (
    RestError,
    RestRequest,
    RestResponse,
    error,
    no_content,
    ok,
    unknown,
)
from bot.testing.discord.signal import ChangeSignal
from bot.testing.discord.world import World

EPHEMERAL = 64
CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, UPDATE_MESSAGE = 4, 5, 7
_CALLBACK_TYPES = {1, 4, 5, 6, 7, 8, 9, 10, 12}
_RESPONSE_MESSAGE_TYPE = {1: 20, 2: 23, 3: 23}


@dataclasses.dataclass(frozen=True)
class InteractionCallback:
    """One ``POST /interactions/{id}/{token}/callback`` the bot made."""

    type: int
    data: JsonDict | None
    received_at: float
    request: RecordedRequest


class InteractionHandle:
    """What a test holds after ``inject_interaction``: every answer of the bot to it."""

    def __init__(
        self, request: InteractionRequest, payload: JsonDict, signal: ChangeSignal
    ) -> None:
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.name = request.name
        self.command_type = request.command_type
        self.channel: Channel = request.channel
        self.payload = payload
        self.dispatched_at = time.monotonic()
        self.callbacks: list[InteractionCallback] = []
        self.rejected: list[int] = []
        self.original: StoredMessage | None = None
        self.clicked: StoredMessage | None = None  # the message of a component interaction
        self.followups: list[StoredMessage] = []
        self._signal = signal

    @property
    def responded(self) -> bool:
        return bool(self.callbacks)

    @property
    def response_type(self) -> int | None:
        return self.callbacks[0].type if self.callbacks else None

    @property
    def deferred(self) -> bool:
        return self.response_type == DEFERRED_CHANNEL_MESSAGE

    @property
    def ephemeral(self) -> bool:
        data = self.callbacks[0].data if self.callbacks else None
        return bool(int((data or {}).get("flags") or 0) & EPHEMERAL)

    @property
    def ack_latency(self) -> float | None:
        """Seconds from dispatching INTERACTION_CREATE to receiving the callback."""
        return self.callbacks[0].received_at - self.dispatched_at if self.callbacks else None

    @property
    def messages(self) -> list[StoredMessage]:
        return [m for m in [self.original, *self.followups] if m is not None]

    def final_content(self) -> str | None:
        """Content of the message created or edited last (ignoring a still-loading placeholder)."""
        visible = [m for m in self.messages if not m.flags & LOADING_FLAG]
        if not visible:
            return None
        return max(visible, key=lambda m: m.edits[-1].at if m.edits else m.created_at).content

    async def wait(
        self,
        predicate: Callable[[InteractionHandle], bool],
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> InteractionHandle:
        """Waits until ``predicate(handle)`` holds."""
        return await self._signal.wait_until(
            lambda: self if predicate(self) else None,
            timeout,
            lambda: f"{self!r} to satisfy the predicate",
        )

    async def wait_response(self, timeout: float = 10.0) -> InteractionCallback:  # noqa: ASYNC109
        """Waits for the bot's first callback (the acknowledgement)."""
        await self._signal.wait_until(
            lambda: self.callbacks, timeout, lambda: f"a callback to interaction /{self.name}"
        )
        return self.callbacks[0]

    async def wait_followups(self, count: int = 1, timeout: float = 10.0) -> list[StoredMessage]:  # noqa: ASYNC109
        """Waits until the bot has sent ``count`` follow-up messages."""
        await self._signal.wait_until(
            lambda: len(self.followups) >= count,
            timeout,
            lambda: f"{count} follow-up(s) to /{self.name} (got {len(self.followups)})",
        )
        return list(self.followups)

    async def wait_original_edit(self, timeout: float = 10.0) -> StoredMessage:  # noqa: ASYNC109
        """Waits until the original response has been edited at least once."""
        await self._signal.wait_until(
            lambda: self.original is not None and self.original.edits,
            timeout,
            lambda: f"an edit of the original response to /{self.name}",
        )
        assert self.original is not None
        return self.original

    def __repr__(self) -> str:
        return f"<InteractionHandle /{self.name} id={self.id} responses={len(self.callbacks)}>"


class InteractionService:
    """Builds interactions, and applies the bot's callbacks and webhook calls to them."""

    def __init__(
        self,
        world: World,
        messages: MessageService,
        hub: GatewayHub,
        commands: CommandRegistry,
        signal: ChangeSignal,
        ack_deadline: float | None,
    ) -> None:
        self._world = world
        self._messages = messages
        self._hub = hub
        self._commands = commands
        self._signal = signal
        self.ack_deadline = ack_deadline
        self.handles: dict[str, InteractionHandle] = {}

    def inject(self, request: InteractionRequest) -> InteractionHandle:
        resolver = Resolver(self._world, request.channel)
        data = command_data(request, self._messages.store, resolver)
        interaction_id = self._world.snowflakes.next()
        token = "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48)
        payload = interaction_payload(
            self._world, request, data, interaction_id=interaction_id, token=token
        )
        handle = InteractionHandle(request, payload, self._signal)
        self.handles[token] = handle
        self._hub.dispatch("INTERACTION_CREATE", payload, guild_id=request.channel.guild_id)
        return handle

    def find_command(self, name: str, command_type: int, guild_id: int | None) -> JsonDict:
        root = name.split()[0]
        command = self._commands.find(root, command_type, guild_id)
        if command is None:
            raise LookupError(
                f"the bot has not synced a command {root!r} of type {command_type} for this guild "
                f"or globally (synced: {self._commands.names()}); call tree.sync() in the bot first"
            )
        return command

    # ---- callback --------------------------------------------------------------------------

    def callback(self, request: RestRequest) -> RestResponse:
        handle = self._handle(request.params["token"])
        if handle.id != request.param_int("interaction_id"):
            raise unknown("interaction", 10062)
        if handle.callbacks:
            handle.rejected.append(40060)
            self._signal.notify()
            raise RestError(error(400, 40060, "Interaction has already been acknowledged."))
        received = request.record.received_at
        if self.ack_deadline is not None and received - handle.dispatched_at > self.ack_deadline:
            handle.rejected.append(10062)
            self._signal.notify()
            raise unknown("interaction", 10062)
        body = request.body()
        kind = int(body.get("type") or 0)
        if kind not in _CALLBACK_TYPES:
            raise RestError(error(400, 50035, "Invalid Form Body"))
        message = self._respond_message(handle, kind, body.get("data") or {}, request)
        handle.callbacks.append(
            InteractionCallback(kind, body.get("data"), received, request.record)
        )
        self._signal.notify()
        if request.query.get("with_response") not in ("1", "true", "True"):
            return no_content()
        return ok(self._callback_body(handle, kind, message))

    def _respond_message(
        self, handle: InteractionHandle, kind: int, data: JsonDict, request: RestRequest
    ) -> StoredMessage | None:
        if kind == UPDATE_MESSAGE and handle.clicked is not None:
            bot = self._world.bot_user
            return self._messages.edit(handle.clicked, data, request.files, editor=bot)
        if kind not in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE):
            return None
        flags = int(data.get("flags") or 0) & EPHEMERAL
        if kind == DEFERRED_CHANNEL_MESSAGE:
            flags |= LOADING_FLAG
            data = {}
        origin = self._origin(handle, _RESPONSE_MESSAGE_TYPE.get(handle.command_type, 20), flags)
        bot = self._world.bot_user
        message = self._messages.create_from_body(
            handle.channel,
            bot,
            data,
            request.files,
            origin,
            allow_empty=kind == DEFERRED_CHANNEL_MESSAGE,
        )
        handle.original = message
        return message

    def _callback_body(
        self, handle: InteractionHandle, kind: int, message: StoredMessage | None
    ) -> JsonDict:
        interaction: JsonDict = {"id": str(handle.id), "type": 2}
        resource: JsonDict = {"type": kind}
        if message is not None:
            interaction.update(
                response_message_id=str(message.id),
                response_message_loading=bool(message.flags & LOADING_FLAG),
                response_message_ephemeral=message.ephemeral,
            )
            resource["message"] = self._messages.payload(message)
        return {"interaction": interaction, "resource": resource}

    def _origin(self, handle: InteractionHandle, message_type: int, flags: int) -> MessageOrigin:
        user = handle.payload.get("member", {}).get("user") or handle.payload.get("user")
        metadata = {
            "id": str(handle.id),
            "type": 2,
            "user": user,
            "name": handle.name,
            "command_type": handle.command_type,
            "authorizing_integration_owners": handle.payload.get(
                "authorizing_integration_owners", {}
            ),
        }
        return MessageOrigin(
            type=message_type,
            webhook_id=self._world.application_id,
            application_id=self._world.application_id,
            interaction_metadata=metadata,
            extra_flags=flags,
        )

    # ---- webhook routes --------------------------------------------------------------------

    def followup(self, request: RestRequest) -> RestResponse:
        handle = self._webhook_handle(request)
        if not handle.callbacks:
            raise unknown("Webhook", 10015)
        body = request.body()
        flags = int(body.get("flags") or 0) & EPHEMERAL
        channel = handle.channel
        thread_id = request.query.get("thread_id")
        if thread_id:
            channel = self._world.channel(int(thread_id))
        origin = self._origin(handle, 0, flags)
        message = self._messages.create_from_body(
            channel, self._world.bot_user, body, request.files, origin
        )
        handle.followups.append(message)
        self._signal.notify()
        if request.query.get("wait") in ("1", "true", "True"):
            return ok(self._messages.payload(message))
        return no_content()

    def get_message(self, request: RestRequest) -> RestResponse:
        message = self._webhook_message(request)
        return ok(self._messages.payload(message))

    def edit_message(self, request: RestRequest) -> RestResponse:
        message = self._webhook_message(request)
        edited = self._messages.edit(
            message,
            request.body(),
            request.files,
            editor=self._world.bot_user,
            clear_flags=LOADING_FLAG,
        )
        return ok(self._messages.payload(edited))

    def delete_message(self, request: RestRequest) -> RestResponse:
        message = self._webhook_message(request)
        self._messages.delete(message)
        return no_content()

    def _handle(self, token: str) -> InteractionHandle:
        handle = self.handles.get(token)
        if handle is None:
            raise unknown("interaction", 10062)
        return handle

    def _webhook_handle(self, request: RestRequest) -> InteractionHandle:
        handle = self.handles.get(request.params["token"])
        if handle is None or request.param_int("application_id") != self._world.application_id:
            raise unknown("Webhook", 10015)
        return handle

    def _webhook_message(self, request: RestRequest) -> StoredMessage:
        handle = self._webhook_handle(request)
        wanted = request.params["message_id"]
        if wanted == "@original":
            found = handle.original
        else:
            found = next((m for m in handle.messages if str(m.id) == wanted), None)
        if found is None or found.deleted_at is not None:
            raise unknown("Message", 10008)
        return found
