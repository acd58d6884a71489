"""Fixtures of the playground tests: an offline playground in this process, and Chromium."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.playground import Playground
from bot.settings import Settings, settings_from

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FAST = {"discord": {"guild_ready_timeout": 0.05}, "chat": {"edit_interval_s": 0.25}}


def playground_settings(data_dir: Path, **extra: Any) -> Settings:
    """Settings as an owner's config would give them (explicit: no environment is read)."""
    return settings_from({"data_dir": str(data_dir), **FAST, **extra})


def page_token(page: str) -> str:
    """The form token the page carries."""
    found = re.search(r'data-token="([^"]+)"', page)
    assert found, "the page must carry its form token"
    return found.group(1)


@pytest_asyncio.fixture
async def playground(tmp_path: Path) -> AsyncIterator[Playground]:
    """An offline playground with the demo model, serving on a free port.

    Discord's rate limits are off here for speed; the command-line test runs with them on.
    """
    settings = playground_settings(tmp_path / "data")
    async with Playground(settings, offline=True, realistic_rate_limits=False) as running:
        yield running


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium (the test skips, saying how to install it, when it is missing)."""
    if not CHROMIUM.exists():
        pytest.skip(
            "the browser tests need Debian's chromium at /usr/bin/chromium: run scripts/test "
            "as root (it installs it) or apt-get install chromium"
        )
    return CHROMIUM


@pytest_asyncio.fixture
async def browser(chromium: Path) -> AsyncIterator[Any]:
    """Headless Debian Chromium driven by Playwright (skips when either is missing)."""
    playwright_api = pytest.importorskip(
        "playwright.async_api", reason="install the dev extras: pip install -e '.[dev]'"
    )
    async with playwright_api.async_playwright() as driver:
        launched = await driver.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()
