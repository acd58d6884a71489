"""Quotas on the conversation service's real path: the OpenAI emulator counts the model calls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest

from bot.conversation import ConversationService, IncomingTurn, Services
from bot.engine import Failed, Final
from bot.policy.quotas import QuotaPolicy
from bot.settings import settings_from
from bot.store import Store, TokenCounter
from bot.testing.openai import OpenAIEmulator
from bot.testing.openai.replies import TextReply
from tools.deps import ToolDeps
from tools.registry import ToolRegistry

CHAT = "/v1/chat/completions"


class RecordingSink:
    def __init__(self) -> None:
        self.finals: list[Final] = []
        self.failures: list[Failed] = []

    async def on_event(self, event: object) -> None:
        return None

    async def finish(self, final: Final) -> list[int]:
        self.finals.append(final)
        return []

    async def fail(self, failed: Failed) -> list[int]:
        self.failures.append(failed)
        return []


def conversations_with(
    store: Store, emulator: OpenAIEmulator, client: openai.AsyncOpenAI, **quotas: Any
) -> tuple[ConversationService, QuotaPolicy]:
    settings = settings_from({"openai": {"base_url": emulator.base_url}, "quotas": quotas})
    policy = QuotaPolicy(store, settings.quotas)
    services = Services(
        settings,
        store,
        client,
        ToolRegistry(),
        TokenCounter(),
        tool_deps=ToolDeps(quotas=policy),
        policies=[policy],
    )
    return ConversationService(services), policy


def incoming(number: int, user_id: int = 1) -> IncomingTurn:
    return IncomingTurn(
        key=f"guild:9:channel:{number}",
        user_id=user_id,
        user_name="alice",
        channel_id=number,
        text=f"question {number}",
        source_message_id=1000 + number,
        guild_id=9,
    )


async def answer(conversations: ConversationService, turn: IncomingTurn) -> RecordingSink:
    sink = RecordingSink()

    async def make_sink() -> RecordingSink:
        return sink

    await conversations.handle(turn, make_sink)
    return sink


@pytest.fixture
async def client(openai_emulator: OpenAIEmulator) -> AsyncIterator[openai.AsyncOpenAI]:
    made = openai.AsyncOpenAI(api_key="sk-test", base_url=openai_emulator.base_url, max_retries=0)
    yield made
    await made.close()


async def test_after_the_global_budget_is_spent_no_model_call_is_made(
    store: Store, openai_emulator: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    conversations, _ = conversations_with(store, openai_emulator, client, global_daily_tokens=1000)
    openai_emulator.chat.set_default(
        TextReply("ok", usage={"prompt_tokens": 700, "completion_tokens": 400})
    )
    first = await answer(conversations, incoming(1, user_id=1))
    assert first.finals and openai_emulator.attempts(CHAT) == 1
    assert (await store.usage_totals()).total_tokens == 1100
    for number, user_id in ((2, 2), (3, 3), (4, 1)):
        refused = await answer(conversations, incoming(number, user_id=user_id))
        assert refused.failures and refused.failures[0].kind == "quota"
        assert "renews <t:" in refused.failures[0].user_message
    assert openai_emulator.attempts(CHAT) == 1
    exchange = await store.get_conversation("guild:9:channel:2")
    assert exchange is not None


async def test_concurrent_answers_overshoot_the_user_budget_by_at_most_one(
    store: Store, openai_emulator: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    conversations, policy = conversations_with(
        store,
        openai_emulator,
        client,
        user_daily_tokens=2000,
        reserve_tokens=500,
        max_turns_per_user=0,
    )
    openai_emulator.chat.set_default(
        TextReply("ok", latency=0.05, usage={"prompt_tokens": 300, "completion_tokens": 150})
    )
    sinks = await asyncio.gather(*(answer(conversations, incoming(n)) for n in range(20)))
    answered = sum(1 for sink in sinks if sink.finals)
    refused = sum(1 for sink in sinks if sink.failures)
    used = (await store.usage_totals(user_id=1)).total_tokens
    assert answered + refused == 20 and refused > 0
    assert openai_emulator.attempts(CHAT) == answered
    assert used == 450 * answered
    assert 2000 <= used <= 2000 + 450, used
    assert policy.running == 0
