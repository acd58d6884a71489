"""An example tool module: name it in the config (tools.modules) and the model can roll dice."""

from __future__ import annotations

import random
from typing import Annotated

from pydantic import Field

from tools import ToolContext, tool


@tool(progress="Rolling {count}d{sides}...")
async def roll_dice(
    ctx: ToolContext,
    sides: Annotated[int, Field(ge=2, le=1000, description="Faces per die, e.g. 6 or 20")] = 6,
    count: Annotated[int, Field(ge=1, le=20, description="How many dice to roll")] = 1,
) -> str:
    """Roll dice for the user and report each die and the total. Use it for games and decisions."""
    rolls = [random.randint(1, sides) for _ in range(count)]
    return f"Rolled {count}d{sides}: {rolls} (total {sum(rolls)})"
