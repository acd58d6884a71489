"""Run the real toolcord bot against the emulators in one line.

```python
async with DiscordEmulator() as discord_emu, OpenAIEmulator() as openai_emu:
    harness = BotHarness(discord_emu, openai_emu, data_dir=tmp_path)
    async with harness.run() as bot:
        ...  # the bot is connected and ready
```
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.app import ToolcordBot
from bot.discord_endpoints import point_discord_at
from bot.settings import Settings, settings_from
from bot.testing.discord import DiscordEmulator
from bot.testing.openai import OpenAIEmulator
from bot.wiring import open_bot

READY_TIMEOUT_S = 30.0


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass
class BotHarness:
    """Builds Settings that point at the emulators, and runs bots with them."""

    discord: DiscordEmulator
    openai: OpenAIEmulator
    data_dir: Path
    overrides: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    """The bot owner's own settings (e.g. their config/bot.toml), beneath the emulator pins."""

    def settings(self, **overrides: Any) -> Settings:
        """Settings for a bot on the emulators; keyword overrides are nested dicts of settings."""
        return settings_from(self.settings_values(**overrides))

    def settings_values(self, **overrides: Any) -> dict[str, Any]:
        """The raw values behind :meth:`settings` (JSON-serialisable, e.g. for a child process)."""
        base: dict[str, Any] = {
            "DISCORD_TOKEN": self.discord.config.token,
            "OPENAI_API_KEY": "sk-test-emulator-key-0000000000",
            "data_dir": str(self.data_dir),
            "discord": {
                "api_base_url": self.discord.api_base_url,
                "gateway_url": self.discord.gateway_url,
                "cdn_base_url": self.discord.cdn_base_url,
                "guild_ready_timeout": 0.05,
            },
            "openai": {"base_url": self.openai.base_url, "max_retries": 0},
            "chat": {"edit_interval_s": 0.05},
        }
        return _merge(_merge(_merge(self.config, base), self.overrides), overrides)

    @contextlib.asynccontextmanager
    async def run(
        self, settings: Settings | None = None, **overrides: Any
    ) -> AsyncIterator[ToolcordBot]:
        """Start a bot, wait until it is ready, yield it, and close it afterwards."""
        settings = settings or self.settings(**overrides)
        point_discord_at(settings.discord)
        bot = await open_bot(settings)
        token = settings.discord_token.get_secret_value() if settings.discord_token else ""
        runner = asyncio.create_task(bot.start(token), name="toolcord-test-bot")
        try:
            await _wait_ready(bot, runner)
            yield bot
        finally:
            await bot.close()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(runner, READY_TIMEOUT_S)


async def _wait_ready(bot: ToolcordBot, runner: asyncio.Task[None]) -> None:
    ready = asyncio.create_task(bot.wait_until_ready())
    done, _ = await asyncio.wait(
        {ready, runner}, timeout=READY_TIMEOUT_S, return_when="FIRST_COMPLETED"
    )
    if ready not in done:
        ready.cancel()
        if runner in done:
            runner.result()
            raise RuntimeError("the bot stopped before it was ready")
        raise TimeoutError(f"the bot was not ready within {READY_TIMEOUT_S} s")
