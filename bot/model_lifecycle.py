"""When the models toolcord may be configured with go away, as the installed openai SDK announces.

``SHUTDOWNS`` copies the "Announced shutdown date" notes of the SDK's model literals
(``openai/types/**/*_model.py``, the realtime session model, and the ``audio.speech.create``
docstring) for the families toolcord uses: chat, images, transcription, speech (Speech API and
Realtime), moderation and embeddings. ``tests/bot/test_model_lifecycle.py`` reads those notes from
the installed package and fails when this table disagrees, so a new SDK cannot change a date
silently.

``check`` tells an owner, before the bot starts, about every configured model that shuts down
within ``WARN_DAYS`` (a warning) or has already shut down (a refusal), naming the replacement the
SDK recommends where it names one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

WARN_DAYS = 60
SPEECH_API_MODELS = frozenset(
    {
        "tts-1",
        "tts-1-hd",
        "gpt-4o-mini-tts",
        "gpt-4o-mini-tts-2025-03-20",
        "gpt-4o-mini-tts-2025-12-15",
    }
)
SPEECH_API_ONLY_VOICES = frozenset({"fable", "onyx", "nova"})
DEPRECATIONS_PAGE = "https://developers.openai.com/api/docs/deprecations"
Today = Callable[[], dt.date]


@dataclass(frozen=True)
class Shutdown:
    """An announced (or past) shutdown of one model and what the SDK recommends instead."""

    date: dt.date
    replacement: str | None = None


def _same(date: str, models: Iterable[str], replacement: str | None = None) -> dict[str, Shutdown]:
    day = dt.date.fromisoformat(date)
    return {model: Shutdown(day, replacement) for model in models}


_SPEECH_REPLACEMENT = "gpt-realtime-2.1-mini (through the Realtime API)"

SHUTDOWNS: dict[str, Shutdown] = {
    # Speech API: openai/types/audio/speech_model.py and the audio.speech.create docstring.
    **_same(
        "2027-01-06",
        (
            "tts-1",
            "tts-1-hd",
            "gpt-4o-mini-tts",
            "gpt-4o-mini-tts-2025-03-20",
            "gpt-4o-mini-tts-2025-12-15",
        ),
        _SPEECH_REPLACEMENT,
    ),
    # Transcription: openai/types/audio_model.py.
    **_same(
        "2027-02-26",
        (
            "whisper-1",
            "gpt-4o-transcribe",
            "gpt-4o-mini-transcribe",
            "gpt-4o-mini-transcribe-2025-12-15",
            "gpt-4o-transcribe-diarize",
        ),
    ),
    # Images: openai/types/image_model.py (dates written out in words there).
    **_same("2026-10-23", ("gpt-image-1",), "gpt-image-2.5-sunburst or gpt-image-2.5-flare"),
    **_same("2026-05-12", ("dall-e-2", "dall-e-3"), "a GPT image model such as gpt-image-2"),
    # Realtime: openai/types/realtime/realtime_session_create_request.py.
    **_same(
        "2027-01-20",
        (
            "gpt-realtime",
            "gpt-realtime-2025-08-28",
            "gpt-realtime-mini",
            "gpt-realtime-mini-2025-12-15",
            "gpt-audio-mini",
            "gpt-audio-mini-2025-12-15",
        ),
    ),
    # Chat: openai/types/shared/chat_model.py.
    **_same(
        "2027-04-01", ("gpt-5.4-nano", "gpt-5.4-nano-2026-03-17", "gpt-5.1", "gpt-5.1-2025-11-13")
    ),
    **_same("2026-08-10", ("gpt-5.3-chat-latest", "gpt-5.2-chat-latest")),
    **_same(
        "2026-07-23",
        (
            "gpt-5.1-codex",
            "gpt-5.1-chat-latest",
            "gpt-5-chat-latest",
            "gpt-4o-search-preview",
            "gpt-4o-mini-search-preview",
            "gpt-4o-search-preview-2025-03-11",
            "gpt-4o-mini-search-preview-2025-03-11",
        ),
    ),
    **_same(
        "2026-12-11",
        (
            "gpt-5",
            "gpt-5-mini",
            "gpt-5-nano",
            "gpt-5-2025-08-07",
            "gpt-5-mini-2025-08-07",
            "gpt-5-nano-2025-08-07",
            "o3",
            "o3-2025-04-16",
        ),
    ),
    **_same(
        "2027-01-14",
        (
            "gpt-4.1",
            "gpt-4.1-mini",
            "gpt-4.1-2025-04-14",
            "gpt-4.1-mini-2025-04-14",
            "gpt-4o",
            "gpt-4o-2024-11-20",
            "gpt-4o-2024-08-06",
            "gpt-4o-mini",
            "gpt-4o-mini-2024-07-18",
        ),
    ),
    **_same(
        "2026-10-23",
        (
            "gpt-4.1-nano",
            "gpt-4.1-nano-2025-04-14",
            "o4-mini",
            "o4-mini-2025-04-16",
            "o3-mini",
            "o3-mini-2025-01-31",
            "o1",
            "o1-2024-12-17",
            "gpt-4o-2024-05-13",
            "gpt-4-turbo",
            "gpt-4-turbo-2024-04-09",
            "gpt-4-1106-preview",
            "gpt-4",
            "gpt-4-0613",
            "gpt-3.5-turbo",
            "gpt-3.5-turbo-0125",
        ),
    ),
    **_same("2025-07-28", ("o1-preview", "o1-preview-2024-09-12")),
    **_same("2025-10-27", ("o1-mini", "o1-mini-2024-09-12")),
    **_same(
        "2026-05-07",
        (
            "gpt-4o-audio-preview",
            "gpt-4o-audio-preview-2024-12-17",
            "gpt-4o-audio-preview-2025-06-03",
            "gpt-4o-mini-audio-preview",
            "gpt-4o-mini-audio-preview-2024-12-17",
        ),
    ),
    **_same("2025-10-10", ("gpt-4o-audio-preview-2024-10-01",)),
    **_same("2026-02-17", ("chatgpt-4o-latest",)),
    **_same("2026-02-12", ("codex-mini-latest",)),
    **_same("2026-03-26", ("gpt-4-0125-preview", "gpt-4-turbo-preview", "gpt-4-0314")),
    **_same("2024-12-06", ("gpt-4-vision-preview",)),
    **_same("2025-06-06", ("gpt-4-32k", "gpt-4-32k-0314", "gpt-4-32k-0613")),
    **_same(
        "2024-09-13",
        ("gpt-3.5-turbo-16k", "gpt-3.5-turbo-0301", "gpt-3.5-turbo-0613", "gpt-3.5-turbo-16k-0613"),
    ),
    **_same("2026-09-28", ("gpt-3.5-turbo-1106",)),
}


@dataclass(frozen=True)
class ModelNotice:
    """What to tell the owner about one configured model."""

    setting: str
    model: str
    shutdown: Shutdown
    retired: bool

    def __str__(self) -> str:
        instead = self.shutdown.replacement or f"a current model (see {DEPRECATIONS_PAGE})"
        when = self.shutdown.date.isoformat()
        if self.retired:
            return (
                f"{self.setting} = {self.model!r}: OpenAI shut this model down on {when}; the "
                f"bot's owner must set {self.setting} to {instead}."
            )
        return (
            f"{self.setting} = {self.model!r}: OpenAI shuts this model down on {when}; set "
            f"{self.setting} to {instead} before then."
        )


def uses_speech_api(model: str) -> bool:
    """Whether ``model`` speaks through the Speech API (``/audio/speech``), not the Realtime API."""
    return model in SPEECH_API_MODELS or model.startswith("tts-")


def shutdown_of(model: str) -> Shutdown | None:
    """The announced shutdown of ``model``, or None when none is announced."""
    return SHUTDOWNS.get(model)


def is_served(model: str, today: dt.date) -> bool:
    """False once ``model``'s announced shutdown date has come."""
    shutdown = SHUTDOWNS.get(model)
    return shutdown is None or today < shutdown.date


def notices(
    models: Iterable[tuple[str, str]], today: dt.date, warn_days: int = WARN_DAYS
) -> list[ModelNotice]:
    """A notice for each ``(setting, model)`` that is shut down or shuts down within
    ``warn_days`` of ``today``."""
    found = []
    for setting, model in models:
        shutdown = SHUTDOWNS.get(model)
        if shutdown is None or (shutdown.date - today).days > warn_days:
            continue
        found.append(ModelNotice(setting, model, shutdown, retired=today >= shutdown.date))
    return found


def utc_today() -> dt.date:
    """Today's date in UTC (the default clock)."""
    return dt.datetime.now(dt.UTC).date()
