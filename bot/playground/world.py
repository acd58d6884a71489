"""The playground's small Discord: one guild with a few channels and a thread, and your DM.

Ids are fixed (except the bot's and the DM channel's, which the emulator picks), so that a
conversation stored during one playground run continues in the next: the store keys conversations
by guild, channel, thread and user ids.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from bot.testing.discord import Channel, DiscordEmulator, Guild, Role, User
from bot.testing.discord.permissions import MODERATOR
from bot.testing.discord.snowflake import DISCORD_EPOCH_MS

GUILD_NAME = "Playground"
CHANNEL_NAMES = ("general", "random", "bot-lab")
THREAD_NAME = "demo-thread"
YOU = "you"
FRIEND = "alice"
WELCOME = (
    "Welcome to the toolcord playground! This is a local Discord: the real bot is connected to "
    "it. Mention **@toolcord** (the box under the composer does it for you), reply to its "
    "messages, attach files, record a voice message in your DM, or run a `/command`."
)
_BASE_MS = int(datetime.datetime(2024, 6, 1, tzinfo=datetime.UTC).timestamp() * 1000)
_WORKER_BITS = 1 << 17


def fixed_snowflake(number: int) -> int:
    """A stable, realistic snowflake: the number-th millisecond after 2024-06-01."""
    return ((_BASE_MS - DISCORD_EPOCH_MS + number) << 22) | _WORKER_BITS


@dataclass(frozen=True)
class PlaygroundWorld:
    """What the playground built in the emulator; ``you`` is the person at the browser."""

    guild: Guild
    bot: User
    you: User
    friend: User
    moderator: Role
    channels: tuple[Channel, ...]
    thread: Channel
    dm: Channel

    @property
    def general(self) -> Channel:
        return self.channels[0]

    def owns(self, channel: Channel) -> bool:
        """Whether the page may show ``channel``: the playground guild's, or your DM."""
        return channel.guild_id == self.guild.id or channel.id == self.dm.id


def build_world(emu: DiscordEmulator, *, you_id: int | None = None) -> PlaygroundWorld:
    """Create the guild, channels, thread, users and DM in a started emulator with no world.

    Args:
        emu: a started ``DiscordEmulator(world=None)``.
        you_id: your user id; give the first of ``discord.owner_ids`` so that the bot treats
            you as its owner, as it would on Discord.
    """
    you = emu.world.add_user(YOU, id=you_id or fixed_snowflake(1), global_name="You")
    friend = emu.world.add_user(FRIEND, id=fixed_snowflake(2), global_name="Alice")
    guild = emu.world.add_guild(GUILD_NAME, channels=(), owner=you, id=fixed_snowflake(10))
    channels = tuple(
        emu.world.add_channel(guild, name, id=fixed_snowflake(20 + index))
        for index, name in enumerate(CHANNEL_NAMES)
    )
    moderator = emu.world.add_role(guild, "Moderator", int(MODERATOR), id=fixed_snowflake(11))
    emu.world.add_member(guild, friend, [moderator])
    thread = emu.world.add_thread(channels[0], THREAD_NAME, you, id=fixed_snowflake(30))
    return PlaygroundWorld(
        guild=guild,
        bot=emu.bot_user,
        you=you,
        friend=friend,
        moderator=moderator,
        channels=channels,
        thread=thread,
        dm=emu.dm_channel(you),
    )


async def greet(emu: DiscordEmulator, world: PlaygroundWorld) -> None:
    """Alice's welcome message in #general (it mentions nobody, so the bot stays quiet)."""
    await emu.inject_message(world.general, world.friend, WELCOME)


def sidebar_channels(world: PlaygroundWorld) -> list[tuple[Channel, list[Channel]]]:
    """The guild's text channels in order, each with its threads (the bot may add some)."""
    threads = sorted(world.guild.threads, key=lambda thread: thread.id)
    channels = sorted(world.guild.text_channels, key=lambda channel: channel.position)
    return [
        (channel, [thread for thread in threads if thread.parent_id == channel.id])
        for channel in channels
    ]


def channel_title(world: PlaygroundWorld, channel: Channel) -> str:
    """How the page names a channel: ``#general``, ``↳ demo-thread`` or ``@toolcord``."""
    if channel.is_dm:
        return f"@{world.bot.name}"
    if channel.is_thread:
        return f"↳ {channel.name}"
    return f"#{channel.name}"
