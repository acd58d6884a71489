"""Helpers for the voice cog's end-to-end tests: real speech recordings and a started bot."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.app import ToolcordBot
from bot.testing.discord import DiscordEmulator
from bot.testing.harness import BotHarness
from bot.voice import ogg, waveform

VOICE_FLAG = 8192
SYSTEM_DEPS = "espeak-ng opus-tools (Debian packages; scripts/test installs them as root)"


@dataclass(frozen=True)
class Recording:
    """A real spoken recording, OGG/Opus, with the metadata a Discord client would attach."""

    data: bytes
    duration_s: float
    waveform: bytes


@pytest.fixture
def record_speech(tmp_path: Path) -> Callable[[str], Recording]:
    """Speak text with espeak-ng and encode it to OGG/Opus with opusenc (skips without them)."""
    missing = [tool for tool in ("espeak-ng", "opusenc") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}: install {SYSTEM_DEPS}")

    def record(text: str) -> Recording:
        wav, opus = tmp_path / "speech.wav", tmp_path / "speech.ogg"
        subprocess.run(["espeak-ng", "-w", str(wav), text], check=True, timeout=60)
        subprocess.run(["opusenc", "--quiet", str(wav), str(opus)], check=True, timeout=60)
        data = opus.read_bytes()
        duration = ogg.opus_duration(data)
        assert duration is not None, "opusenc must write Ogg/Opus"
        return Recording(data, duration, waveform.opus_waveform(data))

    return record


@pytest_asyncio.fixture
async def voice_bot(bot_harness: BotHarness) -> AsyncIterator[Callable[..., Any]]:
    """``async with voice_bot(**settings) as bot``: a ready bot with its commands synced."""

    @contextlib.asynccontextmanager
    async def run(**overrides: Any) -> AsyncIterator[ToolcordBot]:
        async with bot_harness.run(**overrides) as bot:
            if "cogs.voice" not in bot.extensions:
                await bot.load_extension("cogs.voice")
            await bot.tree.sync()
            yield bot

    yield run


def bot_messages(emu: DiscordEmulator, channel: Any) -> list[Any]:
    """The bot's messages in ``channel``, oldest first."""
    return [m for m in emu.messages(channel) if m.author.id == emu.bot_user.id]


def is_voice(message: Any) -> bool:
    """Whether a stored message carries the IS_VOICE_MESSAGE flag."""
    return bool(message.flags & VOICE_FLAG)
