"""Fixtures and helpers: discord.py pointed at a DiscordEmulator, recording bots, a runner.

pytest runs with ``--import-mode=importlib``, so test modules cannot import siblings: they get
the helper classes through the ``kit`` fixture (and import them for type checking only).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import discord
import pytest
import yarl
from discord.ext import commands

from bot.testing.discord import DiscordEmulator

TOKEN = "test-token"


@contextlib.contextmanager
def pointed_at(emu: DiscordEmulator) -> Iterator[None]:
    """Points discord.py's class attributes at the emulator and restores them afterwards."""
    saved = (
        discord.http.Route.BASE,
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
        discord.asset.Asset.BASE,
    )
    discord.http.Route.BASE = emu.api_base_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(emu.gateway_url)
    discord.asset.Asset.BASE = emu.cdn_base_url
    try:
        yield
    finally:
        (
            discord.http.Route.BASE,
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
            discord.asset.Asset.BASE,
        ) = saved


def leak_guard() -> aiohttp.TraceConfig:
    """Fails any HTTP/websocket request that leaves loopback."""
    trace = aiohttp.TraceConfig()

    async def on_start(session: Any, context: Any, params: aiohttp.TraceRequestStartParams) -> None:
        if params.url.host != "127.0.0.1":
            raise AssertionError(f"request left loopback: {params.url}")

    trace.on_request_start.append(on_start)
    return trace


def client_options(**overrides: Any) -> dict[str, Any]:
    intents = discord.Intents.default()
    intents.message_content = True
    intents.members = True
    options: dict[str, Any] = {
        "intents": intents,
        "guild_ready_timeout": 0.05,
        "http_trace": leak_guard(),
    }
    options.update(overrides)
    return options


class FastIdentify:
    """Mixin: skip discord.py's 5 s sleep before a non-initial IDENTIFY (tests only)."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


class EventQueue:
    """Every occurrence of one discord.py event (its argument, or a tuple of several)."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Any] = asyncio.Queue()

    def put(self, item: Any) -> None:
        self._queue.put_nowait(item)

    async def next(self, timeout: float = 10.0) -> Any:  # noqa: ASYNC109 - bounded test wait
        return await asyncio.wait_for(self._queue.get(), timeout)


class RecordingBot(FastIdentify, commands.Bot):
    """A commands.Bot that records events the tests wait for."""

    def __init__(self, **options: Any) -> None:
        super().__init__(command_prefix="!", **client_options(**options))
        self.events: dict[str, asyncio.Event] = {}
        self.seen: list[tuple[str, Any]] = []

    def collect(self, event: str) -> EventQueue:
        """Starts collecting ``event`` (e.g. "message", "message_edit")."""
        queue = EventQueue()

        async def listener(*args: Any) -> None:
            queue.put(args[0] if len(args) == 1 else args)

        self.add_listener(listener, f"on_{event}")
        return queue

    def mark(self, name: str, value: Any = None) -> None:
        self.seen.append((name, value))
        self.events.setdefault(name, asyncio.Event()).set()

    async def wait_event(self, name: str, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        await asyncio.wait_for(self.events.setdefault(name, asyncio.Event()).wait(), timeout)

    async def on_ready(self) -> None:
        self.mark("ready")

    async def on_resumed(self) -> None:
        self.mark("resumed")


class ShardedRecordingBot(FastIdentify, commands.AutoShardedBot):
    """An AutoShardedBot (shard count from ``GET /gateway/bot``)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(command_prefix="!", **client_options(**options))

    collect = RecordingBot.collect


class Running:
    """Starts a discord.py client against the emulator and closes it afterwards."""

    def __init__(
        self, emu: DiscordEmulator, client: commands.Bot | commands.AutoShardedBot
    ) -> None:
        self.emu = emu
        self.client = client
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> commands.Bot | commands.AutoShardedBot:
        self._patch = pointed_at(self.emu)
        self._patch.__enter__()
        ready = asyncio.Event()
        self.client.add_listener(_setter(ready), "on_ready")
        self.task = asyncio.create_task(self.client.start(TOKEN))
        waiter = asyncio.create_task(ready.wait())
        done, _ = await asyncio.wait(
            {self.task, waiter}, timeout=10, return_when=asyncio.FIRST_COMPLETED
        )
        if waiter not in done:
            waiter.cancel()
            await self.__aexit__(None, None, None)
            raise AssertionError(f"client did not become ready: {self.task}")
        return self.client

    async def __aexit__(self, *exc: object) -> None:
        await self.client.close()
        if self.task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self.task, 10)
        self._patch.__exit__(None, None, None)


def _setter(event: asyncio.Event) -> Any:
    async def listener() -> None:
        event.set()

    return listener


@dataclasses.dataclass(frozen=True)
class Kit:
    """The helper classes, handed to test modules by the ``kit`` fixture."""

    RecordingBot: type[RecordingBot] = RecordingBot
    ShardedRecordingBot: type[ShardedRecordingBot] = ShardedRecordingBot
    Running: type[Running] = Running
    pointed_at: Any = pointed_at


@pytest.fixture
def kit() -> Kit:
    return Kit()


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator(token=TOKEN) as emulator:
        yield emulator


@pytest.fixture
async def bot(emu: DiscordEmulator) -> AsyncIterator[RecordingBot]:
    """A ready RecordingBot (message_content + members intents) connected to ``emu``."""
    client = RecordingBot()
    async with Running(emu, client):
        yield client
