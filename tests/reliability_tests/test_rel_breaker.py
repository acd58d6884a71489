"""The model provider's circuit breaker, through the real openai client and the OpenAI emulator.

The breaker's clock is a fake one the tests move, so cool-downs pass without sleeping.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import openai
import pytest

from bot.engine import Failed, TurnRequest, run_turn
from bot.engine.breaker import (
    BreakerPolicy,
    BreakerState,
    ProviderBreaker,
    Trip,
    breaker_from,
)
from bot.engine.client import make_openai_client
from bot.engine.failures import classify
from bot.settings import BreakerSettings, OpenAISettings
from bot.testing.openai import Fault, OpenAIEmulator

CHAT = "/v1/chat/completions"
FAST_S = 1.0


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def breaker(clock: FakeClock) -> ProviderBreaker:
    return ProviderBreaker(
        BreakerPolicy(failures_to_open=5, outage_cooldown_s=30, credit_cooldown_s=300),
        clock=clock,
    )


@pytest.fixture
async def client(
    openai_emulator: OpenAIEmulator, breaker: ProviderBreaker
) -> AsyncIterator[openai.AsyncOpenAI]:
    settings = OpenAISettings(base_url=openai_emulator.base_url, max_retries=2)
    made = make_openai_client(settings, "sk-test-breaker-000000000000", breaker=breaker)
    yield made
    await made.close()


async def ask(client: openai.AsyncOpenAI) -> str:
    """One chat call; returns the answer, or the failure kind the engine would classify."""
    try:
        answer = await client.chat.completions.create(
            model="gpt-5.4-mini", messages=[{"role": "user", "content": "hi"}]
        )
    except openai.APIError as error:
        return classify(error).kind
    return str(answer.choices[0].message.content)


async def timed_ask(client: openai.AsyncOpenAI) -> tuple[str, float]:
    started = time.monotonic()
    outcome = await ask(client)
    return outcome, time.monotonic() - started


async def test_out_of_credit_opens_at_once_and_later_calls_fail_fast(
    openai_emulator: OpenAIEmulator, client: openai.AsyncOpenAI, breaker: ProviderBreaker
) -> None:
    openai_emulator.chat.reply_fault(Fault.insufficient_quota(times=None))
    assert await ask(client) == "out_of_credit"
    assert openai_emulator.attempts(CHAT) == 1
    assert breaker.state is BreakerState.OPEN and breaker.trip is Trip.OUT_OF_CREDIT
    for _ in range(20):
        outcome, elapsed = await timed_ask(client)
        assert outcome == "out_of_credit"
        assert elapsed < FAST_S
    assert openai_emulator.attempts(CHAT) == 1, "an open breaker must not call the provider"
    assert breaker.refused == 20


async def test_a_long_outage_opens_after_the_threshold_then_a_probe_closes_it(
    openai_emulator: OpenAIEmulator,
    client: openai.AsyncOpenAI,
    breaker: ProviderBreaker,
    clock: FakeClock,
) -> None:
    openai_emulator.chat.reply_fault(Fault.outage(503, times=None))
    assert await ask(client) == "unavailable"
    assert openai_emulator.attempts(CHAT) == 3  # the SDK's two retries
    assert breaker.state is BreakerState.CLOSED
    assert await ask(client) == "unavailable"
    assert openai_emulator.attempts(CHAT) == 5, "the 5th failure opens it; no 6th attempt"
    assert breaker.state is BreakerState.OPEN
    for _ in range(10):
        assert await ask(client) == "unavailable"
    assert openai_emulator.attempts(CHAT) == 5
    openai_emulator.clear_faults()
    clock.advance(29)
    assert await ask(client) == "unavailable", "still cooling down"
    clock.advance(2)
    assert breaker.state is BreakerState.HALF_OPEN
    assert (await ask(client)).startswith("echo:")
    assert breaker.state is BreakerState.CLOSED
    assert openai_emulator.attempts(CHAT) == 6


async def test_a_failed_probe_opens_it_again(
    openai_emulator: OpenAIEmulator,
    client: openai.AsyncOpenAI,
    breaker: ProviderBreaker,
    clock: FakeClock,
) -> None:
    openai_emulator.chat.reply_fault(Fault.insufficient_quota(times=None))
    await ask(client)
    clock.advance(301)
    assert await ask(client) == "out_of_credit"
    assert openai_emulator.attempts(CHAT) == 2, "exactly one probe"
    assert breaker.state is BreakerState.OPEN
    assert await ask(client) == "out_of_credit"
    assert openai_emulator.attempts(CHAT) == 2


async def test_rate_limits_and_client_errors_never_open_it(
    openai_emulator: OpenAIEmulator, client: openai.AsyncOpenAI, breaker: ProviderBreaker
) -> None:
    for _ in range(4):
        openai_emulator.chat.reply_fault(Fault.rate_limit(retry_after=0.01, times=3))
        assert await ask(client) == "rate_limited"
    for _ in range(6):
        openai_emulator.chat.reply_fault(Fault.context_length_exceeded())
        assert await ask(client) == "context_too_long"
    assert breaker.state is BreakerState.CLOSED
    assert breaker.opened == 0


async def test_streams_that_break_count_as_failures(
    openai_emulator: OpenAIEmulator, clock: FakeClock
) -> None:
    breaker = ProviderBreaker(BreakerPolicy(failures_to_open=2), clock=clock)
    settings = OpenAISettings(base_url=openai_emulator.base_url, max_retries=0)
    client = make_openai_client(settings, "sk-test-breaker-000000000000", breaker=breaker)
    try:
        openai_emulator.chat.reply_fault(Fault.disconnect(after_chunks=2, times=None))
        for _ in range(2):
            stream = await client.chat.completions.create(
                model="gpt-5.4-mini", messages=[{"role": "user", "content": "hi"}], stream=True
            )
            with pytest.raises(openai.APIError):
                async for _chunk in stream:
                    pass
        assert breaker.state is BreakerState.OPEN
    finally:
        await client.close()


async def test_a_success_resets_the_count(
    openai_emulator: OpenAIEmulator, client: openai.AsyncOpenAI, breaker: ProviderBreaker
) -> None:
    for _ in range(3):
        openai_emulator.chat.reply_fault(Fault.outage(500, times=2))
        assert (await ask(client)).startswith("echo:")
    assert breaker.state is BreakerState.CLOSED
    assert breaker.snapshot()["failures_in_a_row"] == 0


async def test_the_loop_tells_the_user_at_once_while_open(
    openai_emulator: OpenAIEmulator, client: openai.AsyncOpenAI, breaker: ProviderBreaker
) -> None:
    openai_emulator.chat.reply_fault(Fault.insufficient_quota(times=None))
    await ask(client)
    request = TurnRequest(model="gpt-5.4-mini", messages=[{"role": "user", "content": "hello"}])
    events = [event async for event in run_turn(client, request)]
    failed = events[-1]
    assert isinstance(failed, Failed)
    assert failed.kind == "out_of_credit"
    assert "out of credit" in failed.user_message
    assert openai_emulator.attempts(CHAT) == 1


def test_settings_build_it_or_switch_it_off() -> None:
    built = breaker_from(BreakerSettings(provider_failures_to_open=3, provider_cooldown_s=5))
    assert built is not None
    assert built.policy == BreakerPolicy(3, 5.0, 300.0)
    assert breaker_from(BreakerSettings(provider_enabled=False)) is None


def test_only_one_probe_at_a_time(breaker: ProviderBreaker, clock: FakeClock) -> None:
    breaker.record_failure(Trip.OUT_OF_CREDIT)
    clock.advance(301)
    assert breaker.admit() is None, "the probe"
    assert breaker.admit() is Trip.OUT_OF_CREDIT, "others fail fast while it runs"
    breaker.record_neutral()
    assert breaker.admit() is None, "a probe that proved nothing lets the next one try"
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.admit() is None
