"""The floor: a bare discord.py echo bot (discord-emulator-facts.md section 7).

``python -m tests.bench.echo --api URL --gateway URL --cdn URL --token T`` connects to the Discord
emulator and answers every message with its own content; it prints ``echo-ready`` once ready.
:func:`make_echo_client` gives the same client for the in-process layout.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

import discord
import discord.asset
import discord.gateway
import discord.http
import yarl

READY_MARKER = "echo-ready"
MAX_MESSAGES = 1000
GUILD_READY_TIMEOUT_S = 0.05


def point_at(api: str, gateway: str, cdn: str) -> None:
    """Point discord.py's REST, gateway and CDN bases at the emulator (process-wide)."""
    discord.http.Route.BASE = api
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    discord.asset.Asset.BASE = cdn


def make_echo_client() -> discord.Client:
    """A plain ``discord.Client`` whose only handler echoes each message back."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.dm_messages = True
    intents.message_content = True
    client = discord.Client(
        intents=intents, guild_ready_timeout=GUILD_READY_TIMEOUT_S, max_messages=MAX_MESSAGES
    )

    async def on_message(message: discord.Message) -> None:
        if message.author == client.user:
            return
        await message.channel.send(message.content)

    client.event(on_message)
    return client


async def serve(token: str) -> None:
    client = make_echo_client()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)

    async def on_ready() -> None:
        print(READY_MARKER, flush=True)

    client.event(on_ready)
    async with client:
        runner = asyncio.create_task(client.start(token))
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({runner, stopper}, return_when="FIRST_COMPLETED")
        await client.close()
        stopper.cancel()
        if runner.done():
            runner.result()


def main() -> None:
    """Command line: see the module docstring."""
    from bot.testing.netguard import NetGuard

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--api", required=True)
    parser.add_argument("--gateway", required=True)
    parser.add_argument("--cdn", required=True)
    parser.add_argument("--token", required=True)
    options = parser.parse_args()
    NetGuard().install()
    point_at(options.api, options.gateway, options.cdn)
    asyncio.run(serve(options.token))


if __name__ == "__main__":
    main()
