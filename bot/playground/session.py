"""One playground run: the Discord emulator, the real bot on it, the page, and the demo backends.

The bot is the production ``ToolcordBot`` built from the owner's Settings; only the Discord
endpoints and token change (plus, with ``offline``, the model server, key and demo tools). The
emulator enforces what Discord enforces (intents, permissions, rate limits, the interaction
deadline), so what works here works on Discord.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from types import TracebackType

from pydantic import SecretStr

from bot.app import ToolcordBot
from bot.discord_endpoints import point_discord_at, quiet_voice_connection_warnings
from bot.errors import ConfigError
from bot.settings import Settings
from bot.testing.discord import DiscordEmulator
from bot.testing.discord.models import JsonDict
from bot.wiring import open_bot

from .demo import OfflineBackends
from .page import PageInfo
from .server import PlaygroundServer
from .world import PlaygroundWorld, build_world, greet

log = logging.getLogger("toolcord.playground")

BOT_NAME = "toolcord"
READY_TIMEOUT_S = 60.0
SYNCING_COG = "cogs.admin"


class Playground:
    """Start with ``async with Playground(settings, offline=True) as playground``; then open
    ``playground.url``.

    Args:
        settings: the owner's Settings (``load_settings``), used as they are except for the
            Discord endpoints and token (and the model server with ``offline``).
        offline: answer with the scripted demo model instead of the configured one.
        host: the interface to serve the page on (loopback).
        port: the page's port; 0 picks a free one.
        realistic_rate_limits: enforce Discord's per-channel message limits, as Discord does.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        offline: bool,
        host: str = "127.0.0.1",
        port: int = 0,
        realistic_rate_limits: bool = True,
    ) -> None:
        self._base_settings = settings
        self.offline = offline
        self._host = host
        self._port = port
        self.discord = DiscordEmulator(
            token=secrets.token_urlsafe(32),
            world=None,
            bot_name=BOT_NAME,
            realistic_rate_limits=realistic_rate_limits,
        )
        self.backends: OfflineBackends | None = OfflineBackends() if offline else None
        self._bot: ToolcordBot | None = None
        self._runner: asyncio.Task[None] | None = None
        self._server: PlaygroundServer | None = None
        self._world: PlaygroundWorld | None = None
        self.settings = settings

    @property
    def bot(self) -> ToolcordBot:
        if self._bot is None:
            raise RuntimeError("the playground is not started: use 'async with Playground(...)'")
        return self._bot

    @property
    def world(self) -> PlaygroundWorld:
        if self._world is None:
            raise RuntimeError("the playground is not started: use 'async with Playground(...)'")
        return self._world

    @property
    def url(self) -> str:
        """The page's address with the key: whoever has it may act as you in the playground."""
        return self._server.url if self._server is not None else ""

    @property
    def base_url(self) -> str:
        """The page's address without the key (refused until the key's cookie is set)."""
        return self._server.base_url if self._server is not None else ""

    def link(self, path: str) -> str:
        """An address of ``path`` (e.g. ``"channels/1"``) that carries the key."""
        if self._server is None:
            raise RuntimeError("the playground is not started: use 'async with Playground(...)'")
        return self._server.link(path)

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> Playground:
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def _start(self) -> None:
        await self.discord.start()
        owner_ids = self._base_settings.discord.owner_ids
        self._world = build_world(self.discord, you_id=owner_ids[0] if owner_ids else None)
        await greet(self.discord, self._world)
        if self.backends is not None:
            await self.backends.start()
        self.settings = self._settings()
        await self._start_bot()
        await self._sync_commands_if_nobody_does()
        info = PageInfo(model=self.settings.openai.chat_model, offline=self.offline)
        self._server = PlaygroundServer(self.discord, self._world, info, self._export)
        await self._server.start(self._host, self._port)

    async def stop(self) -> None:
        """Stop the page, the bot and the emulators (safe to call more than once)."""
        if self._server is not None:
            await self._server.stop()
        if self._bot is not None:
            await self._bot.close()
        if self._runner is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._runner, READY_TIMEOUT_S)
            self._runner = None
        if self.backends is not None:
            await self.backends.stop()
        await self.discord.stop()

    async def __aenter__(self) -> Playground:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ---- parts -----------------------------------------------------------------------------

    def _settings(self) -> Settings:
        """The owner's settings pointed at the emulator (and at the demo backends offline)."""
        emu = self.discord
        discord = self._base_settings.discord.model_copy(
            update={
                "api_base_url": emu.api_base_url,
                "gateway_url": emu.gateway_url,
                "cdn_base_url": emu.cdn_base_url,
                "test_guild_ids": [self.world.guild.id],
                "shard_count": None,
                "shard_ids": None,
            }
        )
        settings = self._base_settings.model_copy(
            update={"discord": discord, "discord_token": SecretStr(emu.config.token)}
        )
        return self.backends.apply(settings) if self.backends is not None else settings

    async def _start_bot(self) -> None:
        point_discord_at(self.settings.discord)
        quiet_voice_connection_warnings()
        try:
            bot = await open_bot(self.settings)
        except Exception as failure:
            raise ConfigError(
                f"the bot stopped while starting in the playground ({failure!r}); fix the "
                "configuration it names and start the playground again."
            ) from None
        self._bot = bot
        self._runner = asyncio.create_task(bot.start(self.discord.config.token), name="playground")
        ready = asyncio.create_task(bot.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, self._runner}, timeout=READY_TIMEOUT_S, return_when="FIRST_COMPLETED"
        )
        if ready in done:
            return
        ready.cancel()
        if self._runner in done:
            problem = self._runner.exception()
            raise ConfigError(
                f"the bot stopped while starting in the playground ({problem!r}); fix the "
                "configuration it names and start the playground again."
            )
        raise ConfigError(
            f"the bot was not ready within {READY_TIMEOUT_S:.0f} s; see the log above for why."
        )

    async def _sync_commands_if_nobody_does(self) -> None:
        """Sync the command tree when no loaded cog does it at start (as /admin sync would)."""
        if SYNCING_COG in self.bot.extensions:
            return
        try:
            await self.bot.tree.sync()
        except Exception as exc:  # the page still works without commands
            log.warning("syncing the slash commands to the playground failed: %s", exc)

    async def _export(self, key: str) -> JsonDict | None:
        return await self.bot.services.store.export_conversation(key)
