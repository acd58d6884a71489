"""The bot's own words in the user's language, end to end on the Discord emulator.

A ``ko`` interaction gets Korean replies and errors, an ``en-US`` one English, a key Korean lacks
comes in English, the synced commands carry Korean names and descriptions, and the model is told
the user's language.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.testing.discord import DiscordEmulator
from bot.testing.openai import OpenAIEmulator
from cogs.commands import FORGET_PHRASE


async def command(
    emu: DiscordEmulator, name: str, /, *, locale: str, user: str = "bob", **options: Any
) -> str:
    handle = await emu.inject_interaction(
        name, user=user, channel="general", options=options or None, locale=locale
    )
    await handle.wait(lambda h: bool(h.final_content()), timeout=20)
    return str(handle.final_content())


async def test_a_korean_user_gets_korean_replies_and_an_english_one_english(
    discord_emulator: DiscordEmulator, commands_bot: Callable[..., Any]
) -> None:
    emu = discord_emulator
    async with commands_bot():
        assert await command(emu, "reset", locale="ko") == "여기에는 지울 대화가 없습니다."
        assert await command(emu, "reset", locale="en-US") == "There was nothing to clear here."
        assert await command(emu, "export", locale="ko") == (
            "여기에는 아직 봇과 나눈 대화가 없습니다."
        )
        refused = await command(emu, "forget-me", locale="ko", confirm="no")
        assert refused == f'아무것도 지우지 않았습니다. "{FORGET_PHRASE}"(으)로 확인해 주세요.'
        refused = await command(emu, "forget-me", locale="en-GB", confirm="no")
        assert refused == f'Nothing was deleted: confirm with "{FORGET_PHRASE}".'


async def test_a_korean_user_gets_the_error_reply_in_korean(
    discord_emulator: DiscordEmulator, commands_bot: Callable[..., Any]
) -> None:
    emu = discord_emulator
    async with commands_bot() as bot:

        async def broken(key: str) -> bool:
            raise RuntimeError("the disk is on fire")

        bot.services.store.clear_conversation = broken  # type: ignore[method-assign]
        reply = await command(emu, "reset", locale="ko")
    assert reply == "⚠️ 봇 쪽에서 문제가 생겼습니다. 봇 관리자가 로그에서 확인할 수 있습니다."


async def test_a_message_missing_in_a_catalogue_falls_back_to_english(
    discord_emulator: DiscordEmulator, commands_bot: Callable[..., Any]
) -> None:
    emu = discord_emulator
    async with commands_bot() as bot:
        assert bot.catalogue.resolve("ja") is None
        assert await command(emu, "reset", locale="ja") == "There was nothing to clear here."
        # pt-BR has no catalogue either: its language part (pt) is tried, then English.
        assert await command(emu, "reset", locale="pt-BR") == "There was nothing to clear here."


async def test_synced_commands_carry_korean_names_and_descriptions(
    discord_emulator: DiscordEmulator, commands_bot: Callable[..., Any]
) -> None:
    async with commands_bot():
        commands = {
            c["name"]: c
            for c in discord_emulator.commands.listed(None)  # type: ignore[attr-defined]
        }
    reset = commands["reset"]
    assert reset["name_localizations"] == {"ko": "초기화"}
    assert reset["description_localizations"] == {
        "ko": "이곳의 대화를 지우고 봇이 처음부터 다시 시작하게 합니다."
    }
    (shared,) = reset["options"]
    assert shared["description_localizations"] == {
        "ko": "이곳에서 모두가 함께 쓰는 대화를 지웁니다 (메시지 관리 권한)"
    }
    assert commands["Ask about this message"]["name_localizations"] == {
        "ko": "이 메시지에 대해 묻기"
    }
    assert commands["imagine"]["description_localizations"] == {
        "ko": "설명한 대로 이미지를 만듭니다."
    }
    assert not commands["persona"].get("description_localizations"), "not translated yet"


async def test_the_model_is_told_the_users_language(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    openai_emulator.chat.reply_text("안녕하세요!")
    async with commands_bot():
        await command(discord_emulator, "chat", locale="ko", prompt="hello")
    system = [m["content"] for m in openai_emulator.chat.requests[0]["messages"]]
    assert (
        "The user's Discord language is ko (Korean). Answer in that language unless they write "
        "in another one or the persona says otherwise."
    ) in system
