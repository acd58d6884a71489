"""Text to speech as a Discord-ready voice clip: OGG/Opus with its duration and waveform."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Protocol

import openai

from bot.render import strip_reasoning
from bot.voice import ogg, waveform
from bot.voice.failures import AuthBreaker, VoiceFailure, describe

log = logging.getLogger("toolcord.voice")

SERVICE = "speech"
_CODE_BLOCK = re.compile(r"```.*?(```|$)", re.DOTALL)
_INLINE_CODE = re.compile(r"`([^`\n]*)`")
_MARKDOWN_LINK = re.compile(r"\[([^\]\n]+)\]\([^)\s]+\)")
_URL = re.compile(r"<?\b(?:https?|hxxps?)://\S+")
_DISCORD_TOKEN = re.compile(r"<(?:@[!&]?|#|a?:\w+:)\d+>")
_MARKUP = re.compile(r"(^|\n)\s*(?:#{1,3}\s|-#\s|>\s?|[-*]\s)|[*_~|]")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class VoiceClip:
    """An OGG/Opus recording ready to send as a Discord voice message.

    ``input_tokens`` and ``output_tokens`` are what the server reported making it (the Realtime
    API reports them; the Speech API does not, so they stay 0 there).
    """

    data: bytes
    duration_s: float
    waveform: str
    input_tokens: int = 0
    output_tokens: int = 0


def speakable_text(text: str, limit: int) -> str:
    """The answer as something to say: no reasoning, code, links or markdown; cut at ``limit``."""
    visible, _ = strip_reasoning(text)
    visible = _CODE_BLOCK.sub(" (code in the written answer) ", visible)
    visible = _INLINE_CODE.sub(r"\1", visible)
    visible = _MARKDOWN_LINK.sub(r"\1", visible)
    visible = _URL.sub(" (link in the written answer) ", visible)
    visible = _DISCORD_TOKEN.sub("", visible)
    visible = _MARKUP.sub(r"\1", visible)
    spoken = _SPACES.sub(" ", visible).strip()
    if len(spoken) <= limit:
        return spoken
    cut = spoken[:limit]
    sentence_end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    if sentence_end >= limit // 2:
        return cut[: sentence_end + 1]
    return cut.rsplit(" ", 1)[0] + "…"


def clip_from_ogg_opus(data: bytes) -> VoiceClip:
    """Check that ``data`` is OGG/Opus with audio, and measure it for Discord."""
    duration = ogg.opus_duration(data)
    wave = waveform.opus_waveform(data)
    if duration is None or not wave:
        raise VoiceFailure("bad_audio", "The speech service sent audio I cannot send to Discord.")
    return VoiceClip(data=data, duration_s=round(duration, 2), waveform=waveform.encode(wave))


class Synth(Protocol):
    """Something that speaks text as a voice clip (the Speech API or the Realtime API)."""

    @property
    def model(self) -> str: ...

    async def speak(self, text: str) -> VoiceClip: ...


class SpeechSynth:
    """Speaks text through the speech endpoint, always asking for OGG/Opus."""

    def __init__(self, client: openai.AsyncOpenAI, model: str, voice: str) -> None:
        self._client = client
        self._model = model
        self._voice = voice
        self._breaker = AuthBreaker(SERVICE)

    @property
    def model(self) -> str:
        return self._model

    async def speak(self, text: str) -> VoiceClip:
        """A voice clip saying ``text`` (already made speakable and cut to length).

        Raises:
            VoiceFailure: the endpoint failed or sent something that is not OGG/Opus.
        """
        self._breaker.check()
        try:
            response = await self._client.audio.speech.create(
                model=self._model, voice=self._voice, input=text, response_format="opus"
            )
            data = await response.aread()
        except openai.OpenAIError as exc:
            failure = describe(exc, SERVICE)
            self._breaker.record(failure)
            log.warning("speech failed (%s): %s", failure.kind, exc)
            raise failure from exc
        return clip_from_ogg_opus(data)
