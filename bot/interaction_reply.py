"""Streaming an answer into a deferred interaction (``/chat``, "Ask about this message").

The command defers first (Discord's 3-second deadline); this sink then edits the original response
as the answer streams in, at most once per ``interval_s``, continues in follow-up messages past
2,000 code points, attaches the tools' files to the last message, and always delivers the final
text. Follow-ups are ephemeral when the answer is private. Every write carries allowed mentions
none. If the interaction token has expired (15 minutes) or was lost, a public answer falls back to
plain channel messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from collections.abc import Sequence
from typing import Any

import discord

from bot.engine import EngineEvent, Failed, Final, RoundReset, TextDelta, ToolDone, ToolProgress
from bot.render import render_partial, render_reply
from bot.settings import ChatSettings
from tools import Artifact

log = logging.getLogger("toolcord.interaction_reply")

NO_MENTIONS = discord.AllowedMentions.none()
MAX_LEN = 2000


class InteractionReply:
    """A ReplySink that streams one answer into an interaction's response and follow-ups.

    Args:
        interaction: an interaction already deferred with ``thinking=True``.
        private: the answer is ephemeral (only the invoker sees it).
        chat: the chat settings (link allow-list, edit interval).
    """

    def __init__(
        self, interaction: discord.Interaction, *, private: bool, chat: ChatSettings
    ) -> None:
        self._interaction = interaction
        self._private = private
        self._chat = chat
        self._text = ""
        self._progress: dict[str, str] = {}
        self._messages: list[Any] = []
        self._contents: list[str] = []
        self._dirty = asyncio.Event()
        self._write_lock = asyncio.Lock()
        self._writer_task: asyncio.Task[None] | None = None

    async def start(self) -> InteractionReply:
        """Start the paced writer."""
        self._writer_task = asyncio.create_task(self._writer(), name="toolcord-interaction-writer")
        return self

    @property
    def sent_ids(self) -> list[int]:
        return [int(message.id) for message in self._messages]

    async def on_event(self, event: EngineEvent) -> None:
        if isinstance(event, TextDelta):
            self._text += event.text
        elif isinstance(event, RoundReset):
            self._text = event.text
        elif isinstance(event, ToolProgress):
            self._progress[event.call_id] = event.text
        elif isinstance(event, ToolDone):
            self._progress.pop(event.outcome.call_id, None)
        else:
            return
        self._dirty.set()

    async def finish(self, final: Final) -> list[int]:
        await self._stop_streaming()
        text = final.text if not final.notice else f"{final.text}\n\n-# {final.notice}"
        await self._write_final(self._render(text or "(no answer)"), list(final.artifacts))
        return self.sent_ids

    async def fail(self, failed: Failed) -> list[int]:
        await self._stop_streaming()
        partial = failed.partial_text.strip()
        text = f"{partial}\n\n⚠️ {failed.user_message}" if partial else f"⚠️ {failed.user_message}"
        await self._write_final(self._render(text), list(failed.artifacts))
        return self.sent_ids

    def _render(self, text: str) -> list[str]:
        return render_reply(text, allow_hosts=self._chat.link_allow_hosts, limit=MAX_LEN)

    async def _writer(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            async with self._write_lock:
                await self._write_partial()
            await asyncio.sleep(self._chat.edit_interval_s)

    async def _write_partial(self) -> None:
        chunks = render_partial(self._text, allow_hosts=self._chat.link_allow_hosts, limit=MAX_LEN)
        chunks = [chunk for chunk in chunks if chunk.strip()]
        if self._progress:
            line = "\n".join(f"-# {text}" for text in self._progress.values())
            chunks = [*chunks[:-1], f"{chunks[-1]}\n{line}"[:MAX_LEN]] if chunks else [line]
        if not chunks:
            return
        try:
            await self._sync(chunks, files=(), final=False)
        except discord.HTTPException as exc:
            log.warning("a streaming edit failed (%s); the final text will still be delivered", exc)

    async def _stop_streaming(self) -> None:
        task, self._writer_task = self._writer_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _write_final(self, chunks: list[str], files: Sequence[Artifact]) -> None:
        async with self._write_lock:
            try:
                await self._sync(chunks, files=files, final=True)
            except discord.HTTPException as exc:
                if self._private or not self._can_post_in_channel():
                    raise
                log.warning("the interaction could not be answered (%s); posting instead", exc)
                await self._post_in_channel(chunks, files)

    async def _sync(self, chunks: list[str], *, files: Sequence[Artifact], final: bool) -> None:
        for index, chunk in enumerate(chunks):
            attach = files if final and index == len(chunks) - 1 else ()
            if index < len(self._messages):
                if self._contents[index] != chunk or attach:
                    await self._edit(index, chunk, attach)
            else:
                await self._send(chunk, attach)
        if final:
            await self._drop_extra(len(chunks))

    async def _send(self, content: str, files: Sequence[Artifact]) -> None:
        if not self._messages:
            message: Any = await self._interaction.edit_original_response(
                content=content,
                attachments=[_file(a) for a in files],
                allowed_mentions=NO_MENTIONS,
            )
        else:
            message = await self._interaction.followup.send(
                content,
                ephemeral=self._private,
                allowed_mentions=NO_MENTIONS,
                suppress_embeds=True,
                files=[_file(a) for a in files],
                wait=True,
            )
        self._messages.append(message)
        self._contents.append(content)

    async def _edit(self, index: int, content: str, files: Sequence[Artifact]) -> None:
        kwargs: dict[str, Any] = {"content": content, "allowed_mentions": NO_MENTIONS}
        if files:
            kwargs["attachments"] = [_file(a) for a in files]
        if index == 0:
            self._messages[0] = await self._interaction.edit_original_response(**kwargs)
        else:
            self._messages[index] = await self._messages[index].edit(**kwargs)
        self._contents[index] = content

    async def _drop_extra(self, keep: int) -> None:
        for message in self._messages[max(keep, 1) :]:
            with contextlib.suppress(discord.HTTPException):
                await message.delete()
        del self._messages[max(keep, 1) :]
        del self._contents[max(keep, 1) :]

    def _can_post_in_channel(self) -> bool:
        return isinstance(self._interaction.channel, discord.abc.Messageable)

    async def _post_in_channel(self, chunks: list[str], files: Sequence[Artifact]) -> None:
        channel = self._interaction.channel
        assert isinstance(channel, discord.abc.Messageable)
        self._messages, self._contents = [], []
        for index, chunk in enumerate(chunks):
            attach = files if index == len(chunks) - 1 else ()
            message = await channel.send(
                chunk,
                allowed_mentions=NO_MENTIONS,
                suppress_embeds=True,
                files=[_file(a) for a in attach],
            )
            self._messages.append(message)
            self._contents.append(chunk)


def _file(artifact: Artifact) -> discord.File:
    return discord.File(
        io.BytesIO(artifact.data), filename=artifact.filename, description=artifact.description
    )
