"""Issue 11: shard plans and process names, shard-tagged logs, and counting turns."""

from __future__ import annotations

import io
import logging
from typing import Any

import openai
import pytest
from prometheus_client import REGISTRY

from bot.conversation import IncomingTurn
from bot.engine import AnswerUsage, Failed, ToolDone
from bot.errors import ConfigError
from bot.logging_setup import RedactingFilter
from bot.observability import (
    BotMetrics,
    TurnMetrics,
    install_shard_logging,
    instrument_openai_client,
    process_name,
    shard_label,
    shard_of,
    shard_plan,
)
from bot.policy import Refusal, TurnPolicy
from bot.settings import DiscordSettings
from bot.testing.openai import OpenAIEmulator
from tools.calls import ToolOutcome


def discord(**values: Any) -> DiscordSettings:
    return DiscordSettings(**values)


# -- shards -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "name", "label"),
    [
        ({}, "main", "all"),
        ({"shard_count": 4}, "main", "all/4"),
        ({"shard_count": 4, "shard_ids": [1, 0]}, "shards-0-1of4", "0-1/4"),
        ({"shard_count": 8, "shard_ids": [5, 0, 1, 2]}, "shards-0-2,5of8", "0-2,5/8"),
        ({"shard_count": 2, "shard_ids": [1]}, "shards-1of2", "1/2"),
        ({"shard_count": 2, "shard_ids": [0, 1]}, "main", "0-1/2"),
    ],
)
def test_process_names_and_labels(values: dict[str, Any], name: str, label: str) -> None:
    assert process_name(discord(**values)) == name
    assert shard_label(discord(**values)) == label


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"shard_ids": [0]}, "discord.shard_count is not"),
        ({"shard_count": 0}, "set it to 1 or more"),
        ({"shard_count": 2, "shard_ids": []}, "is empty"),
        ({"shard_count": 2, "shard_ids": [2]}, "outside 0..1"),
        ({"shard_count": 2, "shard_ids": [1, 1]}, "names a shard twice"),
    ],
)
def test_inconsistent_shard_settings_are_config_errors(values: dict[str, Any], says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        shard_plan(discord(**values))


def test_guilds_and_direct_messages_map_to_shards_like_discord() -> None:
    assert shard_of(None, 4) == 0
    assert shard_of((7 << 22) | 12345, 4) == 3
    assert shard_of((7 << 22) | 12345, 1) == 0


# -- logs -------------------------------------------------------------------------------------


def test_every_line_carries_the_shard_once_and_secrets_stay_masked() -> None:
    logger = logging.getLogger("toolcord.test.shards")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    streams = [io.StringIO(), io.StringIO()]
    handlers = [logging.StreamHandler(stream) for stream in streams]
    for handler in handlers:
        handler.addFilter(RedactingFilter(["hunter2-secret"]))
        logger.addHandler(handler)
    remove = install_shard_logging("0-1/4", logger)
    try:
        logger.info("answered %s with %s", "msg-1", "hunter2-secret")
        remove()
        logger.info("after removal")
    finally:
        for handler in handlers:
            logger.removeHandler(handler)
    for stream in streams:
        lines = stream.getvalue().splitlines()
        assert lines == ["[shard 0-1/4] answered msg-1 with [redacted]", "after removal"]


# -- counting turns ---------------------------------------------------------------------------


def turn(message_id: int = 1, guild_id: int | None = 99) -> IncomingTurn:
    return IncomingTurn(
        key=f"channel:{message_id}",
        user_id=5,
        user_name="alice",
        channel_id=7,
        text="hi",
        source_message_id=message_id,
        guild_id=guild_id,
    )


class Refuses(TurnPolicy):
    """A policy that refuses every turn, or every answer (holding no output: the default)."""

    def __init__(self, *, answers: bool = False) -> None:
        self.answers = answers
        self.settled: list[int] = []

    async def before_turn(self, turn: IncomingTurn) -> Refusal | None:
        return None if self.answers else Refusal("quota", "spent")

    async def review_answer(self, turn: IncomingTurn, text: str) -> Refusal | None:
        return Refusal("moderation", "no") if self.answers else None

    async def after_turn(self, turn: IncomingTurn, usage: AnswerUsage, model: str) -> None:
        self.settled.append(turn.source_message_id)


def value(metrics: BotMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


async def test_turns_are_counted_by_outcome_and_shard() -> None:
    now = [100.0]
    metrics = BotMetrics(shard_of=lambda guild_id: 3 if guild_id else 0)
    turns = TurnMetrics(metrics, clock=lambda: now[0])

    answered = turn(1)
    await turns.before_turn(answered)
    await turns.review_answer(answered, "hello")
    now[0] += 2.5
    await turns.after_turn(answered, AnswerUsage(), "m")

    failed = turn(2, guild_id=None)
    await turns.before_turn(failed)
    turns.on_outcome(failed, Failed("rate_limited", "busy", "", [], AnswerUsage()))
    await turns.after_turn(failed, AnswerUsage(), "m")

    silent_failure = turn(3)
    await turns.before_turn(silent_failure)
    await turns.after_turn(silent_failure, AnswerUsage(), "m")

    handled = "toolcord_messages_handled_total"
    assert value(metrics, handled, shard="3", outcome="answered") == 1
    assert value(metrics, handled, shard="0", outcome="failed") == 1
    assert value(metrics, handled, shard="3", outcome="failed") == 1
    assert value(metrics, "toolcord_errors_total", kind="rate_limited") == 1
    assert value(metrics, "toolcord_errors_total", kind="turn_failed") == 1
    assert value(metrics, "toolcord_turn_seconds_sum") == 2.5
    assert REGISTRY.get_sample_value(handled, {"shard": "3", "outcome": "answered"}) is None


async def test_watched_policies_count_refusals_and_stay_what_they_wrap() -> None:
    metrics = BotMetrics(shard_of=lambda guild_id: 1)
    turns = TurnMetrics(metrics)
    quota, moderation = Refuses(), Refuses(answers=True)
    watched_quota, watched_moderation = turns.watch(quota), turns.watch(moderation)

    refused = turn(1)
    await turns.before_turn(refused)
    assert await watched_quota.before_turn(refused) == Refusal("quota", "spent")

    reviewed = turn(2)
    await turns.before_turn(reviewed)
    await turns.review_answer(reviewed, "text")
    assert await watched_moderation.review_answer(reviewed, "text") == Refusal("moderation", "no")
    await watched_moderation.after_turn(reviewed, AnswerUsage(), "m")
    await turns.after_turn(reviewed, AnswerUsage(), "m")

    handled = "toolcord_messages_handled_total"
    assert value(metrics, handled, shard="1", outcome="refused") == 2
    assert value(metrics, "toolcord_refusals_total", kind="quota") == 1
    assert value(metrics, "toolcord_refusals_total", kind="moderation") == 1
    assert moderation.settled == [2]
    assert watched_quota.inner is quota
    assert await watched_quota.holds_output(refused) is False


def test_tool_events_are_counted_by_tool_and_status() -> None:
    metrics = BotMetrics()
    turns = TurnMetrics(metrics)
    turns.on_event(ToolDone(ToolOutcome("call_1", "weather", "sunny", "ok")))
    turns.on_event(ToolDone(ToolOutcome("call_2", "weather", "slow", "timeout")))
    assert value(metrics, "toolcord_tool_calls_total", tool="weather", status="ok") == 1
    assert value(metrics, "toolcord_tool_calls_total", tool="weather", status="timeout") == 1


async def test_model_requests_are_timed_by_endpoint_and_status(
    openai_emulator: OpenAIEmulator,
) -> None:
    metrics = BotMetrics()
    client = openai.AsyncOpenAI(api_key="sk-test", base_url=openai_emulator.base_url)
    try:
        assert instrument_openai_client(client, metrics)
        await client.chat.completions.create(
            model="gpt-5.4-mini", messages=[{"role": "user", "content": "hi"}]
        )
    finally:
        await client.close()
    labels = {"endpoint": "chat/completions", "status": "200"}
    assert value(metrics, "toolcord_model_request_seconds_count", **labels) == 1
    assert not instrument_openai_client(object(), metrics)
