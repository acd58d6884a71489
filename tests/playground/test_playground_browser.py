"""The playground in a real headless Chromium: streaming, slash commands, images, tool progress.

The page is driven the way a person uses it (typing, clicking, choosing files); the assertions
look at the page and at what reached the emulators.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from bot.playground import Playground
from bot.testing.openai.media.ogg import silent_ogg_opus

from .conftest import CHROMIUM_ARGS

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="install the dev extras: pip install -e '.[dev]'"
)
expect = playwright_api.expect

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "playground.png"
UPDATE_SCREENSHOT = "TOOLCORD_UPDATE_SCREENSHOT"
WAIT_MS = 30_000
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f00050001ff89993d1d0000000049454e44ae426082"
)
RECORD_LENGTHS = """() => {
  window.botLengths = [];
  new MutationObserver(() => {
    const bot = document.querySelectorAll("article.from-bot");
    const last = bot[bot.length - 1];
    if (last) { window.botLengths.push(last.innerText.length); }
  }).observe(document.getElementById("messages"), {childList: true, subtree: true});
}"""


async def open_channel(browser: Any, playground: Playground, channel_id: int) -> Any:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await page.goto(playground.link(f"channels/{channel_id}"))
    await expect(page.locator("body[data-live='1']")).to_be_attached(timeout=WAIT_MS)
    return page


async def say(page: Any, text: str) -> None:
    box = page.get_by_role("textbox", name="Message")
    await box.fill(text)
    await box.press("Enter")


async def test_a_message_gets_an_answer_that_streams_into_the_page(
    playground: Playground, browser: Any, tmp_path: Path
) -> None:
    page = await open_channel(browser, playground, playground.world.general.id)
    await say(page, "What's the weather in Tokyo?")
    await expect(page.locator("article.from-bot").last).to_contain_text(
        "Weather for Tokyo", timeout=WAIT_MS
    )
    await page.evaluate(RECORD_LENGTHS)
    await say(page, "show me a long answer with code")
    mine = page.locator("article[data-author='you']").last
    await expect(mine).to_contain_text("show me a long answer with code", timeout=WAIT_MS)
    answer = page.locator("article.from-bot").last
    await expect(answer).to_contain_text("from the channel header.", timeout=WAIT_MS)
    lengths = await page.evaluate("window.botLengths")
    growing = sorted(set(lengths))
    assert len(growing) >= 3, f"the answer must appear and grow in steps, saw {growing}"
    first = page.locator("article.from-bot").nth(-2)
    await expect(first.locator("pre.md-code code[data-lang='python']")).to_contain_text(
        "async def roll_dice"
    )
    await expect(first.locator(".msg-context")).to_contain_text("@You")
    answers = [m for m in playground.discord.messages(playground.world.general) if m.author.bot]
    assert answers[-2].edits, "the bot streamed by editing its message"
    await _screenshot(page, tmp_path)


async def _screenshot(page: Any, tmp_path: Path) -> None:
    """The README's screenshot, from the weather question down: kept in docs/ when missing or
    when ``TOOLCORD_UPDATE_SCREENSHOT`` is set (else it goes to a temporary folder)."""
    question = page.locator("article[data-author='you']", has_text="weather in Tokyo")
    await question.evaluate("node => node.scrollIntoView({block: 'start'})")
    target = SCREENSHOT if os.environ.get(UPDATE_SCREENSHOT) or not SCREENSHOT.exists() else None
    path = target or tmp_path / "playground.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000


async def test_a_slash_command_runs_from_the_palette(
    playground: Playground, browser: Any, tmp_path: Path
) -> None:
    page = await open_channel(browser, playground, playground.world.general.id)
    palette = page.locator("#palette")
    names = await palette.locator(".command").evaluate_all(
        "nodes => nodes.map(n => n.dataset.command)"
    )
    assert names, "the bot's synced commands are offered"
    box = page.get_by_role("textbox", name="Message")
    command = "chat" if "chat" in names else "transcribe"
    await box.fill("/" + command[:3])
    await expect(palette).to_have_attribute("open", "")
    form = palette.locator(f".command[data-command='{command}']")
    await expect(form).to_be_visible()
    await form.locator("summary").click()
    if command == "chat":
        await form.locator("input[name='o_prompt']").fill("roll 2d6")
        expected = "roll_dice returned"
    else:
        ogg = tmp_path / "hello.ogg"
        ogg.write_bytes(silent_ogg_opus(1.0))
        await form.locator("input[name='o_file']").set_input_files(str(ogg))
        expected = "weather in Oslo"
    await form.get_by_role("button", name=f"Run /{command}").click()
    response = page.locator("article.from-bot", has=page.locator(".msg-context .cmd"))
    await expect(response.last).to_contain_text(f"/{command}", timeout=WAIT_MS)
    await expect(response.last).to_contain_text(expected, timeout=WAIT_MS)
    # The "/cha" typed to find the command is gone, and the palette is closed and unfiltered.
    await expect(box).to_have_value("")
    await expect(palette).not_to_have_attribute("open", "")
    assert await palette.locator(".command[hidden]").count() == 0


async def test_an_attached_image_is_shown_and_reaches_the_model(
    playground: Playground, browser: Any, tmp_path: Path
) -> None:
    image = tmp_path / "dot.png"
    image.write_bytes(PNG)
    page = await open_channel(browser, playground, playground.world.general.id)
    await page.locator("#composer input[name='files']").set_input_files(str(image))
    await say(page, "what is in this picture?")
    shown = page.locator("article[data-author='you'] figure.image img").last
    await expect(shown).to_be_visible(timeout=WAIT_MS)
    assert await shown.evaluate("img => img.complete && img.naturalWidth") == 1
    answer = page.locator("article.from-bot").last
    await expect(answer).to_contain_text("received an image", timeout=WAIT_MS)
    assert playground.backends is not None
    request = playground.backends.openai.chat.requests[-1]
    parts = request["messages"][-1]["content"]
    assert any(part.get("type") == "image_url" for part in parts)


async def test_a_tool_shows_its_progress_line_then_its_result(
    playground: Playground, browser: Any
) -> None:
    page = await open_channel(browser, playground, playground.world.channels[2].id)
    await say(page, "What's the weather in Tokyo?")
    answer = page.locator("article.from-bot").last
    progress = answer.locator(".md-sub")
    await expect(progress).to_contain_text("Tokyo", timeout=WAIT_MS)
    await expect(answer).to_contain_text("Weather for Tokyo", timeout=WAIT_MS)
    await expect(answer.locator(".md-sub", has_text="Checking the weather")).to_have_count(0)
    await expect(answer.locator("blockquote")).to_contain_text("Forecast")


async def test_a_recorded_voice_message_is_transcribed_and_answered(
    playground: Playground, chromium: Path
) -> None:
    fake_microphone = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
    async with playwright_api.async_playwright() as driver:
        browser = await driver.chromium.launch(
            executable_path=str(chromium), args=[*CHROMIUM_ARGS, *fake_microphone]
        )
        try:
            page = await open_channel(browser, playground, playground.world.dm.id)
            record = page.locator("#record")
            await record.click()
            await expect(record).to_have_class(re.compile("recording"), timeout=WAIT_MS)
            await page.wait_for_timeout(1200)  # a second of (fake) speech
            await record.click()
            voice = page.locator("article[data-author='you'] .audio").last
            await expect(voice).to_contain_text("Voice message", timeout=WAIT_MS)
            answer = page.locator("article.from-bot", has_text="Weather for Oslo")
            await expect(answer.last).to_be_visible(timeout=WAIT_MS)
        finally:
            await browser.close()


def _png(width: int, height: int) -> bytes:
    """A plain grey PNG of this size (large enough to change the page's scroll height)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


AT_BOTTOM = "() => { const l = document.getElementById('messages'); " + (
    "return l.scrollHeight - l.scrollTop - l.clientHeight < 4; }"
)


async def test_the_view_follows_an_image_that_loads_after_its_message(
    playground: Playground, browser: Any, tmp_path: Path
) -> None:
    image = tmp_path / "tall.png"
    image.write_bytes(_png(300, 300))
    page = await browser.new_page(viewport={"width": 1000, "height": 420})
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    await page.goto(playground.link(f"channels/{playground.world.general.id}"))
    await expect(page.locator("body[data-live='1']")).to_be_attached(timeout=WAIT_MS)
    # No answer: the image is the last thing shown.
    await page.locator("#composer input[name='mention_bot']").uncheck()
    await page.locator("#composer input[name='files']").set_input_files(str(image))
    await say(page, "a tall picture")
    shown = page.locator("article[data-author='you'] figure.image img").last
    await expect(shown).to_be_visible(timeout=WAIT_MS)
    await page.wait_for_function(
        "img => img.complete && img.naturalHeight === 300", arg=await shown.element_handle()
    )
    await page.wait_for_function(AT_BOTTOM, timeout=WAIT_MS)
    assert failed == [], "no request of the page may fail (the favicon included)"
