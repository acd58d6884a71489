"""The world model: users, guilds, channels, roles, members, DM channels; indexed by id."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from bot.testing.discord.models import (
    DM_CHANNEL,
    PUBLIC_THREAD,
    TEXT_CHANNEL,
    Channel,
    Guild,
    JsonDict,
    Member,
    Overwrite,
    Role,
    User,
)
from bot.testing.discord.permissions import BOT_ROLE, DEFAULT_EVERYONE, MODERATOR
from bot.testing.discord.snowflake import SnowflakeFactory, iso_timestamp

GUILDS_INTENT = 1 << 0
GUILD_MEMBERS_INTENT = 1 << 1

ChannelRef = Channel | int | str
UserRef = User | Member | int | str
GuildRef = Guild | int


class WorldEvents(Protocol):
    """Receives the gateway events a live change of the world causes."""

    def guild_added(self, guild: Guild) -> None: ...

    def world_event(self, event: str, payload: JsonDict, *, guild_id: int, intent: int) -> None: ...


class World:
    """Holds every world object and builds new ones with realistic snowflakes."""

    def __init__(self, snowflakes: SnowflakeFactory, *, bot_name: str, owner_name: str) -> None:
        self.snowflakes = snowflakes
        self.users: dict[int, User] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self._users_by_name: dict[str, User] = {}
        self._dm_by_user: dict[int, Channel] = {}
        self.events: WorldEvents | None = None
        self.bot_user = self.add_user(bot_name, bot=True)
        self.application_id = self.bot_user.id
        self.owner = self.add_user(owner_name)

    # ---- users -----------------------------------------------------------------------------

    def add_user(
        self, name: str, bot: bool = False, *, id: int | None = None, global_name: str | None = None
    ) -> User:
        """Creates a user; names are unique so that tests can look users up by name."""
        if name in self._users_by_name:
            raise ValueError(f"a user named {name!r} exists already; pick another name")
        user = User(id=id or self.snowflakes.next_distinct_time(), name=name, bot=bot)
        user.global_name = global_name
        self.users[user.id] = user
        self._users_by_name[name] = user
        return user

    def user(self, ref: UserRef) -> User:
        """Finds a user by object, id or name."""
        if isinstance(ref, User):
            return ref
        if isinstance(ref, Member):
            return ref.user
        found = self._users_by_name.get(ref) if isinstance(ref, str) else self.users.get(ref)
        if found is None:
            raise KeyError(f"no user {ref!r} in the emulator; create it with emu.add_user()")
        return found

    # ---- guilds, roles, members ------------------------------------------------------------

    def add_guild(
        self,
        name: str,
        channels: Iterable[str] = ("general",),
        *,
        owner: UserRef | None = None,
        members: Iterable[UserRef] = (),
        id: int | None = None,
    ) -> Guild:
        """Creates a guild: @everyone, the bot (with its managed role), the owner, channels."""
        owner_user = self.user(owner) if owner is not None else self.owner
        guild_id = id or self.snowflakes.next_distinct_time()
        guild = Guild(id=guild_id, name=name, owner_id=owner_user.id, joined_at=iso_timestamp())
        guild.roles[guild_id] = Role(guild_id, guild_id, "@everyone", int(DEFAULT_EVERYONE))
        self.guilds[guild_id] = guild
        bot_role = self._new_role(guild, self.bot_user.name, int(BOT_ROLE), None)
        bot_role.managed, bot_role.bot_id = True, self.bot_user.id
        self._new_member(guild, self.bot_user, [bot_role.id])
        self._new_member(guild, owner_user, [])
        for user in members:
            self._new_member(guild, self.user(user), [])
        for position, channel_name in enumerate(channels):
            self._new_channel(guild, channel_name, TEXT_CHANNEL, position=position)
        if self.events is not None:
            self.events.guild_added(guild)
        return guild

    def guild(self, ref: GuildRef) -> Guild:
        found = ref if isinstance(ref, Guild) else self.guilds.get(ref)
        if found is None:
            raise KeyError(f"no guild {ref!r} in the emulator; create it with emu.add_guild()")
        return found

    def add_role(
        self,
        guild: GuildRef,
        name: str,
        permissions: int = 0,
        position: int | None = None,
        *,
        id: int | None = None,
    ) -> Role:
        """Creates a role; an explicit ``position`` pushes the roles at or above it up by one."""
        target = self.guild(guild)
        role = self._new_role(target, name, int(permissions), position, role_id=id)
        self._emit("GUILD_ROLE_CREATE", {"role": role.to_payload()}, target, GUILDS_INTENT)
        return role

    def add_member(
        self,
        guild: GuildRef,
        user: UserRef,
        roles: Iterable[Role | int] = (),
        *,
        nick: str | None = None,
    ) -> Member:
        """Adds a user to a guild with the given roles."""
        target = self.guild(guild)
        role_ids = [role.id if isinstance(role, Role) else role for role in roles]
        member = self._new_member(target, self.user(user), role_ids, nick=nick)
        self._emit("GUILD_MEMBER_ADD", member.to_payload(), target, GUILD_MEMBERS_INTENT)
        return member

    def member(self, guild: GuildRef, user: UserRef) -> Member | None:
        return self.guild(guild).members.get(self.user(user).id)

    def require_member(self, guild: Guild, user: User) -> Member:
        member = guild.members.get(user.id)
        if member is None:
            raise ValueError(
                f"user {user.name!r} is not a member of guild {guild.name!r}; "
                "add them first with emu.add_member(guild, user)"
            )
        return member

    # ---- channels --------------------------------------------------------------------------

    def add_channel(
        self,
        guild: GuildRef,
        name: str,
        type: int = TEXT_CHANNEL,
        *,
        topic: str | None = None,
        id: int | None = None,
    ) -> Channel:
        """Creates a guild channel (type 0 = text)."""
        target = self.guild(guild)
        channel = self._new_channel(target, name, type, position=len(target.text_channels), id=id)
        channel.topic = topic
        self._emit("CHANNEL_CREATE", channel.to_payload(), target, GUILDS_INTENT)
        return channel

    def add_thread(
        self,
        parent: ChannelRef,
        name: str,
        owner: UserRef | None = None,
        *,
        type: int = PUBLIC_THREAD,
        id: int | None = None,
    ) -> Channel:
        """Creates a thread under a text channel (the id may be a starter message's id)."""
        parent_channel = self.channel(parent)
        if parent_channel.guild_id is None or parent_channel.is_thread:
            raise ValueError(f"threads need a guild text channel as parent, not {parent_channel!r}")
        guild = self.guild(parent_channel.guild_id)
        owner_id = self.user(owner).id if owner is not None else self.bot_user.id
        thread = Channel(
            id=id or self.snowflakes.next(),
            type=type,
            name=name,
            guild_id=guild.id,
            parent_id=parent_channel.id,
            owner_id=owner_id,
        )
        guild.channels[thread.id] = thread
        self.channels[thread.id] = thread
        self._emit("THREAD_CREATE", {**thread.to_payload(), "newly_created": True}, guild, 1)
        return thread

    def channel(self, ref: ChannelRef, guild: GuildRef | None = None) -> Channel:
        """Finds a channel by object, id or name (in ``guild``, else the first guild having it)."""
        if isinstance(ref, Channel):
            return ref
        if isinstance(ref, int):
            found = self.channels.get(ref)
        else:
            guilds = [self.guild(guild)] if guild is not None else list(self.guilds.values())
            found = next(
                (c for g in guilds for c in g.channels.values() if c.name == ref),
                None,
            )
        if found is None:
            raise KeyError(f"no channel {ref!r} in the emulator; create it with emu.add_channel()")
        return found

    def dm_channel(self, user: UserRef) -> Channel:
        """The DM channel between the bot and a user (created on first use)."""
        target = self.user(user)
        channel = self._dm_by_user.get(target.id)
        if channel is None:
            channel = Channel(
                id=self.snowflakes.next_distinct_time(),
                type=DM_CHANNEL,
                name=None,
                recipients=[target],
            )
            self._dm_by_user[target.id] = channel
            self.channels[channel.id] = channel
        return channel

    def set_overwrite(
        self, channel: ChannelRef, target: Role | UserRef, *, allow: int = 0, deny: int = 0
    ) -> Overwrite:
        """Sets (merges into) the permission overwrite of a role or member on a channel."""
        found = self.channel(channel)
        if found.guild_id is None:
            raise ValueError("permission overwrites exist only on guild channels")
        if isinstance(target, Role):
            target_id, target_type = target.id, 0
        else:
            target_id, target_type = self.user(target).id, 1
        overwrite = next((o for o in found.permission_overwrites if o.id == target_id), None)
        if overwrite is None:
            overwrite = Overwrite(id=target_id, type=target_type)
            found.permission_overwrites.append(overwrite)
        overwrite.allow = (overwrite.allow & ~deny) | allow
        overwrite.deny = (overwrite.deny & ~allow) | deny
        event = "THREAD_UPDATE" if found.is_thread else "CHANNEL_UPDATE"
        self._emit(event, found.to_payload(), self.guild(found.guild_id), GUILDS_INTENT)
        return overwrite

    # ---- internals -------------------------------------------------------------------------

    def _new_role(
        self,
        guild: Guild,
        name: str,
        permissions: int,
        position: int | None,
        role_id: int | None = None,
    ) -> Role:
        others = [role for role in guild.roles.values() if role.id != guild.id]
        if position is None:
            position = max((role.position for role in others), default=0) + 1
        for role in others:
            if role.position >= position:
                role.position += 1
        role = Role(
            role_id or self.snowflakes.next_distinct_time(), guild.id, name, permissions, position
        )
        guild.roles[role.id] = role
        return role

    def _new_member(
        self, guild: Guild, user: User, role_ids: list[int], *, nick: str | None = None
    ) -> Member:
        unknown = [role_id for role_id in role_ids if role_id not in guild.roles]
        if unknown:
            raise KeyError(f"roles {unknown} are not in guild {guild.name!r}; use emu.add_role()")
        member = Member(user=user, guild_id=guild.id, roles=role_ids, nick=nick)
        member.joined_at = iso_timestamp()
        guild.members[user.id] = member
        return member

    def _new_channel(
        self, guild: Guild, name: str, type: int, *, position: int, id: int | None = None
    ) -> Channel:
        channel_id = id or self.snowflakes.next_distinct_time()
        channel = Channel(id=channel_id, type=type, name=name, guild_id=guild.id, position=position)
        guild.channels[channel_id] = channel
        self.channels[channel_id] = channel
        return channel

    def _emit(self, event: str, payload: JsonDict, guild: Guild, intent: int) -> None:
        if self.events is not None:
            self.events.world_event(
                event, {**payload, "guild_id": str(guild.id)}, guild_id=guild.id, intent=intent
            )


def build_default_world(world: World) -> Guild:
    """Test Guild with #general and #random, a Moderator role, the owner, alice (mod) and bob."""
    guild = world.add_guild("Test Guild", channels=("general", "random"))
    moderator = world.add_role(guild, "Moderator", int(MODERATOR), position=1)
    alice = world.add_user("alice")
    bob = world.add_user("bob")
    world.add_member(guild, alice, [moderator])
    world.add_member(guild, bob)
    return guild
