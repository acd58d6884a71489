"""Rate-aware streaming of an answer into Discord messages.

One reply streams into one message, edited no faster than the channel's pace allows; past 2,000 code
points it continues in follow-up messages. The final text is always delivered in full: the last
write reconciles every message with the final rendering, and a failed edit falls back to a new
message. Every send and edit carries ``allowed_mentions`` none and suppresses link embeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Self

import discord

from bot.discord_safety import NO_MENTIONS
from bot.engine import Final
from bot.errors import ReplyUnavailable
from bot.render import render
from bot.reply_core import MAX_LEN, StreamingReply, WriteError, files_of
from bot.settings import ChatSettings
from tools import Artifact

log = logging.getLogger("toolcord.delivery")

# An answer whose first text comes sooner than this shows no typing indicator at all.
TYPING_AFTER_S = 0.3


class EditPacer:
    """Spaces message writes per channel: at most one per ``interval_s`` in each channel.

    It also remembers channels where the bot lost the permission to write, so the bot stops
    answering there for a while instead of failing in a loop (each is logged once).
    """

    def __init__(self, interval_s: float, *, forbidden_retry_s: float = 600.0) -> None:
        self._interval_s = interval_s
        self._next_at: dict[int, float] = {}
        self._forbidden_until: dict[int, float] = {}
        self._forbidden_retry_s = forbidden_retry_s

    def note_forbidden(self, channel_id: int) -> None:
        """The bot may not write in this channel: pause it, and log that once."""
        now = asyncio.get_running_loop().time()
        if not self.is_paused(channel_id):
            log.warning(
                "the bot lacks permission to send in channel %s; not answering there for %d s",
                channel_id,
                self._forbidden_retry_s,
            )
        self._forbidden_until[channel_id] = now + self._forbidden_retry_s

    def is_paused(self, channel_id: int) -> bool:
        """True while a channel is paused after a permission failure."""
        until = self._forbidden_until.get(channel_id)
        return until is not None and asyncio.get_running_loop().time() < until

    async def turn(self, channel_id: int) -> None:
        """Wait for this channel's next write slot and take it."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        slot = max(now, self._next_at.get(channel_id, 0.0))
        self._next_at[channel_id] = slot + self._interval_s
        if slot > now:
            await asyncio.sleep(slot - now)
        if len(self._next_at) > 10_000:
            self._forget_idle(now)

    def _forget_idle(self, now: float) -> None:
        for channel_id in [c for c, at in self._next_at.items() if at < now]:
            del self._next_at[channel_id]


class ChannelPaused(discord.ClientException, ReplyUnavailable):
    """The channel is paused after Discord refused the bot there; nothing was sent."""

    def __init__(self, channel_id: int) -> None:
        super().__init__(f"channel {channel_id} is paused after a permission failure")
        self.channel_id = channel_id


class DiscordReply(StreamingReply[discord.Message]):
    """A ReplySink that streams one answer into a Discord channel.

    Every write takes a pace slot of the channel (``EditPacer``); the first message answers the
    user's message (``reference``) and the typing indicator shows until text does.
    """

    _log = log

    def __init__(
        self,
        channel: discord.abc.Messageable,
        channel_id: int,
        *,
        reference: discord.MessageReference | None,
        pacer: EditPacer,
        chat: ChatSettings,
    ) -> None:
        super().__init__(chat)
        self._channel = channel
        self._channel_id = channel_id
        self._reference = reference
        self._pacer = pacer
        self._late_deliveries: set[asyncio.Task[None]] = set()

    async def start(self) -> Self:
        """Show the typing indicator and start the paced writer.

        Raises:
            ChannelPaused: Discord refused the bot in this channel lately; a turn queued here is
                then recorded as failed without a model call.
        """
        if self._pacer.is_paused(self._channel_id):
            raise ChannelPaused(self._channel_id)
        self._run_alongside(self._typing(), name="toolcord-typing")
        return await super().start()

    def _final_output(self, text: str, final: Final) -> tuple[list[str], list[Artifact]]:
        rendered = render(text, allow_hosts=self.chat.link_allow_hosts, limit=MAX_LEN)
        reasoning = self._streamed_reasoning()
        if not reasoning and final.reasoning:
            reasoning.append(final.reasoning)
        reasoning.append(rendered.reasoning)
        files = [*final.artifacts, *self._reasoning_file(reasoning)]
        return rendered.chunks or self._render(self._no_answer()), files

    def _file_limit(self) -> int:
        guild = getattr(self._channel, "guild", None)
        limit = getattr(guild, "filesize_limit", None)
        return limit if isinstance(limit, int) and limit > 0 else super()._file_limit()

    def _reasoning_file(self, pieces: list[str]) -> list[Artifact]:
        reasoning = "".join(pieces).strip()
        if not (self.chat.attach_reasoning and reasoning):
            return []
        return [
            Artifact("reasoning.txt", reasoning.encode(), "text/plain", "The model's reasoning")
        ]

    async def _typing(self) -> None:
        """Show "typing…" once the answer is slower than ``TYPING_AFTER_S`` (a quick answer needs
        none, and that saves a request per turn), until the first text is shown."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._until_shown(), TYPING_AFTER_S)
            return
        if self._pacer.is_paused(self._channel_id):
            return
        with contextlib.suppress(discord.HTTPException):
            async with self._channel.typing():
                await self._until_shown()

    def _closed(self) -> ChannelPaused | None:
        return ChannelPaused(self._channel_id) if self._pacer.is_paused(self._channel_id) else None

    async def _pace(self) -> None:
        await self._pacer.turn(self._channel_id)

    def _streaming_failed(self, exc: WriteError) -> None:
        if isinstance(exc, discord.Forbidden | discord.NotFound):
            self._pacer.note_forbidden(self._channel_id)
        else:
            super()._streaming_failed(exc)

    async def _final_failed(
        self, chunks: list[str], files: Sequence[Artifact], exc: WriteError
    ) -> None:
        if isinstance(exc, discord.Forbidden | discord.NotFound):
            self._pacer.note_forbidden(self._channel_id)
            raise exc
        if isinstance(exc, discord.RateLimited):
            await self._deliver_despite_rate_limit(chunks, files, exc)
            return
        log.warning("delivering the final answer by edit failed (%s); sending anew", exc)
        self._forget_sent()
        await self._write_final_again(chunks, files)

    async def _deliver_despite_rate_limit(
        self, chunks: list[str], files: Sequence[Artifact], limited: discord.RateLimited
    ) -> None:
        """Discord asked for a wait longer than the bot's cap: try once more, else deliver later.

        The final text is never dropped: when the second try is limited too, a background task
        delivers it after Discord's ``retry_after`` (the handler does not stall meanwhile).
        """
        log.warning("Discord rate-limited the answer for %.0f s", limited.retry_after)
        try:
            await self._write_final_again(chunks, files)
        except discord.RateLimited as again:
            task = asyncio.create_task(self._deliver_later(chunks, files, again.retry_after))
            self._late_deliveries.add(task)
            task.add_done_callback(self._late_deliveries.discard)

    async def _deliver_later(
        self, chunks: list[str], files: Sequence[Artifact], delay_s: float
    ) -> None:
        await asyncio.sleep(delay_s)
        try:
            await self._write_final_again(chunks, files, take_lock=True)
        except discord.HTTPException as exc:
            log.error("an answer could not be delivered after Discord's rate limit: %s", exc)

    async def _send(self, index: int, content: str, files: Sequence[Artifact]) -> discord.Message:
        return await self._channel.send(
            content,
            reference=self._reference if index == 0 else None,  # type: ignore[arg-type]
            allowed_mentions=NO_MENTIONS,
            suppress_embeds=True,
            mention_author=False,
            files=files_of(files),
        )

    async def _edit(
        self, message: discord.Message, index: int, content: str, files: Sequence[Artifact]
    ) -> discord.Message:
        if files:
            return await message.edit(
                content=content,
                allowed_mentions=NO_MENTIONS,
                suppress=True,
                attachments=files_of(files),
            )
        return await message.edit(content=content, allowed_mentions=NO_MENTIONS, suppress=True)
