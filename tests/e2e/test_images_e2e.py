"""Issue 6: image generation and editing end to end on the real bot and both emulators."""

from __future__ import annotations

from bot.testing.discord import DiscordEmulator
from bot.testing.harness import BotHarness
from bot.testing.openai import Fault, ImageReply, OpenAIEmulator, ToolCall
from bot.testing.openai.media.png import solid_png

from .conftest import ask, mention

IMAGE_TOOLS = {"modules": ["tools.weather", "tools.search", "tools.images"]}
GENERATIONS = "/v1/images/generations"
EDITS = "/v1/images/edits"


async def test_a_generated_image_arrives_as_an_attachment_of_the_reply(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    picture = solid_png(32, 32, (250, 120, 0))
    openai_emulator.images.reply(ImageReply(images=[picture]))
    openai_emulator.chat.reply_tool_calls(
        [ToolCall("generate_image", {"prompt": "an orange sunset", "size": None, "quality": None})]
    )
    openai_emulator.chat.reply_text("Here is your orange sunset.")
    async with bot_harness.run(tools=IMAGE_TOOLS):
        await ask(emu, "draw me an orange sunset", user="bob")
        reply = await emu.wait_for_message(
            "general",
            lambda m: m.content == "Here is your orange sunset." and bool(m.attachments),
            timeout=20,
        )

    (attached,) = reply.attachments
    assert attached.data == picture and attached.content_type == "image/png"
    assert attached.filename.endswith(".png")
    (body,) = openai_emulator.images.requests
    assert (body["model"], body["prompt"], body["n"]) == ("gpt-image-2", "an orange sunset", 1)
    assert openai_emulator.attempts(GENERATIONS) == 1
    *_, tool_message, shown = openai_emulator.chat.requests[1]["messages"]
    assert tool_message["role"] == "tool"
    assert "attached to your reply" in tool_message["content"]
    assert len(tool_message["content"]) < 400, "the tool result is a short text"
    assert shown["role"] == "user", "the image follows as a user message (issue 21)"


async def test_an_attached_image_is_edited_and_sent_back(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    original = solid_png(24, 24, (0, 0, 255))
    edited = solid_png(24, 24, (0, 255, 0))
    openai_emulator.image_edits.reply(ImageReply(images=[edited]))
    openai_emulator.chat.reply_tool_calls(
        [ToolCall("edit_image", {"prompt": "make it green", "use_mask": False})]
    )
    openai_emulator.chat.reply_text("Done, it is green now.")
    async with bot_harness.run(tools=IMAGE_TOOLS):
        photo = emu.attachment("blue.png", original, "image/png")
        await emu.inject_message(
            "general",
            "bob",
            f"{mention(emu)} make this green",
            mentions=[emu.bot_user],
            attachments=[photo],
        )
        reply = await emu.wait_for_message(
            "general", lambda m: "green now" in m.content and bool(m.attachments), timeout=20
        )

    (edit_request,) = [r for r in openai_emulator.requests if r.path == EDITS]
    (upload,) = edit_request.files
    assert upload.data == original and upload.filename == "blue.png"
    assert openai_emulator.image_edits.requests[0]["prompt"] == "make it green"
    assert reply.attachments[0].data == edited


async def test_a_content_policy_refusal_becomes_a_polite_answer(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    openai_emulator.images.reply_fault(Fault.content_policy_violation())
    openai_emulator.chat.reply_tool_calls([ToolCall("generate_image", {"prompt": "forbidden"})])
    openai_emulator.chat.reply_text(
        "Sorry, I can't make that image. Try describing it differently."
    )
    async with bot_harness.run(tools=IMAGE_TOOLS):
        await ask(emu, "draw something forbidden", user="bob")
        reply = await emu.wait_for_message(
            "general", lambda m: m.content.startswith("Sorry, I can't make"), timeout=20
        )

    assert reply.attachments == []
    assert openai_emulator.attempts(GENERATIONS) == 1, "no retry, no second bill"
    tool_message = openai_emulator.chat.requests[1]["messages"][-1]
    assert "declined this request under its content policy" in tool_message["content"]
