"""The streaming core shared by the channel reply and the interaction reply.

``StreamingReply`` turns the engine's events into messages: it keeps the answer so far and the
tools' progress lines, a writer task re-renders them whenever they change and brings the sent
messages up to date (edit what changed, send what is new), and the final write reconciles every
message with the final rendering, deleting what is left over. A failed streaming write never stops
the writer: streaming is a bonus, the final text is what must arrive.

What differs between the places an answer goes stays in the subclasses: how a message is sent,
edited and deleted, the pace of writes, the typing indicator, references, ephemeral flags and how a
failed final write is recovered (see ``bot.delivery`` and ``bot.interaction_reply``).
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import io
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

import discord

from bot.attachments import DEFAULT_FILE_LIMIT, NOTICE_TEXTS, lay_out, pack
from bot.engine import (
    EngineEvent,
    Failed,
    Final,
    ReasoningDelta,
    RoundReset,
    TextComplete,
    TextDelta,
    ToolDone,
    ToolStatus,
)
from bot.render import render, render_partial
from bot.settings import ChatSettings
from tools import Artifact

MAX_LEN = 2000
NO_ANSWER = "(The model gave no answer.)"
REPLY_TEXTS = {"reply.no_answer": NO_ANSWER, **NOTICE_TEXTS}
"""The reply's own words by message key, in English (``use_texts`` swaps in a translation)."""


def english(key: str, **values: object) -> str:
    """A reply text in English."""
    return REPLY_TEXTS[key].format(**values)


class SentMessage(Protocol):
    """What the core needs of a message it sent."""

    @property
    def id(self) -> int: ...

    async def delete(self) -> None: ...


MessageT = TypeVar("MessageT", bound=SentMessage)
WriteError = discord.HTTPException | discord.RateLimited  # what Discord answers a failed write


class StreamingReply(abc.ABC, Generic[MessageT]):
    """A ReplySink that streams one answer into a list of messages it keeps in sync.

    Subclasses say how a chunk is sent (``_send``) and edited (``_edit``), what the final answer
    is made of (``_final_output``), and may pace writes and recover failed final writes. They keep
    none of this class's state: what they need of it they get through the methods below
    (``_streamed_reasoning``, ``_run_alongside``, ``_until_shown``, ``_forget_sent``,
    ``_note_sent``, ``_write_final_again``).
    """

    _log: ClassVar[logging.Logger]
    _writer_name: ClassVar[str] = "toolcord-writer"
    _keep_at_least: ClassVar[int] = 0  # messages a final write never deletes

    def __init__(self, chat: ChatSettings) -> None:
        self._chat = chat
        self._text = ""
        self._reasoning: list[str] = []
        self._progress: dict[str, str] = {}
        self._messages: list[MessageT] = []
        self._contents: list[str] = []
        self._dirty = asyncio.Event()
        self._shown = asyncio.Event()  # set once text shows, or the answer is delivered
        self._write_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []  # helpers (typing) that end with the answer
        self._writer_task: asyncio.Task[None] | None = None
        self._complete = False  # the model's text is whole (TextComplete): no tail held back
        self._ended = False  # finish() or fail() was called
        self._pacing = False  # the writer is waiting for a write slot
        self._slot_held = False  # the writer got its slot after the end: the final write uses it
        self._texts: Callable[..., str] = english  # the reply's own words (see use_texts)

    @property
    def chat(self) -> ChatSettings:
        """The chat settings this reply follows."""
        return self._chat

    def use_texts(self, texts: Callable[..., str]) -> None:
        """Write the reply's own words (no answer, files not delivered) with ``texts(key, **v)``."""
        self._texts = texts

    def _no_answer(self) -> str:
        return self._texts("reply.no_answer")

    async def start(self) -> Self:
        """Start the writer that streams the answer as it grows."""
        self._writer_task = asyncio.create_task(self._writer(), name=self._writer_name)
        return self

    @property
    def sent_ids(self) -> list[int]:
        return [int(message.id) for message in self._messages]

    def _streamed_reasoning(self) -> list[str]:
        """The reasoning text the model streamed so far, piece by piece (a copy)."""
        return list(self._reasoning)

    def _run_alongside(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``work`` (the typing indicator) until the answer is delivered or given up."""
        self._tasks.append(asyncio.create_task(work, name=name))

    async def _until_shown(self) -> None:
        """Wait until text shows, or the answer is delivered (or given up)."""
        await self._shown.wait()

    def _forget_sent(self) -> None:
        """Forget the messages sent so far (they stay on Discord): the answer goes out anew."""
        self._messages, self._contents = [], []

    def _note_sent(self, message: MessageT, content: str) -> None:
        """Count ``message``, showing ``content``, as the answer's next message."""
        self._messages.append(message)
        self._contents.append(content)

    async def _write_final_again(
        self, chunks: list[str], files: Sequence[Artifact], *, take_lock: bool = False
    ) -> None:
        """Write the final answer again (from ``_final_failed``, which holds the write lock; a
        later try passes ``take_lock``)."""
        if not take_lock:
            await self._sync(chunks, files=files, final=True)
            return
        async with self._write_lock:
            await self._sync(chunks, files=files, final=True)

    async def on_event(self, event: EngineEvent) -> None:
        if isinstance(event, TextDelta):
            self._text += event.text
        elif isinstance(event, RoundReset):
            self._text = event.text
            self._complete = False
        elif isinstance(event, TextComplete):
            self._complete = True
        elif isinstance(event, ToolStatus):
            self._progress[event.call_id] = event.text
        elif isinstance(event, ToolDone):
            self._progress.pop(event.outcome.call_id, None)
        else:
            if isinstance(event, ReasoningDelta):
                self._reasoning.append(event.text)
            return
        self._dirty.set()

    async def finish(self, final: Final) -> list[int]:
        try:
            await self._stop_streaming()
            text = final.text if not final.notice else f"{final.text}\n\n-# {final.notice}"
            chunks, files = self._final_output(text, final)
            await self._write_final(*self._deliverable(chunks, files))
        finally:
            await self._stop_helpers()
        return self.sent_ids

    async def fail(self, failed: Failed) -> list[int]:
        try:
            await self._stop_streaming()
            partial = failed.partial_text.strip()
            text = (
                f"{partial}\n\n⚠️ {failed.user_message}" if partial else f"⚠️ {failed.user_message}"
            )
            await self._write_final(*self._deliverable(self._render(text), list(failed.artifacts)))
        finally:
            await self._stop_helpers()
        return self.sent_ids

    def _deliverable(
        self, chunks: list[str], files: Sequence[Artifact]
    ) -> tuple[list[str], list[Artifact]]:
        """The files Discord will take here, and the chunks with a notice naming the rest."""
        layout = lay_out(
            files, max_files=self._chat.max_files_per_answer, file_limit=self._file_limit()
        )
        notice = layout.notice(self._texts)
        if not notice:
            return chunks, layout.kept
        if chunks and len(chunks[-1]) + len(notice) + 1 <= MAX_LEN:
            return [*chunks[:-1], f"{chunks[-1]}\n{notice}"], layout.kept
        return [*chunks, *self._render(notice)], layout.kept

    def _file_limit(self) -> int:
        """The largest file Discord takes from the bot here."""
        return DEFAULT_FILE_LIMIT

    @abc.abstractmethod
    def _final_output(self, text: str, final: Final) -> tuple[list[str], list[Artifact]]:
        """The chunks and files of the final answer whose text (with its notice) is ``text``."""

    @abc.abstractmethod
    async def _send(self, index: int, content: str, files: Sequence[Artifact]) -> MessageT:
        """Send the answer's message number ``index`` (0: its first), after those sent so far."""

    @abc.abstractmethod
    async def _edit(
        self, message: MessageT, index: int, content: str, files: Sequence[Artifact]
    ) -> MessageT:
        """Edit ``message``, the answer's message number ``index``; returns it as edited."""

    def _render(self, text: str) -> list[str]:
        return render(text, allow_hosts=self._chat.link_allow_hosts, limit=MAX_LEN).chunks

    def _closed(self) -> Exception | None:
        """Why nothing may be written here now (a streaming write is then skipped and the final
        write raises it), or None."""
        return None

    async def _pace(self) -> None:
        """Wait for the next write slot (before each streaming update and each further write)."""

    async def _rest_after_stream(self) -> None:
        """Wait after a streaming update, before the next one may start."""

    async def _writer(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            if self._streaming_chunks() in ([], self._contents):
                continue  # nothing new to show: no write slot is spent on it
            self._pacing = True
            try:
                await self._pace()
            finally:
                self._pacing = False
            if self._ended:
                self._slot_held = True  # the final write takes this slot, not the next one
                return
            async with self._write_lock:
                await self._write_partial()
            await self._rest_after_stream()

    def _streaming_chunks(self) -> list[str]:
        """What the messages should show now: the text whole once it is complete, else the part
        of it that more text cannot change, with the running tools' progress lines."""
        if self._complete:
            chunks = self._render(self._text)
        else:
            limit_hosts = self._chat.link_allow_hosts
            chunks = render_partial(self._text, allow_hosts=limit_hosts, limit=MAX_LEN)
        return _with_progress([c for c in chunks if c.strip()], list(self._progress.values()))

    async def _write_partial(self) -> None:
        if self._closed() is not None:
            return
        chunks = self._streaming_chunks()
        if not chunks:
            return
        self._shown.set()
        try:
            await self._sync(chunks, files=(), final=False, first_paced=True)
        except (discord.HTTPException, discord.RateLimited) as exc:
            self._streaming_failed(exc)
        except Exception as exc:  # a closed session or a dropped connection: streaming is a bonus
            self._log.warning(
                "a streaming edit failed (%r); the final text will still be tried", exc
            )

    def _streaming_failed(self, exc: WriteError) -> None:
        """Discord refused a streaming write: the final write will still be tried."""
        self._log.warning(
            "a streaming edit failed (%s); the final text will still be delivered", exc
        )

    async def _stop_streaming(self) -> None:
        """End the writer. A writer waiting for its write slot hands that slot to the final write
        (cancelled, its slot would be lost and the final text would wait for the next one)."""
        self._ended = True
        writer, self._writer_task = self._writer_task, None
        if writer is None:
            return
        # A streaming write in flight finishes first: cancelled mid-request, its message could
        # reach Discord unknown to this reply, and the final text would then come twice.
        async with self._write_lock:
            if not self._pacing:
                writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer

    async def _stop_helpers(self) -> None:
        """The answer is delivered (or given up): end the typing indicator and other helpers."""
        self._shown.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def _write_final(self, chunks: list[str], files: Sequence[Artifact]) -> None:
        async with self._write_lock:
            closed = self._closed()
            if closed is not None:
                raise closed
            held, self._slot_held = self._slot_held, False
            try:
                await self._sync(chunks, files=files, final=True, first_paced=held)
            except (discord.HTTPException, discord.RateLimited) as exc:
                await self._final_failed(chunks, files, exc)

    async def _final_failed(
        self, chunks: list[str], files: Sequence[Artifact], exc: WriteError
    ) -> None:
        """Recover a failed final write (under the write lock), or raise ``exc``."""
        raise exc

    async def _sync(
        self,
        chunks: list[str],
        *,
        files: Sequence[Artifact],
        final: bool,
        first_paced: bool = False,
    ) -> None:
        """Make the sent messages show ``chunks``; every write but a paced first one is paced."""
        paced = first_paced
        for index, (chunk, attach) in enumerate(self._plan(chunks, files if final else ())):
            if index < len(self._messages) and self._contents[index] == chunk and not attach:
                continue
            if not paced:
                await self._pace()
            paced = False
            if index < len(self._messages):
                self._messages[index] = await self._edit(
                    self._messages[index], index, chunk, attach
                )
                self._contents[index] = chunk
            else:
                self._note_sent(await self._send(index, chunk, attach), chunk)
        if final:
            planned = len(self._plan(chunks, files))
            await self._drop_extra(max(planned, self._keep_at_least))

    def _plan(
        self, chunks: list[str], files: Sequence[Artifact]
    ) -> list[tuple[str, Sequence[Artifact]]]:
        """Each message's text and files: the last chunk takes the first ten files, further
        messages (files only) the rest, within Discord's per-request size."""
        plan: list[tuple[str, Sequence[Artifact]]] = [(chunk, ()) for chunk in chunks] or [("", ())]
        groups = pack(files, self._file_limit()) if files else []
        if groups:
            plan[-1] = (plan[-1][0], groups[0])
            plan += [("", group) for group in groups[1:]]
        return plan

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


def files_of(artifacts: Sequence[Artifact]) -> list[discord.File]:
    """The attachments for ``artifacts`` (new ``discord.File`` objects: each is read once)."""
    return [
        discord.File(io.BytesIO(a.data), filename=a.filename, description=a.description)
        for a in artifacts
    ]
