"""Settings per guild and channel: layering, threads, the cache, validation, the next turn."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openai
import pytest

from bot.conversation import ConversationService, IncomingTurn, Services
from bot.engine import Failed, Final
from bot.guild_settings import GuildSettings, SettingsChangeError, describe_changes
from bot.settings import Settings, settings_from
from bot.store import Store, TokenCounter, open_store
from bot.testing.openai import OpenAIEmulator
from tools.registry import ToolRegistry

GUILD, CHANNEL, THREAD, OTHER = 100, 200, 300, 400
TOOLS = ("weather", "web_search", "fetch_page")


def make_settings(**values: Any) -> Settings:
    return settings_from(values)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(str(tmp_path / "toolcord.db"))
    yield opened
    await opened.close()


def service(store: Store, **values: Any) -> GuildSettings:
    return GuildSettings(store, make_settings(**values), TOOLS)


async def test_channel_overrides_guild_and_guild_fills_the_rest(store: Store) -> None:
    settings = service(store)
    await settings.update(
        "guild", GUILD, persona="pirate", model="gpt-5.4", private_conversations=True
    )
    await settings.update("channel", CHANNEL, persona="poet")
    here = await settings.effective(GUILD, CHANNEL)
    assert here.persona == "poet"
    assert here.model == "gpt-5.4"
    assert here.private_conversations is True
    elsewhere = await settings.effective(GUILD, OTHER)
    assert elsewhere.persona == "pirate"


async def test_a_thread_inherits_its_channel_and_may_override_it(store: Store) -> None:
    settings = service(store)
    await settings.update("guild", GUILD, persona="pirate")
    await settings.update("channel", CHANNEL, persona="poet", model="gpt-5.5")
    inherited = await settings.effective(GUILD, THREAD, parent_id=CHANNEL)
    assert (inherited.persona, inherited.model) == ("poet", "gpt-5.5")
    await settings.update("channel", THREAD, persona="haiku master")
    own = await settings.effective(GUILD, THREAD, parent_id=CHANNEL)
    assert (own.persona, own.model) == ("haiku master", "gpt-5.5")


async def test_direct_messages_get_only_the_owner_configuration(store: Store) -> None:
    settings = service(store, chat={"auto_thread": True})
    await settings.update("guild", GUILD, persona="pirate")
    dm = await settings.effective(None, CHANNEL)
    assert dm.persona is None and dm.model is None and dm.enabled_tools is None
    assert dm.auto_thread is True and dm.turn_overrides() == {}


async def test_a_change_is_seen_by_the_next_read_and_clearing_inherits_again(store: Store) -> None:
    settings = service(store)
    await settings.update("channel", CHANNEL, persona="one")
    assert (await settings.effective(GUILD, CHANNEL)).persona == "one"
    await settings.update("channel", CHANNEL, persona="two")
    assert (await settings.effective(GUILD, CHANNEL)).persona == "two"
    await settings.update("guild", GUILD, persona="guild-wide")
    await settings.update("channel", CHANNEL, persona=None)
    assert (await settings.effective(GUILD, CHANNEL)).persona == "guild-wide"
    assert await store.get_settings("channel", CHANNEL) == {}


async def test_the_cache_serves_reads_until_its_ttl(store: Store) -> None:
    cached = GuildSettings(store, make_settings(), TOOLS, ttl_s=3600)
    uncached = GuildSettings(store, make_settings(), TOOLS, ttl_s=0)
    await cached.update("guild", GUILD, persona="old")
    await uncached.update("guild", GUILD, persona="new")  # another process changed it
    assert (await cached.effective(GUILD, CHANNEL)).persona == "old"
    cached.invalidate("guild", GUILD)
    assert (await cached.effective(GUILD, CHANNEL)).persona == "new"
    assert (await uncached.effective(GUILD, CHANNEL)).persona == "new"


async def test_models_are_limited_to_the_allowed_ones(store: Store) -> None:
    settings = service(store, openai={"allowed_models": ["small", "large"]})
    with pytest.raises(SettingsChangeError, match="small, large"):
        await settings.update("guild", GUILD, model="gpt-9")
    await store.set_settings("guild", GUILD, {"model": "retired"})  # allowed once, not any more
    settings.invalidate("guild", GUILD)
    assert (await settings.effective(GUILD, CHANNEL)).model is None
    await settings.update("guild", GUILD, model="large")
    assert (await settings.effective(GUILD, CHANNEL)).turn_overrides() == {"model": "large"}


async def test_tools_switch_per_guild_and_channel_within_the_owner_set(store: Store) -> None:
    settings = service(store, tools={"enabled": ["weather", "web_search"]})
    assert settings.base_tools == ("weather", "web_search")
    assert (await settings.effective(GUILD, CHANNEL)).enabled_tools is None
    await settings.update("guild", GUILD, tools={"weather": False})
    assert (await settings.effective(GUILD, OTHER)).enabled_tools == ("web_search",)
    await settings.update("channel", CHANNEL, tools={"weather": True, "web_search": False})
    assert (await settings.effective(GUILD, CHANNEL)).enabled_tools == ("weather",)
    with pytest.raises(SettingsChangeError, match="fetch_page"):
        await settings.update("channel", CHANNEL, tools={"fetch_page": True})
    await settings.update("channel", CHANNEL, tools={"weather": None, "web_search": None})
    assert (await settings.effective(GUILD, CHANNEL)).enabled_tools == ("web_search",)


async def test_moderation_defaults_come_from_the_config_and_guilds_override(store: Store) -> None:
    settings = service(
        store,
        moderation={"mode": "flag", "thresholds": {"hate": 0.5}, "log_channel_id": 9, "rules": "r"},
    )
    base = (await settings.effective(GUILD, CHANNEL)).moderation
    assert (base.mode, base.log_channel_id, dict(base.thresholds), base.rules) == (
        "flag",
        9,
        {"hate": 0.5},
        "r",
    )
    await settings.update(
        "guild",
        GUILD,
        moderation_mode="block",
        moderation_log_channel_id=77,
        moderation_thresholds={"violence": 0.2},
        moderation_rules="Be kind.",
    )
    here = await settings.effective(GUILD, CHANNEL)
    assert here.moderation.mode == "block" and here.moderation_mode == "block"
    assert here.moderation_log_channel_id == 77
    assert dict(here.moderation_thresholds) == {"hate": 0.5, "violence": 0.2}
    assert here.moderation_rules == "Be kind."
    with pytest.raises(SettingsChangeError):
        await settings.update("guild", GUILD, moderation_mode="shout")


async def test_free_chat_comes_from_the_config_list_or_a_channel_flag(store: Store) -> None:
    settings = service(store, chat={"free_chat_channel_ids": [CHANNEL]})
    assert (await settings.effective(GUILD, CHANNEL)).free_chat is True
    assert (await settings.effective(GUILD, THREAD, parent_id=CHANNEL)).free_chat is True
    assert (await settings.effective(GUILD, OTHER)).free_chat is False
    await settings.update("channel", OTHER, free_chat=True)
    await settings.update("channel", CHANNEL, free_chat=False)
    assert (await settings.effective(GUILD, OTHER)).free_chat is True
    assert (await settings.effective(GUILD, CHANNEL)).free_chat is False


async def test_voice_replies_default_and_override(store: Store) -> None:
    settings = service(store, voice={"replies_default": True})
    assert (await settings.effective(GUILD, CHANNEL)).voice_replies is True
    await settings.update("guild", GUILD, voice_replies=False)
    assert (await settings.effective(GUILD, CHANNEL)).voice_replies is False


async def test_unreadable_stored_settings_count_as_unset(store: Store) -> None:
    await store.set_settings("guild", GUILD, {"persona": 5, "future_setting": "x"})
    assert (await service(store).effective(GUILD, CHANNEL)).persona is None


# -- the next turn sees a change (service level; the message path needs the chat cog's wiring) --


class RecordingSink:
    def __init__(self) -> None:
        self.finals: list[Final] = []
        self.failures: list[Failed] = []

    async def on_event(self, event: object) -> None:
        return None

    async def finish(self, final: Final) -> list[int]:
        self.finals.append(final)
        return []

    async def fail(self, failed: Failed) -> list[int]:
        self.failures.append(failed)
        return []


async def test_a_persona_change_takes_effect_on_the_next_turn(
    store: Store, openai_emulator: OpenAIEmulator
) -> None:
    config = make_settings(openai={"base_url": openai_emulator.base_url, "max_retries": 0})
    client = openai.AsyncOpenAI(api_key="sk-test", base_url=openai_emulator.base_url)
    services = Services(config, store, client, ToolRegistry(), TokenCounter())
    conversations = ConversationService(services)
    settings = GuildSettings(store, config, ())

    async def ask(message_id: int) -> None:
        effective = await settings.effective(GUILD, CHANNEL)
        turn = IncomingTurn(
            key=f"guild:{GUILD}:channel:{CHANNEL}",
            user_id=1,
            user_name="alice",
            channel_id=CHANNEL,
            text="hello",
            source_message_id=message_id,
            guild_id=GUILD,
            overrides=effective.turn_overrides(),
        )
        sink = RecordingSink()

        async def make_sink() -> RecordingSink:
            return sink

        assert await conversations.handle(turn, make_sink)
        assert sink.finals

    try:
        await settings.update("channel", CHANNEL, persona="a pirate", model="gpt-5.4")
        await ask(1)
        await settings.update("channel", CHANNEL, persona="a poet")
        await ask(2)
    finally:
        await client.close()
    first, second = openai_emulator.chat.requests
    assert "a pirate" in str(first["messages"][1]["content"]) and first["model"] == "gpt-5.4"
    assert "a poet" in str(second["messages"][1]["content"])


def test_describe_changes_reads_like_a_confirmation() -> None:
    text = describe_changes(
        {"persona": "x" * 300, "free_chat": True, "tools": {"weather": False, "web": None}}
    )
    assert text.startswith("persona “" + "x" * 200 + "…”")
    assert "free chat on" in text and "tools: weather off, web default" in text
    assert describe_changes({"model": None, "moderation_log_channel_id": 5}) == (
        "model cleared; moderation log channel <#5>"
    )


async def test_settings_in_force_are_combined_once_until_a_scope_changes(store: Store) -> None:
    settings = service(store)
    await settings.update("guild", GUILD, persona="pirate")
    first = await settings.effective(GUILD, CHANNEL)
    assert await settings.effective(GUILD, CHANNEL) is first  # the hot path: no re-merge
    await settings.update("channel", CHANNEL, persona="poet")
    changed = await settings.effective(GUILD, CHANNEL)
    assert changed is not first and changed.persona == "poet"
    assert (await settings.effective(GUILD, CHANNEL, parent_id=OTHER)).persona == "poet"


async def test_tools_added_while_running_can_be_switched(store: Store) -> None:
    names = list(TOOLS)
    settings = GuildSettings(store, make_settings(), lambda: names, ttl_s=0)
    await settings.update("guild", GUILD, tools={"weather": False})
    names.append("files__read_file")  # an MCP server listed a new tool
    assert settings.base_tools == (*TOOLS, "files__read_file")
    await settings.update("channel", CHANNEL, tools={"files__read_file": False})
    here = await settings.effective(GUILD, OTHER)
    assert here.enabled_tools == ("web_search", "fetch_page", "files__read_file")
