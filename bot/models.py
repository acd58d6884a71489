"""Which model each job uses, decided in one place, and what to tell the owner about them.

The ``[openai]`` and ``[voice]`` settings name every model: ``tool_config`` hands the image and
moderation models to their tools (whose ``[tools.config.*]`` sections no longer take a ``model``),
``configured_models`` lists them for the shutdown check, and ``check_models`` turns the SDK's
announced shutdowns into start-up warnings and refusals.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.errors import ConfigError
from bot.model_lifecycle import ModelNotice, notices, uses_speech_api
from bot.settings import Settings

__all__ = ["check_models", "configured_models", "tool_config", "uses_speech_api"]

FALLBACK_SETTING = "voice.speech_fallback_model"


def tool_config(settings: Settings) -> dict[str, dict[str, Any]]:
    """``[tools.config]`` as the tools read it: with the model ``[openai]`` decides for them."""
    config: dict[str, dict[str, Any]] = {
        name: dict(section) for name, section in settings.tools.config.items()
    }
    config.setdefault("images", {})["model"] = settings.openai.image_model
    config.setdefault("moderation", {})["model"] = settings.openai.moderation_model
    return config


def configured_models(settings: Settings) -> list[tuple[str, str]]:
    """Every ``(setting, model)`` the bot may call, in the order the example config shows them."""
    ai = settings.openai
    found = [("openai.chat_model", ai.chat_model)]
    found += [(f"openai.allowed_models[{i}]", model) for i, model in enumerate(ai.allowed_models)]
    found += [
        ("openai.image_model", ai.image_model),
        ("openai.transcription_model", ai.transcription_model),
        ("openai.moderation_model", ai.moderation_model),
        ("voice.speech_model", settings.voice.speech_model),
    ]
    if settings.voice.speech_fallback_model:
        found.append((FALLBACK_SETTING, settings.voice.speech_fallback_model))
    if settings.moderation.rules_model:
        found.append(("moderation.rules_model", settings.moderation.rules_model))
    found += [
        ("knowledge.embedding_model", settings.knowledge.embedding_model),
        ("knowledge.summary_model", settings.knowledge.summary_model),
    ]
    return found


def check_models(settings: Settings, today: dt.date) -> list[str]:
    """Warnings about configured models that shut down soon.

    A fallback speech model that has shut down is only a warning: the bot stops using it.

    Raises:
        ConfigError: a configured model (other than the fallback) has already shut down.
    """
    found = notices(configured_models(settings), today)
    refused = [str(n) for n in found if n.retired and n.setting != FALLBACK_SETTING]
    if refused:
        raise ConfigError(" ".join(refused))
    return [_warning(notice) for notice in found]


def _warning(notice: ModelNotice) -> str:
    if notice.setting != FALLBACK_SETTING:
        return str(notice)
    when = notice.shutdown.date.isoformat()
    if notice.retired:
        return (
            f"{notice.setting} = {notice.model!r} shut down on {when}; spoken replies no longer "
            f'fall back to it: set {notice.setting} = "" to silence this warning.'
        )
    return (
        f"{notice.setting} = {notice.model!r} shuts down on {when}; spoken replies fall back to "
        f'it only until then (set {notice.setting} = "" to stop using it now).'
    )
