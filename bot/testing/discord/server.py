"""Wiring of the emulator's parts and the aiohttp server that serves them on loopback."""

from __future__ import annotations

import dataclasses

from aiohttp import web

from bot.testing.discord.cdn import CdnStore
from bot.testing.discord.commands import CommandRegistry
from bot.testing.discord.config import EmulatorConfig
from bot.testing.discord.context import EmulatorContext
from bot.testing.discord.faults import FaultInjector
from bot.testing.discord.gateway import GatewayHub
from bot.testing.discord.interactions import InteractionService
from bot.testing.discord.message_store import MessageStore
from bot.testing.discord.messages import MessageService
from bot.testing.discord.ratelimit import RateLimiter
from bot.testing.discord.recorder import Recorder
from bot.testing.discord.rest import RestRouter
from bot.testing.discord.routes_core import CoreRoutes
from bot.testing.discord.routes_interactions import InteractionRoutes
from bot.testing.discord.routes_messages import MessageRoutes
from bot.testing.discord.signal import ChangeSignal
from bot.testing.discord.snowflake import SnowflakeFactory
from bot.testing.discord.world import World


@dataclasses.dataclass(eq=False)
class EmulatorParts:
    """Every part of one emulator, built together."""

    ctx: EmulatorContext
    recorder: Recorder
    faults: FaultInjector
    limiter: RateLimiter
    router: RestRouter


def build_parts(config: EmulatorConfig) -> EmulatorParts:
    signal = ChangeSignal()
    world = World(SnowflakeFactory(), bot_name=config.bot_name, owner_name=config.owner_name)
    hub = GatewayHub(config, world, signal)
    world.events = hub
    cdn = CdnStore()
    messages = MessageService(world, MessageStore(config.message_retention), hub, cdn, signal)
    commands = CommandRegistry(world.snowflakes, world.application_id)
    interactions = InteractionService(
        world, messages, hub, commands, signal, config.interaction_ack_deadline
    )
    ctx = EmulatorContext(config, world, hub, messages, interactions, commands, cdn, signal)
    recorder = Recorder(signal, config.request_log_limit)
    faults = FaultInjector()
    limiter = RateLimiter(config.rate_limits)
    router = RestRouter(config.token, recorder, faults, limiter, cdn)
    router.routes = [
        *CoreRoutes(ctx).specs(),
        *MessageRoutes(ctx).specs(),
        *InteractionRoutes(ctx).specs(),
    ]
    return EmulatorParts(ctx, recorder, faults, limiter, router)


class EmulatorServer:
    """Runs the aiohttp app on the caller's event loop; port 0 picks a free port."""

    def __init__(self, config: EmulatorConfig, parts: EmulatorParts) -> None:
        self._config = config
        self._parts = parts
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    @property
    def running(self) -> bool:
        return self._runner is not None

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("this DiscordEmulator is already running; stop() it first")
        app = web.Application(client_max_size=self._config.max_upload_bytes)
        hub = self._parts.ctx.hub
        app.router.add_get("/gateway", hub.handle)
        app.router.add_get("/gateway/resume", hub.handle)
        app.router.add_route("*", "/{tail:.*}", self._parts.router.handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self._config.host, self._config.port)
        await site.start()
        self._runner = runner
        host, port = runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        hub.gateway_url = f"ws://{host}:{port}/gateway"
        self._parts.ctx.cdn.base_url = f"{self.base_url}/cdn"

    async def stop(self) -> None:
        if self._runner is None:
            return
        await self._parts.ctx.hub.close_all()
        await self._runner.cleanup()
        self._runner = None
