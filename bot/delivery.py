"""Rate-aware streaming of an answer into Discord messages.

One reply streams into one message, edited no faster than the channel's pace allows; past 2,000 code
points it continues in follow-up messages. The final text is always delivered in full: the last
write reconciles every message with the final rendering, and a failed edit falls back to a new
message. Every send and edit carries ``allowed_mentions`` none and suppresses link embeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections.abc import Sequence

import discord

from bot.engine import (
    EngineEvent,
    Failed,
    Final,
    ReasoningDelta,
    RoundReset,
    TextDelta,
    ToolDone,
    ToolProgress,
)
from bot.render import render, render_partial
from bot.settings import ChatSettings
from tools import Artifact

log = logging.getLogger("toolcord.delivery")

NO_MENTIONS = discord.AllowedMentions.none()
MAX_LEN = 2000


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


class ChannelPaused(discord.ClientException):
    """The channel is paused after Discord refused the bot there; nothing was sent."""

    def __init__(self, channel_id: int) -> None:
        super().__init__(f"channel {channel_id} is paused after a permission failure")
        self.channel_id = channel_id


class DiscordReply:
    """A ReplySink that streams one answer into a Discord channel."""

    def __init__(
        self,
        channel: discord.abc.Messageable,
        channel_id: int,
        *,
        reference: discord.MessageReference | None,
        pacer: EditPacer,
        chat: ChatSettings,
    ) -> None:
        self._channel = channel
        self._channel_id = channel_id
        self._reference = reference
        self._pacer = pacer
        self._chat = chat
        self._text = ""
        self._reasoning: list[str] = []
        self._progress: dict[str, str] = {}
        self._messages: list[discord.Message] = []
        self._contents: list[str] = []
        self._dirty = asyncio.Event()
        self._first_text = asyncio.Event()
        self._write_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._late_deliveries: set[asyncio.Task[None]] = set()

    async def start(self) -> DiscordReply:
        """Show the typing indicator and start the paced writer."""
        self._tasks.append(asyncio.create_task(self._typing(), name="toolcord-typing"))
        self._tasks.append(asyncio.create_task(self._writer(), name="toolcord-writer"))
        return self

    @property
    def sent_ids(self) -> list[int]:
        return [message.id for message in self._messages]

    async def on_event(self, event: EngineEvent) -> None:
        if isinstance(event, TextDelta):
            self._text += event.text
        elif isinstance(event, RoundReset):
            self._text = event.text
        elif isinstance(event, ToolProgress):
            self._progress[event.call_id] = event.text
        elif isinstance(event, ToolDone):
            self._progress.pop(event.outcome.call_id, None)
        elif isinstance(event, ReasoningDelta):
            self._reasoning.append(event.text)
            return
        self._dirty.set()

    async def finish(self, final: Final) -> list[int]:
        await self._stop_streaming()
        text = final.text if not final.notice else f"{final.text}\n\n-# {final.notice}"
        rendered = render(text, allow_hosts=self._chat.link_allow_hosts, limit=MAX_LEN)
        if not self._reasoning and final.reasoning:
            self._reasoning.append(final.reasoning)
        self._reasoning.append(rendered.reasoning)
        files = [*final.artifacts, *self._reasoning_file()]
        chunks = rendered.chunks or self._render("(The model gave no answer.)")
        await self._write_final(chunks, files)
        return self.sent_ids

    async def fail(self, failed: Failed) -> list[int]:
        await self._stop_streaming()
        partial = failed.partial_text.strip()
        text = f"{partial}\n\n⚠️ {failed.user_message}" if partial else f"⚠️ {failed.user_message}"
        await self._write_final(self._render(text), list(failed.artifacts))
        return self.sent_ids

    def _render(self, text: str) -> list[str]:
        return render(text, allow_hosts=self._chat.link_allow_hosts, limit=MAX_LEN).chunks

    def _reasoning_file(self) -> list[Artifact]:
        reasoning = "".join(self._reasoning).strip()
        if not (self._chat.attach_reasoning and reasoning):
            return []
        return [
            Artifact("reasoning.txt", reasoning.encode(), "text/plain", "The model's reasoning")
        ]

    async def _typing(self) -> None:
        if self._pacer.is_paused(self._channel_id):
            return
        with contextlib.suppress(discord.HTTPException):
            async with self._channel.typing():
                await self._first_text.wait()

    async def _writer(self) -> None:
        while True:
            await self._dirty.wait()
            await self._pacer.turn(self._channel_id)
            self._dirty.clear()
            async with self._write_lock:
                await self._write_partial()

    async def _write_partial(self) -> None:
        if self._pacer.is_paused(self._channel_id):
            return
        chunks = render_partial(self._text, allow_hosts=self._chat.link_allow_hosts, limit=MAX_LEN)
        chunks = _with_progress([c for c in chunks if c.strip()], list(self._progress.values()))
        if not chunks:
            return
        self._first_text.set()
        try:
            await self._sync(chunks, files=[], final=False, first_paced=True)
        except (discord.Forbidden, discord.NotFound):
            self._pacer.note_forbidden(self._channel_id)
        except (discord.HTTPException, discord.RateLimited) as exc:
            log.warning("a streaming edit failed (%s); the final text will still be delivered", exc)
        except Exception as exc:  # a closed session or a dropped connection: streaming is a bonus
            log.warning("a streaming edit failed (%r); the final text will still be tried", exc)

    async def _stop_streaming(self) -> None:
        self._first_text.set()
        # A streaming write in flight finishes first: cancelled mid-request, its message could
        # reach Discord unknown to this reply, and the final text would then come twice.
        async with self._write_lock:
            for task in self._tasks:
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def _write_final(self, chunks: list[str], files: Sequence[Artifact]) -> None:
        async with self._write_lock:
            if self._pacer.is_paused(self._channel_id):
                raise ChannelPaused(self._channel_id)
            try:
                await self._sync(chunks, files=files, final=True)
            except (discord.Forbidden, discord.NotFound):
                self._pacer.note_forbidden(self._channel_id)
                raise
            except discord.RateLimited as exc:
                await self._deliver_despite_rate_limit(chunks, files, exc)
            except discord.HTTPException as exc:
                log.warning("delivering the final answer by edit failed (%s); sending anew", exc)
                self._messages, self._contents = [], []
                await self._sync(chunks, files=files, final=True)

    async def _deliver_despite_rate_limit(
        self, chunks: list[str], files: Sequence[Artifact], limited: discord.RateLimited
    ) -> None:
        """Discord asked for a wait longer than the bot's cap: try once more, else deliver later.

        The final text is never dropped: when the second try is limited too, a background task
        delivers it after Discord's ``retry_after`` (the handler does not stall meanwhile).
        """
        log.warning("Discord rate-limited the answer for %.0f s", limited.retry_after)
        try:
            await self._sync(chunks, files=files, final=True)
        except discord.RateLimited as again:
            task = asyncio.create_task(self._deliver_later(chunks, files, again.retry_after))
            self._late_deliveries.add(task)
            task.add_done_callback(self._late_deliveries.discard)

    async def _deliver_later(
        self, chunks: list[str], files: Sequence[Artifact], delay_s: float
    ) -> None:
        await asyncio.sleep(delay_s)
        try:
            async with self._write_lock:
                await self._sync(chunks, files=files, final=True)
        except discord.HTTPException as exc:
            log.error("an answer could not be delivered after Discord's rate limit: %s", exc)

    async def _sync(
        self,
        chunks: list[str],
        *,
        files: Sequence[Artifact],
        final: bool,
        first_paced: bool = False,
    ) -> None:
        """Make the sent messages show ``chunks``; every write takes a pace slot of the channel."""
        paced = first_paced
        for index, chunk in enumerate(chunks):
            attach = files if final and index == len(chunks) - 1 else ()
            if index < len(self._messages) and self._contents[index] == chunk and not attach:
                continue
            if not paced:
                await self._pacer.turn(self._channel_id)
            paced = False
            if index < len(self._messages):
                await self._edit(index, chunk, attach)
            else:
                await self._send(chunk, attach)
        if final:
            await self._drop_extra(len(chunks))

    async def _send(self, content: str, files: Sequence[Artifact]) -> None:
        message = await self._channel.send(
            content,
            reference=self._reference if not self._messages else None,  # type: ignore[arg-type]
            allowed_mentions=NO_MENTIONS,
            suppress_embeds=True,
            mention_author=False,
            files=[_file(artifact) for artifact in files],
        )
        self._messages.append(message)
        self._contents.append(content)

    async def _edit(self, index: int, content: str, files: Sequence[Artifact]) -> None:
        message = self._messages[index]
        if files:
            self._messages[index] = await message.edit(
                content=content,
                allowed_mentions=NO_MENTIONS,
                suppress=True,
                attachments=[_file(artifact) for artifact in files],
            )
        else:
            self._messages[index] = await message.edit(
                content=content, allowed_mentions=NO_MENTIONS, suppress=True
            )
        self._contents[index] = content

    async def _drop_extra(self, keep: int) -> None:
        for message in self._messages[keep:]:
            with contextlib.suppress(discord.HTTPException):
                await message.delete()
        del self._messages[keep:]
        del self._contents[keep:]


def _with_progress(chunks: list[str], progress: list[str]) -> list[str]:
    if not progress:
        return chunks
    line = "\n".join(f"-# {text}" for text in progress)
    if chunks and len(chunks[-1]) + len(line) + 1 <= MAX_LEN:
        return [*chunks[:-1], f"{chunks[-1]}\n{line}"]
    return [*chunks, line[:MAX_LEN]]


def _file(artifact: Artifact) -> discord.File:
    return discord.File(
        io.BytesIO(artifact.data), filename=artifact.filename, description=artifact.description
    )
