"""Messages with a real discord.py bot: send, files, edit, delete, history, threads, replies..."""

from __future__ import annotations

import datetime
import io
from typing import TYPE_CHECKING, Any

import discord
import pytest

if TYPE_CHECKING:
    from conftest import Kit, RecordingBot

from bot.testing.discord import DiscordEmulator, Perm

MESSAGES = r"/channels/\d+/messages"


async def test_echo_round_trip_records_the_post(emu: DiscordEmulator, bot: RecordingBot) -> None:
    @bot.listen()
    async def on_message(message: discord.Message) -> None:
        if message.author != bot.user:
            await message.channel.send(
                message.content, allowed_mentions=discord.AllowedMentions.none()
            )

    general = emu.channel("general")
    injected = await emu.inject_message(
        general, "alice", "hello <@" + str(emu.user("bob").id) + ">"
    )
    reply = await emu.wait_for_message(general, after=injected)
    assert reply.content == injected["content"]
    assert reply.mention_ids == []  # allowed_mentions none: nobody pinged
    post = emu.requests_matching("POST", MESSAGES)[-1]
    assert post.json["content"] == injected["content"]
    assert post.json["allowed_mentions"] == {"parse": []}
    assert post.headers["Authorization"] == "Bot test-token"
    assert [m.content for m in emu.messages(general)] == [injected["content"]] * 2
    assert emu.unhandled == []


async def test_injected_message_is_realistic(emu: DiscordEmulator, bot: RecordingBot) -> None:
    received = bot.collect("message")
    alice = emu.user("alice")
    await emu.inject_message("general", alice, f"hey <@{emu.bot_user.id}>")
    message = await received.next()
    assert isinstance(message.author, discord.Member)
    assert [r.name for r in message.author.roles] == ["@everyone", "Moderator"]
    assert bot.user in message.mentions
    assert message.created_at.year >= 2024


async def test_file_send_is_stored_and_served_by_the_cdn(
    emu: DiscordEmulator, bot: RecordingBot
) -> None:
    channel = bot.get_channel(emu.channel("general").id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("report", file=discord.File(io.BytesIO(b"a,b\n1,2\n"), "data.csv"))
    stored = emu.message(sent.id)
    assert stored is not None and stored.content == "report"
    assert stored.attachments[0].data == b"a,b\n1,2\n"
    assert stored.attachments[0].content_type == "text/csv"
    assert sent.attachments[0].url.startswith(emu.cdn_base_url)
    assert await sent.attachments[0].read() == b"a,b\n1,2\n"
    post = emu.requests_matching("POST", MESSAGES)[-1]
    assert [p.name for p in post.parts] == ["payload_json", "files[0]"]
    assert post.files[0].filename == "data.csv"


async def test_edit_dispatches_update_and_keeps_history(
    emu: DiscordEmulator, bot: RecordingBot
) -> None:
    edits = bot.collect("message_edit")
    channel = bot.get_channel(emu.channel("general").id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("v1")
    await sent.edit(content="v2")
    before, after = await edits.next()
    assert (before.content, after.content) == ("v1", "v2")
    stored = emu.message(sent.id)
    assert stored is not None and [(e.content_before, e.content_after) for e in stored.edits] == [
        ("v1", "v2")
    ]
    assert stored.edited_timestamp is not None


async def test_delete_typing_and_history(emu: DiscordEmulator, bot: RecordingBot) -> None:
    deleted = bot.collect("message_delete")
    general = emu.channel("general")
    first = await emu.inject_message(general, "bob", "one")
    await emu.inject_message(general, "bob", "two")
    channel = bot.get_channel(general.id)
    assert isinstance(channel, discord.TextChannel)
    async with channel.typing():
        history = [m.content async for m in channel.history(limit=10)]
    assert history == ["two", "one"]
    older = [
        m.content async for m in channel.history(limit=10, after=discord.Object(int(first["id"])))
    ]
    assert older == ["two"]
    sent = await channel.send("bye")
    await sent.delete()
    assert (await deleted.next()).id == sent.id
    assert emu.message(sent.id) is None and emu.message(sent.id, include_deleted=True) is not None
    assert emu.requests_matching("POST", r"/channels/\d+/typing")


async def test_thread_from_message_and_reply(emu: DiscordEmulator, bot: RecordingBot) -> None:
    general = emu.channel("general")
    starter = await emu.inject_message(general, "alice", "let's discuss")
    channel = bot.get_channel(general.id)
    assert isinstance(channel, discord.TextChannel)
    message = await channel.fetch_message(int(starter["id"]))
    thread = await message.create_thread(name="discussion")
    assert thread.id == message.id and thread.parent_id == general.id
    await thread.send("inside")
    assert [m.content for m in emu.messages(thread.id)] == ["inside"]
    assert bot.get_channel(thread.id) is not None  # THREAD_CREATE reached the cache
    reply = await message.reply("noted")
    stored = emu.message(reply.id)
    assert stored is not None and stored.type == 19
    assert stored.referenced_message_id == message.id
    assert reply.reference is not None and reply.reference.message_id == message.id


async def test_reply_injected_carries_referenced_message(
    emu: DiscordEmulator, bot: RecordingBot
) -> None:
    received = bot.collect("message")
    channel = bot.get_channel(emu.channel("general").id)
    assert isinstance(channel, discord.TextChannel)
    mine = await channel.send("question?")
    await emu.inject_message("general", "bob", "answer", reference=mine.id)
    while (message := await received.next()).content != "answer":
        pass
    assert message.type is discord.MessageType.reply
    assert isinstance(message.reference and message.reference.resolved, discord.Message)


async def test_voice_message_is_readable(emu: DiscordEmulator, bot: RecordingBot) -> None:
    received = bot.collect("message")
    audio = b"OggS" + bytes(range(256)) * 40
    await emu.inject_voice_message("general", "bob", audio, duration_secs=2.5)
    message = await received.next()
    assert message.flags.voice
    attachment = message.attachments[0]
    assert attachment.is_voice_message() and attachment.duration == 2.5
    assert attachment.content_type == "audio/ogg"
    assert await attachment.read() == audio


async def test_dm_message_round_trip(emu: DiscordEmulator, bot: RecordingBot) -> None:
    @bot.listen()
    async def on_message(message: discord.Message) -> None:
        if message.author != bot.user and message.guild is None:
            await message.author.send("dm reply")

    dm = emu.dm_channel("bob")
    await emu.inject_message(dm, "bob", "psst")
    reply = await emu.wait_for_message(dm, lambda m: m.content == "dm reply")
    assert reply.guild_id is None
    assert emu.requests_matching("POST", r"/users/@me/channels")


async def test_validation_and_permissions(emu: DiscordEmulator, bot: RecordingBot) -> None:
    channel = bot.get_channel(emu.channel("general").id)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.HTTPException) as too_long:
        await channel.send("x" * 2001)
    assert too_long.value.status == 400 and too_long.value.code == 50035
    assert (await channel.send("😀" * 2000)).content == "😀" * 2000  # code points, not bytes
    updates = bot.collect("guild_channel_update")
    emu.deny_bot("random", Perm.SEND_MESSAGES)
    _, random = await updates.next()  # CHANNEL_UPDATE reached the bot's cache
    assert not random.permissions_for(random.guild.me).send_messages
    with pytest.raises(discord.Forbidden) as forbidden:
        await random.send("hi")
    assert forbidden.value.code == 50013
    assert [r.status for r in emu.failed_requests] == [400, 403]


async def test_unhandled_routes_are_recorded(emu: DiscordEmulator, bot: RecordingBot) -> None:
    route = discord.http.Route("GET", "/guilds/{guild_id}/audit-logs", guild_id=emu.guild.id)
    with pytest.raises(discord.NotFound):
        await bot.http.request(route)
    assert [r.path for r in emu.unhandled] == [f"/guilds/{emu.guild.id}/audit-logs"]


async def test_content_is_blank_without_the_message_content_intent(
    emu: DiscordEmulator, kit: Kit
) -> None:
    intents = discord.Intents.default()
    intents.message_content = False
    client = kit.RecordingBot(intents=intents)
    seen = client.collect("message")
    async with kit.Running(emu, client):
        await emu.inject_message("general", "alice", "secret")
        await emu.inject_message("general", "alice", f"<@{emu.bot_user.id}> visible")
        await emu.inject_message(emu.dm_channel("alice"), "alice", "dm visible")
        contents = [(await seen.next()).content for _ in range(3)]
    assert contents == ["", f"<@{emu.bot_user.id}> visible", "dm visible"]


async def test_bot_voice_message_send_is_recorded(emu: DiscordEmulator, bot: RecordingBot) -> None:
    payload = {
        "flags": 8192,
        "attachments": [
            {"id": 0, "filename": "voice-message.ogg", "duration_secs": 1.5, "waveform": "AAEC"}
        ],
    }
    form: list[dict[str, Any]] = [
        {"name": "payload_json", "value": discord.utils._to_json(payload)},
        {
            "name": "files[0]",
            "value": b"OggS....",
            "filename": "voice-message.ogg",
            "content_type": "audio/ogg",
        },
    ]
    route = discord.http.Route(
        "POST", "/channels/{channel_id}/messages", channel_id=emu.channel("general").id
    )
    sent = await bot.http.request(route, form=form)
    stored = emu.message(int(sent["id"]))
    assert stored is not None and stored.is_voice_message
    voice = stored.attachments[0]
    assert (voice.duration_secs, voice.waveform, voice.content_type) == (1.5, "AAEC", "audio/ogg")
    assert voice.is_voice_message and voice.data == b"OggS...."


async def test_empty_message_and_nonce_dedupe(emu: DiscordEmulator, bot: RecordingBot) -> None:
    route = discord.http.Route(
        "POST", "/channels/{channel_id}/messages", channel_id=emu.channel("general").id
    )
    with pytest.raises(discord.HTTPException) as empty:
        await bot.http.request(route, json={"content": ""})
    assert empty.value.code == 50006
    body = {"content": "once", "nonce": "abc", "enforce_nonce": True}
    first = await bot.http.request(route, json=body)
    second = await bot.http.request(route, json=body)
    assert first["id"] == second["id"] and len(emu.messages("general")) == 1


async def test_wait_request_after_a_mark(emu: DiscordEmulator, bot: RecordingBot) -> None:
    channel = bot.get_channel(emu.channel("general").id)
    assert isinstance(channel, discord.TextChannel)
    await channel.send("before")
    mark = emu.mark()
    await channel.send("after")
    request = await emu.wait_request("POST", MESSAGES, after=mark)
    assert request.json["content"] == "after"
    old = await emu.wait_request("POST", MESSAGES, lambda r: r.json["content"] == "before", after=0)
    assert old.index < mark.request_index
    with pytest.raises(TimeoutError, match="requests seen since"):
        await emu.wait_request("DELETE", MESSAGES + r"/\d+", timeout=0.05)


async def test_member_timeout_respects_hierarchy(emu: DiscordEmulator, bot: RecordingBot) -> None:
    guild = bot.get_guild(emu.guild.id)
    assert guild is not None
    bob = guild.get_member(emu.user("bob").id)
    owner = guild.get_member(emu.owner.id)
    assert bob is not None and owner is not None
    await bob.timeout(datetime.timedelta(minutes=5), reason="test")
    stored = emu.member(emu.guild, "bob")
    assert stored is not None and stored.communication_disabled_until is not None
    with pytest.raises(discord.Forbidden):
        await owner.timeout(datetime.timedelta(minutes=5))
    patch = emu.requests_matching("PATCH", r"/guilds/\d+/members/\d+")[0]
    assert patch.headers["X-Audit-Log-Reason"] == "test"


async def test_uploads_over_discords_size_limits_are_refused(
    emu: DiscordEmulator, bot: RecordingBot
) -> None:
    """Discord refuses a file over 10 MiB (no boosts) and a request over 25 MiB with 413."""
    channel = bot.get_channel(emu.channel("general").id)
    assert isinstance(channel, discord.TextChannel)
    assert channel.guild.filesize_limit == 10 * 1024 * 1024
    big = discord.File(io.BytesIO(b"x" * (10 * 1024 * 1024 + 1)), "big.bin")
    with pytest.raises(discord.HTTPException) as caught:
        await channel.send("too big", file=big)
    assert (caught.value.status, caught.value.code) == (413, 40005)
    three = [discord.File(io.BytesIO(b"y" * (9 * 1024 * 1024)), f"{n}.bin") for n in range(3)]
    with pytest.raises(discord.HTTPException) as caught:
        await channel.send("too much", files=three)
    assert (caught.value.status, caught.value.code) == (413, 40005)
    fits = [discord.File(io.BytesIO(b"z" * (10 * 1024 * 1024)), f"{n}.bin") for n in range(2)]
    sent = await channel.send("fits", files=fits)
    assert [a.size for a in sent.attachments] == [10 * 1024 * 1024] * 2
    assert [m.content for m in emu.messages(emu.channel("general"))] == ["fits"]
