"""ModerationActions and ModerationLog against stand-ins for discord.py's objects: every refusal
word for word, what reaches Discord, the records and log lines (written against mutmut's mutants of
bot/moderation_actions.py, docs/mutation.md)."""

from __future__ import annotations

import asyncio
import datetime
import logging
from dataclasses import dataclass, field
from types import MappingProxyType, SimpleNamespace
from typing import Any

import discord
import pytest

from bot.moderation_actions import (
    MEMBER_QUERY_TIMEOUT_S,
    NO_MENTIONS,
    ActionRecord,
    ModerationActions,
    ModerationLog,
    Standing,
    _past,
    _Plan,
    refusal_reason,
    report_text,
)
from bot.policy.moderation import ModerationEvent
from tools import Permissions
from tools.moderation import ActionRefused, ActionRequest

GUILD, CHANNEL, OTHER_CHANNEL, MESSAGE = 700, 710, 720, 730
OWNER, BOT, INVOKER, TARGET = 1001, 1002, 1003, 1004
MOD = discord.Permissions(manage_messages=True, moderate_members=True, view_channel=True)
PLAIN = discord.Permissions(view_channel=True)


def _http(kind: type[discord.HTTPException], status: int) -> discord.HTTPException:
    return kind(SimpleNamespace(status=status, reason="x"), "from Discord")


class Member:
    """A guild member: what ModerationActions reads of one, and its time-outs."""

    def __init__(
        self,
        guild: Guild,
        user_id: int,
        top: int,
        permissions: discord.Permissions = PLAIN,
        *,
        name: str = "",
        display_name: str = "",
        global_name: str | None = None,
        nick: str | None = None,
    ) -> None:
        self.guild = guild
        self.id = user_id
        self.top_role = SimpleNamespace(position=top)
        self.guild_permissions = permissions
        self.name = name or f"user{user_id}"
        self.display_name = display_name or self.name
        self.global_name = global_name
        self.nick = nick
        self.timeouts: list[tuple[datetime.timedelta, str | None]] = []
        self.fails: Exception | None = None

    async def timeout(self, until: datetime.timedelta, *, reason: str | None = None) -> None:
        if self.fails is not None:
            raise self.fails
        self.timeouts.append((until, reason))


class Message:
    def __init__(self, author: Any, webhook_id: int | None = None) -> None:
        self.author = author
        self.webhook_id = webhook_id
        self.deleted = 0
        self.fails: Exception | None = None

    async def delete(self) -> None:
        if self.fails is not None:
            raise self.fails
        self.deleted += 1


class _Channel:
    """The parts of a guild channel the actions use (mixed into discord.py's classes)."""

    def setup(
        self, channel_id: int, name: str, permissions: dict[int, discord.Permissions]
    ) -> None:
        self.id = channel_id  # type: ignore[misc]
        self.name = name  # type: ignore[misc]
        self.granted = permissions
        self.messages: dict[int, Message] = {}
        self.fetch_fails: Exception | None = None
        self.fetched: list[int] = []

    def permissions_for(self, member: Any, /) -> discord.Permissions:
        return self.granted.get(member.id, discord.Permissions.none())

    async def fetch_message(self, message_id: int, /) -> Message:
        self.fetched.append(message_id)
        if self.fetch_fails is not None:
            raise self.fetch_fails
        if message_id not in self.messages:
            raise _http(discord.NotFound, 404)
        return self.messages[message_id]


class TextChannel(_Channel, discord.TextChannel):
    def __init__(self, channel_id: int, name: str, permissions: dict[int, discord.Permissions]):
        self.setup(channel_id, name, permissions)


class Thread(_Channel, discord.Thread):
    def __init__(self, channel_id: int, name: str, permissions: dict[int, discord.Permissions]):
        self.setup(channel_id, name, permissions)


class VoiceChannel(_Channel, discord.VoiceChannel):
    def __init__(self, channel_id: int, name: str, permissions: dict[int, discord.Permissions]):
        self.setup(channel_id, name, permissions)


class DirectChannel(discord.abc.Messageable):
    """Messageable, but neither a guild channel nor a thread."""

    def __init__(self, channel_id: int) -> None:
        self.id = channel_id
        self.name = "dm"


@dataclass
class Guild:
    id: int = GUILD
    owner_id: int | None = OWNER
    channels: dict[int, Any] = field(default_factory=dict)
    by_id: dict[int, Member] = field(default_factory=dict)
    cached: list[Member] = field(default_factory=list)
    queried: list[Member] = field(default_factory=list)
    query_fails: Exception | None = None
    member_fails: Exception | None = None
    queries: list[tuple[str, int, bool, float]] = field(default_factory=list)
    fetched: list[int] = field(default_factory=list)

    @property
    def members(self) -> list[Member]:
        return self.cached

    def get_channel_or_thread(self, channel_id: int) -> Any:
        return self.channels.get(channel_id)

    async def fetch_member(self, user_id: int) -> Member:
        self.fetched.append(user_id)
        if self.member_fails is not None:
            raise self.member_fails
        if user_id not in self.by_id:
            raise _http(discord.NotFound, 404)
        return self.by_id[user_id]

    async def query_members(self, *, query: str, limit: int, cache: bool) -> list[Member]:
        self.queries.append((query, limit, cache, 0.0))
        if self.query_fails is not None:
            raise self.query_fails
        return self.queried

    def add(self, member: Member) -> Member:
        self.by_id[member.id] = member
        return member


class Client:
    def __init__(self, guild: Guild | None, user_id: int | None = BOT) -> None:
        self.guild = guild
        self.user = None if user_id is None else SimpleNamespace(id=user_id)
        self.asked: list[int] = []

    def get_guild(self, guild_id: int) -> Guild | None:
        self.asked.append(guild_id)
        return self.guild if self.guild is not None and self.guild.id == guild_id else None


@dataclass
class World:
    guild: Guild
    channel: TextChannel
    invoker: Member
    bot: Member
    target: Member
    actions: ModerationActions


def world(*, invoker_top: int = 5, target_top: int = 2) -> World:
    guild = Guild()
    invoker = guild.add(Member(guild, INVOKER, invoker_top, MOD, display_name="Ivy"))
    bot = guild.add(Member(guild, BOT, 10, MOD, display_name="Bot"))
    target = guild.add(Member(guild, TARGET, target_top, display_name="Tom"))
    channel = TextChannel(CHANNEL, "general", {INVOKER: MOD, BOT: MOD})
    guild.channels[CHANNEL] = channel
    channel.messages[MESSAGE] = Message(target)
    return World(guild, channel, invoker, bot, target, ModerationActions(Client(guild)))  # type: ignore[arg-type]


def delete(reason: str = "spam", **extra: Any) -> ActionRequest:
    values: dict[str, Any] = {
        "kind": "delete_message",
        "invoker_id": INVOKER,
        "guild_id": GUILD,
        "channel_id": CHANNEL,
        "reason": reason,
        "message_id": MESSAGE,
        "call_id": "call-1",
        **extra,
    }
    return ActionRequest(**values)


def timeout(member: str = str(TARGET), minutes: int | None = 60, **extra: Any) -> ActionRequest:
    values: dict[str, Any] = {
        "kind": "timeout_member",
        "invoker_id": INVOKER,
        "guild_id": GUILD,
        "channel_id": CHANNEL,
        "reason": "flooding",
        "member": member,
        "minutes": minutes,
        "call_id": "call-2",
        **extra,
    }
    return ActionRequest(**values)


async def refused(call: Any) -> str:
    with pytest.raises(ActionRefused) as caught:
        await call
    return caught.value.message


TOM = f"Tom (<@{TARGET}>)"
CHECKED = "It is checked again when allowed and when it runs."


# ------------------------------------------------------------------------ the request texts


async def test_a_deletion_is_described_exactly() -> None:
    w = world()
    text = await w.actions.check(delete())
    assert text == f"delete a message by {TOM} in #general.\n> Reason: spam\n{CHECKED}"
    assert w.guild.fetched == [INVOKER, BOT, TARGET]
    assert w.channel.fetched == [MESSAGE]
    assert w.channel.messages[MESSAGE].deleted == 0


async def test_the_reason_is_flattened_defanged_and_cut_at_300() -> None:
    w = world()
    text = await w.actions.check(delete("use `x`\n\n  see https://evil.example/a @everyone"))
    assert text.split("\n")[1] == (
        "> Reason: use 'x' see `hxxps://evil[.]example/a` @\u200beveryone"
    )
    long = await w.actions.check(delete("word " * 100))
    assert long.split("\n")[1] == "> Reason: " + ("word " * 60)[:300]


@pytest.mark.parametrize(
    ("minutes", "shown"),
    [
        (1, "1 minute(s)"),
        (90, "90 minute(s)"),
        (60, "1 hour(s)"),
        (120, "2 hour(s)"),
        (1380, "23 hour(s)"),
        (1440, "1 day(s)"),
        (2880, "2 day(s)"),
        (4320, "3 day(s)"),
    ],
)
async def test_a_timeout_is_described_with_its_length(minutes: int, shown: str) -> None:
    w = world()
    text = await w.actions.check(timeout(minutes=minutes))
    assert text == f"time out {TOM} for {shown}.\n> Reason: flooding\n{CHECKED}"


async def test_a_long_display_name_is_cut_at_40() -> None:
    w = world()
    w.target.display_name = "N`" + "a" * 60
    text = await w.actions.check(timeout())
    assert text.startswith(f"time out N'{'a' * 38} (<@{TARGET}>) for 1 hour(s).")


def test_the_past_tense_of_a_summary() -> None:
    assert _past("delete a message by x") == "deleted a message by x"
    assert _past("time out x for 1 day(s)") == "timed out x for 1 day(s)"
    assert _past("warn x") == "warn x"


# ------------------------------------------------------------------------ performing


async def test_a_deletion_runs_once_and_is_recorded(caplog: pytest.LogCaptureFixture) -> None:
    w = world()
    with caplog.at_level(logging.INFO, logger="toolcord.moderation"):
        done = await w.actions.perform(delete())
    assert done == f"Done: deleted a message by {TOM} in #general (allowed by <@{INVOKER}>)."
    assert w.channel.messages[MESSAGE].deleted == 1
    [record] = w.actions.executed
    audit = f"spam (asked by user {INVOKER} via the bot)"
    assert (record.kind, record.guild_id, record.invoker_id, record.target_id, record.reason) == (
        "delete_message",
        GUILD,
        INVOKER,
        TARGET,
        audit,
    )
    assert abs(record.at - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(minutes=1)
    assert record.at.tzinfo is datetime.UTC
    assert [r.getMessage() for r in caplog.records] == [
        f"moderation delete_message executed in guild {GUILD} for {INVOKER} (call call-1)"
    ]


async def test_a_timeout_runs_with_its_length_and_the_audit_reason() -> None:
    w = world()
    done = await w.actions.perform(timeout(minutes=1440))
    assert done == f"Done: timed out {TOM} for 1 day(s) (allowed by <@{INVOKER}>)."
    audit = f"flooding (asked by user {INVOKER} via the bot)"
    assert w.target.timeouts == [(datetime.timedelta(minutes=1440), audit)]
    assert [(r.kind, r.target_id, r.reason) for r in w.actions.executed] == [
        ("timeout_member", TARGET, audit)
    ]


async def test_a_timeout_without_minutes_lasts_zero() -> None:
    w = world()
    assert await w.actions.perform(timeout(minutes=None)) == (
        f"Done: timed out {TOM} for 0 day(s) (allowed by <@{INVOKER}>)."
    )
    assert w.target.timeouts[0][0] == datetime.timedelta(0)


async def test_the_audit_reason_is_cut_at_500() -> None:
    w = world()
    await w.actions.perform(delete("r" * 600))
    assert w.actions.executed[0].reason == "r" * 500


def test_an_action_record_is_stamped_now_in_utc() -> None:
    before = datetime.datetime.now(datetime.UTC)
    record = ActionRecord("delete_message", 1, 2, 3, "why")
    assert before <= record.at <= datetime.datetime.now(datetime.UTC)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (_http(discord.NotFound, 404), "the target no longer exists"),
        (
            _http(discord.Forbidden, 403),
            "Discord refused (the bot lacks a permission or a high enough role)",
        ),
        (_http(discord.HTTPException, 500), "Discord had a problem; try again later"),
    ],
)
async def test_discord_refusing_the_action_records_nothing(
    error: discord.HTTPException, expected: str, caplog: pytest.LogCaptureFixture
) -> None:
    w = world()
    w.channel.messages[MESSAGE].fails = error
    w.target.fails = error
    with caplog.at_level(logging.INFO, logger="toolcord.moderation"):
        assert await refused(w.actions.perform(delete())) == expected
        assert await refused(w.actions.perform(timeout())) == expected
    assert w.actions.executed == []
    logged = [r.getMessage() for r in caplog.records]
    if expected.startswith("Discord had"):
        assert logged == [f"moderation action failed: {error}"] * 2
    else:
        assert logged == []


async def test_a_plan_with_nothing_to_act_on_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    w = world()
    empty = _Plan(delete(), w.guild, w.channel, TARGET, "delete nothing")  # type: ignore[arg-type]

    async def planned(request: ActionRequest) -> _Plan:
        return empty

    monkeypatch.setattr(w.actions, "_plan", planned)
    assert await refused(w.actions.perform(delete())) == "there is nothing to act on"
    assert w.actions.executed == []


# ------------------------------------------------------------------------ who and where


async def test_no_guild_or_no_bot_user_refuses() -> None:
    w = world()
    assert await refused(w.actions.check(delete(guild_id=GUILD + 1))) == (
        "the bot is not in that server"
    )
    lost = ModerationActions(Client(w.guild, user_id=None))  # type: ignore[arg-type]
    assert await refused(lost.check(delete())) == "the bot is not in that server"


async def test_a_channel_the_bot_cannot_post_in_refuses() -> None:
    w = world()
    w.guild.channels[CHANNEL] = object()
    assert await refused(w.actions.check(delete())) == "this channel is not one the bot can post in"
    del w.guild.channels[CHANNEL]
    assert await refused(w.actions.check(timeout())) == (
        "this channel is not one the bot can post in"
    )


async def test_missing_members_refuse_with_who_is_missing(caplog: pytest.LogCaptureFixture) -> None:
    w = world()
    del w.guild.by_id[BOT]
    assert await refused(w.actions.check(delete())) == "the bot is not a member here"
    del w.guild.by_id[INVOKER]
    assert await refused(w.actions.check(delete())) == "you are not a member here"
    w.guild.member_fails = _http(discord.HTTPException, 503)
    with caplog.at_level(logging.INFO, logger="toolcord.moderation"):
        assert await refused(w.actions.check(delete())) == (
            "Discord could not be asked about the members right now"
        )
    assert [r.getMessage() for r in caplog.records] == [
        f"could not read member {INVOKER}: {w.guild.member_fails}"
    ]


async def test_an_unknown_kind_is_refused_after_reading_the_members() -> None:
    w = world()
    request = delete(kind="ban_member")
    assert await refused(w.actions.check(request)) == "'ban_member' is not a moderation action"
    assert w.guild.fetched == [INVOKER, BOT]


# ------------------------------------------------------------------------ deletions


async def test_a_message_in_another_channel_is_read_there() -> None:
    w = world()
    thread = Thread(OTHER_CHANNEL, "help", {INVOKER: MOD, BOT: MOD})
    w.guild.channels[OTHER_CHANNEL] = thread
    thread.messages[MESSAGE] = Message(w.target)
    text = await w.actions.check(delete(message_channel_id=OTHER_CHANNEL))
    assert text.startswith(f"delete a message by {TOM} in #help.")
    assert (thread.fetched, w.channel.fetched) == ([MESSAGE], [])


async def test_a_message_in_a_voice_channel_may_be_deleted() -> None:
    w = world()
    voice = VoiceChannel(OTHER_CHANNEL, "lounge", {INVOKER: MOD, BOT: MOD})
    w.guild.channels[OTHER_CHANNEL] = voice
    voice.messages[MESSAGE] = Message(w.target)
    assert (await w.actions.check(delete(message_channel_id=OTHER_CHANNEL))).startswith(
        f"delete a message by {TOM} in #lounge."
    )


async def test_a_message_channel_outside_the_server_refuses() -> None:
    w = world()
    w.guild.channels[OTHER_CHANNEL] = DirectChannel(OTHER_CHANNEL)
    assert await refused(w.actions.check(delete(message_channel_id=OTHER_CHANNEL))) == (
        "that message's channel is not in this server"
    )
    assert await refused(w.actions.check(delete(message_channel_id=OTHER_CHANNEL + 1))) == (
        "that message's channel is not in this server"
    )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (None, "there is no such message in that channel"),
        (_http(discord.Forbidden, 403), "the bot cannot read that channel"),
        (_http(discord.HTTPException, 500), "Discord could not be asked about that message"),
    ],
)
async def test_a_message_that_cannot_be_read_refuses(
    error: discord.HTTPException | None, expected: str
) -> None:
    w = world()
    w.channel.fetch_fails = error
    assert await refused(w.actions.check(delete(message_id=MESSAGE + 1))) == expected


async def test_a_request_without_a_message_id_asks_for_message_zero() -> None:
    w = world()
    assert await refused(w.actions.check(delete(message_id=None))) == (
        "there is no such message in that channel"
    )
    assert w.channel.fetched == [0]


async def test_the_channels_permissions_count_for_a_deletion() -> None:
    w = world()
    w.invoker.guild_permissions = PLAIN  # the channel grants manage_messages
    assert (await w.actions.check(delete())).startswith("delete a message")
    w.channel.granted[INVOKER] = PLAIN
    w.invoker.guild_permissions = MOD
    assert await refused(w.actions.check(delete())) == (
        "you need the manage messages permission here"
    )
    w.channel.granted[INVOKER] = MOD
    w.channel.granted[BOT] = PLAIN
    assert await refused(w.actions.check(delete())) == (
        "the bot lacks the manage messages permission here"
    )


async def test_a_deletion_follows_the_hierarchy_of_the_authors_roles() -> None:
    w = world(invoker_top=5, target_top=5)
    assert await refused(w.actions.check(delete())) == "their highest role is not below yours"
    w.target.top_role.position = 10
    w.invoker.top_role.position = 20
    assert await refused(w.actions.check(delete())) == "their highest role is not below the bot's"


async def test_the_owner_may_delete_above_their_own_role() -> None:
    w = world(invoker_top=1, target_top=3)
    w.guild.owner_id = INVOKER
    assert (await w.actions.check(delete())).startswith("delete a message")


async def test_the_owners_messages_cannot_be_deleted() -> None:
    w = world()
    w.guild.owner_id = TARGET
    assert await refused(w.actions.check(delete())) == "the server owner cannot be targeted"


async def test_a_guild_without_a_known_owner_protects_no_one() -> None:
    w = world()
    w.guild.owner_id = None
    odd = w.guild.add(Member(w.guild, 1, 1, display_name="One"))
    w.channel.messages[MESSAGE] = Message(odd)
    assert (await w.actions.check(delete())).startswith("delete a message by One (<@1>)")
    w.guild.owner_id = 1
    assert await refused(w.actions.check(delete())) == "the server owner cannot be targeted"


async def test_webhook_and_departed_authors_are_no_members() -> None:
    w = world(invoker_top=5, target_top=9)  # as a member, the target would outrank the invoker
    w.channel.messages[MESSAGE] = Message(w.target, webhook_id=55)
    assert (await w.actions.check(delete())).startswith(f"delete a message by {TOM}")
    assert w.guild.fetched == [INVOKER, BOT]  # the webhook's author is not looked up
    w.channel.messages[MESSAGE] = Message(SimpleNamespace(id=4242, display_name="Gone"))
    assert (await w.actions.check(delete())).startswith("delete a message by Gone (<@4242>)")


async def test_an_author_who_cannot_be_looked_up_refuses() -> None:
    w = world()

    async def flaky(user_id: int) -> Member:
        if user_id == TARGET:
            raise _http(discord.HTTPException, 500)
        return w.guild.by_id[user_id]

    w.guild.fetch_member = flaky  # type: ignore[method-assign]
    assert await refused(w.actions.check(delete())) == (
        "Discord could not be asked about the message's author"
    )


async def test_a_message_already_gone_at_perform_is_refused() -> None:
    w = world()
    w.channel.messages.clear()
    assert await refused(w.actions.perform(delete())) == "there is no such message in that channel"
    assert w.actions.executed == []


# ------------------------------------------------------------------------ time-outs


async def test_timeouts_read_the_members_server_permissions() -> None:
    w = world()
    w.channel.granted[INVOKER] = discord.Permissions(view_channel=True, moderate_members=False)
    assert (await w.actions.check(timeout())).startswith("time out")
    w.invoker.guild_permissions = PLAIN
    assert await refused(w.actions.check(timeout())) == (
        "you need the moderate members permission here"
    )
    w.invoker.guild_permissions = MOD
    w.bot.guild_permissions = PLAIN
    assert await refused(w.actions.check(timeout())) == (
        "the bot lacks the moderate members permission here"
    )


async def test_a_timeout_needs_a_server_channel_the_invoker_sees() -> None:
    w = world()
    w.guild.channels[CHANNEL] = DirectChannel(CHANNEL)
    assert await refused(w.actions.check(timeout())) == (
        "time-outs can only be asked for in a server channel"
    )
    w.guild.channels[CHANNEL] = w.channel
    w.channel.granted[INVOKER] = discord.Permissions(moderate_members=True)
    assert await refused(w.actions.check(timeout())) == "you cannot see this channel"
    thread = Thread(CHANNEL, "t", {INVOKER: PLAIN})
    w.guild.channels[CHANNEL] = thread
    assert (await w.actions.check(timeout())).startswith("time out")


async def test_timeout_refusals_follow_the_hierarchy() -> None:
    w = world(invoker_top=5, target_top=5)
    assert await refused(w.actions.check(timeout())) == "their highest role is not below yours"
    w.target.top_role.position = 2
    w.target.guild_permissions = discord.Permissions(administrator=True)
    assert await refused(w.actions.check(timeout())) == "administrators cannot be timed out"
    assert await refused(w.actions.check(timeout(str(INVOKER)))) == "you cannot time yourself out"
    assert await refused(w.actions.check(timeout(str(BOT)))) == "the bot itself cannot be targeted"


async def test_a_member_is_found_by_id() -> None:
    w = world()
    assert await refused(w.actions.check(timeout("999"))) == "there is no member with that id here"
    assert w.guild.queries == []


async def test_a_member_is_found_by_any_of_their_names() -> None:
    w = world()
    w.target.name, w.target.global_name, w.target.nick = "tommy", "Thomas", "TJ"
    w.guild.queried = [w.target, w.invoker]
    for reference in ("TOMMY", "tom", "thomas", "tj"):
        assert (await w.actions.check(timeout(reference))).startswith(f"time out {TOM}")
    assert w.guild.queries[0][:3] == ("TOMMY", 20, False)


async def test_a_member_is_found_among_the_cached_members_too() -> None:
    w = world()
    w.guild.cached = [w.target]
    assert (await w.actions.check(timeout("Tom"))).startswith(f"time out {TOM}")


@pytest.mark.parametrize(
    "error", [TimeoutError(), discord.ClientException("no intent"), ValueError("bad")]
)
async def test_a_failed_member_query_falls_back_to_the_cache(error: Exception) -> None:
    w = world()
    w.guild.query_fails = error
    w.guild.cached = [w.target]
    assert (await w.actions.check(timeout("tom"))).startswith(f"time out {TOM}")


async def test_the_member_query_is_bounded_in_time(monkeypatch: pytest.MonkeyPatch) -> None:
    w = world()
    waits: list[float | None] = []
    real = asyncio.wait_for

    async def recording(awaitable: Any, seconds: float | None) -> Any:
        waits.append(seconds)
        return await real(awaitable, seconds)

    monkeypatch.setattr(asyncio, "wait_for", recording)
    w.guild.queried = [w.target]
    await w.actions.check(timeout("tom"))
    assert waits == [MEMBER_QUERY_TIMEOUT_S] and MEMBER_QUERY_TIMEOUT_S == 10.0


async def test_no_or_several_matching_members_refuse() -> None:
    w = world()
    assert await refused(w.actions.check(timeout("Zed"))) == (
        "no member here is named 'Zed'; ask for their id or mention"
    )
    twin = w.guild.add(Member(w.guild, 2000, 1, display_name="Tom"))
    w.guild.queried = [w.target]
    w.guild.cached = [w.target, twin]
    assert await refused(w.actions.check(timeout("tom"))) == (
        "several members are named 'tom'; ask for their id or mention"
    )
    w.guild.cached = [w.target]  # the same member twice is one
    assert (await w.actions.check(timeout("tom"))).startswith("time out")


async def test_a_named_member_who_left_refuses() -> None:
    w = world()
    ghost = Member(w.guild, 3000, 1, display_name="Ghost")
    w.guild.queried = [ghost]
    assert await refused(w.actions.check(timeout("ghost"))) == "that member left the server"


async def test_a_request_without_a_member_matches_no_one() -> None:
    w = world()
    w.guild.cached = [w.target]
    assert await refused(w.actions.check(timeout(member=None))) == (  # type: ignore[arg-type]
        "no member here is named ''; ask for their id or mention"
    )


# ------------------------------------------------------------------------ the log


def event(**values: Any) -> ModerationEvent:
    fields: dict[str, Any] = {
        "stage": "input",
        "action": "flagged",
        "guild_id": GUILD,
        "channel_id": CHANNEL,
        "user_id": TARGET,
        "source_message_id": MESSAGE,
        "categories": (),
        "scores": MappingProxyType({}),
        "rule": None,
        "why": None,
        "excerpt": "text",
        "log_channel_id": OTHER_CHANNEL,
        **values,
    }
    return ModerationEvent(**fields)


LINK = f"https://discord.com/channels/{GUILD}/{CHANNEL}/{MESSAGE}"


def test_a_flagged_answer_with_a_rule() -> None:
    line = report_text(
        event(stage="output", rule="no `spam`", why="it was\nspam", excerpt="a|b " + "x" * 400)
    )
    assert line == (
        f"🚩 **Flagged** answer to a message from <@{TARGET}> in <#{CHANNEL}> "
        f"(rule: no 'spam'; it was spam). {LINK}\n> ||a¦b {'x' * 296}||"
    )


def test_a_report_without_rule_or_why() -> None:
    assert report_text(event(rule=None, why=None)) == (
        f"🚩 **Flagged** message from <@{TARGET}> in <#{CHANNEL}> (rule: ?; ). {LINK}\n> ||text||"
    )


def test_a_rule_and_why_are_cut_at_200() -> None:
    line = report_text(event(rule="r" * 250, why="w" * 250))
    assert f"(rule: {'r' * 200}; {'w' * 200})." in line


def test_the_first_five_categories_with_their_scores() -> None:
    categories = ("a", "b", "c", "d", "e", "f")
    line = report_text(
        event(action="blocked", categories=categories, scores={"a": 0.5, "b": 0.123, "c": 1})
    )
    assert line == (
        f"⛔ **Blocked** message from <@{TARGET}> in <#{CHANNEL}> "
        f"(categories: a 0.50, b 0.12, c 1.00, d 0.00, e 0.00). {LINK}\n> ||text||"
    )


class LogChannel(discord.abc.Messageable):
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    async def send(self, content: str, **options: Any) -> None:  # type: ignore[override]
        self.sent.append((content, options))


async def test_reports_go_to_the_log_channel_without_pings() -> None:
    guild = Guild()
    channel = LogChannel()
    guild.channels[OTHER_CHANNEL] = channel
    fallback: list[ModerationEvent] = []
    report = ModerationLog(Client(guild), fallback.append)  # type: ignore[arg-type]
    await report(event())
    assert channel.sent == [
        (report_text(event()), {"allowed_mentions": NO_MENTIONS, "suppress_embeds": True})
    ]
    assert fallback == []
    assert NO_MENTIONS.everyone is False and NO_MENTIONS.users is False
    assert NO_MENTIONS.roles is False


@pytest.mark.parametrize(
    "values", [{"log_channel_id": None}, {"guild_id": None}, {"log_channel_id": CHANNEL}]
)
async def test_reports_without_a_log_channel_go_to_the_fallback(
    values: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    guild = Guild()
    guild.channels[OTHER_CHANNEL] = LogChannel()
    guild.channels[CHANNEL] = object()
    fallback: list[ModerationEvent] = []
    report = ModerationLog(Client(guild), fallback.append)  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO, logger="toolcord.moderation"):
        await report(event(**values))
    assert fallback == [event(**values)]
    warned = [r.getMessage() for r in caplog.records]
    if values == {"log_channel_id": CHANNEL}:
        assert warned == [
            f"moderation log channel {CHANNEL} is not a channel of guild {GUILD}; set another one"
        ]
    else:
        assert warned == []


async def test_a_report_for_a_guild_the_bot_left(caplog: pytest.LogCaptureFixture) -> None:
    fallback: list[ModerationEvent] = []
    report = ModerationLog(Client(None), fallback.append)  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO, logger="toolcord.moderation"):
        await report(event())
    assert fallback == [event()]
    assert [r.getMessage() for r in caplog.records] == [
        f"moderation log channel {OTHER_CHANNEL} is not a channel of guild {GUILD}; set another one"
    ]


async def test_without_a_fallback_an_unsent_report_is_dropped() -> None:
    report = ModerationLog(Client(None))  # type: ignore[arg-type]
    await report(event(log_channel_id=None))


# ------------------------------------------------------------------------ the rules, word for word


def _standing(user_id: int, top: int, *names: str, owner: bool = False) -> Standing:
    return Standing(user_id, top, Permissions.from_names(*names), owner)


MODERATOR = ("manage_messages", "moderate_members")


@pytest.mark.parametrize(
    ("kind", "invoker", "bot", "target", "target_id", "expected"),
    [
        (
            "ban",
            _standing(INVOKER, 5, *MODERATOR),
            None,
            None,
            TARGET,
            "'ban' is not a moderation action",
        ),
        (
            "timeout_member",
            _standing(INVOKER, 5, *MODERATOR),
            None,
            None,
            TARGET,
            "that user is not a member of this server",
        ),
        ("delete_message", _standing(INVOKER, 5, *MODERATOR), None, None, TARGET, None),
        (
            "delete_message",
            _standing(INVOKER, 5, *MODERATOR),
            None,
            _standing(INVOKER, 5),
            INVOKER,
            None,
        ),
        (
            "timeout_member",
            _standing(INVOKER, 5, *MODERATOR),
            _standing(BOT, 10),
            _standing(TARGET, 1),
            TARGET,
            "the bot lacks the moderate members permission here",
        ),
        (
            "timeout_member",
            _standing(INVOKER, 5, "manage_messages"),
            None,
            _standing(TARGET, 1),
            TARGET,
            "you need the moderate members permission here",
        ),
        (
            "delete_message",
            _standing(INVOKER, 1, *MODERATOR, owner=True),
            None,
            _standing(TARGET, 3),
            TARGET,
            None,
        ),
        (
            "delete_message",
            _standing(INVOKER, 5, *MODERATOR),
            None,
            _standing(TARGET, 4, "administrator"),
            TARGET,
            None,
        ),
    ],
)
def test_each_rule_word_for_word(
    kind: str,
    invoker: Standing,
    bot: Standing | None,
    target: Standing | None,
    target_id: int,
    expected: str | None,
) -> None:
    found = refusal_reason(
        kind,
        invoker,
        bot or _standing(BOT, 10, *MODERATOR),
        target,
        target_id=target_id,
        bot_user_id=BOT,
        guild_owner_id=OWNER,
    )
    assert found == expected


async def test_a_member_without_a_global_name_or_nick_has_no_empty_name() -> None:
    w = world()
    w.guild.cached = [w.target]
    assert (w.target.global_name, w.target.nick) == (None, None)
    for reference in ("XXXX", "xxxx"):
        assert await refused(w.actions.check(timeout(reference))) == (
            f"no member here is named {reference!r}; ask for their id or mention"
        )


async def test_the_bots_own_messages_cannot_be_deleted() -> None:
    w = world()
    w.channel.messages[MESSAGE] = Message(w.bot)
    assert await refused(w.actions.check(delete())) == "the bot itself cannot be targeted"


async def test_the_owner_cannot_be_timed_out() -> None:
    w = world()
    w.guild.owner_id = TARGET
    assert await refused(w.actions.check(timeout())) == "the server owner cannot be targeted"


async def test_a_timeout_in_a_guild_without_a_known_owner_protects_no_one() -> None:
    w = world()
    w.guild.owner_id = None
    w.guild.add(Member(w.guild, 1, 1, display_name="One"))
    assert (await w.actions.check(timeout("1"))).startswith("time out One (<@1>)")
