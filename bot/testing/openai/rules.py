"""OpenAI's model rules the emulator enforces: function tools and reasoning on Chat Completions.

Bot authors meet these rules in their tests, not in production. Facts (public reports with raw-API
proof, 2026: openai/openai-openapi#541, BerriAI/litellm#34569, danny-avila/LibreChat#14231,
pipecat-ai/pipecat#4043, charmbracelet/crush#2913):

============================================  ==================  ===================  ==========
model family                                  tools, no effort    tools + effort none  other effort
============================================  ==================  ===================  ==========
``gpt-5.4*``, ``gpt-5.5*``                    accepted            accepted             **400**
``gpt-5.6*`` (-sol, -terra, -luna), ``gpt-6*``  **400** (reasons    accepted             **400**
and later                                     by default)
============================================  ==================  ===================  ==========

The 400 is ``invalid_request_error`` with ``param: "reasoning_effort"`` and ``code: null``; its
message names the model and says what to do (:func:`chat_tools_rejection`). The Responses API
(``/v1/responses``) accepts function tools with any effort.

The table here is the test kit's own copy: the bot keeps its own (``bot/engine/model_rules.py``),
so a test that runs the bot against the emulator checks one against the other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .errors import ApiError

_EFFORT_NONE_ONLY = re.compile(r"^gpt-5\.[45](?:-|$)")
_REASONS_BY_DEFAULT = re.compile(
    r"^(?:gpt-5\.(?:[6-9]|\d{2,})|gpt-(?:[6-9]|\d{2,})(?:\.\d+)?)(?:-|$)"
)
_REASONING_MODELS = re.compile(r"^(?:gpt-5|o\d)(?:[.-]|$)")
CHAT_PATH = "/v1/chat/completions"
OLDER_FAMILY_ADVICE = "Please use /v1/responses instead."
NEWER_FAMILY_ADVICE = "To use function tools, use /v1/responses or set reasoning_effort to 'none'."


def reasons_by_default(model: str) -> bool:
    """Whether ``model`` reasons when no effort is given (gpt-5.6 and later)."""
    return bool(_REASONS_BY_DEFAULT.match(model))


def is_reasoning_model(model: str) -> bool:
    """Whether ``model`` can reason at all (the gpt-5 and o-series families and later)."""
    return reasons_by_default(model) or bool(_REASONING_MODELS.match(model))


def default_effort(model: str) -> str | None:
    """The effort ``model`` uses when the request names none (None: it does not reason)."""
    if reasons_by_default(model):
        return "medium"
    if _EFFORT_NONE_ONLY.match(model):
        return "none"
    return "medium" if is_reasoning_model(model) else None


def chat_tools_rejection(model: str, effort: Any) -> str | None:
    """The 400 message OpenAI gives a chat completion with function tools, or None if accepted."""
    message = f"Function tools with reasoning_effort are not supported for {model} in {CHAT_PATH}."
    if _EFFORT_NONE_ONLY.match(model):
        return f"{message} {OLDER_FAMILY_ADVICE}" if effort not in (None, "none") else None
    if reasons_by_default(model):
        return f"{message} {NEWER_FAMILY_ADVICE}" if effort != "none" else None
    return None


def check_chat_request(body: Mapping[str, Any]) -> None:
    """Raise OpenAI's 400 for a chat completion request these rules reject."""
    if not body.get("tools"):
        return
    model = str(body.get("model") or "")
    message = chat_tools_rejection(model, body.get("reasoning_effort"))
    if message is not None:
        raise ApiError(400, message, param="reasoning_effort")
