"""The moderation TurnPolicy: input and output checks, modes, thresholds, written rules."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import openai
import pytest

from bot.conversation import IncomingTurn
from bot.policy.moderation import (
    RULES_SCHEMA,
    ModerationConfig,
    ModerationEvent,
    ModerationPolicy,
    guild_config,
    static_config,
)
from bot.settings import ModerationSettings
from bot.testing.openai import Fault, ModerationReply, OpenAIEmulator
from tools.schema import assert_strict_schema

MODERATIONS = "/v1/moderations"
CHAT = "/v1/chat/completions"


@pytest.fixture
async def oai_client(openai_emulator: OpenAIEmulator) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(api_key="sk-test", base_url=openai_emulator.base_url, max_retries=0)
    yield client
    await client.close()


def _turn(text: str = "hello", parts: list[dict[str, Any]] | None = None) -> IncomingTurn:
    return IncomingTurn(
        key="g:1:c:2",
        user_id=42,
        user_name="bob",
        channel_id=2,
        text=text,
        source_message_id=777,
        guild_id=1,
        parts=parts or [],
    )


def _policy(
    client: openai.AsyncOpenAI, events: list[ModerationEvent], **settings: Any
) -> ModerationPolicy:
    fail_closed = settings.pop("fail_closed", False)

    async def report(event: ModerationEvent) -> None:
        events.append(event)

    return ModerationPolicy(
        client,
        model="omni-moderation-latest",
        rules_model="gpt-5.4-mini",
        config_source=static_config(ModerationSettings(**settings)),
        report=report,
        fail_closed=fail_closed,
    )


async def test_off_checks_nothing(
    openai_emulator: OpenAIEmulator, oai_client: openai.AsyncOpenAI
) -> None:
    events: list[ModerationEvent] = []
    policy = _policy(oai_client, events, mode="off")

    assert await policy.before_turn(_turn()) is None
    assert await policy.review_answer(_turn(), "an answer") is None
    assert openai_emulator.requests == [] and events == []


async def test_block_refuses_flagged_input_and_reports_it(
    openai_emulator: OpenAIEmulator, oai_client: openai.AsyncOpenAI
) -> None:
    openai_emulator.moderations.reply(ModerationReply(["harassment"]))
    events: list[ModerationEvent] = []
    policy = _policy(oai_client, events, mode="block", log_channel_id=555)

    refusal = await policy.before_turn(_turn("you are worthless"))

    assert refusal is not None and refusal.kind == "moderation_input"
    assert "flagged it (harassment)" in refusal.message
    (event,) = events
    assert (event.stage, event.action, event.categories) == ("input", "blocked", ("harassment",))
    assert (event.user_id, event.source_message_id, event.log_channel_id) == (42, 777, 555)
    assert event.excerpt == "you are worthless"
    assert openai_emulator.moderations.requests[0]["input"] == "you are worthless"


async def test_flag_reports_but_lets_the_turn_through(
    openai_emulator: OpenAIEmulator, oai_client: openai.AsyncOpenAI
) -> None:
    openai_emulator.moderations.reply(ModerationReply(["violence"]))
    events: list[ModerationEvent] = []

    refusal = await _policy(oai_client, events, mode="flag").before_turn(_turn("fight!"))

    assert refusal is None
    assert [(e.action, e.categories) for e in events] == [("flagged", ("violence",))]


async def test_clean_input_passes_silently(
    openai_emulator: OpenAIEmulator, oai_client: openai.AsyncOpenAI
) -> None:
    events: list[ModerationEvent] = []

    assert await _policy(oai_client, events, mode="block").before_turn(_turn()) is None
    assert events == [] and openai_emulator.attempts(MODERATIONS) == 1


@pytest.mark.parametrize(
    ("reply", "thresholds", "counted"),
    [
        (ModerationReply(scores={"hate": 0.35}), {"hate": 0.3}, True),
        (ModerationReply(scores={"hate": 0.25}), {"hate": 0.3}, False),
        (ModerationReply(["sexual"], scores={"sexual": 0.6}), {"sexual": 0.8}, False),
        (ModerationReply(["sexual"], scores={"sexual": 0.6}), {"hate": 0.8}, True),
    ],
)
async def test_thresholds_decide_per_category(
    openai_emulator: OpenAIEmulator,
    oai_client: openai.AsyncOpenAI,
    reply: ModerationReply,
    thresholds: dict[str, float],
    counted: bool,
) -> None:
    openai_emulator.moderations.reply(reply)
    events: list[ModerationEvent] = []
    policy = _policy(oai_client, events, mode="block", thresholds=thresholds)

    refusal = await policy.before_turn(_turn("text"))

    assert (refusal is not None) is counted
    assert bool(events) is counted


async def test_images_of_the_turn_are_checked_with_its_text(
    openai_emulator: OpenAIEmulator, oai_client: openai.AsyncOpenAI
) -> None:
    url = "data:image/png;base64,iVBORw0KGgo="
    parts = [{"type": "image_url", "image_url": {"url": url}}]
    events: list[ModerationEvent] = []

    await _policy(oai_client, events, mode="flag").before_turn(_turn("see this", parts))

    assert openai_emulator.moderations.requests[0]["input"] == [
        {"type": "text", "text": "see this"},
        {"type": "image_url", "image_url": {"url": url}},
    ]


async def test_output_is_withheld_in_block_mode(
    openai_emulator: OpenAIEmulator, oai_client: openai.AsyncOpenAI
) -> None:
    openai_emulator.moderations.reply(ModerationReply(["self-harm/instructions"]))
    events: list[ModerationEvent] = []
    policy = _policy(oai_client, events, mode="block", check_input=False)

    assert await policy.before_turn(_turn()) is None
    refusal = await policy.review_answer(_turn(), "dangerous instructions")

    assert refusal is not None and refusal.kind == "moderation_output"
    assert "withheld" in refusal.message and "self harm / instructions" in refusal.message
    assert [e.stage for e in events] == ["output"]
    assert openai_emulator.attempts(MODERATIONS) == 1


async def test_check_output_false_skips_answers(
    openai_emulator: OpenAIEmulator, oai_client: openai.AsyncOpenAI
) -> None:
    policy = _policy(oai_client, [], mode="block", check_output=False)

    assert await policy.review_answer(_turn(), "anything") is None
    assert openai_emulator.requests == []


async def test_an_outage_fails_open_unless_configured_closed(
    openai_emulator: OpenAIEmulator, oai_client: openai.AsyncOpenAI
) -> None:
    openai_emulator.moderations.reply_fault(Fault.outage(503, times=2))

    open_refusal = await _policy(oai_client, [], mode="block").before_turn(_turn())
    closed = await _policy(oai_client, [], mode="block", fail_closed=True).before_turn(_turn())

    assert open_refusal is None
    assert closed is not None and closed.kind == "moderation_unavailable"


async def test_written_rules_use_a_strict_json_schema_and_can_block(
    openai_emulator: OpenAIEmulator, oai_client: openai.AsyncOpenAI
) -> None:
    verdict = {"violating": True, "rule": "2. No spoilers", "why": "It reveals the ending."}
    openai_emulator.chat.reply_text(json.dumps(verdict))
    events: list[ModerationEvent] = []
    rules = "1. Be kind.\n2. No spoilers."
    policy = _policy(oai_client, events, mode="block", rules=rules)

    refusal = await policy.before_turn(_turn("the butler did it"))

    assert refusal is not None and "rule: 2. No spoilers" in refusal.message
    (event,) = events
    assert (event.rule, event.why, event.categories) == ("2. No spoilers", verdict["why"], ())
    request = openai_emulator.chat.requests[0]
    assert request["model"] == "gpt-5.4-mini"
    schema_format = request["response_format"]
    assert schema_format["type"] == "json_schema"
    assert schema_format["json_schema"]["strict"] is True
    assert_strict_schema(schema_format["json_schema"]["schema"])
    assert "No spoilers" in request["messages"][1]["content"]
    assert "<<<MESSAGE\nthe butler did it\nMESSAGE>>>" in request["messages"][1]["content"]


@pytest.mark.parametrize(
    "answer",
    [
        json.dumps({"violating": False, "rule": None, "why": "Fine."}),
        "not json at all",
    ],
)
async def test_rules_that_are_not_broken_or_unreadable_let_it_through(
    openai_emulator: OpenAIEmulator, oai_client: openai.AsyncOpenAI, answer: str
) -> None:
    openai_emulator.chat.reply_text(answer)

    refusal = await _policy(oai_client, [], mode="block", rules="Be kind.").before_turn(_turn())

    assert refusal is None
    assert openai_emulator.attempts(CHAT) == 1


def test_the_rules_schema_is_strict() -> None:
    assert_strict_schema(RULES_SCHEMA)


async def test_a_failing_reporter_does_not_break_the_turn(
    openai_emulator: OpenAIEmulator, oai_client: openai.AsyncOpenAI
) -> None:
    openai_emulator.moderations.reply(ModerationReply(["hate"]))

    async def broken(event: ModerationEvent) -> None:
        raise RuntimeError("log channel gone")

    policy = ModerationPolicy(
        oai_client,
        model="omni-moderation-latest",
        rules_model="m",
        config_source=static_config(ModerationSettings(mode="block")),
        report=broken,
    )

    refusal = await policy.before_turn(_turn())

    assert refusal is not None and refusal.kind == "moderation_input"


@dataclass
class FakeEffective:
    moderation_mode: str | None = None
    moderation_log_channel_id: int | None = None
    moderation_thresholds: dict[str, float] | None = None
    moderation_rules: str | None = None


async def test_guild_config_overlays_the_guild_settings_on_the_defaults() -> None:
    seen: list[tuple[int | None, int, int | None]] = []

    async def effective(guild: int | None, channel: int, parent: int | None) -> FakeEffective:
        seen.append((guild, channel, parent))
        return FakeEffective(moderation_mode="flag", moderation_log_channel_id=9)

    source = guild_config(effective, ModerationSettings(mode="block", rules="Be kind."))

    config = await source(_turn())

    assert config == ModerationConfig(mode="flag", log_channel_id=9, rules="Be kind.")
    assert seen == [(1, 2, None)]


async def test_block_mode_with_output_checks_asks_to_hold_the_stream(
    oai_client: openai.AsyncOpenAI,
) -> None:
    assert await _policy(oai_client, [], mode="block").holds_output(_turn())
    assert not await _policy(oai_client, [], mode="flag").holds_output(_turn())
    assert not await _policy(oai_client, [], mode="block", check_output=False).holds_output(_turn())
