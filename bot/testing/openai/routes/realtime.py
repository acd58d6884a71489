"""``GET /v1/realtime?model=...``: the Realtime API's WebSocket, enough for text in, audio out.

The handshake is refused like OpenAI refuses it (401 without the key, 400 without ``model``).
After ``session.created`` the client may send ``session.update``, ``conversation.item.create``
(user or system text messages), ``response.create`` and ``response.cancel``; every client event
is checked against the official event schema (an invalid one gets an ``error`` event and is
recorded as a violation) and every server event the emulator sends is checked too. A response
streams ``response.output_audio.delta`` (base64 audio in the session's output format) with
transcript deltas and ends with ``response.done`` carrying the usage. Faults: error faults answer
``response.create`` with an ``error`` event; ``Fault.disconnect(after_chunks=n)`` drops the socket
after ``n`` audio deltas, ``Fault.cut_stream(n)`` closes it cleanly there, and the stalls pause.
"""

from __future__ import annotations

import base64
import copy
import json
import math
import sys
import time
from array import array
from collections.abc import Mapping
from typing import Any

from aiohttp import WSMsgType, web

from ..errors import ApiError
from ..faults import Fault
from ..ids import new_id
from ..replies import RealtimeReply
from ..script import RealtimeScript
from ..state import EmulatorState
from ..tokens import text_tokens
from ..validation import SchemaIssue, api_error_for
from .common import authenticate

CLIENT_SCHEMAS: Mapping[str, str] = {
    "session.update": "RealtimeClientEventSessionUpdate",
    "conversation.item.create": "RealtimeClientEventConversationItemCreate",
    "response.create": "RealtimeClientEventResponseCreate",
    "response.cancel": "RealtimeClientEventResponseCancel",
}
UNSUPPORTED_CLIENT_EVENTS = frozenset(
    {
        "input_audio_buffer.append",
        "input_audio_buffer.commit",
        "input_audio_buffer.clear",
        "output_audio_buffer.clear",
        "conversation.item.retrieve",
        "conversation.item.truncate",
        "conversation.item.delete",
        "transcription_session.update",
    }
)
SERVER_SCHEMAS: Mapping[str, str] = {
    "session.created": "RealtimeServerEventSessionCreated",
    "session.updated": "RealtimeServerEventSessionUpdated",
    "conversation.item.added": "RealtimeServerEventConversationItemAdded",
    "conversation.item.done": "RealtimeServerEventConversationItemDone",
    "response.created": "RealtimeServerEventResponseCreated",
    "response.output_item.added": "RealtimeServerEventResponseOutputItemAdded",
    "response.output_item.done": "RealtimeServerEventResponseOutputItemDone",
    "response.content_part.added": "RealtimeServerEventResponseContentPartAdded",
    "response.content_part.done": "RealtimeServerEventResponseContentPartDone",
    "response.output_audio.delta": "RealtimeServerEventResponseAudioDelta",
    "response.output_audio.done": "RealtimeServerEventResponseAudioDone",
    "response.output_audio_transcript.delta": "RealtimeServerEventResponseAudioTranscriptDelta",
    "response.output_audio_transcript.done": "RealtimeServerEventResponseAudioTranscriptDone",
    "response.done": "RealtimeServerEventResponseDone",
    "error": "RealtimeServerEventError",
}
BUILT_IN_VOICES = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
)
DEFAULT_INSTRUCTIONS = "You are a helpful, witty, and friendly AI."
CHARS_PER_SECOND = 15.0
AUDIO_TOKENS_PER_SECOND = 20
PCM_RATE = 24_000
G711_SILENCE = {"audio/pcmu": b"\xff", "audio/pcma": b"\xd5"}


async def realtime(
    state: EmulatorState, script: RealtimeScript, models: list[str], request: web.Request
) -> web.StreamResponse:
    """Accept the WebSocket and serve one Realtime session on it."""
    state.recorder.add(request.method, request.path, request.query, request.headers)
    authenticate(state, request)
    model = request.query.get("model")
    if not model:
        raise ApiError(
            400,
            "Missing required parameter: 'model'.",
            param="model",
            code="missing_required_parameter",
        )
    ws = web.WebSocketResponse(autoping=True)
    if not ws.can_prepare(request).ok:
        raise ApiError(400, "This endpoint expects a WebSocket upgrade request.")
    await ws.prepare(request)
    script.sessions += 1
    session = _Session(state, script, ws, request, model)
    if model not in models:
        await session.error(
            f"The model `{model}` does not exist or you do not have access to it.",
            code="model_not_found",
        )
        async for _ in ws:  # nothing is served; the client reads the error and hangs up
            pass
        return ws
    await session.run()
    return ws


class _Dropped(Exception):
    """The socket was dropped or closed by a scripted fault."""


class _Session:
    """One Realtime session: its configuration, its conversation and the socket."""

    def __init__(
        self,
        state: EmulatorState,
        script: RealtimeScript,
        ws: web.WebSocketResponse,
        request: web.Request,
        model: str,
    ) -> None:
        self.state = state
        self.script = script
        self.ws = ws
        self.request = request
        self.model = model
        self.items: list[dict[str, Any]] = []
        self.spoke = False
        self.config: dict[str, Any] = {
            "type": "realtime",
            "object": "realtime.session",
            "id": new_id("sess_"),
            "model": model,
            "output_modalities": ["audio"],
            "instructions": DEFAULT_INSTRUCTIONS,
            "expires_at": int(time.time()) + 3600,
            "tool_choice": "auto",
            "tools": [],
            "max_output_tokens": "inf",
            "audio": {
                "input": {"format": {"type": "audio/pcm", "rate": PCM_RATE}},
                "output": {
                    "format": {"type": "audio/pcm", "rate": PCM_RATE},
                    "voice": "alloy",
                    "speed": 1.0,
                },
            },
        }

    async def run(self) -> None:
        await self.send({"type": "session.created", "session": self.config})
        async for message in self.ws:
            if message.type != WSMsgType.TEXT:
                await self.error(
                    "The Realtime API expects JSON text messages.", code="invalid_json"
                )
                continue
            try:
                await self.handle(message.data)
            except _Dropped:
                return

    async def handle(self, text: str) -> None:
        try:
            event = json.loads(text)
        except ValueError:
            event = None
        if not isinstance(event, dict):
            await self.refuse("RealtimeClientEvent", SchemaIssue((), "not a JSON object", "type"))
            return
        self.script.client_events.append(event)
        kind = event.get("type")
        schema = CLIENT_SCHEMAS.get(str(kind))
        if schema is None:
            await self._unknown(event)
            return
        if self.state.options.validate_requests:
            issues = self.state.book.issues(schema, event)
            if issues:
                await self.refuse(schema, *issues, event_id=event.get("event_id"))
                return
        handler = {
            "session.update": self.session_update,
            "conversation.item.create": self.item_create,
            "response.create": self.response_create,
            "response.cancel": self.response_cancel,
        }[str(kind)]
        await handler(event)

    async def _unknown(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind in UNSUPPORTED_CLIENT_EVENTS:
            await self.error(
                f"The toolcord OpenAI emulator does not support the {kind} event; extend "
                "bot/testing/openai/routes/realtime.py.",
                code="emulator_unsupported",
                event_id=event.get("event_id"),
            )
            return
        issue = SchemaIssue(("type",), f"unknown client event type {kind!r}", "enum")
        await self.refuse("RealtimeClientEvent", issue, event_id=event.get("event_id"))

    # ---- client events ------------------------------------------------------------------

    async def session_update(self, event: dict[str, Any]) -> None:
        update = dict(event["session"])
        if update.get("type") != "realtime":
            await self.error(
                "The toolcord OpenAI emulator supports only realtime sessions (type=realtime).",
                code="emulator_unsupported",
                event_id=event.get("event_id"),
            )
            return
        voice = update.get("audio", {}).get("output", {}).get("voice")
        if isinstance(voice, str) and voice not in BUILT_IN_VOICES:
            supported = ", ".join(f"'{name}'" for name in BUILT_IN_VOICES)
            await self.error(
                f"Invalid value: '{voice}'. Supported values are: {supported}.",
                code="invalid_value",
                param="session.audio.output.voice",
                event_id=event.get("event_id"),
            )
            return
        if self.spoke and voice is not None and voice != self._voice():
            await self.error(
                "Cannot update a conversation's voice if assistant audio is present.",
                code="cannot_update_voice",
                param="session.audio.output.voice",
                event_id=event.get("event_id"),
            )
            return
        _merge(self.config, update)
        await self.send({"type": "session.updated", "session": self.config})

    async def item_create(self, event: dict[str, Any]) -> None:
        item = copy.deepcopy(event["item"])
        content = item.get("content") or []
        texts = [part for part in content if part.get("type") == "input_text"]
        if item.get("type") != "message" or len(texts) != len(content):
            await self.error(
                "The toolcord OpenAI emulator supports only text message items.",
                code="emulator_unsupported",
                event_id=event.get("event_id"),
            )
            return
        item.setdefault("id", new_id("item_"))
        item.update(object="realtime.item", status="completed")
        previous = self.items[-1]["id"] if self.items else None
        self.items.append(item)
        await self.send(
            {"type": "conversation.item.added", "previous_item_id": previous, "item": item}
        )
        await self.send(
            {"type": "conversation.item.done", "previous_item_id": previous, "item": item}
        )

    async def response_cancel(self, event: dict[str, Any]) -> None:
        await self.error(
            "Cancellation failed: no active response found.",
            code="response_cancel_not_active",
            event_id=event.get("event_id"),
        )

    async def response_create(self, event: dict[str, Any]) -> None:
        params = event.get("response") or {}
        modalities = params.get("output_modalities") or self.config["output_modalities"]
        if "audio" not in modalities:
            await self.error(
                "The toolcord OpenAI emulator answers Realtime responses only with audio.",
                code="emulator_unsupported",
                event_id=event.get("event_id"),
            )
            return
        recorded = {
            "model": self.model,
            "session": copy.deepcopy(self.config),
            "input": self._user_texts(),
            "response": params,
        }
        step = await self.script.next_step(recorded, pause=self.state.pause)
        if step.fault is not None and not step.fault.is_delivery:
            body = step.fault.to_error(self.model).body["error"]
            await self.error(
                body["message"],
                code=body.get("code"),
                error_type=body.get("type") or "invalid_request_error",
                event_id=event.get("event_id"),
            )
            return
        reply = step.reply if isinstance(step.reply, RealtimeReply) else RealtimeReply()
        await self.state.pause(reply.latency if reply.latency is not None else self.script.latency)
        await _Response(self, reply, step.fault, params).stream()

    # ---- helpers ------------------------------------------------------------------------

    def _voice(self) -> Any:
        return self.config["audio"]["output"].get("voice", "alloy")

    def _user_texts(self) -> list[str]:
        return [
            str(part.get("text", ""))
            for item in self.items
            if item.get("role") == "user"
            for part in item.get("content", [])
        ]

    async def send(self, event: dict[str, Any]) -> None:
        event = {"event_id": new_id("event_"), **event}
        schema = SERVER_SCHEMAS[event["type"]]
        self.state.check_response(self.request, schema, event)
        self.script.server_events.append(event)
        await self.ws.send_str(json.dumps(event, separators=(",", ":")))

    async def error(
        self,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        error_type: str = "invalid_request_error",
        event_id: Any = None,
    ) -> None:
        await self.send(
            {
                "type": "error",
                "error": {
                    "type": error_type,
                    "code": code,
                    "message": message,
                    "param": param,
                    "event_id": event_id if isinstance(event_id, str) else None,
                },
            }
        )

    async def refuse(self, schema: str, *issues: SchemaIssue, event_id: Any = None) -> None:
        """Record a client-event violation and answer it with OpenAI's ``error`` event."""
        self.state.add_violation("request", self.request, schema, issues)
        error = api_error_for(issues[0]).body["error"]
        await self.error(
            error["message"], code=error.get("code"), param=error.get("param"), event_id=event_id
        )


class _Response:
    """One spoken response: the event sequence of ``response.create``."""

    def __init__(
        self, session: _Session, reply: RealtimeReply, fault: Fault | None, params: dict[str, Any]
    ) -> None:
        self.session = session
        self.reply = reply
        self.fault = fault
        self.id = new_id("resp_")
        self.item_id = new_id("item_")
        output = session.config["audio"]["output"]
        params_output = params.get("audio", {}).get("output", {})
        self.format = params_output.get("format") or output["format"]
        self.voice = params_output.get("voice") or output.get("voice", "alloy")
        text = " ".join(session._user_texts()[-1:])
        self.transcript = reply.transcript if reply.transcript is not None else text
        self.seconds = reply.seconds or min(10.0, max(0.5, len(text) / CHARS_PER_SECOND))
        self.input_tokens = text_tokens(session.config.get("instructions", "")) + text_tokens(text)

    def _ids(self, content: bool = True) -> dict[str, Any]:
        ids: dict[str, Any] = {"response_id": self.id, "item_id": self.item_id, "output_index": 0}
        if content:
            ids["content_index"] = 0
        return ids

    def _item(self, status: str) -> dict[str, Any]:
        content = (
            []
            if status == "in_progress"
            else [{"type": "output_audio", "transcript": self.transcript}]
        )
        return {
            "id": self.item_id,
            "object": "realtime.item",
            "type": "message",
            "role": "assistant",
            "status": status,
            "content": content,
        }

    def _response(self, status: str, usage: dict[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "object": "realtime.response",
            "status": status,
            "output": [] if status == "in_progress" else [self._item("completed")],
            "output_modalities": ["audio"],
            "audio": {"output": {"format": self.format, "voice": self.voice}},
        }
        if usage is not None:
            body["usage"] = usage
        return body

    async def stream(self) -> None:
        send = self.session.send
        await send({"type": "response.created", "response": self._response("in_progress")})
        await send(
            {
                "type": "response.output_item.added",
                "response_id": self.id,
                "output_index": 0,
                "item": self._item("in_progress"),
            }
        )
        part = {"type": "audio", "transcript": ""}
        await send({"type": "response.content_part.added", **self._ids(), "part": part})
        audio = _audio(self.format, self.seconds)
        count = max(1, self.reply.chunks)
        for index in range(count):
            await self._maybe_fault(index)
            piece = audio[index * len(audio) // count : (index + 1) * len(audio) // count]
            words = self.transcript[
                index * len(self.transcript) // count : (index + 1) * len(self.transcript) // count
            ]
            delta = base64.b64encode(piece).decode("ascii")
            await send({"type": "response.output_audio.delta", **self._ids(), "delta": delta})
            await send(
                {"type": "response.output_audio_transcript.delta", **self._ids(), "delta": words}
            )
        await self._maybe_fault(count)
        self.session.spoke = True
        await send({"type": "response.output_audio.done", **self._ids()})
        await send(
            {
                "type": "response.output_audio_transcript.done",
                **self._ids(),
                "transcript": self.transcript,
            }
        )
        done_part = {"type": "audio", "transcript": self.transcript}
        await send({"type": "response.content_part.done", **self._ids(), "part": done_part})
        item = self._item("completed")
        await send(
            {
                "type": "response.output_item.done",
                "response_id": self.id,
                "output_index": 0,
                "item": item,
            }
        )
        previous = self.session.items[-1]["id"] if self.session.items else None
        self.session.items.append(item)
        await send({"type": "conversation.item.done", "previous_item_id": previous, "item": item})
        await send(
            {"type": "response.done", "response": self._response("completed", self._usage())}
        )

    async def _maybe_fault(self, sent: int) -> None:
        fault = self.fault
        if fault is None or fault.after_chunks != sent:
            return
        if fault.kind in ("stall_mid_stream", "slow_first_token", "stall"):
            await self.session.state.pause(fault.seconds)
            return
        if fault.kind == "disconnect":
            self.session.script.dropped += 1
            transport = self.session.request.transport
            if transport is not None:
                transport.abort()
            raise _Dropped
        if fault.kind in ("cut_stream", "corrupt_chunk"):
            self.session.script.dropped += 1
            await self.session.ws.close()
            raise _Dropped

    def _usage(self) -> dict[str, Any]:
        audio_tokens = math.ceil(self.seconds * AUDIO_TOKENS_PER_SECOND)
        transcript_tokens = text_tokens(self.transcript)
        output = audio_tokens + transcript_tokens
        return {
            "total_tokens": self.input_tokens + output,
            "input_tokens": self.input_tokens,
            "output_tokens": output,
            "input_token_details": {
                "text_tokens": self.input_tokens,
                "audio_tokens": 0,
                "cached_tokens": 0,
            },
            "output_token_details": {
                "text_tokens": transcript_tokens,
                "audio_tokens": audio_tokens,
            },
        }


def _merge(target: dict[str, Any], update: Mapping[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _audio(audio_format: Mapping[str, Any], seconds: float) -> bytes:
    """``seconds`` of audio in ``audio_format``: a voiced tone for PCM, silence for G.711."""
    kind = audio_format.get("type", "audio/pcm")
    if kind in G711_SILENCE:
        return G711_SILENCE[kind] * int(8000 * seconds)
    rate = int(audio_format.get("rate", PCM_RATE))
    return pcm_tone(seconds, rate)


def pcm_tone(seconds: float, rate: int = PCM_RATE) -> bytes:
    """16-bit mono PCM: a 220 Hz tone whose loudness rises and falls three times a second."""
    samples = array("h")
    for index in range(int(rate * seconds)):
        moment = index / rate
        loudness = 0.55 + 0.45 * math.sin(2 * math.pi * 3 * moment)
        samples.append(int(9000 * loudness * math.sin(2 * math.pi * 220 * moment)))
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tobytes()
