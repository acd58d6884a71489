"""The bot's own words in the user's language, end to end on the Discord emulator.

A ``ko`` interaction gets Korean replies and errors, an ``en-US`` one English, a key Korean lacks
comes in English, the synced commands carry Korean names and descriptions, and the model is told
the user's language.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bot.i18n import Catalogue
from bot.testing.discord import DiscordEmulator
from bot.testing.harness import BotHarness
from bot.testing.openai import Fault, OpenAIEmulator, TextReply, ToolCall
from cogs.commands import FORGET_PHRASE


async def command(
    emu: DiscordEmulator,
    name: str,
    /,
    *,
    locale: str,
    user: str = "bob",
    until: str = "",
    **options: Any,
) -> str:
    """The reply's content once it is non-empty (and holds ``until``: a streamed answer's text
    shows whole before its final edit adds the notice)."""
    handle = await emu.inject_interaction(
        name, user=user, channel="general", options=options or None, locale=locale
    )
    await handle.wait(lambda h: bool(h.final_content()) and until in str(h.final_content()), 20)
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
    assert commands["persona"]["description_localizations"] == {
        "ko": "봇이 이곳에서 따르는 페르소나(추가 지시)"
    }
    show = next(o for o in commands["persona"]["options"] if o["name"] == "show")
    assert show["description_localizations"] == {"ko": "이곳에 적용된 페르소나를 보여 줍니다."}


async def test_every_synced_command_and_option_has_a_korean_description(
    discord_emulator: DiscordEmulator, commands_bot: Callable[..., Any]
) -> None:
    """A command or option added without its ko.toml entry is named here."""
    async with commands_bot():
        listed = discord_emulator.commands.listed(None)  # type: ignore[attr-defined]
    untranslated = [path for entry in listed for path in _untranslated(entry)]
    assert untranslated == [], untranslated


def _untranslated(entry: dict[str, Any], prefix: str = "") -> list[str]:
    path = f"{prefix}{entry['name']}"
    if not prefix and entry.get("type") == 3:  # a message menu: its name is what shows
        return [] if (entry.get("name_localizations") or {}).get("ko") else [path]
    missing = [] if (entry.get("description_localizations") or {}).get("ko") else [path]
    for option in entry.get("options") or []:
        missing += _untranslated(option, path + " ")
    return missing


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


async def test_settings_replies_and_a_permission_refusal_in_korean_and_english(
    discord_emulator: DiscordEmulator, commands_bot: Callable[..., Any]
) -> None:
    emu = discord_emulator
    async with commands_bot():
        assert await command(emu, "persona show", locale="ko") == (
            "이곳에는 설정된 페르소나가 없습니다."
        )
        assert await command(emu, "persona show", locale="en-US") == "No persona is set here."
        assert await command(emu, "settings show", locale="ko") == (
            "이곳의 봇 설정을 바꾸려면 **서버 관리하기** 권한이 필요합니다."
        )
        assert await command(emu, "settings show", locale="en-US") == (
            "You need the **Manage Server** permission to change the bot's settings here."
        )
        assert await command(emu, "settings quota-reset", locale="ko") == (
            "이 서버의 사용 한도는 봇 소유자만 초기화할 수 있습니다. 이 한도는 봇이 이곳에서 "
            "쓰는 비용에 대해 소유자가 정한 것입니다. 더 필요하면 봇 소유자에게 문의해 주세요."
        )


async def test_knowledge_memory_and_mcp_replies_in_korean_and_english(
    discord_emulator: DiscordEmulator, commands_bot: Callable[..., Any]
) -> None:
    emu = discord_emulator
    async with commands_bot():
        assert await command(emu, "memory show", locale="ko") == (
            "봇이 이곳에서 나에 대해 기억하는 것이 없습니다."
        )
        assert await command(emu, "memory show", locale="en-US") == (
            "The bot remembers nothing about you here."
        )
        assert await command(emu, "memory forget", locale="ko", memory=7) == (
            "이곳에는 기억 #7이(가) 없습니다. /memory show를 보세요."
        )
        assert await command(emu, "memory forget", locale="en-US", memory=7) == (
            "You have no memory #7 here; see /memory show."
        )
        # bob lacks Manage Server: the refusal is in his language too.
        assert await command(emu, "knowledge list", locale="ko") == (
            "이 서버의 지식 베이스를 바꾸려면 **서버 관리하기** 권한이 있어야 합니다."
        )
        assert await command(emu, "knowledge list", locale="en-US") == (
            "You need the **Manage Server** permission to change this server's knowledge base."
        )
        assert await command(emu, "mcp", locale="ko") == (
            "MCP 서버는 봇 소유자나 서버 관리하기 권한이 있는 멤버만 볼 수 있습니다."
        )


async def test_a_korean_user_gets_the_quota_refusal_in_korean(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    openai_emulator.chat.set_default(
        TextReply("hi", usage={"prompt_tokens": 90, "completion_tokens": 20})
    )
    emu = discord_emulator
    # No tools: the /usage line then has no tool-definition detail to pin.
    async with commands_bot(quotas={"user_daily_tokens": 100}, tools={"modules": []}):
        assert await command(emu, "chat", locale="ko", prompt="x") == "hi"
        refused = await command(emu, "chat", locale="ko", prompt="x")
        english = await command(emu, "chat", locale="en-US", prompt="x")
        usage_ko = await command(emu, "usage", locale="ko")
        usage_en = await command(emu, "usage", locale="en-US")
    renews = re.search(r"<t:\d+:f> \(<t:\d+:R>\)", refused)
    assert renews is not None, refused
    assert refused == (
        f"⚠️ 오늘의 내 사용 한도(100 토큰)를 모두 사용했습니다. {renews[0]}에 다시 채워집니다."
    )
    assert english == (f"⚠️ You have used your daily budget of 100 tokens. It renews {renews[0]}.")
    assert usage_ko.splitlines()[:2] == [
        "**나**",
        f"- 오늘 110 토큰 / 100: 0 남음, {renews[0]}에 다시 채워짐",
    ]
    assert usage_en.splitlines()[:2] == [
        "**You**",
        f"- 110 tokens today of 100: 0 left, renews {renews[0]}",
    ]


async def test_a_channel_message_in_a_korean_server_gets_the_failure_in_korean(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
) -> None:
    """No interaction, so no user locale: the server's preferred locale picks the language."""
    emu = discord_emulator
    emu.guild.preferred_locale = "ko"
    openai_emulator.chat.reply_fault(Fault.outage(500, times=3))
    async with bot_harness.run(openai={"max_retries": 0}):
        general = emu.channel("general")
        await emu.inject_message(
            general, emu.user("alice"), f"<@{emu.bot_user.id}> hello", mentions=[emu.bot_user]
        )
        reply = await emu.wait_for_message(general, lambda m: "⚠️" in m.content, timeout=30)
    assert reply.content == "⚠️ 지금은 AI 서비스가 응답하지 않습니다. 잠시 후 다시 시도해 주세요."
    system = [m["content"] for m in openai_emulator.chat.requests[0]["messages"]]
    assert not any("Discord language" in text for text in system), "a server's, not the user's"


async def test_the_same_failure_in_an_english_server_is_english(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
) -> None:
    emu = discord_emulator
    openai_emulator.chat.reply_fault(Fault.outage(500, times=3))
    async with bot_harness.run(openai={"max_retries": 0}):
        general = emu.channel("general")
        await emu.inject_message(
            general, emu.user("alice"), f"<@{emu.bot_user.id}> hello", mentions=[emu.bot_user]
        )
        reply = await emu.wait_for_message(general, lambda m: "⚠️" in m.content, timeout=30)
    assert reply.content == (
        "⚠️ The AI service is not responding right now. Please try again shortly."
    )


async def test_answer_notices_follow_the_users_language(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    emu = discord_emulator
    openai_emulator.chat.reply_text("짧은 답", finish_reason="length")
    openai_emulator.chat.reply_text("", finish_reason="stop")
    openai_emulator.chat.reply_text("Short", finish_reason="length")
    async with commands_bot():
        cut = await command(emu, "chat", locale="ko", prompt="길게 써 줘", until="-#")
        empty = await command(emu, "chat", locale="ko", prompt="?")
        english = await command(emu, "chat", locale="en-US", prompt="write a lot", until="-#")
    assert cut == "짧은 답\n\n-# (답변이 길이 한도에 닿아 중간에 끊겼습니다.)"
    assert empty == "(모델이 답하지 않았습니다.)"
    assert english == "Short\n\n-# (The answer was cut short: it reached the length limit.)"


async def test_settings_show_and_a_saved_change_in_korean(
    discord_emulator: DiscordEmulator, commands_bot: Callable[..., Any]
) -> None:
    emu = discord_emulator
    async with commands_bot():
        saved = await command(
            emu, "settings private-conversations", locale="ko", user="owner", enabled=True
        )
        shown = await command(emu, "settings show", locale="ko", user="owner")
        english = await command(emu, "settings show", locale="en-US", user="owner")
        unknown = await command(emu, "model set", locale="ko", user="owner", name="gpt-9")
        unknown_en = await command(emu, "model set", locale="en-US", user="owner", name="gpt-9")
    assert saved == "이 서버에 저장했습니다: 개인 대화 켜짐."
    assert shown.splitlines() == [
        "모델: gpt-5.4-mini (기본값)",
        "추론 노력: 기본값",
        "페르소나: 없음",
        "도구: 전체",
        "이곳의 자유 대화: 꺼짐",
        "자동 스레드: 꺼짐",
        "개인 대화: 켜짐",
        "검열: off, 기준 점수 기본값",
        "음성 답변: 꺼짐",
    ]
    assert english.splitlines()[6] == "Private conversations: on"
    assert unknown.startswith(
        "아무것도 바꾸지 않았습니다: 모델 'gpt-9' 은(는) 봇 소유자가 허용한 모델이 아닙니다. "
        "다음 중에서 고르세요: gpt-5.4-mini"
    )
    assert unknown_en.startswith(
        "Nothing was changed: the model 'gpt-9' is not one the bot's owner allows; pick one of: "
        "gpt-5.4-mini"
    )


async def test_a_key_missing_from_the_korean_catalogue_comes_in_english(
    discord_emulator: DiscordEmulator, commands_bot: Callable[..., Any]
) -> None:
    full = Catalogue.load()
    korean = full.templates("ko")
    del korean["reset.nothing"]
    english = full.templates("en")
    emu = discord_emulator
    async with commands_bot() as bot:
        bot.catalogue = Catalogue({"en": english, "ko": korean})
        assert await command(emu, "reset", locale="ko") == "There was nothing to clear here."
        assert await command(emu, "export", locale="ko") == (
            "여기에는 아직 봇과 나눈 대화가 없습니다."
        )
    assert bot.catalogue.missing() == {"ko": ["reset.nothing"]}


async def test_a_refused_image_is_explained_in_the_users_language(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    openai_emulator.images.reply_fault(Fault.content_policy_violation())
    openai_emulator.images.reply_fault(Fault.content_policy_violation())
    emu = discord_emulator
    async with commands_bot(tools={"modules": ["tools.weather", "tools.images"]}):
        korean = await command(emu, "imagine", locale="ko", prompt="forbidden")
        english = await command(emu, "imagine", locale="en-US", prompt="forbidden")
    assert korean == (
        "⚠️ 이미지 서비스가 콘텐츠 정책에 따라 이 요청을 거절해 이미지를 만들지 않았습니다. "
        "다르게 설명해 보세요."
    )
    assert english == (
        "⚠️ The image service declined this request under its content policy, so no image was "
        "made. Try describing the image differently."
    )


async def test_a_turn_stopped_by_a_spent_budget_says_so_in_korean(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    commands_bot: Callable[..., Any],
) -> None:
    """The budget runs out after the first round: the turn stops before its second."""
    usage = {"prompt_tokens": 900, "completion_tokens": 200}
    roll = ToolCall("roll_dice", {"count": 1, "sides": 6})
    openai_emulator.chat.reply_tool_calls([roll], usage=usage)
    openai_emulator.chat.reply_text("never sent")
    emu = discord_emulator
    settings = {"tools": {"modules": ["examples.dice"]}, "quotas": {"user_daily_tokens": 1000}}
    async with commands_bot(**settings):
        stopped = await command(emu, "chat", locale="ko", prompt="주사위 굴려 줘")
    renews = re.search(r"<t:\d+:f> \(<t:\d+:R>\)", stopped)
    assert renews is not None, stopped
    assert stopped == (
        f"⚠️ 오늘의 내 사용 한도(1,000 토큰)를 모두 사용했습니다. {renews[0]}에 다시 채워집니다."
    )
    assert openai_emulator.attempts("/v1/chat/completions") == 1
