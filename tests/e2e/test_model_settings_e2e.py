"""Every model setting does what it says: ``openai.image_model`` is the image request's model."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.models import tool_config
from bot.settings import load_settings
from bot.testing.discord import DiscordEmulator
from bot.testing.harness import BotHarness
from bot.testing.openai import ImageReply, OpenAIEmulator, ToolCall
from bot.testing.openai.media.png import solid_png

from .conftest import ask

IMAGE_TOOLS = {"modules": ["tools.weather", "tools.search", "tools.images"]}


@pytest.mark.parametrize("model", ["gpt-image-2", "gpt-image-1.5"])
async def test_openai_image_model_is_the_model_the_image_request_carries(
    model: str,
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
) -> None:
    openai_emulator.images.reply(ImageReply(images=[solid_png(8, 8, (1, 2, 3))]))
    openai_emulator.chat.reply_tool_calls(
        [ToolCall("generate_image", {"prompt": "a dot", "size": None, "quality": None})]
    )
    openai_emulator.chat.reply_text("Here.")
    async with bot_harness.run(tools=IMAGE_TOOLS, openai={"image_model": model}) as bot:
        await ask(discord_emulator, "draw a dot", user="bob")
        await discord_emulator.wait_for_message(
            "general", lambda m: m.content == "Here." and bool(m.attachments), timeout=20
        )
        bob = discord_emulator.user("bob")
        charged = await bot.services.store.usage_totals(user_id=bob.id, model=model)
    (body,) = openai_emulator.images.requests
    assert body["model"] == model
    assert charged.images == 1, "the ledger row names the model the request used"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("family", "setting"), [("images", "image_model"), ("moderation", "moderation_model")]
)
def test_a_model_under_tools_config_is_refused_with_where_it_moved(
    family: str, setting: str, tmp_path: Path
) -> None:
    config = _write(tmp_path, f'[tools.config.{family}]\nmodel = "x"\n')
    with pytest.raises(ConfigError) as caught:
        load_settings(config, env_file=None)
    assert (
        f"tools.config.{family}.model is no longer read: move the model to openai.{setting} "
        f"(one setting decides it) and delete tools.config.{family}.model"
    ) in str(caught.value)


def test_the_tools_get_the_image_and_moderation_models_from_openai(tmp_path: Path) -> None:
    config = _write(
        tmp_path,
        '[openai]\nimage_model = "gpt-image-1.5"\nmoderation_model = "omni-moderation-2024-09-26"\n'
        "[tools.config.images]\nmax_n = 2\n",
    )
    tools = tool_config(load_settings(config, env_file=None))
    assert tools["images"] == {"max_n": 2, "model": "gpt-image-1.5"}
    assert tools["moderation"] == {"model": "omni-moderation-2024-09-26"}


async def test_openai_moderation_model_is_the_model_check_moderation_sends(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
) -> None:
    openai_emulator.chat.reply_tool_calls(
        [ToolCall("check_moderation", {"text": "is this fine?", "attached_image": False})]
    )
    openai_emulator.chat.reply_text("It is fine.")
    tools = {"modules": ["tools.moderation"]}
    model = "omni-moderation-2024-09-26"
    async with bot_harness.run(
        tools=tools, openai={"moderation_model": model}, moderation={"mode": "off"}
    ):
        await ask(discord_emulator, "check this", user="bob")
        await discord_emulator.wait_for_message(
            "general", lambda m: m.content == "It is fine.", timeout=20
        )
    [request] = openai_emulator.moderations.requests
    assert request["model"] == model
