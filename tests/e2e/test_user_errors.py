"""Issue 5: every failure the user can meet becomes a clear message in Discord within 30 s."""

from __future__ import annotations

import logging
import time

import pytest

from bot.testing.discord import DiscordEmulator
from bot.testing.harness import BotHarness
from bot.testing.openai import Fault, OpenAIEmulator

from .conftest import ask

CHAT = "/v1/chat/completions"
USER_DEADLINE_S = 30.0


async def _answer(discord_emulator: DiscordEmulator, question: str, expected: str) -> float:
    general = discord_emulator.channel("general")
    started = time.monotonic()
    await ask(discord_emulator, question)
    await discord_emulator.wait_for_message(
        general, lambda m: expected in m.content, timeout=USER_DEADLINE_S
    )
    return time.monotonic() - started


@pytest.mark.parametrize(
    ("fault", "expected", "max_retries", "attempts"),
    [
        (Fault.rate_limit(retry_after=0.05, times=3), "rate limited", 1, 2),
        (Fault.insufficient_quota(), "out of credit", 2, 1),
        (Fault.outage(503, times=3), "not responding", 1, 2),
    ],
    ids=["rate-limited", "out-of-credit", "outage"],
)
async def test_provider_failures_reach_the_user(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    fault: Fault,
    expected: str,
    max_retries: int,
    attempts: int,
) -> None:
    openai_emulator.chat.reply_fault(fault)
    async with bot_harness.run(openai={"max_retries": max_retries}):
        elapsed = await _answer(discord_emulator, "hello?", expected)
    assert elapsed < USER_DEADLINE_S
    assert openai_emulator.attempts(CHAT) == attempts


async def test_out_of_credit_alerts_the_owner_in_the_log(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    caplog: pytest.LogCaptureFixture,
) -> None:
    openai_emulator.chat.reply_fault(Fault.insufficient_quota())
    with caplog.at_level(logging.ERROR, logger="toolcord.engine"):
        async with bot_harness.run():
            await _answer(discord_emulator, "hello?", "out of credit")
    assert any("add credit" in record.getMessage() for record in caplog.records)


async def test_content_filter_is_a_polite_refusal(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, toolcord_bot: object
) -> None:
    openai_emulator.chat.reply_content_filter("Partial")
    await _answer(discord_emulator, "something bad", "can't help with that")


async def test_timeout_is_reported(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    openai_emulator.chat.reply_fault(Fault.stall(seconds=3, times=2))
    async with bot_harness.run(openai={"request_timeout_s": 0.5}):
        elapsed = await _answer(discord_emulator, "are you there?", "took too long")
    assert elapsed < USER_DEADLINE_S


async def test_context_too_long_is_trimmed_and_retried_once(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    general = discord_emulator.channel("general")
    async with bot_harness.run(openai={"context_tokens": 4000}):
        for n in range(6):
            openai_emulator.chat.reply_text(f"reply {n} " + "word " * 150)
            await ask(discord_emulator, f"question {n} " + "detail " * 150)
            await discord_emulator.wait_for_message(
                general, lambda m, n=n: m.content.startswith(f"reply {n} "), timeout=20
            )
        openai_emulator.chat.reply_fault(Fault.context_length_exceeded())
        openai_emulator.chat.reply_text("Short and sweet.")
        await _answer(discord_emulator, "final question", "Short and sweet.")
    failed, retried = openai_emulator.chat.requests[-2:]
    assert len(retried["messages"]) < len(failed["messages"])
    assert "final question" in str(retried["messages"][-1]["content"])
