"""Cheap token estimates (about four characters per token), good enough for usage and limits.

The emulator does not ship a tokenizer: it counts characters the way OpenAI's own rule of thumb
does, so tests can reason about usage numbers and context windows without exact counts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 3
TOKENS_PER_IMAGE = 85
TOKENS_PER_REQUEST = 3


def text_tokens(text: str) -> int:
    """Return the estimated token count of ``text`` (0 for the empty string)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def _content_tokens(content: Any) -> int:
    if isinstance(content, str):
        return text_tokens(content)
    if not isinstance(content, list):
        return 0
    total = 0
    for part in content:
        if not isinstance(part, Mapping):
            continue
        if part.get("type") == "image_url":
            total += TOKENS_PER_IMAGE
        else:
            total += text_tokens(str(part.get("text") or part.get("refusal") or ""))
    return total


def message_tokens(message: Mapping[str, Any]) -> int:
    """Return the estimated tokens of one chat message, tool calls included."""
    total = TOKENS_PER_MESSAGE + _content_tokens(message.get("content"))
    total += text_tokens(str(message.get("name") or ""))
    for call in message.get("tool_calls") or ():
        if not isinstance(call, Mapping):
            continue
        function = call.get("function") or {}
        total += text_tokens(str(function.get("name") or ""))
        total += text_tokens(str(function.get("arguments") or ""))
    return total


def prompt_tokens(request: Mapping[str, Any]) -> int:
    """Return the estimated prompt tokens of a chat completion request (messages and tools)."""
    messages = request.get("messages")
    total = TOKENS_PER_REQUEST
    if isinstance(messages, list):
        total += sum(message_tokens(m) for m in messages if isinstance(m, Mapping))
    tools = request.get("tools")
    if tools:
        total += text_tokens(json.dumps(tools, separators=(",", ":")))
    return total


def input_tokens(value: Any) -> int:
    """Return the estimated tokens of an embeddings/moderations ``input`` value."""
    if isinstance(value, str):
        return text_tokens(value)
    if isinstance(value, list):
        if value and all(isinstance(item, int) for item in value):
            return len(value)
        return sum(input_tokens(item) for item in value)
    if isinstance(value, Mapping):
        return _content_tokens([value])
    return 0
