"""Issue 16, finding 5: the dispatcher refuses calls whose files would not fit in the answer."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import Field

from tools import Artifact, ToolContext, tool
from tools.calls import ToolCall
from tools.dispatch import Dispatcher
from tools.errors import ToolDefinitionError
from tools.registry import ToolRegistry


@tool(files="n")
async def draw(ctx: ToolContext, n: Annotated[int, Field(ge=1, le=4)] = 1) -> str:
    """Draw n pictures.

    Args:
        n: How many.
    """
    for index in range(n):
        ctx.attach(f"p{ctx.call_id}-{index}.png", b"png", "image/png")
    return f"drew {n}"


def _dispatcher(ctx: ToolContext, max_files: int | None) -> Dispatcher:
    registry = ToolRegistry()
    registry.register(draw)
    return Dispatcher(registry, ctx, ["draw"], max_files=max_files)


def _call(call_id: str, n: int) -> ToolCall:
    return ToolCall(call_id, "draw", f'{{"n": {n}}}')


def _ctx() -> ToolContext:
    return ToolContext(user_id=1, user_name="u", channel_id=2, guild_id=3)


async def test_calls_beyond_the_cap_are_refused_in_call_order_across_rounds() -> None:
    ctx = _ctx()
    ctx.artifacts.append(Artifact("earlier.png", b"x", "image/png"))
    dispatcher = _dispatcher(ctx, max_files=6)

    first = await dispatcher.run([_call("a", 3), _call("b", 3)])
    second = await dispatcher.run([_call("c", 2), _call("d", 1)])

    assert [o.status for o in first] == ["ok", "denied"]
    assert first[1].content == (
        "Not run: one answer can carry at most 6 files and this one already has 4 made or on "
        "their way, so 'draw' (up to 3 more) would not fit. Tell the user which files were not "
        "made and that they can ask for them in a new message."
    )
    assert [o.status for o in second] == ["ok", "denied"]
    assert sum(len(o.artifacts) for o in [*first, *second]) == 5  # 6 with the earlier file


async def test_without_a_cap_every_call_runs() -> None:
    ctx = _ctx()
    outcomes = await _dispatcher(ctx, max_files=None).run(
        [ToolCall(str(n), "draw", '{"n": 4}') for n in range(4)]
    )

    assert [o.status for o in outcomes] == ["ok"] * 4
    assert sum(len(o.artifacts) for o in outcomes) == 16


def test_files_must_name_an_argument() -> None:
    async def shoot(ctx: ToolContext, count: int) -> str:
        """Shoot.

        Args:
            count: How many.
        """
        return ""

    with pytest.raises(ToolDefinitionError, match="files names no argument 'n'"):
        tool(files="n")(shoot)
