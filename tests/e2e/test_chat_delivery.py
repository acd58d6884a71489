"""Issue 5: streaming delivery, splitting, rendering and safety, as they reach Discord."""

from __future__ import annotations

import itertools
import re

from bot.render import render_reply, split_chunks
from bot.testing.discord import DiscordEmulator, StoredMessage
from bot.testing.harness import BotHarness
from bot.testing.openai import OpenAIEmulator

from .conftest import ask

WRITES = r"/channels/\d+/messages(/\d+)?"


def _long_answer() -> str:
    prose = " ".join(
        f"Sentence number {n} explains one more detail of the plan." for n in range(60)
    )
    code = "\n".join(f"    total += compute_step({n})  # step {n}" for n in range(90))
    text = (
        f"{prose}\n\nHere is the code:\n\n```python\ndef run():\n    total = 0\n{code}\n"
        f"    return total\n```\n\n{prose}"
    )
    assert len(text) > 9000
    return text[:9400]


def _balanced(content: str) -> bool:
    return len(re.findall(r"^```", content, flags=re.MULTILINE)) % 2 == 0


async def test_a_long_streamed_answer_is_split_safely_within_the_pace(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    text = _long_answer()
    discord_emulator.set_rate_limits(realistic=True)
    openai_emulator.chat.reply_text(text, chunk_size=150, chunk_delay=0.02)
    general = discord_emulator.channel("general")
    async with bot_harness.run(chat={"edit_interval_s": 1.2}):
        mark = discord_emulator.mark()
        await ask(discord_emulator, "write me a long plan with code")
        expected = render_reply(text, allow_hosts=[])
        await discord_emulator.wait_until(
            lambda: _bot_messages(discord_emulator, general) == expected or None, timeout=60
        )
    messages = _bot_messages(discord_emulator, general)
    assert len(messages) >= 5
    for content in messages:
        assert 0 < len(content) <= 2000
        assert _balanced(content), content[-200:]
    bodies = "".join(chunk.body for chunk in split_chunks(text))
    assert re.sub(r"\s+", "", bodies) == re.sub(r"\s+", "", text)
    assert discord_emulator.rate_limited == 0
    writes = sorted(r.received_at for r in _writes(discord_emulator, mark))
    gaps = [later - earlier for earlier, later in itertools.pairwise(writes)]
    assert min(gaps) >= 1.2 * 0.9, gaps


def _writes(emu: DiscordEmulator, mark: object) -> list:  # type: ignore[type-arg]
    return emu.requests_matching("POST", WRITES, after=mark) + emu.requests_matching(
        "PATCH", WRITES, after=mark
    )


def _bot_messages(emu: DiscordEmulator, channel: object) -> list[str]:
    bot_id = emu.bot_user.id
    return [
        m.content for m in emu.messages(channel) if m.author.id == bot_id and m.deleted_at is None
    ]


async def test_model_output_with_mass_mentions_pings_nobody(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, toolcord_bot: object
) -> None:
    users = " ".join(f"<@{100000000000000000 + n}>" for n in range(20))
    role = discord_emulator.add_role(discord_emulator.guild, "Everyone Else", 0, 1).id
    openai_emulator.chat.reply_text(f"@everyone @here <@&{role}> {users} wake up!")
    general = discord_emulator.channel("general")
    mark = discord_emulator.mark()
    await ask(discord_emulator, "ping everyone please")
    reply: StoredMessage = await discord_emulator.wait_for_message(
        general, lambda m: "wake up" in m.content, timeout=20
    )
    payloads = [r.json or {} for r in _writes(discord_emulator, mark)]
    assert payloads
    for payload in payloads:
        assert payload.get("allowed_mentions", {}).get("parse") == []
        assert not payload.get("allowed_mentions", {}).get("users")
        assert not payload.get("allowed_mentions", {}).get("roles")
    assert reply.mention_everyone is False
    assert reply.mention_ids == [] and reply.mention_role_ids == []


async def test_links_from_the_model_are_shown_but_not_clickable(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, toolcord_bot: object
) -> None:
    openai_emulator.chat.reply_text(
        "See https://evil.example/x?d=secret and [docs](https://evil.example/steal) "
        "and ![img](https://evil.example/pixel.png)"
    )
    general = discord_emulator.channel("general")
    await ask(discord_emulator, "give me links")
    reply = await discord_emulator.wait_for_message(
        general, lambda m: "evil" in m.content, timeout=20
    )
    assert "https://evil.example" not in reply.content
    assert "](https://" not in reply.content
    assert "evil" in reply.content
    assert reply.flags & 4, "embeds must be suppressed"


async def test_reasoning_is_hidden_and_attached_only_when_asked(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    general = discord_emulator.channel("general")
    openai_emulator.chat.reply_text("<think>secret plan</think>The answer is 42.")
    async with bot_harness.run():
        await ask(discord_emulator, "what is the answer?")
        hidden = await discord_emulator.wait_for_message(
            general, lambda m: m.content == "The answer is 42.", timeout=20
        )
    assert not hidden.attachments
    assert all("secret plan" not in e.content_before for e in hidden.edits)
    openai_emulator.chat.reply_text("Visible.", reasoning_content="step by step")
    async with bot_harness.run(chat={"attach_reasoning": True}):
        await ask(discord_emulator, "and now?")
        shown = await discord_emulator.wait_for_message(
            general, lambda m: m.content == "Visible." and bool(m.attachments), timeout=20
        )
    assert [a.filename for a in shown.attachments] == ["reasoning.txt"]
    assert shown.attachments[0].data == b"step by step"
