"""Retired and retiring models are told, not discovered.

The table in ``bot/model_lifecycle.py`` must agree with the installed openai SDK's deprecation
notes; ``check`` and start-up warn about a configured model shutting down within 60 days and
refuse one that has shut down (the clock is injected).
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import os
import re
from pathlib import Path

import openai
import pytest

from bot.__main__ import main
from bot.errors import ConfigError
from bot.model_lifecycle import SHUTDOWNS, is_served
from bot.models import check_models
from bot.settings import Settings, VoiceSettings, load_settings

# The SDK modules whose literals name the models of each family toolcord uses.
SDK_MODEL_MODULES = (
    "openai.types.shared.chat_model",  # chat
    "openai.types.image_model",  # images
    "openai.types.audio_model",  # transcription
    "openai.types.audio.speech_model",  # speech (Speech API)
    "openai.types.realtime.realtime_session_create_request",  # speech (Realtime API)
    "openai.types.moderation_model",  # moderation
    "openai.types.embedding_model",  # embeddings
)
_ISO = re.compile(r"Announced\s+shutdown\s+date:\s*(\d{4}-\d{2}-\d{2})")
_WORDS = re.compile(r"(?:shut down|retired) on ([A-Z][a-z]+ \d{1,2}, \d{4})")
_SPEECH_DOC = re.compile(
    r"The (`[^.]*?`) models are deprecated and scheduled to shut down on\s+"
    r"([A-Z][a-z]+ \d{1,2}, \d{4})"
)
FAKE_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz012345"


def _sdk_notes() -> dict[str, dt.date]:
    """Every model the SDK's deprecation notes give a shutdown date, read from its sources."""
    found: dict[str, dt.date] = {}
    for name in SDK_MODEL_MODULES:
        source = Path(inspect.getfile(importlib.import_module(name))).read_text(encoding="utf-8")
        for block in source.split("Deprecated values:")[1:]:
            notes = block.split('"""', 1)[0]
            for bullet in re.split(r"\n\s*- ", " " + notes)[1:]:
                flat = " ".join(bullet.split())
                date = _bullet_date(flat)
                if date is None:
                    continue
                head = flat.split(": ", 1)[0] if flat.startswith('"') else flat
                for model in re.findall(r'"([^"]+)"', head):
                    found[model] = date
    doc = " ".join((openai.resources.audio.speech.AsyncSpeech.create.__doc__ or "").split())
    for names, when in _SPEECH_DOC.findall(doc):
        for model in re.findall(r"`([^`]+)`", names):
            found[model] = dt.datetime.strptime(when, "%B %d, %Y").date()
    return found


def _bullet_date(text: str) -> dt.date | None:
    iso = _ISO.search(text)
    if iso:
        return dt.date.fromisoformat(iso.group(1))
    words = _WORDS.search(text)
    if words:
        return dt.datetime.strptime(words.group(1), "%B %d, %Y").date()
    return None


def test_the_shutdown_table_agrees_with_the_installed_sdk() -> None:
    sdk = _sdk_notes()
    assert "gpt-4o-mini-tts" in sdk and "whisper-1" in sdk and "gpt-image-1" in sdk
    ours = {model: shutdown.date for model, shutdown in SHUTDOWNS.items()}
    differ = {
        m: (ours.get(m), sdk.get(m)) for m in set(ours) | set(sdk) if ours.get(m) != sdk.get(m)
    }
    assert not differ, (
        "bot/model_lifecycle.py SHUTDOWNS and the installed openai package disagree "
        f"(model: (table, SDK)): {differ}; copy the SDK's dates into the table"
    )


def test_the_speech_replacement_is_the_one_the_sdk_names() -> None:
    doc = " ".join((openai.resources.audio.speech.AsyncSpeech.create.__doc__ or "").split())
    named = re.search(r"migrate to `([^`]+)` through the \[Realtime API\]", doc)
    assert named is not None, "the SDK no longer names a Realtime replacement: update the table"
    replacement = SHUTDOWNS["gpt-4o-mini-tts"].replacement or ""
    assert replacement.startswith(named.group(1) + " ")
    assert Settings().voice.speech_model == named.group(1), "the default is that replacement"


def test_the_default_models_are_served_for_more_than_60_days() -> None:
    today = dt.date(2026, 12, 7)
    assert check_models(Settings(), today) == [], "a new owner's first start warns of nothing"
    with_fallback = Settings(voice=VoiceSettings(speech_fallback_model="gpt-4o-mini-tts"))
    assert check_models(with_fallback, today) == [
        "voice.speech_fallback_model = 'gpt-4o-mini-tts' shuts down on 2027-01-06; spoken "
        'replies fall back to it only until then (set voice.speech_fallback_model = "" to stop '
        "using it now)."
    ]
    assert is_served("gpt-4o-mini-tts", dt.date(2027, 1, 5))
    assert not is_served("gpt-4o-mini-tts", dt.date(2027, 1, 6))


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for key in list(os.environ):
        if key.startswith("TOOLCORD_") or key in ("OPENAI_BASE_URL",):
            monkeypatch.delenv(key)
    monkeypatch.setenv("DISCORD_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _config(directory: Path, text: str) -> str:
    path = directory / "bot.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_check_refuses_gpt_4o_mini_tts_after_its_shutdown_date(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(clean_env, '[voice]\nspeech_model = "gpt-4o-mini-tts"\n')
    code = main(["check", "--config", config], today=lambda: dt.date(2027, 1, 7))
    out, err = capsys.readouterr()
    assert code == 2
    assert err == (
        "toolcord: voice.speech_model = 'gpt-4o-mini-tts': OpenAI shut this model down on "
        "2027-01-06; the bot's owner must set voice.speech_model to gpt-realtime-2.1-mini "
        "(through the Realtime API).\n"
    )
    assert out == ""


def test_check_warns_about_gpt_4o_mini_tts_before_its_shutdown_date(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(
        clean_env, '[voice]\nspeech_model = "gpt-4o-mini-tts"\nspeech_fallback_model = ""\n'
    )
    code = main(["check", "--config", config], today=lambda: dt.date(2026, 12, 7))
    _, err = capsys.readouterr()
    assert code == 0
    assert err.splitlines() == [
        "toolcord: warning: voice.speech_model = 'gpt-4o-mini-tts': OpenAI shuts this model down "
        "on 2027-01-06; set voice.speech_model to gpt-realtime-2.1-mini (through the Realtime "
        "API) before then.",
        "toolcord: the configuration is valid.",
    ]


def test_a_shut_down_fallback_is_a_warning_not_a_refusal(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(clean_env, '[voice]\nspeech_fallback_model = "gpt-4o-mini-tts"\n')
    code = main(["check", "--config", config], today=lambda: dt.date(2027, 1, 7))
    _, err = capsys.readouterr()
    assert code == 0
    assert (
        "toolcord: warning: voice.speech_fallback_model = 'gpt-4o-mini-tts' shut down on "
        "2027-01-06; spoken replies no longer fall back to it: set "
        'voice.speech_fallback_model = "" to silence this warning.'
    ) in err.splitlines()


def test_a_retired_chat_model_without_a_named_replacement_points_at_the_deprecations_page(
    tmp_path: Path,
) -> None:
    path = Path(_config(tmp_path, '[openai]\nallowed_models = ["gpt-5.4-mini", "gpt-5"]\n'))
    settings = load_settings(path, env_file=None)
    with pytest.raises(ConfigError) as caught:
        check_models(settings, dt.date(2026, 12, 11))
    assert str(caught.value) == (
        "openai.allowed_models[1] = 'gpt-5': OpenAI shut this model down on 2026-12-11; the "
        "bot's owner must set openai.allowed_models[1] to a current model (see "
        "https://developers.openai.com/api/docs/deprecations)."
    )


def test_the_bot_refuses_to_start_with_a_shut_down_model(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(clean_env, '[openai]\ntranscription_model = "whisper-1"\n')
    code = main(["run", "--config", config], today=lambda: dt.date(2027, 2, 26))
    assert code == 2
    assert capsys.readouterr().err == (
        "toolcord: openai.transcription_model = 'whisper-1': OpenAI shut this model down on "
        "2027-02-26; the bot's owner must set openai.transcription_model to a current model "
        "(see https://developers.openai.com/api/docs/deprecations).\n"
    )
