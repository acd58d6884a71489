"""Startup: login, READY, guild cache, command sync, leak guard."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
import pytest

if TYPE_CHECKING:
    from conftest import Kit, RecordingBot

from bot.testing.discord import DiscordEmulator


async def test_bot_gets_ready_with_the_default_world(emu: DiscordEmulator, kit: Kit) -> None:
    bot = kit.RecordingBot()

    @bot.tree.command(name="ping", description="Ping.", guild=discord.Object(emu.guild.id))
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong")

    async def setup_hook() -> None:
        await bot.tree.sync(guild=discord.Object(emu.guild.id))
        await bot.tree.sync()

    bot.setup_hook = setup_hook  # type: ignore[method-assign]
    async with kit.Running(emu, bot):
        guild = bot.get_guild(emu.guild.id)
        assert guild is not None and guild.name == "Test Guild"
        assert {c.name for c in guild.text_channels} == {"general", "random"}
        assert guild.chunked
        assert bot.user is not None and bot.user.id == emu.bot_user.id
        assert [c["name"] for c in emu.synced_commands(emu.guild)] == ["ping"]
        assert emu.intents is not None and emu.intents & (1 << 15)
        assert emu.unhandled == []


async def test_sharded_client_gets_disjoint_guilds(emu: DiscordEmulator, kit: Kit) -> None:
    emu.config.recommended_shards = 2
    shard_of_default = (emu.guild.id >> 22) % 2
    other = emu.add_guild("Other Guild", id=emu.snowflakes.for_shard(1 - shard_of_default, 2))
    client = kit.ShardedRecordingBot()
    async with kit.Running(emu, client):
        assert {g.id for g in client.guilds} == {emu.guild.id, other.id}
        shards = {entry.data["shard"][0]: entry.data for entry in emu.gateway_log if entry.op == 2}
        assert set(shards) == {0, 1}
        per_shard = {
            s.shard_id: {g.id for g in client.guilds if g.shard_id == s.shard_id}
            for s in emu.sessions
        }
        assert per_shard[shard_of_default] == {emu.guild.id} and per_shard[
            1 - shard_of_default
        ] == {other.id}
    assert emu.requests_matching("GET", r"/gateway/bot")


async def test_bad_token_is_a_login_failure(emu: DiscordEmulator, kit: Kit) -> None:
    client = kit.RecordingBot()
    with kit.pointed_at(emu), pytest.raises(discord.LoginFailure):
        await client.login("wrong-token")
    await client.close()
    assert emu.requests[-1].status == 401


async def test_missing_privileged_intent_closes_with_4014(kit: Kit) -> None:
    async with DiscordEmulator(privileged_intents_enabled=0) as emu:
        client = kit.RecordingBot()
        with kit.pointed_at(emu), pytest.raises(discord.PrivilegedIntentsRequired):
            await client.start("test-token")
        await client.close()


async def test_zlib_stream_frames_when_asked(kit: Kit) -> None:
    async with DiscordEmulator(honor_compression=True) as emu:
        client = kit.RecordingBot()
        received = client.collect("message")
        async with kit.Running(emu, client):
            await emu.inject_message("general", "bob", "compressed")
            assert (await received.next()).content == "compressed"
        assert emu.identifies


async def test_guild_create_has_only_the_bot_without_members_intent(kit: Kit) -> None:
    async with DiscordEmulator() as emu:
        intents = discord.Intents.default()
        intents.members = False
        client = kit.RecordingBot(intents=intents)
        async with kit.Running(emu, client):
            guild = client.get_guild(emu.guild.id)
            assert guild is not None and [m.name for m in guild.members] == [emu.bot_user.name]
            assert guild.member_count == 4


async def test_member_query_is_answered_with_a_chunk(
    emu: DiscordEmulator, bot: RecordingBot
) -> None:
    guild = bot.get_guild(emu.guild.id)
    assert guild is not None
    found = await guild.query_members("al", limit=5)
    assert [member.name for member in found] == ["alice"]
    request = [entry for entry in emu.gateway_log if entry.op == 8][-1]
    assert request.data["query"] == "al" and request.data["guild_id"] == guild.id
