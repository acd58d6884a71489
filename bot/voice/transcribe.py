"""Speech to text over the OpenAI transcription endpoint (or any OpenAI-compatible server)."""

from __future__ import annotations

import logging
import re

import openai

from bot.voice.audio import AudioClip
from bot.voice.failures import AuthBreaker, VoiceFailure, describe

log = logging.getLogger("toolcord.voice")

LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")
SERVICE = "transcription"


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
        return text


def _text_of(result: object) -> str:
    if isinstance(result, str):
        return result
    return str(getattr(result, "text", "") or "")
