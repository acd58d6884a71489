"""Creating, editing and deleting messages, and the gateway events that follow, as Discord does."""

from __future__ import annotations

import dataclasses
import mimetypes
import time
from typing import Any

from bot.testing.discord.cdn import CdnStore
from bot.testing.discord.gateway import GatewayHub
from bot.testing.discord.mentions import parse_mentions, pinged
from bot.testing.discord.message_store import MessageStore
from bot.testing.discord.models import (
    Channel,
    JsonDict,
    MessageEdit,
    StoredAttachment,
    StoredMessage,
    User,
)
from bot.testing.discord.payloads import message_payload
from bot.testing.discord.permissions import Perm, channel_permissions
from bot.testing.discord.rest_common import (
    RestError,
    UploadedFile,
    error,
    field_error,
    form_error,
)
from bot.testing.discord.signal import ChangeSignal
from bot.testing.discord.snowflake import SnowflakeFactory, iso_timestamp
from bot.testing.discord.validation import validate_message
from bot.testing.discord.world import World

GUILD_MESSAGES_INTENT = 1 << 9
DIRECT_MESSAGES_INTENT = 1 << 12
REPLY = 19
SENDABLE_FLAGS = 4 | 4096 | 8192 | 32768
LOADING_FLAG = 128


@dataclasses.dataclass(frozen=True)
class MessageOrigin:
    """How a message came to be beyond its author (plain send, interaction response, webhook)."""

    type: int | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_metadata: JsonDict | None = None
    extra_flags: int = 0


@dataclasses.dataclass(frozen=True)
class InjectedMessage:
    """What a test injects as a user's message."""

    content: str = ""
    mentions: tuple[int, ...] = ()
    mention_roles: tuple[int, ...] = ()
    mention_everyone: bool = False
    attachments: tuple[StoredAttachment, ...] = ()
    embeds: tuple[JsonDict, ...] = ()
    reference: int | None = None
    flags: int = 0
    message_id: int | None = None
    type: int | None = None
    tts: bool = False
    raw_reference: JsonDict | None = None


class MessageService:
    """Holds the rules for messages; every change is stored, then dispatched on the gateway."""

    def __init__(
        self,
        world: World,
        store: MessageStore,
        hub: GatewayHub,
        cdn: CdnStore,
        signal: ChangeSignal,
    ) -> None:
        self._world = world
        self.store = store
        self._hub = hub
        self._cdn = cdn
        self._signal = signal
        self._snowflakes: SnowflakeFactory = world.snowflakes

    # ---- building blocks -------------------------------------------------------------------

    def new_attachment(
        self,
        filename: str,
        data: bytes,
        content_type: str | None = None,
        *,
        scope_id: int | None = None,
        meta: JsonDict | None = None,
    ) -> StoredAttachment:
        """Stores bytes on the CDN and returns the attachment that points there."""
        meta = meta or {}
        attachment_id = self._snowflakes.next()
        kind = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        url, proxy_url = self._cdn.put_attachment(
            scope_id or attachment_id, attachment_id, filename, data, kind
        )
        return StoredAttachment(
            id=attachment_id,
            filename=filename,
            data=data,
            content_type=kind,
            url=url,
            proxy_url=proxy_url,
            duration_secs=meta.get("duration_secs"),
            waveform=meta.get("waveform"),
            description=meta.get("description"),
            title=meta.get("title"),
            flags=int(meta.get("flags") or 0),
        )

    def payload(self, message: StoredMessage) -> JsonDict:
        return message_payload(self._world, self.store, message)

    # ---- create ----------------------------------------------------------------------------

    def create_from_body(
        self,
        channel: Channel,
        author: User,
        body: JsonDict,
        files: list[UploadedFile],
        origin: MessageOrigin | None = None,
        *,
        allow_empty: bool = False,
    ) -> StoredMessage:
        """A message sent over REST (bot send, webhook, interaction response)."""
        origin = origin or MessageOrigin()
        validate_message(body, files, creating=not allow_empty)
        nonce = body.get("nonce")
        if body.get("enforce_nonce") and nonce is not None:
            existing = self.store.by_nonce(author.id, nonce)
            if existing is not None:
                return existing
        reference = self._reference(channel, body.get("message_reference"))
        attachments = self._attachments(channel.id, body.get("attachments"), files, [])
        message = self._new_message(channel, author, str(body.get("content") or ""))
        message.type = origin.type if origin.type is not None else (REPLY if reference else 0)
        message.attachments = attachments
        message.embeds = _rich(body.get("embeds") or [])
        message.components = list(body.get("components") or [])
        message.flags = (int(body.get("flags") or 0) & SENDABLE_FLAGS) | origin.extra_flags
        message.allowed_mentions = body.get("allowed_mentions")
        message.message_reference = reference
        message.tts = bool(body.get("tts"))
        message.nonce = nonce
        message.webhook_id = origin.webhook_id
        message.application_id = origin.application_id
        message.interaction_metadata = origin.interaction_metadata
        message.body = body
        self._apply_pings(message, channel)
        self._store_and_publish(message, channel)
        return message

    def inject(self, channel: Channel, author: User, spec: InjectedMessage) -> StoredMessage:
        """A message from a (test-controlled) user, stored and dispatched as MESSAGE_CREATE."""
        self._check_author(channel, author)
        message = self._new_message(channel, author, spec.content, message_id=spec.message_id)
        written = parse_mentions(spec.content)
        message.mention_ids = list(dict.fromkeys([*spec.mentions, *written.user_ids]))
        message.mention_role_ids = list(dict.fromkeys([*spec.mention_roles, *written.role_ids]))
        message.mention_everyone = spec.mention_everyone
        message.attachments = list(spec.attachments)
        message.embeds = _rich(list(spec.embeds))
        message.flags = spec.flags
        message.tts = spec.tts
        if spec.reference is not None:
            message.message_reference = self._reference(channel, {"message_id": spec.reference})
        message.message_reference = message.message_reference or spec.raw_reference
        message.type = spec.type if spec.type is not None else (REPLY if spec.reference else 0)
        self._store_and_publish(message, channel)
        return message

    def _new_message(
        self, channel: Channel, author: User, content: str, *, message_id: int | None = None
    ) -> StoredMessage:
        return StoredMessage(
            id=message_id or self._snowflakes.next(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=author,
            content=content,
            created_at=time.monotonic(),
            seq=self.store.next_seq(),
        )

    def _check_author(self, channel: Channel, author: User) -> None:
        if channel.guild_id is not None:
            self._world.require_member(self._world.guild(channel.guild_id), author)
        elif author.id != self._world.bot_user.id and author not in channel.recipients:
            raise ValueError(f"{author.name!r} is not a recipient of DM channel {channel.id}")

    def _reference(self, channel: Channel, raw: Any) -> JsonDict | None:
        if not isinstance(raw, dict) or raw.get("message_id") is None:
            return None
        referenced = self.store.get(int(raw["message_id"]))
        if referenced is None:
            if raw.get("fail_if_not_exists", True):
                errors = {
                    "message_reference": field_error(
                        "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
                    )
                }
                raise RestError(form_error(errors))
            return None
        reference: JsonDict = {
            "type": int(raw.get("type") or 0),
            "message_id": str(referenced.id),
            "channel_id": str(referenced.channel_id),
        }
        if referenced.guild_id is not None:
            reference["guild_id"] = str(referenced.guild_id)
        return reference

    def _apply_pings(self, message: StoredMessage, channel: Channel) -> None:
        referenced = self.store.get(message.referenced_message_id or 0)
        found = pinged(
            message.content,
            message.allowed_mentions,
            replied_user_id=referenced.author.id if referenced is not None else None,
            may_mention_everyone=lambda: self._may_mention_everyone(message.author, channel),
        )
        message.mention_ids = [u for u in found.user_ids if u in self._world.users]
        message.mention_role_ids = found.role_ids
        message.mention_everyone = found.everyone

    def _may_mention_everyone(self, author: User, channel: Channel) -> bool:
        if channel.guild_id is None:
            return False
        guild = self._world.guild(channel.guild_id)
        member = guild.members.get(author.id)
        if member is None:
            return False
        return bool(channel_permissions(guild, member, channel) & Perm.MENTION_EVERYONE)

    def _store_and_publish(self, message: StoredMessage, channel: Channel) -> None:
        self.store.add(message)
        channel.last_message_id = message.id
        if channel.is_thread:
            message.position = channel.message_count
            channel.message_count += 1
        self.publish("MESSAGE_CREATE", message)

    # ---- attachments -----------------------------------------------------------------------

    def _attachments(
        self,
        scope_id: int,
        metas: Any,
        files: list[UploadedFile],
        existing: list[StoredAttachment],
    ) -> list[StoredAttachment]:
        if not isinstance(metas, list):
            return [*existing, *(self._from_upload(scope_id, f, {}) for f in files)]
        uploads = {upload.index: upload for upload in files}
        kept = {attachment.id: attachment for attachment in existing}
        result: list[StoredAttachment] = []
        for position, meta in enumerate(metas):
            attachment_id = int(meta.get("id", position))
            if attachment_id in kept:
                result.append(kept[attachment_id])
            elif attachment_id in uploads:
                result.append(self._from_upload(scope_id, uploads.pop(attachment_id), meta))
            else:
                problem = {
                    str(position): {"id": field_error("ATTACHMENT_NOT_FOUND", "Unknown attachment")}
                }
                raise RestError(form_error({"attachments": problem}))
        result.extend(self._from_upload(scope_id, upload, {}) for upload in uploads.values())
        return result

    def _from_upload(self, scope_id: int, upload: UploadedFile, meta: JsonDict) -> StoredAttachment:
        filename = str(meta.get("filename") or upload.filename)
        declared = (
            upload.content_type if upload.content_type != "application/octet-stream" else None
        )
        kind = mimetypes.guess_type(filename)[0] or declared
        return self.new_attachment(filename, upload.data, kind, scope_id=scope_id, meta=meta)

    # ---- edit / delete ---------------------------------------------------------------------

    def edit(
        self,
        message: StoredMessage,
        body: JsonDict,
        files: list[UploadedFile],
        *,
        editor: User,
        clear_flags: int = 0,
    ) -> StoredMessage:
        """Applies an edit like ``PATCH /channels/{c}/messages/{m}``; records its history."""
        if message.author.id != editor.id:
            raise RestError(error(403, 50005, "Cannot edit a message authored by another user"))
        validate_message(body, files, creating=False)
        before = message.content
        if "content" in body:
            message.content = str(body.get("content") or "")
        if "embeds" in body:
            message.embeds = _rich(body.get("embeds") or [])
        if "components" in body:
            message.components = list(body.get("components") or [])
        if "flags" in body and body["flags"] is not None:
            message.flags = (message.flags & ~4) | (int(body["flags"]) & 4)
        message.flags &= ~clear_flags
        if "attachments" in body or files:
            message.attachments = self._attachments(
                message.channel_id, body.get("attachments"), files, message.attachments
            )
        if "allowed_mentions" in body:
            message.allowed_mentions = body["allowed_mentions"]
        channel = self._world.channel(message.channel_id)
        self._apply_pings(message, channel)
        message.edited_timestamp = iso_timestamp()
        message.edits.append(MessageEdit(time.monotonic(), before, message.content, body))
        self.publish("MESSAGE_UPDATE", message)
        return message

    def delete(self, message: StoredMessage) -> None:
        """Deletes a message and dispatches MESSAGE_DELETE."""
        self.store.mark_deleted(message, time.monotonic())
        payload: JsonDict = {"id": str(message.id), "channel_id": str(message.channel_id)}
        if message.guild_id is not None:
            payload["guild_id"] = str(message.guild_id)
        if not message.ephemeral:
            self._hub.dispatch(
                "MESSAGE_DELETE", payload, guild_id=message.guild_id, intent=_intent(message)
            )
        self._signal.notify(channel_topic(message.channel_id))

    def delete_bulk(self, channel: Channel, messages: list[StoredMessage]) -> None:
        """Deletes messages of one channel and dispatches one MESSAGE_DELETE_BULK."""
        moment = time.monotonic()
        for message in messages:
            self.store.mark_deleted(message, moment)
        payload: JsonDict = {
            "ids": [str(message.id) for message in messages],
            "channel_id": str(channel.id),
        }
        if channel.guild_id is not None:
            payload["guild_id"] = str(channel.guild_id)
        shown = [message for message in messages if not message.ephemeral]
        if shown:
            self._hub.dispatch(
                "MESSAGE_DELETE_BULK", payload, guild_id=channel.guild_id, intent=_intent(shown[0])
            )
        self._signal.notify(channel_topic(channel.id))

    # ---- gateway ---------------------------------------------------------------------------

    def publish(self, event: str, message: StoredMessage) -> None:
        """Dispatches MESSAGE_CREATE/UPDATE (never for ephemeral messages) and wakes waiters."""
        if event != "MESSAGE_CREATE":
            self.store.touch(message)
        if not message.ephemeral:
            self._hub.dispatch(
                event,
                self.payload(message),
                guild_id=message.guild_id,
                intent=_intent(message),
                content_exempt=self._content_exempt(message),
            )
        self._signal.notify(channel_topic(message.channel_id))

    def _content_exempt(self, message: StoredMessage) -> bool:
        bot_id = self._world.bot_user.id
        return (
            message.guild_id is None or message.author.id == bot_id or bot_id in message.mention_ids
        )


def channel_topic(channel_id: int) -> tuple[str, int]:
    """The signal topic of a channel's messages."""
    return ("channel", channel_id)


def _intent(message: StoredMessage) -> int:
    return DIRECT_MESSAGES_INTENT if message.guild_id is None else GUILD_MESSAGES_INTENT


def _rich(embeds: list[Any]) -> list[JsonDict]:
    return [{"type": "rich", **embed} for embed in embeds if isinstance(embed, dict)]
