"""DiscordApprover and its buttons against stand-ins for discord.py's objects: the request text,
who may press, the policy's check at a press, decisions, grants, expiry (written against mutmut's
mutants of bot/approval.py, docs/mutation.md)."""

from __future__ import annotations

import asyncio
import datetime
import logging
import re
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from pydantic import BaseModel

from bot.approval import (
    CUSTOM_ID_TEMPLATE,
    MAX_REMEMBERED_TOKENS,
    NO_MENTIONS,
    PRESS_TEXTS,
    ApprovalView,
    DiscordApprover,
    _Request,
)
from tools import ToolContext, ToolFailed
from tools.approval import DEFAULT_POLICY, ApprovalDecision, ApprovalPolicy
from tools.calls import ToolCall

CHANNEL, GUILD, INVOKER, OTHER = 810, 820, 830, 840
ONLY_INVOKER = ApprovalPolicy(invoker_only=True)
NO_GRANTS = ApprovalPolicy(conversation_grants=False)


class Params(BaseModel):
    text: str = "hello"


def _http(status: int = 500) -> discord.HTTPException:
    return discord.HTTPException(SimpleNamespace(status=status, reason="x"), "from Discord")


class Posted:
    """A posted approval request and its edits."""

    def __init__(self, content: str, options: dict[str, Any]) -> None:
        self.content = content
        self.options = options
        self.edits: list[dict[str, Any]] = []
        self.edit_fails: Exception | None = None

    @property
    def view(self) -> ApprovalView:
        view: ApprovalView = self.options["view"]
        return view

    async def edit(self, **changes: Any) -> None:
        self.edits.append(changes)
        if self.edit_fails is not None:
            raise self.edit_fails


class Channel(discord.abc.Messageable):
    def __init__(self) -> None:
        self.posted: list[Posted] = []
        self.views: list[ApprovalView] = []
        self.fails: Exception | None = None
        self.edit_fails: Exception | None = None
        self.arrived = asyncio.Event()

    async def send(self, content: str, **options: Any) -> Posted:  # type: ignore[override]
        self.views.append(options["view"])
        if self.fails is not None:
            raise self.fails
        posted = Posted(content, options)
        posted.edit_fails = self.edit_fails
        self.posted.append(posted)
        self.arrived.set()
        return posted


class Client:
    def __init__(self, channel: Any) -> None:
        self.channel = channel
        self.asked: list[int] = []

    def get_channel(self, channel_id: int) -> Any:
        self.asked.append(channel_id)
        return self.channel if channel_id == CHANNEL else None


def context(conversation: str = "conv-1", user_id: int = INVOKER) -> ToolContext:
    return ToolContext(
        user_id=user_id, user_name="ivy", channel_id=CHANNEL, conversation_id=conversation
    )


def call(call_id: str = "call-1") -> ToolCall:
    return ToolCall(id=call_id, name="pin_note", arguments="{}")


async def posted(channel: Channel, *tasks: asyncio.Task[Any], count: int = 1) -> Posted:
    """The ``count``-th request posted, as soon as it is (fails at once if a task ends first)."""
    async with asyncio.timeout(10):
        while len(channel.posted) < count:
            channel.arrived.clear()
            arrival = asyncio.ensure_future(channel.arrived.wait())
            await asyncio.wait({arrival, *tasks}, return_when=asyncio.FIRST_COMPLETED)
            arrival.cancel()
            ended = [task for task in tasks if task.done()]
            if ended and len(channel.posted) < count:
                raise AssertionError(f"decide ended without posting: {ended[0]!r}")
    return channel.posted[count - 1]


# ------------------------------------------------------------------------ interactions


class Response:
    def __init__(self, done: bool = False) -> None:
        self.done = done
        self.calls: list[tuple[str, Any, dict[str, Any]]] = []

    def is_done(self) -> bool:
        return self.done

    async def defer(self) -> None:
        self.calls.append(("defer", None, {}))
        self.done = True

    async def send_message(self, content: str, **options: Any) -> None:
        self.calls.append(("send", content, options))
        self.done = True

    async def edit_message(self, **options: Any) -> None:
        self.calls.append(("edit", None, options))
        self.done = True


class Followup:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.fails: Exception | None = None

    async def send(self, content: str, **options: Any) -> None:
        if self.fails is not None:
            raise self.fails
        self.sent.append((content, options))


class Member:
    def __init__(self, user_id: int, permissions: discord.Permissions) -> None:
        self.id = user_id
        self.guild_permissions = permissions


class Guild:
    def __init__(self, members: dict[int, Member]) -> None:
        self.members = members
        self.fails: Exception | None = None
        self.fetched: list[int] = []

    async def fetch_member(self, user_id: int) -> Member:
        self.fetched.append(user_id)
        if self.fails is not None:
            raise self.fails
        return self.members[user_id]


class GuildChannel(discord.TextChannel):
    def __init__(self, granted: dict[int, discord.Permissions]) -> None:
        self.granted = granted

    def permissions_for(self, member: Any, /) -> discord.Permissions:
        return self.granted.get(member.id, discord.Permissions.none())


class Catalogue:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str | None, dict[str, Any]]] = []

    def text(self, key: str, locale: str | None, **values: Any) -> str:
        self.asked.append((key, locale, values))
        return f"[{key}]"


class Interaction:
    def __init__(
        self,
        user_id: int,
        guild: Guild | None = None,
        channel: Any = None,
        *,
        client: Any = None,
        locale: discord.Locale | None = None,
        guild_locale: discord.Locale | None = None,
        done: bool = False,
    ) -> None:
        self.user = SimpleNamespace(id=user_id)
        self.guild = guild
        self.channel = channel
        self.client = client or SimpleNamespace()
        self.locale = locale
        self.guild_locale = guild_locale
        self.response = Response(done)
        self.followup = Followup()
        self.originals: list[dict[str, Any]] = []
        self.original_fails: Exception | None = None

    async def edit_original_response(self, **options: Any) -> None:
        if self.original_fails is not None:
            raise self.original_fails
        self.originals.append(options)


def private(text: str) -> tuple[str, str, dict[str, Any]]:
    return ("send", text, {"ephemeral": True, "allowed_mentions": NO_MENTIONS})


def view_for(
    policy: ApprovalPolicy = DEFAULT_POLICY,
    permissions: tuple[str, ...] = (),
    *,
    token: str = "0123456789abcdef",
) -> tuple[ApprovalView, asyncio.Future[ApprovalDecision]]:
    answer: asyncio.Future[ApprovalDecision] = asyncio.get_running_loop().create_future()
    request = _Request(context(), "pin_note", Params(), permissions, policy)
    return ApprovalView(request, token, answer), answer


def interaction(user_id: int, granted: discord.Permissions | None = None, **extra: Any) -> Any:
    """A press in a guild channel where ``user_id`` holds ``granted`` (as a member: too)."""
    permissions = granted if granted is not None else discord.Permissions.none()
    guild = Guild({user_id: Member(user_id, permissions)})
    channel = GuildChannel({user_id: permissions})
    return Interaction(user_id, guild, channel, **extra)


MANAGE = discord.Permissions(manage_messages=True)


# ------------------------------------------------------------------------ the request


def test_the_constants() -> None:
    assert MAX_REMEMBERED_TOKENS == 10_000
    assert re.fullmatch(CUSTOM_ID_TEMPLATE, "toolcord:approve:conv:0123456789abcdef")
    assert (NO_MENTIONS.everyone, NO_MENTIONS.users, NO_MENTIONS.roles) == (False, False, False)


async def test_the_request_shows_the_arguments_and_when_it_expires() -> None:
    channel = Channel()
    approver = DiscordApprover(Client(channel), timeout_s=90.0)  # type: ignore[arg-type]
    before = int(datetime.datetime.now(datetime.UTC).timestamp() + 90)
    task = asyncio.create_task(
        approver.decide(
            context(), "pin_note", Params(text="héllo `x`\n  https://evil.example/p"), call(), ()
        )
    )
    request = await posted(channel, task)
    after = int(datetime.datetime.now(datetime.UTC).timestamp() + 90)
    expires = int(re.findall(r"<t:(\d+):R>", request.content)[0])
    assert before <= expires <= after
    assert request.content == (
        f"🔐 **Approval needed**: <@{INVOKER}>'s request wants to run `pin_note` with "
        '`{"text": "héllo \'x\'\\n `hxxps://evil[.]example/p"}``.\n'
        f"Nothing runs unless it is allowed (expires <t:{expires}:R>)."
    )
    assert {k: v for k, v in request.options.items() if k != "view"} == {
        "allowed_mentions": NO_MENTIONS,
        "suppress_embeds": True,
    }
    assert approver.asked == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_long_arguments_and_descriptions_are_cut() -> None:
    channel = Channel()
    approver = DiscordApprover(Client(channel))  # type: ignore[arg-type]
    first = asyncio.create_task(
        approver.decide(context(), "pin_note", Params(text="a" * 400), call(), ())
    )
    shown = (await posted(channel, first)).content.split("\n")[0]
    assert (
        shown
        == f"🔐 **Approval needed**: <@{INVOKER}>'s request wants to run `pin_note` with "
        + ("`" + ('{"text": "' + "a" * 400)[:300] + "`.")
    )
    second = asyncio.create_task(
        approver.decide(
            context(),
            "pin_note",
            Params(),
            call(),
            (),
            ONLY_INVOKER,
            description="  time out bob " + "b" * 700,
        )
    )
    lines = (await posted(channel, second, count=2)).content.split("\n")
    assert lines[0] == (
        f"🔐 **Approval needed**: <@{INVOKER}>'s request wants to run `pin_note`: "
        + ("time out bob " + "b" * 700)[:600]
    )
    assert lines[1].startswith(f"Only <@{INVOKER}> can answer. Nothing runs unless it is allowed")
    for task in (first, second):
        task.cancel()
    await asyncio.gather(first, second, return_exceptions=True)


async def test_the_buttons_of_a_request() -> None:
    view, _ = view_for()
    assert view.timeout is None
    assert [(b.label, b.style, b.custom_id) for b in view.children] == [  # type: ignore[attr-defined]
        ("Allow once", discord.ButtonStyle.success, "toolcord:approve:once:0123456789abcdef"),
        (
            "Allow for this conversation",
            discord.ButtonStyle.primary,
            "toolcord:approve:conv:0123456789abcdef",
        ),
        ("Deny", discord.ButtonStyle.danger, "toolcord:approve:deny:0123456789abcdef"),
    ]
    assert [b.decision for b in view.children] == [  # type: ignore[attr-defined]
        "allow_once",
        "allow_conversation",
        "deny",
    ]
    no_grants, _ = view_for(NO_GRANTS)
    assert [b.label for b in no_grants.children] == ["Allow once", "Deny"]  # type: ignore[attr-defined]


async def test_the_approver_knows_the_tokens_it_issued() -> None:
    channel = Channel()
    approver = DiscordApprover(Client(channel))  # type: ignore[arg-type]
    task = asyncio.create_task(approver.decide(context(), "pin_note", Params(), call(), ()))
    request = await posted(channel, task)
    custom_id = request.view.children[0].custom_id  # type: ignore[attr-defined]
    token = re.fullmatch(CUSTOM_ID_TEMPLATE, custom_id)["token"]  # type: ignore[index]
    assert approver.knows(token) and not approver.knows("f" * 16)
    assert approver._tokens.maxlen == MAX_REMEMBERED_TOKENS
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


# ------------------------------------------------------------------------ deciding


async def press(request: Posted, choice: int, user_id: int = INVOKER) -> Interaction:
    pressed = Interaction(user_id)
    button = request.view.children[choice]
    assert await request.view.interaction_check(pressed)  # type: ignore[arg-type]
    await button.callback(pressed)  # type: ignore[arg-type]
    return pressed


async def test_allow_once_is_returned_and_shown(caplog: pytest.LogCaptureFixture) -> None:
    channel = Channel()
    approver = DiscordApprover(Client(channel))  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO, logger="toolcord.approval"):
        task = asyncio.create_task(approver.decide(context(), "pin_note", Params(), call(), ()))
        pressed = await press(await posted(channel, task), 0)
        assert await task == "allow_once"
    assert pressed.response.calls == [
        (
            "edit",
            None,
            {
                "content": f"✅ Allowed once by <@{INVOKER}>: `pin_note` runs now.",
                "view": None,
                "allowed_mentions": NO_MENTIONS,
            },
        )
    ]
    assert [r.getMessage() for r in caplog.records] == [
        "approval of pin_note (call call-1): allow_once"
    ]
    again = asyncio.create_task(approver.decide(context(), "pin_note", Params(), call(), ()))
    await posted(channel, again, count=2)  # allow once grants nothing
    again.cancel()
    await asyncio.gather(again, return_exceptions=True)


async def test_a_conversation_grant_covers_that_tool_in_that_conversation_only() -> None:
    channel = Channel()
    approver = DiscordApprover(Client(channel))  # type: ignore[arg-type]
    task = asyncio.create_task(approver.decide(context(), "pin_note", Params(), call(), ()))
    pressed = await press(await posted(channel, task), 1)
    assert await task == "allow_conversation"
    assert pressed.response.calls[0][2]["content"] == (
        f"✅ Allowed for this conversation by <@{INVOKER}>: `pin_note` runs now."
    )
    assert await approver.decide(context(), "pin_note", Params(), call(), ()) == (
        "allow_conversation"
    )
    assert (len(channel.posted), approver.asked) == (1, 1)
    others = [
        asyncio.create_task(approver.decide(context("conv-2"), "pin_note", Params(), call(), ())),
        asyncio.create_task(approver.decide(context(), "other_tool", Params(), call(), ())),
        asyncio.create_task(
            approver.decide(context(), "pin_note", Params(), call(), (), NO_GRANTS)
        ),
    ]
    await posted(channel, *others, count=4)
    for other in others:
        other.cancel()
    await asyncio.gather(*others, return_exceptions=True)


async def test_deny_is_returned_and_shown() -> None:
    channel = Channel()
    approver = DiscordApprover(Client(channel))  # type: ignore[arg-type]
    task = asyncio.create_task(approver.decide(context(), "pin_note", Params(), call(), ()))
    pressed = await press(await posted(channel, task), 2)
    assert await task == "deny"
    assert pressed.response.calls[0][2]["content"] == (
        f"✖️ Denied by <@{INVOKER}>: `pin_note` was not run."
    )
    task = asyncio.create_task(approver.decide(context(), "pin_note", Params(), call(), ()))
    await posted(channel, task, count=2)  # a denial grants nothing either
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def test_no_press_in_time_is_a_timeout_and_the_request_says_so() -> None:
    channel = Channel()
    approver = DiscordApprover(Client(channel), timeout_s=0.05)  # type: ignore[arg-type]
    assert await approver.decide(context(), "pin_note", Params(), call(), ()) == "timeout"
    request = channel.posted[0]
    assert request.edits == [
        {
            "content": "⌛ Not approved in time: `pin_note` was not run.",
            "view": None,
            "allowed_mentions": NO_MENTIONS,
        }
    ]
    assert request.view.is_finished()
    assert await approver.decide(context(), "pin_note", Params(), call(), ()) == "timeout"
    assert approver.asked == 2
    late = Interaction(INVOKER)
    assert not await request.view.interaction_check(late)  # type: ignore[arg-type]
    assert late.response.calls == [private("This request was already decided.")]


async def test_an_edit_failing_at_the_timeout_is_ignored() -> None:
    channel = Channel()
    channel.edit_fails = _http()
    approver = DiscordApprover(Client(channel), timeout_s=0.05)  # type: ignore[arg-type]
    assert await approver.decide(context(), "pin_note", Params(), call(), ()) == "timeout"


async def test_a_cancelled_request_says_it_ended() -> None:
    channel = Channel()
    approver = DiscordApprover(Client(channel))  # type: ignore[arg-type]
    task = asyncio.create_task(approver.decide(context(), "pin_note", Params(), call(), ()))
    request = await posted(channel, task)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert request.edits == [
        {
            "content": "⌛ The request ended before an answer: `pin_note` was not run.",
            "view": None,
            "allowed_mentions": NO_MENTIONS,
        }
    ]
    assert request.view.is_finished()


async def test_no_channel_or_a_failed_post_is_unavailable(caplog: pytest.LogCaptureFixture) -> None:
    approver = DiscordApprover(Client(object()))  # type: ignore[arg-type]
    assert await approver.decide(context(), "pin_note", Params(), call(), ()) == "unavailable"
    channel = Channel()
    channel.fails = _http(503)
    approver = DiscordApprover(Client(channel))  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO, logger="toolcord.approval"):
        assert await approver.decide(context(), "pin_note", Params(), call(), ()) == "unavailable"
    assert approver.asked == 0
    assert channel.views[0].is_finished()  # its buttons are dead
    assert [r.getMessage() for r in caplog.records] == [
        f"could not post an approval request: {channel.fails}"
    ]


async def test_the_default_timeout_is_a_minute() -> None:
    channel = Channel()
    approver = DiscordApprover(Client(channel))  # type: ignore[arg-type]
    before = int(datetime.datetime.now(datetime.UTC).timestamp() + 60)
    task = asyncio.create_task(approver.decide(context(), "pin_note", Params(), call(), ()))
    request = await posted(channel, task)
    after = int(datetime.datetime.now(datetime.UTC).timestamp() + 60)
    expires = int(re.findall(r"<t:(\d+):R>", request.content)[0])
    assert before <= expires <= after
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


# ------------------------------------------------------------------------ the view


async def test_a_decision_is_recorded_once() -> None:
    view, answer = view_for()
    first = Interaction(INVOKER)
    await view.decide(first, "deny")  # type: ignore[arg-type]
    assert answer.result() == "deny" and view.is_finished()
    second = Interaction(INVOKER)
    await view.decide(second, "allow_once")  # type: ignore[arg-type]
    assert answer.result() == "deny" and second.response.calls == []


async def test_a_decision_after_a_deferred_press_edits_the_original() -> None:
    view, answer = view_for()
    pressed = Interaction(INVOKER, done=True)
    await view.decide(pressed, "allow_once")  # type: ignore[arg-type]
    assert pressed.originals == [
        {
            "content": f"✅ Allowed once by <@{INVOKER}>: `pin_note` runs now.",
            "view": None,
            "allowed_mentions": NO_MENTIONS,
        }
    ]
    assert pressed.response.calls == []
    view, answer = view_for()
    failing = Interaction(INVOKER, done=True)
    failing.original_fails = _http()
    await view.decide(failing, "deny")  # type: ignore[arg-type]
    assert answer.result() == "deny"


async def test_closing_cancels_an_open_answer_only() -> None:
    view, answer = view_for()
    view.close()
    assert answer.cancelled() and view.is_finished()
    view, answer = view_for()
    answer.set_result("deny")
    view.close()
    assert answer.result() == "deny"


async def test_a_button_without_a_view_does_nothing() -> None:
    view, answer = view_for()
    button = view.children[0]
    view.remove_item(button)
    await button.callback(Interaction(INVOKER))  # type: ignore[arg-type]
    assert not answer.done()


async def test_a_failing_button_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    view, _ = view_for()
    error = RuntimeError("boom")
    with caplog.at_level(logging.INFO, logger="toolcord.approval"):
        await view.on_error(Interaction(INVOKER), error, view.children[0])  # type: ignore[arg-type]
    [record] = caplog.records
    assert (record.levelno, record.getMessage()) == (logging.ERROR, "an approval button failed")
    assert record.exc_info is not None and record.exc_info[1] is error


# ------------------------------------------------------------------------ who may press


async def test_in_a_dm_only_the_invoker_may_answer() -> None:
    view, _ = view_for(permissions=("manage_messages",))
    assert await view.interaction_check(Interaction(INVOKER))  # type: ignore[arg-type]
    other = Interaction(OTHER)
    assert not await view.interaction_check(other)  # type: ignore[arg-type]
    assert other.response.calls == [private(f"Only <@{INVOKER}> can answer this.")]


async def test_without_permissions_only_the_asker_may_answer() -> None:
    view, _ = view_for()
    other = interaction(OTHER, discord.Permissions.all())
    assert not await view.interaction_check(other)
    assert other.response.calls == [private(f"Only <@{INVOKER}>, who asked, can answer this.")]
    invoker = interaction(INVOKER)
    assert await view.interaction_check(invoker)
    assert invoker.guild.fetched == []  # nothing to check


async def test_with_permissions_a_holder_may_answer_unless_invoker_only() -> None:
    view, _ = view_for(permissions=("manage_messages",))
    holder = interaction(OTHER, MANAGE)
    assert await view.interaction_check(holder)
    assert holder.response.calls == []
    strict, _ = view_for(ONLY_INVOKER, ("manage_messages",))
    refused = interaction(OTHER, MANAGE)
    assert not await strict.interaction_check(refused)
    assert refused.response.calls == [private(f"Only <@{INVOKER}>, who asked, can answer this.")]
    assert await strict.interaction_check(interaction(INVOKER, MANAGE))


async def test_the_invoker_too_must_hold_the_permissions() -> None:
    view, _ = view_for(permissions=("manage_messages", "kick_members"))
    lacking = interaction(INVOKER, discord.Permissions(view_channel=True))
    assert not await view.interaction_check(lacking)
    assert lacking.response.calls == [
        private("You need the manage messages, kick members permission here to answer this.")
    ]
    half = interaction(INVOKER, MANAGE)
    assert not await view.interaction_check(half)
    assert half.response.calls == [
        private("You need the kick members permission here to answer this.")
    ]


async def test_channel_permissions_count_in_a_channel_else_the_servers() -> None:
    view, _ = view_for(permissions=("manage_messages",))
    member = Member(OTHER, discord.Permissions.none())
    in_channel = Interaction(OTHER, Guild({OTHER: member}), GuildChannel({OTHER: MANAGE}))
    assert await view.interaction_check(in_channel)  # type: ignore[arg-type]
    elsewhere = Interaction(OTHER, Guild({OTHER: member}), None)
    assert not await view.interaction_check(elsewhere)  # type: ignore[arg-type]
    server_wide = Interaction(OTHER, Guild({OTHER: Member(OTHER, MANAGE)}), None)
    assert await view.interaction_check(server_wide)  # type: ignore[arg-type]


async def test_permissions_that_cannot_be_read_refuse() -> None:
    view, _ = view_for(permissions=("manage_messages",))
    pressed = interaction(OTHER, MANAGE)
    pressed.guild.fails = _http()
    assert not await view.interaction_check(pressed)
    assert pressed.response.calls == [
        private("Discord could not confirm your permissions; try again.")
    ]
    assert pressed.guild.fetched == [OTHER]


# ------------------------------------------------------------------------ the check at a press


def checking(outcome: Exception | None) -> tuple[ApprovalPolicy, list[tuple[Any, Any]]]:
    seen: list[tuple[Any, Any]] = []

    async def check(ctx: ToolContext, params: BaseModel) -> str:
        seen.append((ctx, params))
        if outcome is not None:
            raise outcome
        return "described"

    return ApprovalPolicy(check=check), seen


async def test_a_passing_check_is_acknowledged_first() -> None:
    policy, seen = checking(None)
    view, _ = view_for(policy)
    pressed = Interaction(INVOKER)
    assert await view.interaction_check(pressed)  # type: ignore[arg-type]
    assert pressed.response.calls == [("defer", None, {})]
    assert seen == [(context(), Params())]
    await view.children[0].callback(pressed)  # type: ignore[arg-type]
    assert (
        pressed.originals[0]["content"] == f"✅ Allowed once by <@{INVOKER}>: `pin_note` runs now."
    )


async def test_a_refusing_check_is_told_privately() -> None:
    policy, _ = checking(ToolFailed("the member left"))
    view, answer = view_for(policy)
    pressed = Interaction(INVOKER)
    assert not await view.interaction_check(pressed)  # type: ignore[arg-type]
    assert pressed.followup.sent == [
        (
            "This cannot run now: the member left",
            {"ephemeral": True, "allowed_mentions": NO_MENTIONS},
        )
    ]
    assert not answer.done()


async def test_a_failing_check_is_logged_and_told(caplog: pytest.LogCaptureFixture) -> None:
    policy, _ = checking(RuntimeError("bug"))
    view, _ = view_for(policy)
    pressed = Interaction(INVOKER)
    with caplog.at_level(logging.INFO, logger="toolcord.approval"):
        assert not await view.interaction_check(pressed)  # type: ignore[arg-type]
    assert pressed.followup.sent == [
        (
            "This could not be checked; try again.",
            {"ephemeral": True, "allowed_mentions": NO_MENTIONS},
        )
    ]
    [record] = caplog.records
    assert record.getMessage() == "the approval check of pin_note failed at a press"
    assert record.exc_info is not None


async def test_a_failed_private_reply_is_ignored() -> None:
    policy, _ = checking(ToolFailed("no"))
    view, _ = view_for(policy)
    pressed = Interaction(INVOKER)
    pressed.followup.fails = _http()
    assert not await view.interaction_check(pressed)  # type: ignore[arg-type]


# ------------------------------------------------------------------------ languages


def test_the_english_press_texts() -> None:
    assert PRESS_TEXTS == {
        "approval.decided": "This request was already decided.",
        "approval.refused": "This cannot run now: {reason}",
        "approval.unchecked": "This could not be checked; try again.",
        "approval.only_invoker": "Only {invoker} can answer this.",
        "approval.only_asker": "Only {invoker}, who asked, can answer this.",
        "approval.no_permissions_read": "Discord could not confirm your permissions; try again.",
        "approval.missing_permission": "You need the {names} permission here to answer this.",
    }


@pytest.mark.parametrize(
    ("locale", "guild_locale", "expected"),
    [
        (discord.Locale.french, discord.Locale.german, "fr"),
        (None, discord.Locale.german, "de"),
        (None, None, None),
    ],
)
async def test_press_texts_use_the_pressers_language(
    locale: discord.Locale | None, guild_locale: discord.Locale | None, expected: str | None
) -> None:
    view, _ = view_for()
    catalogue = Catalogue()
    pressed = Interaction(
        OTHER,
        Guild({}),
        None,
        client=SimpleNamespace(catalogue=catalogue),
        locale=locale,
        guild_locale=guild_locale,
    )
    assert not await view.interaction_check(pressed)  # type: ignore[arg-type]
    assert catalogue.asked == [("approval.only_asker", expected, {"invoker": f"<@{INVOKER}>"})]
    assert pressed.response.calls == [private("[approval.only_asker]")]


async def test_the_posted_buttons_know_the_tools_permissions() -> None:
    channel = Channel()
    approver = DiscordApprover(Client(channel))  # type: ignore[arg-type]
    task = asyncio.create_task(
        approver.decide(context(), "pin_note", Params(), call(), ("manage_messages",))
    )
    request = await posted(channel, task)
    holder = interaction(OTHER, MANAGE)
    assert await request.view.interaction_check(holder)
    lacking = interaction(OTHER, discord.Permissions(view_channel=True))
    assert not await request.view.interaction_check(lacking)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


class Dated(BaseModel):
    on: datetime.date


async def test_arguments_are_shown_as_json() -> None:
    channel = Channel()
    approver = DiscordApprover(Client(channel))  # type: ignore[arg-type]
    task = asyncio.create_task(
        approver.decide(context(), "pin_note", Dated(on=datetime.date(2026, 12, 7)), call(), ())
    )
    request = await posted(channel, task)
    assert request.content.split("\n")[0].endswith('with `{"on": "2026-12-07"}`.')
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
