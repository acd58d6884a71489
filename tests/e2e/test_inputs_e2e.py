"""Issue 21: PDFs and image links as model input, end to end on the real bot and both emulators."""

from __future__ import annotations

from typing import Any

from bot.images import decode_data_url
from bot.testing.discord import DiscordEmulator
from bot.testing.fakes.pdf import scanned_pdf, text_pdf
from bot.testing.fakes.web import FakeWeb
from bot.testing.harness import BotHarness
from bot.testing.openai import OpenAIEmulator
from bot.testing.openai.media.png import solid_png

from .conftest import mention


def _user_text(request: dict[str, Any]) -> str:
    content = request["messages"][-1]["content"]
    if isinstance(content, str):
        return content
    return "\n".join(part.get("text", "") for part in content if part["type"] == "text")


def _images(request: dict[str, Any]) -> list[tuple[str, bytes]]:
    content = request["messages"][-1]["content"]
    if isinstance(content, str):
        return []
    found = [decode_data_url(p["image_url"]["url"]) for p in content if p["type"] == "image_url"]
    return [item for item in found if item is not None]


async def _send(emu: DiscordEmulator, text: str, **extra: Any) -> None:
    await emu.inject_message(
        "general", "bob", f"{mention(emu)} {text}", mentions=[emu.bot_user], **extra
    )


async def test_a_two_page_pdf_is_answered_from_page_two_with_the_page_cited(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    pdf = text_pdf(["Quarterly report. Summary.", "The invoice total is 4210 euros."])
    openai_emulator.chat.reply_text("The total is 4210 euros (page 2).")
    async with bot_harness.run():
        await _send(
            emu,
            "what is the total?",
            attachments=[emu.attachment("q3.pdf", pdf, "application/pdf")],
        )
        await emu.wait_for_message("general", lambda m: "(page 2)" in m.content, timeout=20)

    (request,) = openai_emulator.chat.requests
    text = _user_text(request)
    assert "Attached PDF q3.pdf (2 pages); cite pages by number:" in text
    assert "--- page 2 ---\nThe invoice total is 4210 euros." in text
    assert text.index("--- page 1 ---\nQuarterly report. Summary.") < text.index("--- page 2 ---")
    assert "not read" not in text


async def test_a_scanned_pdf_is_answered_with_the_clear_note(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    openai_emulator.chat.reply_text("That PDF is a scan; please paste its text.")
    async with bot_harness.run():
        attachment = emu.attachment("scan.pdf", scanned_pdf(2), "application/pdf")
        await _send(emu, "summarise this", attachments=[attachment])
        await emu.wait_for_message("general", lambda m: "is a scan" in m.content, timeout=20)

    (request,) = openai_emulator.chat.requests
    assert (
        "[PDF scan.pdf (2 pages) has no text layer: it is probably scanned images, so its text "
        "could not be read. Tell the user; they can paste the text or attach the pages as images.]"
    ) in _user_text(request)


async def test_an_image_link_and_an_embed_image_are_shown_to_the_model(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    async with FakeWeb() as site:
        site.add_page("/cat.png", solid_png(40, 30, (200, 10, 10)), "image/png")
        site.add_page("/embed.png", solid_png(20, 20, (10, 200, 10)), "image/png")
        site.add_page("/fake.png", b"<html>not an image</html>", "image/png")
        openai_emulator.chat.reply_text("A red rectangle and a green square.")
        inputs = {"link_allow_networks": ["127.0.0.1/32"], "link_allow_ports": [site.port]}
        async with bot_harness.run(inputs=inputs):
            await _send(
                emu,
                f"what is in {site.url('/cat.png')} and {site.url('/fake.png')}?",
                embeds=[{"type": "image", "image": {"url": site.url("/embed.png")}}],
            )
            await emu.wait_for_message(
                "general", lambda m: "red rectangle" in m.content, timeout=20
            )
        assert len(site.requests_to("/cat.png")) == 1

    (request,) = openai_emulator.chat.requests
    shown = _images(request)
    assert [mime for mime, _ in shown] == ["image/jpeg", "image/jpeg"]
    assert (
        f"[image link {site.url('/fake.png')}: not a PNG, JPEG, GIF or WebP image; not shown]"
        in (_user_text(request))
    )


async def test_an_image_link_to_a_private_address_is_noted_not_fetched(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    async with FakeWeb() as site:
        site.add_page("/cat.png", solid_png(40, 30, (200, 10, 10)), "image/png")
        openai_emulator.chat.reply_text("I could not open that link.")
        async with bot_harness.run(inputs={"link_allow_ports": [site.port]}):
            await _send(emu, f"what is in {site.url('/cat.png')}?")
            await emu.wait_for_message(
                "general", lambda m: "could not open" in m.content, timeout=20
            )
        assert site.requests_to("/cat.png") == []

    (request,) = openai_emulator.chat.requests
    assert _images(request) == []
    text = _user_text(request)
    assert (
        f"[image link {site.url('/cat.png')}: not fetched (the address belongs to a blocked range "
        "(loopback); only public internet addresses can be fetched); not shown]"
    ) in text


async def test_the_window_counts_the_pdf_text_that_was_read(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu = discord_emulator
    words = " ".join(f"word{n}" for n in range(1500))  # 3,500 tokens in all
    pdf = text_pdf([words[: len(words) // 2], words[len(words) // 2 :]])
    openai_emulator.chat.reply_text("Hello there, " + "earlier answer " * 40)
    openai_emulator.chat.reply_text("Read it.")
    settings = {"openai": {"context_tokens": 3_600}, "tools": {"modules": []}}
    async with bot_harness.run(**settings):
        await _send(emu, "hello")
        await emu.wait_for_message("general", lambda m: "Hello there" in m.content, timeout=20)
        attachment = emu.attachment("long.pdf", pdf, "application/pdf")
        await _send(emu, "read this", attachments=[attachment])
        await emu.wait_for_message("general", lambda m: m.content == "Read it.", timeout=20)

    first, second = openai_emulator.chat.requests
    assert [m["role"] for m in first["messages"]] == ["system", "user"]
    # The PDF's text fills the window: the earlier exchange no longer fits and is left out.
    assert [m["role"] for m in second["messages"]] == ["system", "user"]
    assert "word1499" in _user_text(second)
