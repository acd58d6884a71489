"""Discord fault kinds (catalogue D1-D7): REST 429s and 5xx, lost permissions, gateway trouble.

5xx answers to message sends are filed under D1 (a failed write during a reply must not lose or
double it); D6 is the 5xx on an interaction's first callback.
"""

from __future__ import annotations

import time

from bot.delivery import EditPacer
from bot.testing.discord import EmulatorTimeout, Perm
from tests.reliability.faults import (
    MESSAGE_POST,
    CaseResult,
    FaultCase,
    answered,
    replies_to,
    still_healthy,
)
from tests.reliability.rig import USER_DEADLINE_S, Rig, poll_until, settle

CHANNEL_WRITES = r"/channels/{id}/messages(/\d+)?"
INTERACTION_CALLBACK = r"/interactions/\d+/[^/]+/callback"
INVALID_STATUSES = (401, 403, 429)


async def _rest_fault_once(rig: Rig, result: CaseResult, **fault: object) -> None:
    rig.discord.faults.add("POST", MESSAGE_POST, **fault)  # type: ignore[arg-type]
    async with rig.harness.run():
        reply = await answered(rig, result, "rest fault probe", "rest fault probe")
        if reply is not None:
            result.check("exactly one reply", len(replies_to(rig, reply.source_id)) == 1)
        await still_healthy(rig, result)


async def rate_limited_with_via(rig: Rig, result: CaseResult) -> None:
    await _rest_fault_once(rig, result, status=429, retry_after=0.4, times=2)


async def rate_limited_without_via(rig: Rig, result: CaseResult) -> None:
    await _rest_fault_once(rig, result, status=429, retry_after=0.4, via=False, times=1)


async def rate_limited_beyond_the_cap(rig: Rig, result: CaseResult) -> None:
    """A 429 longer than max_ratelimit_timeout: no long stall, the answer arrives anyway."""
    await _rest_fault_once(rig, result, status=429, retry_after=120.0, times=1)


async def rate_limited_globally(rig: Rig, result: CaseResult) -> None:
    await _rest_fault_once(rig, result, status=429, retry_after=0.5, global_=True, times=1)


def server_error(status: int) -> FaultCase:
    async def body(rig: Rig, result: CaseResult) -> None:
        await _rest_fault_once(rig, result, status=status, times=1)

    return FaultCase(f"discord_{status}", "D1", body)


async def _channel_refuses(rig: Rig, result: CaseResult, refuse: str) -> None:
    """The bot may no longer write in #general: no retry storm there, #random still served."""
    general = rig.discord.channel("general")
    if refuse == "forbidden":
        rig.discord.deny_bot(general, Perm.SEND_MESSAGES)
    else:
        body = {"message": "Unknown Channel", "code": 10003}
        rig.discord.faults.add(
            "POST", CHANNEL_WRITES.format(id=general.id), status=404, body=body, times=1000
        )
    mark = rig.discord.mark()
    async with rig.harness.run() as bot:
        for number in range(5):
            await rig.discord.inject_message(
                general,
                "alice",
                f"<@{rig.discord.bot_user.id}> probe {number}",
                mentions=[rig.discord.bot_user],
            )
        await answered(rig, result, "the other channel", "the other channel", channel="random")
        await settle(bot, 6)
        writes = rig.discord.requests_matching(
            None, CHANNEL_WRITES.format(id=general.id), after=mark
        )
        result.check("at most 2 writes for 5 messages (no retry storm)", len(writes) <= 2)
        invalid = [r for r in rig.discord.failed_requests if r.status in INVALID_STATUSES]
        result.check("at most 3 invalid requests (Cloudflare budget)", len(invalid) <= 3)
        await still_healthy(rig, result, channel="random")


async def lost_send_permission(rig: Rig, result: CaseResult) -> None:
    await _channel_refuses(rig, result, "forbidden")


async def channel_deleted(rig: Rig, result: CaseResult) -> None:
    await _channel_refuses(rig, result, "not_found")


async def channel_breaker_half_opens(rig: Rig, result: CaseResult) -> None:
    """After the pause the bot tries the channel again, and answers once it may."""
    general = rig.discord.channel("general")
    overwrite = rig.discord.deny_bot(general, Perm.SEND_MESSAGES)
    async with rig.harness.run() as bot:
        bot.pacer = EditPacer(bot.settings.chat.edit_interval_s, forbidden_retry_s=1.0)
        await rig.discord.inject_message(
            general,
            "alice",
            f"<@{rig.discord.bot_user.id}> blocked",
            mentions=[rig.discord.bot_user],
        )
        await rig.discord.wait_request(
            "POST", CHANNEL_WRITES.format(id=general.id), after=0, timeout=30
        )
        overwrite.deny = 0
        await _until_unpaused(bot.pacer, general.id)
        await answered(rig, result, "after the pause", "after the pause")
        await still_healthy(rig, result)


async def _until_unpaused(pacer: EditPacer, channel_id: int) -> None:
    """The pause is a timer: wait until it started, then until it ended."""
    await poll_until(lambda: pacer.is_paused(channel_id), 10)
    await poll_until(lambda: not pacer.is_paused(channel_id), 10)


async def interaction_callback_fails_once(rig: Rig, result: CaseResult) -> None:
    """A 5xx on the first interaction callback: the retried defer still lands within 3 s."""
    rig.discord.faults.add("POST", INTERACTION_CALLBACK, status=500, times=1)
    async with rig.harness.run():
        await rig.discord.wait_until(lambda: "chat" in rig.discord.commands.names(), 30)
        started = time.monotonic()
        handle = await rig.discord.inject_interaction(
            "chat", user="alice", channel="general", options={"prompt": "slash fault probe"}
        )
        try:
            await handle.wait(
                lambda h: "slash fault probe" in (h.final_content() or ""), USER_DEADLINE_S
            )
            result.saw(time.monotonic() - started)
        except EmulatorTimeout:
            result.saw(None)
        result.check("deferred", handle.deferred)
        result.check("no 10062 (acknowledged within 3 s)", 10062 not in handle.rejected)
        await still_healthy(rig, result)


async def gateway_dropped(rig: Rig, result: CaseResult) -> None:
    async with rig.harness.run():
        await rig.discord.drop_gateway(4000)
        await answered(rig, result, "sent while reconnecting", "sent while reconnecting")
        result.check("resumed without a new IDENTIFY", len(rig.discord.identifies) == 1)
        await still_healthy(rig, result)


async def resume_replays_seen_events(rig: Rig, result: CaseResult) -> None:
    async with rig.harness.run():
        first = await answered(rig, result, "answer me once", "answer me once")
        await rig.discord.drop_gateway(4000)
        await answered(rig, result, "after the resume", "after the resume")
        if first is not None:
            await rig.discord.resend_last(
                "MESSAGE_CREATE", lambda record: int(record.payload["id"]) == first.source_id
            )
        await still_healthy(rig, result)
        if first is not None:
            result.check(
                "replayed message answered once", len(replies_to(rig, first.source_id)) == 1
            )


async def invalid_session(rig: Rig, result: CaseResult) -> None:
    async with rig.harness.run():
        await rig.discord.invalidate_session(resumable=False)
        await rig.discord.wait_until(lambda: len(rig.discord.identifies) >= 2, timeout=30)
        await answered(rig, result, "after a new session", "after a new session")
        result.check("exactly one new IDENTIFY", len(rig.discord.identifies) == 2)
        await still_healthy(rig, result)


async def reconnect_requested(rig: Rig, result: CaseResult) -> None:
    async with rig.harness.run():
        await rig.discord.send_reconnect()
        await answered(rig, result, "after op 7", "after op 7")
        result.check("resumed without a new IDENTIFY", len(rig.discord.identifies) == 1)
        await still_healthy(rig, result)


CASES = [
    FaultCase("discord_429_with_via", "D1", rate_limited_with_via),
    FaultCase("discord_429_without_via", "D4", rate_limited_without_via),
    FaultCase("discord_global_429", "D2", rate_limited_globally),
    FaultCase("discord_429_beyond_the_cap", "D3", rate_limited_beyond_the_cap),
    *(server_error(status) for status in (500, 502, 503, 504)),
    FaultCase("discord_500_on_interaction_callback", "D6", interaction_callback_fails_once),
    FaultCase("discord_403_lost_permission", "D5", lost_send_permission),
    FaultCase("discord_404_channel_gone", "D5", channel_deleted),
    FaultCase("discord_channel_breaker_half_open", "D5", channel_breaker_half_opens),
    FaultCase("gateway_drop_and_resume", "D7", gateway_dropped),
    FaultCase("gateway_resume_replays_seen_events", "D7", resume_replays_seen_events),
    FaultCase("gateway_invalid_session", "D7", invalid_session),
    FaultCase("gateway_reconnect_op7", "D7", reconnect_requested),
]
