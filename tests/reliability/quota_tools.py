"""A harmless tool for the quota scenarios: the fake model calls it to make a turn run many rounds.

Load with ``tools.modules = ["tests.reliability.quota_tools"]``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from tools import ToolContext, tool


@tool(family="quota_probe")
async def look_up(ctx: ToolContext, topic: Annotated[str, Field(max_length=100)]) -> str:
    """Look a topic up in the notes."""
    return f"nothing new about {topic}"
