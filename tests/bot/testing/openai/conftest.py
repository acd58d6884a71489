"""Fixtures for the OpenAI emulator's own tests: a started emulator and a real SDK client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import openai
import pytest

from bot.testing.openai import OpenAIEmulator


@pytest.fixture
async def emu() -> AsyncIterator[OpenAIEmulator]:
    """A started emulator; the test fails if it recorded violations it did not take."""
    emulator = OpenAIEmulator()
    await emulator.start()
    try:
        yield emulator
        emulator.assert_no_violations()
    finally:
        await emulator.stop()


@pytest.fixture
async def client(emu: OpenAIEmulator) -> AsyncIterator[openai.AsyncOpenAI]:
    """The real ``openai.AsyncOpenAI`` aimed at ``emu``, two retries, 10 s timeout."""
    sdk = openai.AsyncOpenAI(api_key="sk-test", base_url=emu.base_url, max_retries=2, timeout=10.0)
    try:
        yield sdk
    finally:
        await sdk.close()
