"""Issue 16, finding 4: images are stored once, downscaled, and every request has a byte budget.

Reproduction: three DMs with four ~1 MB images each, then a text-only turn. Before the fix the
text-only turn re-sent all twelve images as base64 (a 16 MB request body) and every turn row
held its images' bytes.
"""

from __future__ import annotations

import json
import random
from io import BytesIO
from typing import Any

from PIL import Image

from bot.images import data_url, data_url_length, prepare
from bot.store.images import LEFT_OUT, NOT_RESENT
from bot.testing.discord import DiscordEmulator
from bot.testing.harness import BotHarness
from bot.testing.openai import OpenAIEmulator

CHAT = "/v1/chat/completions"
BUDGET = 8_000_000

# These tests count the requests images go in: no rolling-summary requests (issue 18) between.
NO_SUMMARIES = {"summaries": False}


def noisy_png(side: int, seed: int) -> bytes:
    """A PNG of random pixels (it does not compress): about ``3 * side**2`` bytes."""
    pixels = random.Random(seed).randbytes(side * side * 3)
    buffer = BytesIO()
    Image.frombytes("RGB", (side, side), pixels).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def _chat_requests(openai_emulator: OpenAIEmulator) -> list[bytes]:
    return [request.body for request in openai_emulator.requests if request.path == CHAT]


async def test_twelve_one_megabyte_images_are_stored_once_and_not_resent_past_the_budget(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    dm = emu.dm_channel("bob")
    images = [noisy_png(580, seed) for seed in range(12)]
    assert all(1_000_000 <= len(image) <= 1_100_000 for image in images)
    async with bot_harness.run(knowledge=NO_SUMMARIES) as bot:
        for turn in range(3):
            batch = images[turn * 4 : turn * 4 + 4]
            attachments = [
                emu.attachment(f"photo{turn}-{i}.png", data, "image/png")
                for i, data in enumerate(batch)
            ]
            await emu.inject_message(dm, "bob", f"look at these {turn}", attachments=attachments)
            await emu.wait_for_message(dm, lambda m, t=turn: f"look at these {t}" in m.content)
        await emu.inject_message(dm, "bob", "what did I send you?")
        await emu.wait_for_message(dm, lambda m: "what did I send you?" in m.content)
        conversation = await bot.services.store.get_conversation(f"dm:{emu.user('bob').id}")
        assert conversation is not None
        stored = await bot.services.store.list_images(conversation.id)
        exported = await bot.services.store.export_conversation(conversation.key)

    bodies = _chat_requests(openai_emulator)
    assert len(bodies) == 4
    last = bodies[-1]
    assert len(last) < BUDGET + 100_000, f"text-only turn sent {len(last)} bytes"
    assert len(last) < 4_500_000, "twelve downscaled JPEGs: about 3.9 MB (16.2 MB before)"
    messages = json.loads(last)["messages"]
    sent = [p for m in messages if isinstance(m["content"], list) for p in m["content"]]
    urls = [p["image_url"]["url"] for p in sent if p["type"] == "image_url"]
    assert len(urls) == 12, "twelve downscaled images fit the default 8 MB budget"
    assert all(url.startswith("data:image/jpeg;base64,") for url in urls), "re-encoded as JPEG"
    assert sum(len(url) for url in urls) <= BUDGET
    assert len(stored) == 12, "each image is stored once"
    assert len({image.image_id for image in stored}) == 12
    assert all(image.mime == "image/jpeg" and image.size < 600_000 for image in stored)
    document = json.dumps(exported)
    assert "base64" not in document, "turn rows hold references, not image bytes"
    assert document.count('"type": "image_ref"') == 12


async def test_a_small_image_budget_sends_the_newest_images_and_notes_the_rest(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    dm = emu.dm_channel("bob")
    images = [noisy_png(580, seed) for seed in range(8)]
    prepared = [prepare(image) for image in images]
    one = data_url_length("image/jpeg", max(len(p.data) for p in prepared))
    budget = 3 * one + 1_000
    async with bot_harness.run(
        chat={"max_image_bytes_per_request": budget}, knowledge=NO_SUMMARIES
    ):
        for turn in range(2):
            attachments = [
                emu.attachment(f"p{turn}-{i}.png", data, "image/png")
                for i, data in enumerate(images[turn * 4 : turn * 4 + 4])
            ]
            await emu.inject_message(dm, "bob", f"pictures {turn}", attachments=attachments)
            await emu.wait_for_message(dm, lambda m, t=turn: f"pictures {t}" in m.content)
        await emu.inject_message(dm, "bob", "and now?")
        await emu.wait_for_message(dm, lambda m: "and now?" in m.content)

    first, second, last = (json.loads(body)["messages"] for body in _chat_requests(openai_emulator))
    assert _image_parts(first[-1]) == [data_url(p.mime, p.data) for p in prepared[:3]] + [LEFT_OUT]
    # The system prompt, then the note naming the conversation's 8 images (issue 21).
    assert [m["role"] for m in last] == ["system", "system", *["user", "assistant"] * 2, "user"]
    assert last[1]["content"].startswith("Images in this conversation")
    assert _image_parts(last[-1]) == []
    assert _image_parts(last[-5]) == [NOT_RESENT] * 4, "the first DM's images are not re-sent"
    newest = [data_url(p.mime, p.data) for p in prepared[4:7]]
    assert _image_parts(second[-1]) == [*newest, LEFT_OUT]
    assert _image_parts(last[-3]) == [*newest, NOT_RESENT]
    assert sum(len(url) for url in newest) <= budget


def _image_parts(message: dict[str, Any]) -> list[str]:
    """Each image part's data URL, or the text of the note that replaced it."""
    content = message["content"]
    if not isinstance(content, list):
        return []
    return [
        part["image_url"]["url"] if part["type"] == "image_url" else part["text"]
        for part in content
        if part["type"] == "image_url" or part["text"].startswith("[image")
    ]


async def test_a_file_that_only_claims_to_be_an_image_is_noted_not_sent(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    dm = emu.dm_channel("bob")
    svg = b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"
    async with bot_harness.run(knowledge=NO_SUMMARIES):
        fake = emu.attachment("cat.png", svg, "image/png")
        await emu.inject_message(dm, "bob", "what is this?", attachments=[fake])
        await emu.wait_for_message(dm, lambda m: "what is this?" in m.content)

    (body,) = _chat_requests(openai_emulator)
    user = json.loads(body)["messages"][-1]
    assert user["content"] == (
        "what is this?\n\n[image cat.png: not a PNG, JPEG, GIF or WebP image; not read]"
    )
