"""Small builders shared by the store tests and the crash worker."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

from bot.store.models import NewTurn, UserTurn
from bot.store.sqlite import SqliteStore


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


@contextlib.asynccontextmanager
async def counting_commits(store: SqliteStore) -> AsyncIterator[list[str]]:
    """The COMMIT statements the write connection runs meanwhile."""
    commits: list[str] = []

    def trace(statement: str) -> None:
        if statement.strip().upper() == "COMMIT":
            commits.append(statement)

    await store._writer.db.set_trace_callback(trace)
    try:
        yield commits
    finally:
        await store._writer.db.set_trace_callback(None)


def committed_settings(path: Path) -> set[int]:
    """Setting ids a separate connection sees (only what is committed)."""
    with contextlib.closing(sqlite3.connect(path)) as other:
        return {row[0] for row in other.execute("SELECT scope_id FROM settings")}
