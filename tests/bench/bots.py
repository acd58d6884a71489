"""Start the bots under test and the scripted model, in the split layout (each its own process).

The bench process holds the Discord emulator and drives the load; the bare echo bot, toolcord and
the OpenAI emulator each run in a child process, so ``/proc`` tells whose CPU and memory is whose.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.testing.bot_process import READY_LINE, SETTINGS_ENV
from bot.testing.discord import DiscordEmulator

from . import echo, model_server
from .children import Child


@dataclass(frozen=True)
class BotUnderTest:
    """A running bot: its process id and what its answer to a message looks like."""

    name: str
    child: Child
    expects: Callable[[str], str]

    @property
    def pid(self) -> int:
        return self.child.pid


@dataclass(frozen=True)
class ModelServer:
    """The scripted OpenAI emulator process."""

    child: Child
    base_url: str

    @property
    def pid(self) -> int:
        return self.child.pid


@contextlib.asynccontextmanager
async def model(mode: str, latency: float = 0.0) -> AsyncIterator[ModelServer]:
    """The OpenAI emulator in ``mode`` (see ``model_server``) in its own process."""
    args = ["--mode", mode, "--latency", str(latency)]
    child = await Child.start(
        "model server",
        "tests.bench.model_server",
        args,
        ready_marker=model_server.READY_MARKER,
    )
    try:
        yield ModelServer(child, child.ready_line.split()[-1])
    finally:
        await child.stop()


@contextlib.asynccontextmanager
async def echo_bot(emu: DiscordEmulator) -> AsyncIterator[BotUnderTest]:
    """The bare discord.py echo bot in its own process."""
    args = [
        "--api",
        emu.api_base_url,
        "--gateway",
        str(emu.gateway_url),
        "--cdn",
        emu.cdn_base_url,
        "--token",
        emu.config.token,
    ]
    child = await Child.start("echo bot", "tests.bench.echo", args, ready_marker=echo.READY_MARKER)
    try:
        yield BotUnderTest("echo", child, lambda content: content)
    finally:
        await child.stop()


# Quotas stay on (their checks are part of a turn's cost) with budgets the bench cannot reach.
UNREACHABLE_QUOTAS = {
    name: 10**12
    for name in (
        "user_daily_tokens",
        "user_monthly_tokens",
        "guild_daily_tokens",
        "guild_monthly_tokens",
        "global_daily_tokens",
    )
}


def toolcord_settings(
    emu: DiscordEmulator, model_url: str, data_dir: Path, **sections: dict[str, Any]
) -> dict[str, Any]:
    """Production settings, pointed at the emulators (tests shorten timers; the bench does not).

    ``sections`` update whole settings sections (e.g. ``chat={"edit_interval_s": 0}``).
    """
    values: dict[str, Any] = {
        "DISCORD_TOKEN": emu.config.token,
        "OPENAI_API_KEY": "sk-bench-emulator-key-000000000",
        "data_dir": str(data_dir),
        "discord": {
            "api_base_url": emu.api_base_url,
            "gateway_url": str(emu.gateway_url),
            "cdn_base_url": emu.cdn_base_url,
            "guild_ready_timeout": echo.GUILD_READY_TIMEOUT_S,
        },
        "openai": {"base_url": model_url, "max_retries": 0},
        "quotas": UNREACHABLE_QUOTAS,
    }
    for name, section in sections.items():
        values[name] = {**values.get(name, {}), **section}
    return values


@contextlib.asynccontextmanager
async def toolcord_bot(
    emu: DiscordEmulator,
    model: ModelServer,
    data_dir: Path,
    expected: str,
    *,
    profile: Path | None = None,
    **sections: Any,
) -> AsyncIterator[BotUnderTest]:
    """The real toolcord bot (production runner of the test kit) in its own process."""
    settings = toolcord_settings(emu, model.base_url, data_dir, **sections)
    child = await Child.start(
        "toolcord bot",
        "bot.testing.bot_process",
        env={SETTINGS_ENV: json.dumps(settings)},
        ready_marker=READY_LINE,
        profile=profile,
    )
    try:
        yield BotUnderTest("toolcord", child, lambda content: expected)
    finally:
        await child.stop()
