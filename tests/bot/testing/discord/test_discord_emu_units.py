"""The emulator's world, permissions, ids, history and validation, without a client."""

from __future__ import annotations

import aiohttp
import pytest

from bot.testing.discord import DiscordEmulator, Perm
from bot.testing.discord.permissions import channel_permissions
from bot.testing.discord.snowflake import SnowflakeFactory, shard_of, snowflake_time


def test_snowflakes_are_time_based_and_increasing() -> None:
    factory = SnowflakeFactory()
    ids = [factory.next() for _ in range(5000)]
    assert ids == sorted(set(ids))
    assert snowflake_time(ids[0]).year >= 2024
    assert shard_of(factory.for_shard(1, 3), 3) == 1


def test_default_world_and_permissions() -> None:
    emu = DiscordEmulator()
    guild = emu.guild
    assert guild.name == "Test Guild" and [c.name for c in guild.text_channels] == [
        "general",
        "random",
    ]
    roles = sorted(guild.roles.values(), key=lambda role: role.position)
    assert [r.name for r in roles] == ["@everyone", "Moderator", "toolcord-test"]
    general = emu.channel("general")
    alice = emu.member(guild, "alice")
    bob = emu.member(guild, "bob")
    assert alice is not None and bob is not None
    assert channel_permissions(guild, alice, general) & Perm.MODERATE_MEMBERS
    assert not channel_permissions(guild, bob, general) & Perm.MODERATE_MEMBERS
    emu.set_overwrite(general, bob, deny=Perm.VIEW_CHANNEL)
    assert channel_permissions(guild, bob, general) == 0
    thread = emu.add_thread(general, "t", "bob")
    assert channel_permissions(guild, bob, thread) == 0  # threads inherit the parent's overwrites


def test_empty_world_and_building() -> None:
    emu = DiscordEmulator(world=None)
    with pytest.raises(LookupError, match="add_guild"):
        _ = emu.guild
    carol = emu.add_user("carol")
    guild = emu.add_guild("Mine", channels=["a", "b"], members=[carol])
    role = emu.add_role(guild, "Helper", Perm.MANAGE_MESSAGES, position=1)
    emu.add_member(guild, emu.add_user("dave"), [role])
    assert emu.guild is guild and len(guild.members) == 4
    assert emu.channel("b").guild_id == guild.id
    with pytest.raises(ValueError, match="exists already"):
        emu.add_user("carol")
    with pytest.raises(KeyError, match="add_channel"):
        emu.channel("nope")


async def test_history_and_validation_over_raw_http() -> None:
    async with DiscordEmulator() as emu:
        general = emu.channel("general")
        injected = [await emu.inject_message(general, "bob", f"m{i}") for i in range(6)]
        ids = [int(p["id"]) for p in injected]
        url = f"{emu.api_base_url}/channels/{general.id}/messages"
        auth = {"Authorization": "Bot test-token"}
        async with aiohttp.ClientSession(headers=auth) as session:

            async def history(**query: str) -> list[str]:
                async with session.get(url, params=query) as response:
                    assert response.headers["Content-Type"] == "application/json"
                    return [m["content"] for m in await response.json()]

            assert await history(limit="3") == ["m5", "m4", "m3"]
            assert await history(before=str(ids[2])) == ["m1", "m0"]
            assert await history(after=str(ids[3])) == ["m5", "m4"]
            assert await history(around=str(ids[3]), limit="3") == ["m4", "m3", "m2"]
            embed = {"title": "t" * 257}
            async with session.post(url, json={"embeds": [embed]}) as response:
                body = await response.json()
                assert response.status == 400 and body["code"] == 50035
                assert "title" in body["errors"]["embeds"]["0"]
            async with session.get(
                f"{emu.api_base_url}/users/@me", headers={"Authorization": "x"}
            ) as denied:
                assert denied.status == 401
            async with session.get(f"{emu.api_base_url}/nope") as missing:
                assert missing.status == 404 and (await missing.json())["code"] == 0
        assert [r.path for r in emu.unhandled] == ["/nope"]
        assert emu.requests_matching("GET", r"/channels/\d+/messages", after=0)[0].query == {
            "limit": "3"
        }


async def test_faults_can_slow_a_route_down() -> None:
    async with DiscordEmulator() as emu:
        rule = emu.faults.add("GET", r"/users/@me", status=None, delay=0.01)
        async with aiohttp.ClientSession() as session:
            url = f"{emu.api_base_url}/users/@me"
            async with session.get(url, headers={"Authorization": "Bot test-token"}) as response:
                assert response.status == 200
        assert rule.exhausted and emu.faults.pending == []
