"""What OpenAI's model families accept: the bot's own table (the test kit keeps an independent one).

On ``/v1/chat/completions`` OpenAI refuses function tools combined with reasoning (HTTP 400,
``param: "reasoning_effort"``): for the gpt-5.4 and gpt-5.5 families whenever an effort other than
``none`` is sent, and for gpt-5.6 and later even when none is sent, because they reason by
default. The Responses API accepts tools with any effort. Sources: openai/openai-openapi#541,
BerriAI/litellm#34569, danny-avila/LibreChat#14231 (see docs/provider-facts in the project notes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOOLS_NEED_EFFORT_NONE = re.compile(r"^gpt-5\.[45](?:-|$)")
_REASONS_BY_DEFAULT = re.compile(
    r"^(?:gpt-5\.(?:[6-9]|\d{2,})|gpt-(?:[6-9]|\d{2,})(?:\.\d+)?)(?:-|$)"
)
_CAN_REASON = re.compile(r"^(?:gpt-5|gpt-(?:[6-9]|\d{2,})|o\d)(?:[.-]|$)")
_FAMILY = re.compile(r"^(gpt-\d+(?:\.\d+)?|o\d+)")


def reasons_by_default(model: str) -> bool:
    """Whether ``model`` reasons when the request names no effort (gpt-5.6 and later)."""
    return bool(_REASONS_BY_DEFAULT.match(model))


def can_reason(model: str) -> bool:
    """Whether ``model`` is a reasoning model (gpt-5 and later, the o-series).

    Only these return encrypted reasoning: OpenAI refuses ``include:
    ["reasoning.encrypted_content"]`` for others ("Encrypted content is not supported with this
    model.", pydantic/pydantic-ai#2865).
    """
    return bool(_CAN_REASON.match(model))


def refuses_tools_with_reasoning_on_chat(model: str) -> bool:
    """Whether chat completions refuse function tools with any effort but ``none`` for ``model``."""
    return reasons_by_default(model) or bool(_TOOLS_NEED_EFFORT_NONE.match(model))


def model_family(model: str) -> str:
    """The family whose reasoning items ``model`` may read back: ``gpt-5.6`` for ``gpt-5.6-terra``.

    Encrypted reasoning is replayed only to the family that made it; an unknown naming scheme is
    its own family.
    """
    match = _FAMILY.match(model)
    return match.group(1) if match else model


@dataclass(frozen=True)
class ChatEffort:
    """The ``reasoning_effort`` to send on chat completions and, when it differs, why."""

    effort: str | None
    reason: str | None = None


def chat_effort(model: str, configured: str | None, *, has_tools: bool) -> ChatEffort:
    """The effort a chat completion request may carry for ``model``.

    With tools and a model from the table, only ``none`` is accepted: a configured effort is
    replaced (and so is no effort, for models that reason by default), with the reason to log.
    """
    if not has_tools or not refuses_tools_with_reasoning_on_chat(model):
        return ChatEffort(configured)
    if configured == "none" or (configured is None and not reasons_by_default(model)):
        return ChatEffort(configured)
    wanted = f"reasoning effort {configured!r}" if configured else "its default reasoning"
    reason = (
        f"sending reasoning_effort 'none' for {model} on the chat completions API instead of "
        f"{wanted}: OpenAI refuses function tools with reasoning there for this model family. "
        'Set openai.api_dialect = "responses" (or "auto" with OpenAI\'s own base URL) to keep '
        "reasoning with tools."
    )
    return ChatEffort("none", reason)
