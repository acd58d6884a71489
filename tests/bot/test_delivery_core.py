"""DiscordReply on the shared streaming core, against a fake channel (no network)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace
from typing import Any

import discord
import pytest

from bot.delivery import ChannelPaused, DiscordReply, EditPacer
from bot.engine import (
    AnswerUsage,
    Failed,
    Final,
    ReasoningDelta,
    TextComplete,
    TextDelta,
    ToolStatus,
)
from bot.settings import ChatSettings
from tools import Artifact

CHANNEL_ID = 42
WAIT_S = 10.0


def _http_error(cls: type[discord.HTTPException], status: int) -> discord.HTTPException:
    return cls(SimpleNamespace(status=status, reason="refused"), "refused")


class FakeMessage:
    def __init__(self, channel: FakeChannel, content: str, files: list[discord.File]) -> None:
        self.id = next(channel.ids)
        self.channel = channel
        self.content = content
        self.filenames = [file.filename for file in files]
        self.deleted = False

    async def edit(self, *, content: str, attachments: Any = (), **kwargs: Any) -> FakeMessage:
        await self.channel.write("edit", kwargs)
        self.content = content
        self.filenames = [file.filename for file in attachments] or self.filenames
        await self.channel.notify()
        return self

    async def delete(self) -> None:
        self.deleted = True


class FakeChannel:
    """Records every write; ``failures`` are raised by the next writes, in order."""

    def __init__(self) -> None:
        self.ids = itertools.count(1000)
        self.messages: list[FakeMessage] = []
        self.sends: list[dict[str, Any]] = []
        self.failures: list[BaseException] = []
        self.writes = 0
        self.changed = asyncio.Condition()

    async def write(self, kind: str, kwargs: dict[str, Any]) -> None:
        """Check a write; a scripted failure is raised instead of it (after waking waiters)."""
        assert kwargs["allowed_mentions"].to_dict() == {"parse": []}, kind
        if self.failures:
            await self.notify()
            raise self.failures.pop(0)

    async def notify(self) -> None:
        async with self.changed:
            self.writes += 1
            self.changed.notify_all()

    async def send(self, content: str, *, files: list[discord.File], **kwargs: Any) -> FakeMessage:
        await self.write("send", kwargs)
        self.sends.append(kwargs)
        message = FakeMessage(self, content, files)
        self.messages.append(message)
        await self.notify()
        return message

    @contextlib.asynccontextmanager
    async def typing(self) -> AsyncIterator[None]:
        yield

    def shown(self) -> list[str]:
        return [m.content for m in self.messages if not m.deleted]

    async def until(self, predicate: Callable[[], bool]) -> None:
        async with asyncio.timeout(WAIT_S), self.changed:
            await self.changed.wait_for(predicate)


def _reply(channel: FakeChannel, pacer: EditPacer | None = None, **chat: Any) -> DiscordReply:
    return DiscordReply(
        channel,  # type: ignore[arg-type]
        CHANNEL_ID,
        reference=discord.MessageReference(message_id=7, channel_id=CHANNEL_ID),
        pacer=pacer or EditPacer(0.0),
        chat=ChatSettings(**chat),
    )


def _final(text: str, **kwargs: Any) -> Final:
    return Final(text=text, new_messages=[], usage=AnswerUsage(), **kwargs)


async def test_streams_then_writes_the_final_text_in_the_same_message() -> None:
    channel = FakeChannel()
    reply = await _reply(channel).start()
    await reply.on_event(TextDelta("Hello "))
    await channel.until(lambda: channel.shown() == ["Hello"])
    await reply.on_event(ToolStatus("c1", "search", "Searching the web"))
    await channel.until(lambda: channel.shown() == ["Hello\n-# Searching the web"])
    ids = await reply.finish(_final("Hello world"))
    assert channel.shown() == ["Hello world"]
    assert ids == [channel.messages[0].id]
    assert channel.sends[0]["reference"] is not None


async def test_a_streaming_edit_that_raises_anything_does_not_stop_the_writer() -> None:
    channel = FakeChannel()
    reply = await _reply(channel).start()
    await reply.on_event(TextDelta("one "))
    await channel.until(lambda: channel.shown() == ["one"])
    channel.failures.append(RuntimeError("Session is closed"))
    await reply.on_event(TextDelta("two "))
    await channel.until(lambda: not channel.failures)
    await reply.on_event(TextDelta("three "))
    await channel.until(lambda: channel.shown() == ["one two three"])
    assert await reply.finish(_final("one two three four")) == [channel.messages[0].id]
    assert channel.shown() == ["one two three four"]


async def test_a_long_answer_continues_in_new_messages_and_a_shorter_final_drops_the_rest() -> None:
    channel = FakeChannel()
    reply = await _reply(channel).start()
    long_text = "".join(f"word{n} " for n in range(900))
    await reply.on_event(TextDelta(long_text))
    await channel.until(lambda: len(channel.shown()) >= 3)
    assert all(len(content) <= 2000 for content in channel.shown())
    references = [send["reference"] for send in channel.sends]
    assert references[0] is not None
    assert all(reference is None for reference in references[1:])
    assert await reply.finish(_final("short")) == [channel.messages[0].id]
    assert channel.shown() == ["short"]


async def test_a_refused_streaming_write_pauses_the_channel_and_the_final_is_not_tried() -> None:
    channel = FakeChannel()
    pacer = EditPacer(0.0)
    reply = await _reply(channel, pacer).start()
    channel.failures.append(_http_error(discord.Forbidden, 403))
    await reply.on_event(TextDelta("hi "))
    await channel.until(lambda: pacer.is_paused(CHANNEL_ID))
    with pytest.raises(ChannelPaused):
        await reply.finish(_final("hi there"))
    assert channel.messages == []


async def test_a_failed_final_edit_sends_the_answer_anew() -> None:
    channel = FakeChannel()
    reply = await _reply(channel).start()
    await reply.on_event(TextDelta("draft "))
    await channel.until(lambda: channel.shown() == ["draft"])
    channel.failures.append(_http_error(discord.HTTPException, 500))
    ids = await reply.finish(_final("final"))
    assert [m.content for m in channel.messages] == ["draft", "final"]
    assert ids == [channel.messages[1].id]


async def test_reasoning_is_attached_only_when_the_owner_asks() -> None:
    for attach, expected in ((True, ["out.txt", "reasoning.txt"]), (False, ["out.txt"])):
        channel = FakeChannel()
        reply = await _reply(channel, attach_reasoning=attach).start()
        await reply.on_event(ReasoningDelta("thinking hard"))
        artifact = Artifact("out.txt", b"data", "text/plain", "a file")
        await reply.finish(_final("answer", artifacts=[artifact]))
        assert channel.messages[-1].filenames == expected


async def test_a_failure_shows_the_partial_text_and_the_warning() -> None:
    channel = FakeChannel()
    reply = await _reply(channel).start()
    failed = Failed(
        kind="timeout",
        user_message="It took too long.",
        partial_text="So far ",
        new_messages=[],
        usage=AnswerUsage(),
    )
    await reply.fail(failed)
    assert channel.shown() == ["So far\n\n⚠️ It took too long."]


async def test_text_known_to_be_complete_is_shown_whole_with_its_last_word() -> None:
    channel = FakeChannel()
    reply = await _reply(channel).start()
    await reply.on_event(TextDelta("Short ok."))
    await reply.on_event(TextComplete())
    await channel.until(lambda: channel.shown() == ["Short ok."])
    await reply.finish(_final("Short ok."))
    assert channel.writes == 1, "the final text equals what is shown: no further write"


async def test_a_writer_waiting_for_its_slot_hands_it_to_the_final_write() -> None:
    channel = FakeChannel()
    pacer = EditPacer(0.5)
    await pacer.turn(CHANNEL_ID)  # another answer just wrote here: the next slot is 0.5 s away
    reply = await _reply(channel, pacer).start()
    await reply.on_event(TextDelta("Short ok. "))
    await asyncio.sleep(0)  # the writer runs and waits for the slot
    loop = asyncio.get_running_loop()
    started = loop.time()
    await reply.finish(_final("Short ok."))
    waited = loop.time() - started
    assert channel.shown() == ["Short ok."] and channel.writes == 1
    assert waited < 0.9, f"the final write took the next slot after the writer's ({waited:.2f} s)"
