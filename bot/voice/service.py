"""The voice service the cog uses: read + transcribe an attachment, speak an answer."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import discord
import openai

from bot.conversation import ReplySink
from bot.engine import EngineEvent, Failed, Final
from bot.model_lifecycle import Today, is_served, utc_today
from bot.models import uses_speech_api
from bot.policy.gate import CallMeter
from bot.settings import Settings, VoiceSettings
from bot.voice.audio import AudioLimits
from bot.voice.failures import VoiceFailure
from bot.voice.intake import read_audio
from bot.voice.realtime import RealtimeSynth
from bot.voice.speech import SpeechSynth, Synth, VoiceClip, speakable_text
from bot.voice.transcribe import Transcriber, audio_tokens

log = logging.getLogger("toolcord.voice")


@dataclass(frozen=True)
class Transcript:
    """What a recording said, and how long it was (None when unknown)."""

    text: str
    duration_s: float | None


@dataclass(frozen=True)
class SpokenReply:
    """A spoken answer and the model that made it (for the usage ledger)."""

    clip: VoiceClip
    model: str


@dataclass(frozen=True)
class Payer:
    """Whose budgets a transcription counts against."""

    user_id: int
    guild_id: int | None
    is_owner: bool = False


class VoiceService:
    """Transcription and speech with the caps and models from ``[voice]`` and ``[openai]``.

    Speech goes through ``speech`` (the Realtime API, or the Speech API when ``speech_model``
    is a Speech API model); when that fails, ``fallback`` (a Speech API model) is tried, but only
    before its announced shutdown date and never after a refused API key.

    With a ``meter`` (the quotas), every transcription for a ``Payer`` is gated before the
    audio is uploaded (a spent budget refuses it) and counted after it (``cost_of``).
    """

    def __init__(
        self,
        settings: VoiceSettings,
        transcriber: Transcriber,
        speech: Synth,
        fallback: Synth | None = None,
        today: Today = utc_today,
        meter: CallMeter | None = None,
    ) -> None:
        self.settings = settings
        self.transcriber = transcriber
        self.speech = speech
        self.fallback = fallback
        self._today = today
        self.meter = meter

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        client: openai.AsyncOpenAI,
        today: Today = utc_today,
        meter: CallMeter | None = None,
    ) -> VoiceService:
        voice = settings.voice
        speech: Synth
        fallback: Synth | None = None
        if uses_speech_api(voice.speech_model):
            speech = SpeechSynth(client, voice.speech_model, voice.speech_voice)
        else:
            speech = RealtimeSynth(
                client, voice.speech_model, voice.speech_voice, voice.speech_timeout_s
            )
            if voice.speech_fallback_model:
                fallback = SpeechSynth(client, voice.speech_fallback_model, voice.speech_voice)
        transcriber = Transcriber(client, settings.openai.transcription_model)
        return cls(voice, transcriber, speech, fallback, today, meter)

    @property
    def limits(self) -> AudioLimits:
        return AudioLimits(self.settings.max_bytes, self.settings.max_duration_s)

    async def transcribe_attachment(
        self,
        attachment: discord.Attachment,
        language: str | None = None,
        *,
        payer: Payer | None = None,
    ) -> Transcript:
        """Read ``attachment`` within the caps and transcribe it, within ``payer``'s budgets.

        Raises:
            AudioRejected: the file is empty, too large, too long or not audio (nothing uploaded).
            VoiceFailure: a budget is spent (``kind`` "quota", nothing uploaded), or the
                download or the transcription failed.
        """
        clip = await read_audio(attachment, self.limits)
        meter = self.meter if payer is not None else None
        if meter is not None and payer is not None:
            seconds = clip.duration_s if clip.duration_s is not None else self.limits.max_duration_s
            refusal = await meter.admit_call(
                payer.user_id, payer.guild_id, audio_tokens(seconds), is_owner=payer.is_owner
            )
            if refusal is not None:
                raise VoiceFailure("quota", refusal.message, refusal=refusal)
        language = language or self.settings.language
        text, tokens = await self.transcriber.transcribe_priced(clip, language)
        if meter is not None and payer is not None:
            await meter.record_call(payer.user_id, payer.guild_id, self.transcriber.model, tokens)
        return Transcript(text, clip.duration_s)

    async def speak_answer(self, answer: str) -> SpokenReply | None:
        """The answer spoken, or None when nothing in it can be spoken.

        Raises:
            VoiceFailure: the speech service (and the fallback, if any was usable) failed.
        """
        spoken = speakable_text(answer, self.settings.speech_max_chars)
        if not spoken:
            return None
        try:
            return SpokenReply(await self.speech.speak(spoken), self.speech.model)
        except VoiceFailure as failure:
            fallback = self._usable_fallback(failure)
            if fallback is None:
                raise
            log.warning(
                "%s failed (%s); speaking with %s", self.speech.model, failure.kind, fallback.model
            )
            return SpokenReply(await fallback.speak(spoken), fallback.model)

    def _usable_fallback(self, failure: VoiceFailure) -> Synth | None:
        fallback = self.fallback
        if fallback is None or failure.kind == "auth":
            return None
        if not is_served(fallback.model, self._today()):
            return None
        return fallback


class AnswerRecorder:
    """A ReplySink passing everything on to another sink and keeping the final answer's text."""

    def __init__(self, inner: ReplySink) -> None:
        self._inner = inner
        self.final_text: str | None = None

    async def on_event(self, event: EngineEvent) -> None:
        await self._inner.on_event(event)

    async def finish(self, final: Final) -> list[int]:
        self.final_text = final.text
        return await self._inner.finish(final)

    async def fail(self, failed: Failed) -> list[int]:
        return await self._inner.fail(failed)

    def use_texts(self, texts: Callable[..., str]) -> None:
        """Pass the reply's words (``bot.reply_core.StreamingReply.use_texts``) on."""
        use_texts = getattr(self._inner, "use_texts", None)
        if callable(use_texts):
            use_texts(texts)
