"""The sink wrapper that keeps the final answer, and the voice settings."""

from __future__ import annotations

import pytest

from bot.engine import AnswerUsage, Failed, Final, TextDelta
from bot.errors import ConfigError
from bot.settings import settings_from
from bot.voice import AnswerRecorder


class _Sink:
    def __init__(self) -> None:
        self.seen: list[object] = []

    async def on_event(self, event: object) -> None:
        self.seen.append(event)

    async def finish(self, final: Final) -> list[int]:
        self.seen.append(final)
        return [1, 2]

    async def fail(self, failed: Failed) -> list[int]:
        self.seen.append(failed)
        return [3]


async def test_the_recorder_passes_everything_on_and_keeps_the_answer() -> None:
    inner = _Sink()
    recorder = AnswerRecorder(inner)
    delta = TextDelta("Hel")
    final = Final(text="Hello.", new_messages=[], usage=AnswerUsage())
    await recorder.on_event(delta)
    assert await recorder.finish(final) == [1, 2]
    assert recorder.final_text == "Hello."
    assert inner.seen == [delta, final]


async def test_a_failed_answer_leaves_nothing_to_speak() -> None:
    recorder = AnswerRecorder(_Sink())
    failed = Failed(
        kind="x", user_message="no", partial_text="", new_messages=[], usage=AnswerUsage()
    )
    assert await recorder.fail(failed) == [3]
    assert recorder.final_text is None


def test_the_voice_settings_defaults_and_language_check() -> None:
    voice = settings_from({}).voice
    assert (voice.auto_transcribe, voice.replies_default) == (True, False)
    assert voice.max_bytes == 25 * 1024 * 1024
    assert settings_from({"voice": {"language": "EN"}}).voice.language == "en"
    with pytest.raises(ConfigError, match=r"voice\.language"):
        settings_from({"voice": {"language": "english"}})
