"""Each scripted fault as the real openai client experiences it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from bot.testing.openai import Fault, OpenAIEmulator, TextReply

PATH = "/v1/chat/completions"
USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello"}]


@pytest.fixture
async def fast_client(emu: OpenAIEmulator) -> AsyncIterator[openai.AsyncOpenAI]:
    """No retries and a 0.5 s timeout, for stalls."""
    sdk = openai.AsyncOpenAI(api_key="sk-test", base_url=emu.base_url, max_retries=0, timeout=0.5)
    try:
        yield sdk
    finally:
        await sdk.close()


async def _stream_text(client: openai.AsyncOpenAI) -> tuple[str, str | None]:
    stream = await client.chat.completions.create(model="gpt-4o", messages=USER, stream=True)
    text, finish = "", None
    async for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
    return text, finish


async def test_rate_limit_is_retried_after_retry_after(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.chat.reply_fault(Fault.rate_limit(retry_after=0.2, times=2))
    emu.chat.reply_text("finally")
    loop = asyncio.get_running_loop()
    started = loop.time()
    completion = await client.chat.completions.create(model="gpt-4o", messages=USER)
    assert completion.choices[0].message.content == "finally"
    assert loop.time() - started >= 0.4  # two waits of retry-after-ms = 200
    assert emu.retry_counts(PATH) == [0, 1, 2]


async def test_rate_limit_exhausts_the_retries(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.chat.reply_fault(Fault.rate_limit(retry_after=0.05, times=None))
    with pytest.raises(openai.RateLimitError) as caught:
        await client.chat.completions.create(model="gpt-4o", messages=USER)
    assert caught.value.code == "rate_limit_exceeded"
    assert caught.value.response.headers["retry-after-ms"] == "50"
    assert emu.attempts(PATH) == 3


async def test_insufficient_quota_has_its_own_type(emu: OpenAIEmulator) -> None:
    emu.chat.reply_fault(Fault.insufficient_quota(times=None))
    sdk = openai.AsyncOpenAI(api_key="sk-test", base_url=emu.base_url, max_retries=0)
    with pytest.raises(openai.RateLimitError) as caught:
        await sdk.chat.completions.create(model="gpt-4o", messages=USER)
    await sdk.close()
    assert caught.value.code == "insufficient_quota"
    assert caught.value.type == "insufficient_quota"
    assert emu.attempts(PATH) == 1


async def test_outage_is_retried_then_succeeds(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.chat.reply_fault(Fault.outage(500, times=1))
    emu.chat.reply_text("back")
    completion = await client.chat.completions.create(model="gpt-4o", messages=USER)
    assert completion.choices[0].message.content == "back"
    assert emu.retry_counts(PATH) == [0, 1]


async def test_sticky_outage_lasts_until_cleared(
    emu: OpenAIEmulator, fast_client: openai.AsyncOpenAI
) -> None:
    emu.chat.reply_fault(Fault.outage(502, times=None))
    for _ in range(3):
        with pytest.raises(openai.InternalServerError):
            await fast_client.chat.completions.create(model="gpt-4o", messages=USER)
    emu.clear_faults()
    completion = await fast_client.chat.completions.create(model="gpt-4o", messages=USER)
    assert completion.choices[0].message.content == "echo: hello"


async def test_stall_before_headers_times_out(
    emu: OpenAIEmulator, fast_client: openai.AsyncOpenAI
) -> None:
    emu.chat.reply_fault(Fault.stall())
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(openai.APITimeoutError):
        await fast_client.chat.completions.create(model="gpt-4o", messages=USER)
    assert 0.4 <= loop.time() - started < 5


async def test_one_stall_then_the_retry_succeeds(emu: OpenAIEmulator) -> None:
    emu.chat.reply_fault(Fault.stall())
    emu.chat.reply_text("after the stall")
    sdk = openai.AsyncOpenAI(api_key="sk-test", base_url=emu.base_url, max_retries=1, timeout=0.3)
    completion = await sdk.chat.completions.create(model="gpt-4o", messages=USER)
    await sdk.close()
    assert completion.choices[0].message.content == "after the stall"
    assert emu.retry_counts(PATH) == [0, 1]


async def test_stall_mid_stream_times_out_while_reading(
    emu: OpenAIEmulator, fast_client: openai.AsyncOpenAI
) -> None:
    emu.chat.reply(
        TextReply("a b c d e f", chunk_size=2, fault=Fault.stall_mid_stream(after_chunks=2))
    )
    with pytest.raises(openai.APITimeoutError):
        await _stream_text(fast_client)


async def test_clean_cut_ends_without_finish_reason_or_error(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.chat.reply_fault(Fault.cut_stream(after_chunks=3))
    emu.chat.reply_text("abcdefghij", chunk_size=2)
    text, finish = await _stream_text(client)
    assert (text, finish) == ("abcd", None)  # role chunk + 2 content chunks


async def test_disconnect_mid_stream_raises_connection_error(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.chat.reply_fault(Fault.disconnect(after_chunks=2))
    with pytest.raises(openai.APIConnectionError):
        await _stream_text(client)
    assert emu.attempts(PATH) == 1  # streams are not retried once they started


async def test_disconnect_before_the_response_is_retried(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.chat.reply_fault(Fault.disconnect())
    completion = await client.chat.completions.create(model="gpt-4o", messages=USER)
    assert completion.choices[0].message.content == "echo: hello"
    assert emu.retry_counts(PATH) == [0, 1]


async def test_corrupt_chunk_breaks_json_decoding(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.chat.reply_fault(Fault.corrupt_chunk(after_chunks=1))
    with pytest.raises(json.JSONDecodeError):
        await _stream_text(client)


async def test_slow_first_token_sends_headers_first(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.chat.reply_fault(Fault.slow_first_token(0.6))
    loop = asyncio.get_running_loop()
    started = loop.time()
    stream = await client.chat.completions.create(model="gpt-4o", messages=USER, stream=True)
    headers_after = loop.time() - started
    async for _chunk in stream:
        break
    assert headers_after < 0.5 <= loop.time() - started


async def test_context_length_fault_is_not_retried(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.chat.reply_fault(Fault.context_length_exceeded())
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model="gpt-4o", messages=USER)
    assert caught.value.code == "context_length_exceeded"
    assert emu.attempts(PATH) == 1


async def test_context_window_rejects_long_prompts_only(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.chat.context_window = 50
    emu.chat.reply_text("kept for the short prompt")
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "x" * 400}]
        )
    assert caught.value.code == "context_length_exceeded"
    assert "maximum context length is 50 tokens" in caught.value.message
    completion = await client.chat.completions.create(model="gpt-4o", messages=USER)
    assert completion.choices[0].message.content == "kept for the short prompt"


async def test_http_error_and_invalid_api_key(
    emu: OpenAIEmulator, fast_client: openai.AsyncOpenAI
) -> None:
    emu.chat.reply_fault(Fault.invalid_api_key())
    emu.chat.reply_fault(Fault.http_error(409, "conflict", code="conflict_code"))
    with pytest.raises(openai.AuthenticationError) as auth:
        await fast_client.chat.completions.create(model="gpt-4o", messages=USER)
    with pytest.raises(openai.ConflictError) as conflict:
        await fast_client.chat.completions.create(model="gpt-4o", messages=USER)
    assert auth.value.code == "invalid_api_key"
    assert conflict.value.code == "conflict_code"


async def test_responder_may_return_a_fault(
    emu: OpenAIEmulator, fast_client: openai.AsyncOpenAI
) -> None:
    emu.chat.reply(lambda request: Fault.outage(500))
    with pytest.raises(openai.InternalServerError):
        await fast_client.chat.completions.create(model="gpt-4o", messages=USER)


async def test_stop_releases_stalled_requests() -> None:
    emulator = OpenAIEmulator()
    await emulator.start()
    emulator.chat.reply_fault(Fault.stall())
    sdk = openai.AsyncOpenAI(
        api_key="sk-test", base_url=emulator.base_url, max_retries=0, timeout=30
    )
    call = asyncio.create_task(sdk.chat.completions.create(model="gpt-4o", messages=USER))
    await emulator.wait_request(PATH, timeout=10)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.wait_for(emulator.stop(), 10)
    with pytest.raises(openai.APIConnectionError):
        await asyncio.wait_for(call, 10)
    await sdk.close()
    assert loop.time() - started < 5
