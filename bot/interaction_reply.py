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
import logging
from collections.abc import Sequence
from typing import Any

import discord

from bot.discord_safety import NO_MENTIONS
from bot.engine import Final
from bot.reply_core import StreamingReply, WriteError, files_of
from bot.settings import ChatSettings
from tools import Artifact

log = logging.getLogger("toolcord.interaction_reply")


class InteractionReply(StreamingReply[Any]):
    """A ReplySink that streams one answer into an interaction's response and follow-ups.

    The first message is the original response (edited, never deleted); streaming writes are at
    least ``chat.edit_interval_s`` apart.

    Args:
        interaction: an interaction already deferred with ``thinking=True``.
        private: the answer is ephemeral (only the invoker sees it).
        chat: the chat settings (link allow-list, edit interval).
    """

    _log = log
    _writer_name = "toolcord-interaction-writer"
    _keep_at_least = 1  # the original response

    def __init__(
        self, interaction: discord.Interaction, *, private: bool, chat: ChatSettings
    ) -> None:
        super().__init__(chat)
        self._interaction = interaction
        self._private = private

    def _final_output(self, text: str, final: Final) -> tuple[list[str], list[Artifact]]:
        # Text that renders to nothing (blank, or only a <think> block) still replaces the
        # deferred "thinking…" with a visible answer.
        return self._render(text) or self._render(self._no_answer()), list(final.artifacts)

    async def _rest_after_stream(self) -> None:
        await asyncio.sleep(self.chat.edit_interval_s)

    async def _final_failed(
        self, chunks: list[str], files: Sequence[Artifact], exc: WriteError
    ) -> None:
        """A public answer whose interaction can no longer be answered goes to the channel."""
        if isinstance(exc, discord.RateLimited) or self._private or not self._can_post_in_channel():
            raise exc
        log.warning("the interaction could not be answered (%s); posting instead", exc)
        await self._post_in_channel(chunks, files)

    async def _send(self, index: int, content: str, files: Sequence[Artifact]) -> Any:
        if index == 0:
            return await self._interaction.edit_original_response(
                content=content, attachments=files_of(files), allowed_mentions=NO_MENTIONS
            )
        return await self._interaction.followup.send(
            content,
            ephemeral=self._private,
            allowed_mentions=NO_MENTIONS,
            suppress_embeds=True,
            files=files_of(files),
            wait=True,
        )

    async def _edit(self, message: Any, index: int, content: str, files: Sequence[Artifact]) -> Any:
        kwargs: dict[str, Any] = {"content": content, "allowed_mentions": NO_MENTIONS}
        if files:
            kwargs["attachments"] = files_of(files)
        if index == 0:
            return await self._interaction.edit_original_response(**kwargs)
        return await message.edit(**kwargs)

    def _file_limit(self) -> int:
        limit = getattr(self._interaction, "filesize_limit", None)
        return limit if isinstance(limit, int) and limit > 0 else super()._file_limit()

    def _can_post_in_channel(self) -> bool:
        return isinstance(self._interaction.channel, discord.abc.Messageable)

    async def _post_in_channel(self, chunks: list[str], files: Sequence[Artifact]) -> None:
        channel = self._interaction.channel
        assert isinstance(channel, discord.abc.Messageable)
        self._forget_sent()
        for index, chunk in enumerate(chunks):
            attach = files if index == len(chunks) - 1 else ()
            message = await channel.send(
                chunk, allowed_mentions=NO_MENTIONS, suppress_embeds=True, files=files_of(attach)
            )
            self._note_sent(message, chunk)
