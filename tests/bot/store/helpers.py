"""Small builders shared by the store tests and the crash worker."""

from __future__ import annotations

import json

from bot.store.models import NewTurn, UserTurn


def tool_call(call_id: str, name: str = "weather", **arguments: object) -> dict[str, object]:
    """An OpenAI tool call dict."""
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments)},
    }


def user(text: str, source: int | None, author: int = 1, name: str = "alice") -> UserTurn:
    """A user turn from ``author`` with Discord message id ``source``."""
    return UserTurn(author, name, text, [], source)


def answer_with_tool(tag: str, result: str = "sunny, 21 C") -> list[NewTurn]:
    """A tool round (call + result) and a final answer, ids unique by ``tag``."""
    call_id = f"call_{tag}"
    return [
        NewTurn("assistant", None, [tool_call(call_id, place=f"Paris {tag}")]),
        NewTurn("tool", result, tool_call_id=call_id, name="weather"),
        NewTurn("assistant", f"The weather for {tag}: {result}."),
    ]


def plain_answer(text: str) -> list[NewTurn]:
    """One assistant message."""
    return [NewTurn("assistant", text)]
