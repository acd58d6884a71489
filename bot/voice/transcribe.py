"""Speech to text over the OpenAI transcription endpoint (or any OpenAI-compatible server)."""

from __future__ import annotations

import logging
import math
import re

import openai

from bot.voice.audio import AudioClip
from bot.voice.failures import AuthBreaker, VoiceFailure, describe

log = logging.getLogger("toolcord.voice")

LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")
SERVICE = "transcription"
TOKENS_PER_AUDIO_SECOND = 20
"""What one second of audio costs in budget tokens when the API reports no token usage.

OpenAI's token-billed transcription models count about 10 audio tokens per second of input;
the other 10 cover the transcript's text (speech runs at about 3 words a second). A model
billed by duration (``usage.type == "duration"``) is priced from its reported seconds.
"""


def audio_tokens(seconds: float) -> int:
    """Budget tokens for ``seconds`` of audio."""
    return math.ceil(max(0.0, seconds) * TOKENS_PER_AUDIO_SECOND)


def normalize_language(language: str | None) -> str | None:
    """An ISO-639-1 code in lower case, None for none; raise VoiceFailure for anything else."""
    if language is None or not language.strip():
        return None
    code = language.strip().lower()
    if not LANGUAGE_CODE.match(code):
        raise VoiceFailure(
            "bad_language",
            f"`{code[:20]}` is not a language code: use two letters (ISO-639-1), e.g. `en`, `fr`.",
        )
    return code


class Transcriber:
    """Turns validated audio into text, with a clear failure for each way it can go wrong."""

    def __init__(self, client: openai.AsyncOpenAI, model: str) -> None:
        self._client = client
        self._model = model
        self._breaker = AuthBreaker(SERVICE)

    @property
    def model(self) -> str:
        return self._model

    async def transcribe(self, clip: AudioClip, language: str | None = None) -> str:
        """The transcript of ``clip``.

        Raises:
            VoiceFailure: the endpoint failed, or heard no speech (``kind`` "no_speech").
        """
        text, _ = await self.transcribe_priced(clip, language)
        return text

    async def transcribe_priced(
        self, clip: AudioClip, language: str | None = None
    ) -> tuple[str, int]:
        """The transcript of ``clip`` and what it cost in budget tokens (see ``cost_of``).

        Raises:
            VoiceFailure: the endpoint failed, or heard no speech (``kind`` "no_speech").
        """
        self._breaker.check()
        code = normalize_language(language)
        try:
            result = await self._client.audio.transcriptions.create(
                model=self._model,
                file=(clip.filename, clip.data, clip.content_type),
                response_format="json",
                language=code if code else openai.omit,
            )
        except openai.OpenAIError as exc:
            failure = describe(exc, SERVICE)
            self._breaker.record(failure)
            log.warning("transcription failed (%s): %s", failure.kind, exc)
            raise failure from exc
        text = _text_of(result).strip()
        if not text:
            raise VoiceFailure("no_speech", "I could not hear any speech in this recording.")
        return text, cost_of(result, clip.duration_s)


def cost_of(result: object, duration_s: float | None) -> int:
    """Budget tokens of a transcription: the API's reported usage, else the audio's seconds."""
    usage = getattr(result, "usage", None)
    kind = getattr(usage, "type", None)
    total = getattr(usage, "total_tokens", None)
    if kind == "tokens" and isinstance(total, int):
        return total
    seconds = getattr(usage, "seconds", None)
    if kind == "duration" and isinstance(seconds, int | float):
        return audio_tokens(float(seconds))
    return audio_tokens(duration_s or 0.0)


def _text_of(result: object) -> str:
    if isinstance(result, str):
        return result
    return str(getattr(result, "text", "") or "")
