"""Text to speech through the Realtime API (WebSocket, the openai SDK's realtime client).

One short session per spoken reply: ``session.update`` (audio out as 24 kHz PCM16, the voice,
instructions to read the text verbatim), the text as a user message, ``response.create``; then the
``response.output_audio.delta`` chunks are gathered until ``response.done``, which also reports the
tokens used. The PCM becomes the OGG/Opus a Discord voice message needs (``bot.voice.encode``).
"""

from __future__ import annotations

import asyncio
import base64
import logging
from dataclasses import dataclass, field
from typing import Any

import openai
from websockets.exceptions import ConnectionClosed, WebSocketException

from bot.voice.encode import PCM_RATE, EncodingFailed, pcm16_to_ogg_opus
from bot.voice.failures import AuthBreaker, VoiceFailure, describe
from bot.voice.speech import VoiceClip, clip_from_ogg_opus

log = logging.getLogger("toolcord.voice")

SERVICE = "speech"
INSTRUCTIONS = (
    "You are a text-to-speech voice. Read the user's message aloud exactly as written, word for "
    "word, in the language it is written in, in a natural and friendly tone. Do not answer it, "
    "add to it, or comment on it."
)
DROPPED_MESSAGE = "The speech service hung up before it finished speaking."
TIMED_OUT_MESSAGE = "The speech service took too long; try again."
CLOSE_TIMEOUT_S = 1.0


@dataclass
class _Answer:
    """What one response has sent so far."""

    audio: bytearray = field(default_factory=bytearray)
    done: bool = False
    input_tokens: int = 0
    output_tokens: int = 0


class RealtimeSynth:
    """Speaks text through a Realtime model, returning a Discord-ready voice clip.

    Args:
        client: the bot's OpenAI client (its base URL and key are used for the WebSocket).
        model: the Realtime model, such as ``gpt-realtime-2.1-mini``.
        voice: a built-in voice (``marin``, ``cedar``, ``alloy``, ...).
        timeout_s: the longest a whole spoken reply may take.
    """

    def __init__(
        self, client: openai.AsyncOpenAI, model: str, voice: str, timeout_s: float = 120.0
    ) -> None:
        self._client = client
        self._model = model
        self._voice = voice
        self._timeout_s = timeout_s
        self._breaker = AuthBreaker(SERVICE)

    @property
    def model(self) -> str:
        return self._model

    async def speak(self, text: str) -> VoiceClip:
        """A voice clip saying ``text`` (already made speakable and cut to length).

        Raises:
            VoiceFailure: the session failed, was dropped, timed out or sent unusable audio.
        """
        self._breaker.check()
        try:
            answer = await self._answer(text)
        except VoiceFailure as failure:
            self._breaker.record(failure)
            raise
        return await _clip(answer)

    async def _answer(self, text: str) -> _Answer:
        """The whole answer, or the failure said plainly."""
        try:
            async with asyncio.timeout(self._timeout_s):
                return await self._converse(text)
        except TimeoutError:
            log.warning("realtime speech timed out after %.0f s", self._timeout_s)
            raise VoiceFailure("timeout", TIMED_OUT_MESSAGE) from None
        except openai.OpenAIError as exc:
            failure = describe(exc, SERVICE)
            log.warning("realtime speech failed (%s): %s", failure.kind, exc)
            raise failure from exc
        except (WebSocketException, OSError) as exc:
            log.warning("realtime speech connection failed: %r", exc)
            raise _connection_failure(exc) from exc

    async def _converse(self, text: str) -> _Answer:
        answer = _Answer()
        # close_timeout is websockets.connect's: after a timeout or a failure, the goodbye to a
        # server that stopped answering waits 1 s, not websockets' default 10 s.
        options: Any = {"close_timeout": CLOSE_TIMEOUT_S}
        async with self._client.realtime.connect(
            model=self._model, websocket_connection_options=options
        ) as connection:
            await connection.session.update(session=self._session())
            await connection.conversation.item.create(
                item={
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": text}],
                }
            )
            await connection.response.create()
            async for event in connection:
                if _take(event, answer):
                    break
        if not answer.done:
            log.warning("the realtime socket closed before response.done")
            raise VoiceFailure("dropped", DROPPED_MESSAGE)
        return answer

    def _session(self) -> Any:
        return {
            "type": "realtime",
            "output_modalities": ["audio"],
            "instructions": INSTRUCTIONS,
            "audio": {
                "output": {
                    "format": {"type": "audio/pcm", "rate": PCM_RATE},
                    "voice": self._voice,
                }
            },
        }


def _take(event: Any, answer: _Answer) -> bool:
    """Add ``event`` to ``answer``; True once the response is complete.

    Raises:
        VoiceFailure: an error event, or a response that did not complete.
    """
    kind = getattr(event, "type", "")
    if kind == "response.output_audio.delta":
        answer.audio += base64.b64decode(event.delta)
    elif kind == "error":
        raise _error_failure(event.error)
    elif kind == "response.done":
        response = event.response
        usage = response.usage
        if usage is not None:
            answer.input_tokens = usage.input_tokens or 0
            answer.output_tokens = usage.output_tokens or 0
        if response.status != "completed":
            log.warning("realtime response ended %s: %s", response.status, response.status_details)
            raise VoiceFailure("failed", "The speech service could not finish; try again.")
        answer.done = True
        return True
    return False


def _error_failure(error: Any) -> VoiceFailure:
    code = getattr(error, "code", None) or ""
    kind = getattr(error, "type", "") or ""
    message = getattr(error, "message", "") or ""
    log.warning("realtime error event (%s, %s): %s", kind, code, message)
    if code == "invalid_api_key" or kind == "authentication_error":
        return VoiceFailure(
            "auth",
            "The speech service refused the bot's API key; the bot's owner must check "
            "OPENAI_API_KEY.",
        )
    if "rate_limit" in code or "rate_limit" in kind:
        return VoiceFailure("rate_limited", "The speech service is busy; try again in a minute.")
    return VoiceFailure("rejected", "The speech service refused the request.")


def _connection_failure(exc: Exception) -> VoiceFailure:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status in (401, 403):
        return VoiceFailure(
            "auth",
            "The speech service refused the bot's API key; the bot's owner must check "
            "OPENAI_API_KEY.",
        )
    if status is not None:
        return VoiceFailure("failed", f"The speech service refused the connection ({status}).")
    if isinstance(exc, ConnectionClosed):
        return VoiceFailure("dropped", DROPPED_MESSAGE)
    return _unreachable()


def _unreachable() -> VoiceFailure:
    return VoiceFailure("unreachable", "I could not reach the speech service; try again later.")


async def _clip(answer: _Answer) -> VoiceClip:
    if not answer.audio:
        raise VoiceFailure("bad_audio", "The speech service sent no audio.")
    try:
        data = await asyncio.to_thread(pcm16_to_ogg_opus, bytes(answer.audio))
    except EncodingFailed as exc:
        log.warning("could not encode the realtime audio: %s", exc)
        raise VoiceFailure("bad_audio", "The speech service sent audio I cannot encode.") from exc
    clip = clip_from_ogg_opus(data)
    return VoiceClip(
        clip.data, clip.duration_s, clip.waveform, answer.input_tokens, answer.output_tokens
    )
