"""The emulator's Realtime WebSocket: the handshake, client events checked against the official
schemas (refused with an ``error`` event and recorded), and the scripted faults."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import openai
import pytest

from bot.testing.openai import Fault, OpenAIEmulator, RealtimeReply
from bot.voice import RealtimeSynth, VoiceFailure

MODEL = "gpt-realtime-2.1-mini"


@pytest.fixture
async def ws_url(emu: OpenAIEmulator) -> str:
    return emu.base_url.replace("http://", "ws://") + "/realtime"


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _next(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    message = await ws.receive(timeout=10)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    event: dict[str, Any] = json.loads(message.data)
    return event


async def _error_for(ws: aiohttp.ClientWebSocketResponse, event: dict[str, Any]) -> dict[str, Any]:
    await ws.send_str(json.dumps(event))
    answer = await _next(ws)
    assert answer["type"] == "error"
    error: dict[str, Any] = answer["error"]
    return error


async def test_a_session_starts_with_session_created(
    emu: OpenAIEmulator, http: aiohttp.ClientSession, ws_url: str
) -> None:
    async with http.ws_connect(f"{ws_url}?model={MODEL}") as ws:
        created = await _next(ws)
    assert created["type"] == "session.created"
    assert (created["session"]["type"], created["session"]["model"]) == ("realtime", MODEL)
    assert emu.realtime.sessions == 1


async def test_a_user_item_with_chat_content_types_is_refused_and_recorded(
    emu: OpenAIEmulator, http: aiohttp.ClientSession, ws_url: str
) -> None:
    bad = {
        "type": "conversation.item.create",
        "event_id": "evt_1",
        "item": {"type": "message", "role": "user", "content": [{"type": "text", "text": "hi"}]},
    }
    async with http.ws_connect(f"{ws_url}?model={MODEL}") as ws:
        await _next(ws)
        error = await _error_for(ws, bad)
    assert error["type"] == "invalid_request_error"
    assert error["event_id"] == "evt_1"
    [violation] = emu.take_violations()
    assert (violation.kind, violation.schema) == (
        "request",
        "RealtimeClientEventConversationItemCreate",
    )


async def test_an_unknown_client_event_is_refused_and_recorded(
    emu: OpenAIEmulator, http: aiohttp.ClientSession, ws_url: str
) -> None:
    async with http.ws_connect(f"{ws_url}?model={MODEL}") as ws:
        await _next(ws)
        error = await _error_for(ws, {"type": "response.speak"})
    assert error["param"] == "type"
    [violation] = emu.take_violations()
    assert violation.issues[0].message == "unknown client event type 'response.speak'"


async def test_a_session_update_with_an_unknown_modality_is_refused(
    emu: OpenAIEmulator, http: aiohttp.ClientSession, ws_url: str
) -> None:
    update = {
        "type": "session.update",
        "session": {"type": "realtime", "output_modalities": ["video"]},
    }
    async with http.ws_connect(f"{ws_url}?model={MODEL}") as ws:
        await _next(ws)
        await _error_for(ws, update)
    [violation] = emu.take_violations()
    assert violation.schema == "RealtimeClientEventSessionUpdate"


async def test_the_handshake_needs_a_model(
    emu: OpenAIEmulator, http: aiohttp.ClientSession, ws_url: str
) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as caught:
        await http.ws_connect(ws_url)
    assert caught.value.status == 400


async def test_a_refused_key_fails_the_handshake_and_says_who_must_act() -> None:
    async with OpenAIEmulator(api_key="sk-right") as emu:
        client = openai.AsyncOpenAI(api_key="sk-wrong", base_url=emu.base_url, max_retries=0)
        synth = RealtimeSynth(client, MODEL, "marin")
        with pytest.raises(VoiceFailure) as caught:
            await synth.speak("Hello.")
        with pytest.raises(VoiceFailure) as again:
            await synth.speak("Hello again.")
        attempts = emu.attempts("/v1/realtime")
    assert caught.value.kind == again.value.kind == "auth"
    assert "OPENAI_API_KEY" in caught.value.user_message
    assert attempts == 1, "after a refused key the socket is not opened again for a while"


async def test_an_unknown_model_is_an_error_event(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    with pytest.raises(VoiceFailure) as caught:
        await RealtimeSynth(client, "gpt-realtime-9", "marin").speak("Hello.")
    assert caught.value.kind == "rejected"
    assert emu.realtime.server_events[-1]["error"]["code"] == "model_not_found"


async def test_an_error_fault_answers_response_create_with_an_error_event(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.realtime.reply_fault(Fault.rate_limit())
    with pytest.raises(VoiceFailure) as caught:
        await RealtimeSynth(client, MODEL, "marin").speak("Hello.")
    assert caught.value.kind == "rate_limited"
    assert emu.realtime.server_events[-1]["error"]["code"] == "rate_limit_exceeded"


async def test_a_stalled_answer_times_out(emu: OpenAIEmulator, client: openai.AsyncOpenAI) -> None:
    emu.realtime.reply(RealtimeReply(fault=Fault.stall_mid_stream(after_chunks=1, seconds=60)))
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(VoiceFailure) as caught:
        await RealtimeSynth(client, MODEL, "marin", timeout_s=0.5).speak("Hello.")
    assert caught.value.kind == "timeout"
    assert loop.time() - started < 4.0, "0.5 s, then at most 1 s to say goodbye to the socket"


async def test_a_clean_close_before_response_done_is_a_dropped_answer(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.realtime.reply(RealtimeReply(fault=Fault.cut_stream(after_chunks=1)))
    with pytest.raises(VoiceFailure) as caught:
        await RealtimeSynth(client, MODEL, "marin").speak("Hello.")
    assert caught.value.kind == "dropped"
    assert emu.realtime.dropped == 1


async def test_a_speech_api_only_voice_is_refused_like_the_real_server_does(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    with pytest.raises(VoiceFailure) as caught:
        await RealtimeSynth(client, MODEL, "nova").speak("Hello.")
    assert caught.value.kind == "rejected"
    [error] = [e["error"] for e in emu.realtime.server_events if e["type"] == "error"]
    assert (error["code"], error["param"]) == ("invalid_value", "session.audio.output.voice")
    assert error["message"].startswith("Invalid value: 'nova'. Supported values are: 'alloy',")
