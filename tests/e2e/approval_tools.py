"""A tool that acts, for the approval tests: needs kick_members and approval; runs recorded."""

from __future__ import annotations

from tools import tool

RUNS: list[str] = []
"""Texts of the calls that ran, in order (tests clear it)."""


@tool(required_permissions="kick_members", approval=True)
async def pin_note(text: str) -> str:
    """Pin a note in the channel.

    Args:
        text: The note.
    """
    RUNS.append(text)
    return f"pinned: {text}"
