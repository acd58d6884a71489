"""Issue 16, finding 3: transcription passes the quota gate and is priced.

Before: with the global budget spent, /transcribe and a voice message still made transcription
calls, and the ledger recorded them at 0 tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.store import Usage
from bot.testing.discord import DiscordEmulator
from bot.testing.openai import OpenAIEmulator
from bot.testing.openai.media.ogg import silent_ogg_opus
from bot.voice.transcribe import TOKENS_PER_AUDIO_SECOND

from . import voice_kit
from .voice_kit import bot_messages

voice_bot = voice_kit.voice_bot

TRANSCRIPTIONS = "/v1/audio/transcriptions"
SPENT = "The bot has used its shared daily budget of 1,000 tokens."


async def test_with_the_global_budget_spent_no_transcription_call_is_made(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    voice_bot: Callable[..., Any],
) -> None:
    emu = discord_emulator
    upload = emu.attachment("note.ogg", silent_ogg_opus(3.0), "audio/ogg")
    bob = emu.user("bob")
    dm = emu.dm_channel(bob)
    async with voice_bot(quotas={"global_daily_tokens": 1000}) as bot:
        await bot.services.store.record_usage(
            Usage("m", prompt_tokens=1000), user_id=999, guild_id=None
        )
        handle = await emu.inject_interaction(
            "transcribe", user="alice", channel="general", options={"file": upload}
        )
        await handle.wait_original_edit(timeout=20)
        await emu.inject_voice_message(dm, bob, silent_ogg_opus(2.0), duration_secs=2.0)
        refused = await emu.wait_for_message(dm, lambda m: SPENT in m.content, timeout=20)
    assert handle.ephemeral and (handle.final_content() or "").startswith(f"⚠️ {SPENT}")
    assert refused.content.startswith(f"⚠️ {SPENT}")
    assert openai_emulator.attempts(TRANSCRIPTIONS) == 0
    assert openai_emulator.chat.requests == []
    assert len(bot_messages(emu, dm)) == 1


async def test_a_transcription_is_priced_by_its_audio_seconds(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    voice_bot: Callable[..., Any],
) -> None:
    emu = discord_emulator
    upload = emu.attachment("note.ogg", silent_ogg_opus(3.0), "audio/ogg")
    openai_emulator.transcriptions.reply_text("hello")
    async with voice_bot() as bot:
        handle = await emu.inject_interaction(
            "transcribe", user="alice", channel="general", options={"file": upload}
        )
        await handle.wait_original_edit(timeout=20)
        totals = await bot.services.store.usage_totals(user_id=emu.user("alice").id)
        model = bot.settings.openai.transcription_model
        by_model = await bot.services.store.usage_totals(model=model)
    assert openai_emulator.attempts(TRANSCRIPTIONS) == 1
    assert (totals.requests, totals.total_tokens) == (1, 3 * TOKENS_PER_AUDIO_SECOND)
    assert by_model.requests == 1


async def test_the_transcribe_menu_counts_against_the_users_budget_and_then_stops(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    voice_bot: Callable[..., Any],
) -> None:
    """The first 4-second transcription spends 80 of alice's 100 tokens; the next is refused."""
    emu = discord_emulator
    async with voice_bot(quotas={"user_daily_tokens": 100}):
        voice = await emu.inject_voice_message(
            "general", "bob", silent_ogg_opus(4.0), duration_secs=4.0
        )
        contents = []
        for _ in range(3):
            handle = await emu.inject_interaction(
                "Transcribe",
                user="alice",
                channel="general",
                target_message=int(voice["id"]),
                command_type=3,
            )
            await handle.wait_original_edit(timeout=20)
            contents.append(handle.final_content() or "")
    assert contents[0].startswith('> 🎙️ "')
    assert contents[1].startswith('> 🎙️ "')  # 80 of 100 spent: not spent yet, admitted
    assert contents[2].startswith("⚠️ You have used your daily budget of 100 tokens.")
    assert openai_emulator.attempts(TRANSCRIPTIONS) == 2


async def test_the_spent_budget_is_told_in_the_users_or_the_servers_language(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    voice_bot: Callable[..., Any],
) -> None:
    """/transcribe follows the user's locale; a voice message in a channel, the server's."""
    emu = discord_emulator
    emu.guild.preferred_locale = "ko"
    upload = emu.attachment("note.ogg", silent_ogg_opus(3.0), "audio/ogg")
    spent_ko = "봇 전체의 오늘 사용 한도(1,000 토큰)를 모두 사용했습니다."
    async with voice_bot(quotas={"global_daily_tokens": 1000}) as bot:
        await bot.services.store.record_usage(
            Usage("m", prompt_tokens=1000), user_id=999, guild_id=None
        )
        handle = await emu.inject_interaction(
            "transcribe", user="alice", channel="general", options={"file": upload}, locale="ko"
        )
        await handle.wait_original_edit(timeout=20)
        general = emu.channel("general")
        await emu.inject_voice_message(
            general, emu.user("bob"), silent_ogg_opus(2.0), duration_secs=2.0
        )
        refused = await emu.wait_for_message(general, lambda m: "⚠️" in m.content, timeout=20)
    assert (handle.final_content() or "").startswith(f"⚠️ {spent_ko}")
    assert refused.content.startswith(f"⚠️ {spent_ko}")
    assert openai_emulator.attempts(TRANSCRIPTIONS) == 0
