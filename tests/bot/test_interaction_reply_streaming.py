"""InteractionReply on the shared streaming core, against a fake interaction (no network)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import discord
import pytest

from bot.engine import AnswerUsage, Final, TextDelta, ToolStatus
from bot.interaction_reply import InteractionReply
from bot.render import render_reply
from bot.settings import ChatSettings

WAIT_S = 10.0


class Sent:
    """A message the fake interaction holds: the original response or a follow-up."""

    def __init__(self, hub: FakeInteraction, content: str, *, ephemeral: bool = False) -> None:
        self.id = next(hub.ids)
        self.hub = hub
        self.content = content
        self.ephemeral = ephemeral
        self.deleted = False

    async def edit(self, *, content: str, **kwargs: Any) -> Sent:
        await self.hub.write(kwargs)
        self.content = content
        await self.hub.notify()
        return self

    async def delete(self) -> None:
        self.deleted = True


class FakeFollowup:
    def __init__(self, hub: FakeInteraction) -> None:
        self.hub = hub

    async def send(self, content: str, *, ephemeral: bool, wait: bool, **kwargs: Any) -> Sent:
        """Like Discord: the message exists once the request is out, before the answer is back."""
        await self.hub.write(kwargs)
        message = Sent(self.hub, content, ephemeral=ephemeral)
        self.hub.followups.append(message)
        await self.hub.notify()
        gate, self.hub.followup_gate = self.hub.followup_gate, None
        if gate is not None:
            self.hub.followup_in_flight.set()
            await gate.wait()
        return message


class FakeInteraction:
    """Records the original response and the follow-ups; ``failures`` fail the next writes."""

    def __init__(self, channel: Any = None) -> None:
        self.ids = itertools.count(5000)
        self.original = Sent(self, "")
        self.followups: list[Sent] = []
        self.followup = FakeFollowup(self)
        self.channel = channel
        self.failures: list[BaseException] = []
        self.followup_gate: asyncio.Event | None = None
        self.followup_in_flight = asyncio.Event()
        self.changed = asyncio.Condition()

    async def write(self, kwargs: dict[str, Any]) -> None:
        assert kwargs["allowed_mentions"].to_dict() == {"parse": []}
        if self.failures:
            await self.notify()
            raise self.failures.pop(0)

    async def notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def edit_original_response(self, *, content: str, **kwargs: Any) -> Sent:
        return await self.original.edit(content=content, **kwargs)

    def shown(self) -> list[str]:
        live = [m.content for m in self.followups if not m.deleted]
        return [self.original.content, *live] if self.original.content else live

    async def until(self, predicate: Callable[[], bool]) -> None:
        async with asyncio.timeout(WAIT_S), self.changed:
            await self.changed.wait_for(predicate)


def _reply(interaction: FakeInteraction, *, private: bool = False) -> InteractionReply:
    chat = ChatSettings(edit_interval_s=0.0)
    return InteractionReply(interaction, private=private, chat=chat)  # type: ignore[arg-type]


def _final(text: str) -> Final:
    return Final(text=text, new_messages=[], usage=AnswerUsage())


def _words(first: int, last: int) -> str:
    return "".join(f"word{n} " for n in range(first, last))


async def test_streams_into_the_original_response_then_writes_the_final_text() -> None:
    interaction = FakeInteraction()
    reply = await _reply(interaction).start()
    await reply.on_event(TextDelta("Hello "))
    await interaction.until(lambda: interaction.shown() == ["Hello"])
    await reply.on_event(ToolStatus("c1", "search", "Searching the web"))
    await interaction.until(lambda: interaction.shown() == ["Hello\n-# Searching the web"])
    assert await reply.finish(_final("Hello world")) == [interaction.original.id]
    assert interaction.shown() == ["Hello world"]


async def test_a_streaming_edit_that_raises_anything_does_not_stop_the_writer() -> None:
    interaction = FakeInteraction()
    reply = await _reply(interaction).start()
    await reply.on_event(TextDelta("one "))
    await interaction.until(lambda: interaction.shown() == ["one"])
    interaction.failures.append(RuntimeError("Session is closed"))
    await reply.on_event(TextDelta("two "))
    await interaction.until(lambda: not interaction.failures)
    await reply.on_event(TextDelta("three "))
    await interaction.until(lambda: interaction.shown() == ["one two three"])
    assert await reply.finish(_final("one two three four")) == [interaction.original.id]
    assert interaction.shown() == ["one two three four"]


async def test_a_rate_limited_streaming_edit_does_not_stop_the_writer() -> None:
    interaction = FakeInteraction()
    reply = await _reply(interaction).start()
    interaction.failures.append(discord.RateLimited(90.0))
    await reply.on_event(TextDelta("one "))
    await interaction.until(lambda: not interaction.failures)
    await reply.on_event(TextDelta("two "))
    await interaction.until(lambda: interaction.shown() == ["one two"])
    await reply.finish(_final("one two"))
    assert interaction.shown() == ["one two"]


async def test_finishing_while_a_follow_up_is_in_flight_does_not_send_it_twice() -> None:
    interaction = FakeInteraction()
    reply = await _reply(interaction).start()
    interaction.followup_gate = gate = asyncio.Event()
    await reply.on_event(TextDelta(_words(0, 900)))
    async with asyncio.timeout(WAIT_S):
        await interaction.followup_in_flight.wait()
    finishing = asyncio.create_task(reply.finish(_final(_words(0, 900))))
    for _ in range(5):  # let finish reach the point where it stops the writer
        await asyncio.sleep(0)
    gate.set()
    ids = await finishing
    assert interaction.shown() == render_reply(_words(0, 900))
    assert ids == [interaction.original.id, *(m.id for m in interaction.followups)]


async def test_a_progress_line_without_room_gets_its_own_message_instead_of_being_cut() -> None:
    interaction = FakeInteraction()
    reply = await _reply(interaction).start()
    text = "x" * 1990 + " "
    await reply.on_event(TextDelta(text))
    await interaction.until(lambda: interaction.shown() == ["x" * 1990])
    await reply.on_event(ToolStatus("c1", "search", "Searching the web"))
    await interaction.until(lambda: len(interaction.shown()) == 2)
    assert interaction.shown() == ["x" * 1990, "-# Searching the web"]
    await reply.finish(_final(text))
    assert interaction.shown() == ["x" * 1990]


async def test_a_private_answer_has_ephemeral_follow_ups_and_keeps_the_original() -> None:
    interaction = FakeInteraction()
    reply = await _reply(interaction, private=True).start()
    await reply.on_event(TextDelta(_words(0, 900)))
    await interaction.until(lambda: len(interaction.shown()) >= 3)
    assert all(m.ephemeral for m in interaction.followups)
    assert await reply.finish(_final("")) == [interaction.original.id]
    assert interaction.shown() == ["(The model gave no answer.)"]


async def test_a_public_answer_goes_to_the_channel_when_the_interaction_is_gone() -> None:
    posted: list[str] = []

    class Channel(discord.abc.Messageable):
        async def _get_channel(self) -> Any:
            return self

        async def send(self, content: str, **kwargs: Any) -> Any:  # type: ignore[override]
            posted.append(content)
            return SimpleNamespace(id=len(posted))

    interaction = FakeInteraction(Channel())
    gone = discord.NotFound(SimpleNamespace(status=404, reason="Unknown Webhook"), "gone")
    interaction.failures.append(gone)
    reply = await _reply(interaction).start()
    assert await reply.finish(_final("the answer")) == [1]
    assert posted == ["the answer"]

    private = FakeInteraction(Channel())
    private.failures.append(gone)
    with pytest.raises(discord.NotFound):
        await (await _reply(private, private=True).start()).finish(_final("secret"))
    assert posted == ["the answer"]


async def test_an_answer_that_renders_to_nothing_still_replaces_the_thinking_state() -> None:
    interaction = FakeInteraction()
    reply = await _reply(interaction).start()
    assert await reply.finish(_final("<think>only reasoning</think>\n  ")) == [
        interaction.original.id
    ]
    assert interaction.shown() == ["(The model gave no answer.)"]
