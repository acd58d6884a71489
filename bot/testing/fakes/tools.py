"""Tools for tests: a side-effecting tool whose runs a test can count, even across processes.

``post_note`` appends its text to the file named by its family's setting ``notes_path`` (settings
``tools.config.testing``) and, with ``block = true``, then waits forever, so a test can kill the bot
mid-turn. Load it with ``tools.modules = ["bot.testing.fakes.tools"]``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

from pydantic import Field

from tools import ToolContext, ToolFailed, tool

WRITTEN = "Note written."


def _append_line(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as notes:
        notes.write(text + "\n")


@tool(side_effects=True, progress="Posting a note...", family="testing")
async def post_note(
    ctx: ToolContext, text: Annotated[str, Field(description="The note to post")]
) -> str:
    """Post a note to the team's notice board (a side effect: never repeat it)."""
    path = ctx.config.get("notes_path")
    if not path:
        raise ToolFailed("the notice board is not set up")
    await asyncio.to_thread(_append_line, Path(path), text)
    await ctx.report_progress(WRITTEN)
    if ctx.config.get("block"):
        await asyncio.Event().wait()
    return f"Posted: {text}"
