"""Build Responses API requests from the stored, chat-shaped messages.

The store and the loop keep messages in the Chat Completions shape (dialect-neutral): this module
converts them on the way out. ``system`` messages become ``instructions``; user content parts
become ``input_text``/``input_image`` (the speaker's ``name`` goes first, as text); an
assistant's ``tool_calls`` become ``function_call`` items and ``tool`` messages
``function_call_output`` items, paired by ``call_id``. Reasoning items
ride on assistant messages under :data:`REASONING_KEY` (``{"family", "items"}``) and are sent
back, before that message's output, only to the model family that made them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

REASONING_KEY = "_reasoning"
RESPONSES_PATH = "/responses"
ENCRYPTED_REASONING = "reasoning.encrypted_content"
# toolcord tools that an OpenAI-hosted tool can stand in for on the Responses API.
HOSTED_TOOLS: Mapping[str, Mapping[str, Any]] = {"web_search": {"type": "web_search"}}
Message = Mapping[str, Any]


def reasoning_of(message: Message, family: str) -> list[dict[str, Any]]:
    """The reasoning items attached to ``message`` by ``family``, or none."""
    attached = message.get(REASONING_KEY)
    if isinstance(attached, Mapping) and attached.get("family") == family:
        items = attached.get("items")
        return list(items) if isinstance(items, list) else []
    return []


def without_reasoning(messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``messages`` for the chat dialect: reasoning attachments removed (copies only those)."""
    return [
        {key: value for key, value in message.items() if key != REASONING_KEY}
        if REASONING_KEY in message
        else message
        for message in messages
    ]


def function_tools(
    chat_tools: Iterable[Mapping[str, Any]], *, hosted: Collection[str] = ()
) -> list[dict[str, Any]]:
    """Chat ``tools`` entries as the Responses API's flat function tools.

    A tool named in ``hosted`` (and in :data:`HOSTED_TOOLS`) becomes OpenAI's hosted tool.
    """
    flat: list[dict[str, Any]] = []
    for tool in chat_tools:
        function = tool.get("function") or {}
        name = function.get("name", "")
        if name in hosted and name in HOSTED_TOOLS:
            flat.append(dict(HOSTED_TOOLS[name]))
            continue
        flat.append(
            {
                "type": "function",
                "name": name,
                "description": function.get("description"),
                "parameters": function.get("parameters") or {"type": "object", "properties": {}},
                "strict": bool(function.get("strict", False)),
            }
        )
    return flat


def instructions_and_input(
    messages: Sequence[Message], family: str
) -> tuple[str | None, list[dict[str, Any]]]:
    """Split chat messages into ``instructions`` (the system messages) and ``input`` items."""
    system: list[str] = []
    items: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        if role in ("system", "developer"):
            system.append(_text(message.get("content")))
        elif role == "user":
            content = _user_content(message.get("content"))
            items.append({"role": "user", "content": _named(content, message.get("name"))})
        elif role == "assistant":
            items.extend(_assistant_items(message, family))
        elif role == "tool":
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": message.get("tool_call_id") or "",
                    "output": _text(message.get("content")),
                }
            )
    return ("\n\n".join(system) if system else None), items


def _assistant_items(message: Message, family: str) -> list[dict[str, Any]]:
    items = reasoning_of(message, family)
    text = _text(message.get("content"))
    if text:
        items.append({"role": "assistant", "content": text})
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        items.append(
            {
                "type": "function_call",
                "call_id": call.get("id", ""),
                "name": function.get("name", ""),
                "arguments": function.get("arguments") or "{}",
            }
        )
    return items


def _named(content: str | list[dict[str, Any]], name: Any) -> str | list[dict[str, Any]]:
    """``content`` with its speaker's name first: Responses messages have no ``name`` field, and
    in a shared channel the model must still tell the speakers apart."""
    if not name:
        return content
    if isinstance(content, str):
        return f"{name}: {content}"
    return [{"type": "input_text", "text": f"{name}:"}, *content]


def _user_content(content: Any) -> str | list[dict[str, Any]]:
    if isinstance(content, str) or content is None:
        return content or ""
    parts: list[dict[str, Any]] = []
    for part in content:
        kind = part.get("type")
        if kind == "text":
            parts.append({"type": "input_text", "text": part.get("text", "")})
        elif kind == "image_url":
            image = part.get("image_url") or {}
            parts.append(
                {
                    "type": "input_image",
                    "image_url": image.get("url", ""),
                    "detail": image.get("detail", "auto"),
                }
            )
    return parts


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
    return ""
