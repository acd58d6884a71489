"""An answer that waits for its channel's write slot: it shows typing meanwhile, and once its
stream has ended it goes out whole in the slot it waited for (not in the one after).

Checked on what reached the Discord emulator: the typing request, the answer's one POST (never
edited, so no held-back last word was ever shown), and when it came.
"""

from __future__ import annotations

from bot.testing.discord import DiscordEmulator
from bot.testing.harness import BotHarness
from bot.testing.openai import OpenAIEmulator

from .conftest import ask

INTERVAL_S = 1.5
MESSAGES = r"/channels/\d+/messages"
TYPING = r"/channels/\d+/typing"


async def test_a_waiting_answer_shows_typing_then_goes_out_whole_in_its_slot(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    general = emu.channel("general")
    async with bot_harness.run(chat={"edit_interval_s": INTERVAL_S}):
        openai_emulator.chat.reply_text("First answer.")
        await ask(emu, "first")
        first = await emu.wait_for_message(general, lambda m: m.content == "First answer.")
        mark = emu.mark()
        # The channel's next write slot is INTERVAL_S after the first answer's; this answer is
        # ready long before it.
        openai_emulator.chat.reply_text("Short ok.", chunk_size=3)
        await ask(emu, "second")
        second = await emu.wait_for_message(
            general, lambda m: m.content == "Short ok.", after=first, timeout=20
        )
    posts = emu.requests_matching("POST", MESSAGES, after=mark)
    answer_post = next(r for r in posts if (r.json or {}).get("content") == "Short ok.")
    typing = emu.requests_matching("POST", TYPING, after=mark)
    assert typing and typing[0].index < answer_post.index, "typing shows while the answer waits"
    assert second.edits == [], "the answer went out whole: no shorter version was ever shown"
    first_post = next(
        r
        for r in emu.requests_matching("POST", MESSAGES)
        if (r.json or {}).get("content") == "First answer."
    )
    gap = answer_post.received_at - first_post.received_at
    assert gap < INTERVAL_S * 1.75, f"the answer waited past its slot ({gap:.2f} s)"
