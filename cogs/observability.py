"""Watching one bot process: shard readiness, metrics, health endpoints and shard-tagged logs.

The composition root builds the metrics and puts ``TurnMetrics`` first in ``services.policies``
(the other policies wrapped so their refusals are counted). Loading this extension serves them:
model requests are timed;
logs get this process's shards when it runs only some of them; and, when
``observability.health_port`` is set, ``/healthz``, ``/readyz`` and ``/metrics`` are served.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from discord.ext import commands

from bot.errors import ConfigError
from bot.observability import (
    BotMetrics,
    HealthServer,
    ShardTracker,
    TurnMetrics,
    install_shard_logging,
    instrument_openai_client,
    shard_label,
    shard_plan,
    shards_check,
    store_check,
)

if TYPE_CHECKING:
    from bot.app import ToolcordBot

log = logging.getLogger("toolcord.observability")


class Observability(commands.Cog):
    """Tracks this process's shards and serves its health and metrics."""

    def __init__(self, bot: ToolcordBot) -> None:
        self.bot = bot
        self.tracker = ShardTracker()
        self.metrics: BotMetrics = bot.services.metrics
        self.turns: TurnMetrics = bot.services.turn_metrics
        self.server: HealthServer | None = None
        self._remove_log_filter: Callable[[], None] | None = None

    async def cog_load(self) -> None:
        settings = self.bot.settings
        if shard_plan(settings.discord).ids is not None:
            self._remove_log_filter = install_shard_logging(shard_label(settings.discord))
        instrument_openai_client(self.bot.services.client, self.metrics)
        if settings.observability.health_port is not None:
            await self._serve(
                settings.observability.health_host, settings.observability.health_port
            )

    async def cog_unload(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None
        if self._remove_log_filter is not None:
            self._remove_log_filter()
            self._remove_log_filter = None

    async def _serve(self, host: str, port: int) -> None:
        checks = {
            "discord": shards_check(self.tracker.status, self.bot.is_closed),
            "store": store_check(self.bot.services.store.schema_version),
        }
        server = HealthServer(host, port, metrics=self.metrics, checks=checks)
        try:
            url = await server.start()
        except OSError as exc:
            raise ConfigError(
                f"cannot serve the health endpoints on {host}:{port} ({exc}): set "
                "observability.health_port to a free port, or unset it to turn them off."
            ) from None
        self.server = server
        log.info("health endpoints at %s (/healthz, /readyz, /metrics)", url)

    def _expect_shards(self) -> None:
        count = self.bot.shard_count
        if count:
            ids = self.bot.shard_ids
            self.tracker.expect(ids if ids is not None else range(count))

    @commands.Cog.listener()
    async def on_shard_connect(self, shard_id: int) -> None:
        self._expect_shards()

    @commands.Cog.listener()
    async def on_shard_ready(self, shard_id: int) -> None:
        self._expect_shards()
        self.tracker.ready(shard_id)
        self.metrics.set_shard_ready(shard_id, True)
        log.info("shard %d is ready", shard_id)

    @commands.Cog.listener()
    async def on_shard_resumed(self, shard_id: int) -> None:
        self.tracker.ready(shard_id)
        self.metrics.set_shard_ready(shard_id, True)

    @commands.Cog.listener()
    async def on_shard_disconnect(self, shard_id: int) -> None:
        self.tracker.lost(shard_id)
        self.metrics.set_shard_ready(shard_id, False)
        if not self.bot.is_closed():
            self.metrics.error("gateway_disconnect")


async def setup(bot: ToolcordBot) -> None:
    await bot.add_cog(Observability(bot))
