"""Faults: 429 with/without Via, 5xx, realistic limits, gateway drops, resume and re-identify."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp
import discord
import pytest

if TYPE_CHECKING:
    from conftest import RecordingBot

from bot.testing.discord import DiscordEmulator

MESSAGES = r"/channels/\d+/messages"


def text_channel(
    bot: RecordingBot, emu: DiscordEmulator, name: str = "general"
) -> discord.TextChannel:
    channel = bot.get_channel(emu.channel(name).id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_429_with_via_is_retried(emu: DiscordEmulator, bot: RecordingBot) -> None:
    rule = emu.faults.add("POST", MESSAGES, status=429, retry_after=0.05)
    sent = await text_channel(bot, emu).send("after retry")
    assert len(rule.hits) == 1 and emu.message(sent.id) is not None
    assert [r.status for r in emu.requests_matching("POST", MESSAGES)] == [429, 200]


async def test_429_without_via_is_raised(emu: DiscordEmulator, bot: RecordingBot) -> None:
    emu.faults.add("POST", MESSAGES, status=429, via=False)
    with pytest.raises(discord.HTTPException) as raised:
        await text_channel(bot, emu).send("banned")
    assert raised.value.status == 429


async def test_500_is_retried(emu: DiscordEmulator, bot: RecordingBot) -> None:
    emu.faults.add("POST", MESSAGES, status=500)
    sent = await text_channel(bot, emu).send("eventually")  # discord.py sleeps 1 s before retrying
    assert emu.message(sent.id) is not None
    assert [r.status for r in emu.requests_matching("POST", MESSAGES)] == [500, 200]


async def test_realistic_rate_limits_send_true_headers(
    emu: DiscordEmulator, bot: RecordingBot
) -> None:
    emu.set_rate_limits(realistic=True, message_limit=2, message_window=0.2)
    channel = text_channel(bot, emu)
    for index in range(5):
        await channel.send(f"m{index}")
    posts = emu.requests_matching("POST", MESSAGES)
    assert [p.status for p in posts if p.status == 200] == [200] * 5
    assert len(emu.messages("general")) == 5


async def test_realistic_rate_limits_answer_429_when_exceeded(
    emu: DiscordEmulator, bot: RecordingBot
) -> None:
    emu.set_rate_limits(realistic=True, message_limit=1, message_window=0.3)
    url = f"{emu.api_base_url}/channels/{emu.channel('general').id}/messages"
    headers = {"Authorization": "Bot test-token"}
    async with aiohttp.ClientSession() as session:  # another client spends the channel's budget
        async with session.post(url, json={"content": "one"}, headers=headers) as first:
            assert first.status == 200 and first.headers["X-RateLimit-Remaining"] == "0"
        async with session.post(url, json={"content": "x"}, headers=headers) as limited:
            assert limited.status == 429 and limited.headers["Via"] == "1.1 google"
            assert (await limited.json())["retry_after"] > 0
    await text_channel(bot, emu).send("two")  # 429 (with Via) first, then retried by discord.py
    assert emu.rate_limited == 2
    assert [m.content for m in emu.messages("general")] == ["one", "two"]


async def test_drop_gateway_resumes_and_replays(emu: DiscordEmulator, bot: RecordingBot) -> None:
    received = bot.collect("message")
    mark = emu.mark()
    await emu.drop_gateway(4000)
    await emu.inject_message("general", "bob", "while away")  # buffered for the session
    await bot.wait_event("resumed")
    assert (await received.next()).content == "while away"
    resume = [entry for entry in emu.gateway_log if entry.op == 6]
    assert resume and resume[-1].data["session_id"] == emu.sessions[0].session_id
    assert emu.sessions[0].replayed == 1  # the message came through RESUME's replay
    assert mark.dispatch_index < emu.dispatches[-1].index


async def test_reconnect_op_resumes(emu: DiscordEmulator, bot: RecordingBot) -> None:
    assert await emu.send_reconnect() == 1
    await bot.wait_event("resumed")
    await emu.inject_message("general", "bob", "still here")
    assert (await emu.wait_for_message("general", any_author=True)).content == "still here"


async def test_invalid_session_makes_the_client_identify_again(
    emu: DiscordEmulator, bot: RecordingBot
) -> None:
    connected = bot.collect("connect")
    first_session = emu.sessions[0].session_id
    await emu.invalidate_session(False)
    await connected.next()
    assert len(emu.identifies) == 2
    assert [s.session_id for s in emu.sessions] != [first_session]


async def test_duplicate_dispatch(emu: DiscordEmulator, bot: RecordingBot) -> None:
    received = bot.collect("message")
    await emu.inject_message("general", "bob", "once")
    await emu.resend_last("MESSAGE_CREATE")
    first, second = await received.next(), await received.next()
    assert first.id == second.id
