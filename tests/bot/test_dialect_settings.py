"""openai.api_dialect: "auto" speaks Responses to OpenAI itself and chat to any other server."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.settings import OpenAISettings


@pytest.mark.parametrize(
    ("values", "dialect"),
    [
        ({}, "responses"),
        ({"base_url": "https://api.openai.com/v1"}, "responses"),
        ({"base_url": "http://localhost:11434/v1"}, "chat"),
        ({"base_url": "https://openrouter.ai/api/v1"}, "chat"),
        ({"base_url": "https://api.openai.com.evil.example/v1"}, "chat"),
        ({"base_url": "http://localhost:11434/v1", "api_dialect": "responses"}, "responses"),
        ({"api_dialect": "chat"}, "chat"),
    ],
)
def test_auto_picks_the_dialect_from_the_base_url(values: dict[str, str], dialect: str) -> None:
    assert OpenAISettings(**values).resolved_dialect() == dialect  # type: ignore[arg-type]


def test_reasoning_settings_default_off_and_refuse_unknown_efforts() -> None:
    settings = OpenAISettings()
    assert (settings.reasoning_effort, settings.reasoning_summary) == (None, False)
    assert OpenAISettings(reasoning_effort="xhigh").reasoning_effort == "xhigh"
    with pytest.raises(ValidationError, match="reasoning_effort"):
        OpenAISettings(reasoning_effort="ultra")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="api_dialect"):
        OpenAISettings(api_dialect="completions")  # type: ignore[arg-type]
